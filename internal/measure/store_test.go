package measure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/pair/pairtest"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/templates"
)

type world struct {
	*pairtest.Fixture
	store *measure.Store
	now   time.Time
}

func setup(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	f := pairtest.New(t)
	ob, err := mail.NewOutbox(f.DB, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Fixture: f, now: time.Date(2026, 3, 11, 18, 0, 0, 0, time.UTC)}
	w.store = measure.NewStore(f.DB, vaulttest.New(t, f.DB), &audit.Log{DB: f.DB}, ob, "https://mend.test")
	w.store.Now = func() time.Time { return w.now }
	return w
}

var ctx = context.Background()

// active creates and activates a measure from a structure, filling empty
// item texts.
func (w *world) active(t *testing.T, key string, change func(d *measure.Definition)) measure.Measure {
	t.Helper()
	id, err := w.store.CreateFrom(ctx, w.Admin, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.store.Get(ctx, w.Admin, id)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Definition
	for i := range d.Items {
		if d.Items[i].Text == "" {
			d.Items[i].Text = "Practice wording " + string(rune('A'+i))
		}
	}
	if change != nil {
		change(&d)
	}
	if _, err := w.store.Save(ctx, w.Admin, id, d); err != nil {
		t.Fatal(err)
	}
	if err := w.store.SetActive(ctx, w.Admin, id, true); err != nil {
		t.Fatal(err)
	}
	m, err = w.store.Get(ctx, w.Admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *world) answer(t *testing.T, sc mend.Scope, assignmentID int64, a measure.Answers) measure.Submitted {
	t.Helper()
	f, err := w.store.AnswerForm(ctx, sc, assignmentID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.store.Submit(ctx, sc, assignmentID, f.VersionID, a)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAStructureCannotBeActivatedUntilEveryItemHasText(t *testing.T) {
	w := setup(t)
	id, err := w.store.CreateFrom(ctx, w.Admin, "csi4")
	if err != nil {
		t.Fatal(err)
	}
	err = w.store.SetActive(ctx, w.Admin, id, true)
	mendtest.WantCode(t, err, mend.EINVALID)
	if mend.Fields(err)["item_1"] == "" {
		t.Errorf("no message beside item 1: %v", mend.Fields(err))
	}
	m, _ := w.store.Get(ctx, w.Admin, id)
	if m.Active {
		t.Fatal("activated with empty items")
	}
	d := m.Definition
	for i := range d.Items {
		d.Items[i].Text = "Our wording"
	}
	v, err := w.store.Save(ctx, w.Admin, id, d)
	if err != nil || v != 2 {
		t.Fatalf("save: version %d, %v", v, err)
	}
	if err := w.store.SetActive(ctx, w.Admin, id, true); err != nil {
		t.Fatal(err)
	}
	// An active measure cannot be saved back with an empty item.
	d.Items[2].Text = ""
	_, err = w.store.Save(ctx, w.Admin, id, d)
	mendtest.WantCode(t, err, mend.EINVALID)
	// Counselors read definitions but do not write them; another practice
	// does not see them at all.
	_, err = w.store.Save(ctx, w.A, id, d)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = w.store.Get(ctx, w.OtherAdmin, id)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	if _, err := w.store.Get(ctx, w.A, id); err != nil {
		t.Error(err)
	}
}

func TestAnswersKeepTheirVersionAndScoreOnTheServer(t *testing.T) {
	w := setup(t)
	m := w.active(t, "csi4", nil)
	p := w.Pair(t, w.A, "was_hurt", "broke_trust")
	aid, err := w.store.Assign(ctx, w.A, p.ID, measure.AssignInput{MeasureID: m.ID, EveryDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	a, b := w.ClientScope(p, 1), w.ClientScope(p, 2)
	due, err := w.store.DueFor(ctx, a)
	if err != nil || len(due) != 1 || due[0].Name != "CSI-4" {
		t.Fatalf("due for a: %+v %v", due, err)
	}
	got := w.answer(t, a, aid, measure.Answers{1: 6, 2: 5, 3: 5, 4: 5})
	if got.Result.Total != 21 || got.Result.Band.Label != "Not distressed" {
		t.Errorf("a: %+v", got.Result)
	}
	// Answered: not due again until a week later, and a second answer now
	// is refused.
	if due, _ := w.store.DueFor(ctx, a); len(due) != 0 {
		t.Errorf("still due after answering: %+v", due)
	}
	f, _ := w.store.AnswerForm(ctx, b, aid)
	_, err = w.store.Submit(ctx, a, aid, f.VersionID, measure.Answers{1: 1, 2: 1, 3: 1, 4: 1})
	mendtest.WantCode(t, err, mend.ECONFLICT)
	// The admin edits the measure: b's form was for the old version.
	d := m.Definition
	d.Items[0].Text = "Changed wording"
	if _, err := w.store.Save(ctx, w.Admin, m.ID, d); err != nil {
		t.Fatal(err)
	}
	_, err = w.store.Submit(ctx, b, aid, f.VersionID, measure.Answers{1: 1, 2: 1, 3: 1, 4: 1})
	mendtest.WantCode(t, err, mend.ECONFLICT)
	w.answer(t, b, aid, measure.Answers{1: 1, 2: 1, 3: 1, 4: 1})
	v, err := w.store.ForPair(ctx, w.A, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Series) != 1 || len(v.Series[0].Responses) != 2 {
		t.Fatalf("series: %+v", v.Series)
	}
	ra, rb := v.Series[0].Responses[0], v.Series[0].Responses[1]
	if ra.Version != 2 || rb.Version != 3 {
		t.Errorf("versions %d and %d, want 2 and 3", ra.Version, rb.Version)
	}
	if rb.TotalText() != "4" || rb.Band.String != "Distressed" || ra.Answers[1] != 6 {
		t.Errorf("b: %+v; a's answers %v", rb, ra.Answers)
	}
	// The item values are ciphertext in the database.
	var raw []byte
	if err := w.DB.Get(&raw, `SELECT answers FROM measure_responses WHERE id = $1`, ra.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"1":6`) {
		t.Error("answers stored in the clear")
	}
	// Counselor B and another practice see nothing of the pair.
	_, err = w.store.ForPair(ctx, w.B, p.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = w.store.Assign(ctx, w.B, p.ID, measure.AssignInput{MeasureID: m.ID})
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = w.store.ForPair(ctx, a, p.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	if n := w.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'measure.read' AND client_id IN ($1, $2)`, a.UserID, b.UserID); n != 2 {
		t.Errorf("staff read audited for %d clients, want 2", n)
	}
}

// TestPartnerNeverSeesTheOthersAnswers looks from the partner's side: the
// partner's answers never, the partner's total only when the definition
// shares it.
func TestPartnerNeverSeesTheOthersAnswers(t *testing.T) {
	w := setup(t)
	m := w.active(t, measure.OwnKey, nil)
	p := w.Pair(t, w.A, "was_hurt", "broke_trust")
	aid, err := w.store.Assign(ctx, w.A, p.ID, measure.AssignInput{MeasureID: m.ID})
	if err != nil {
		t.Fatal(err)
	}
	a, b := w.ClientScope(p, 1), w.ClientScope(p, 2)
	w.answer(t, a, aid, measure.Answers{1: 4, 2: 4, 3: 0, 4: 4, 5: 4, 6: 0})
	ms, err := w.store.Mine(ctx, b)
	if err != nil || len(ms) != 1 {
		t.Fatalf("b's measures: %+v %v", ms, err)
	}
	if len(ms[0].Partner) != 0 || len(ms[0].Mine) != 0 {
		t.Errorf("b sees a's answer though the total is not shared: %+v", ms[0])
	}
	own, _ := w.store.Mine(ctx, a)
	if len(own[0].Mine) != 1 || own[0].Mine[0].TotalText() != "24" || own[0].Mine[0].Answers != nil {
		t.Errorf("a's own view: %+v", own[0].Mine)
	}
	// Sharing the total shows b the partner's total and band, never items.
	d := m.Definition
	d.ShareTotal = true
	if _, err := w.store.Save(ctx, w.Admin, m.ID, d); err != nil {
		t.Fatal(err)
	}
	w.answer(t, b, aid, measure.Answers{1: 1, 2: 1, 3: 3, 4: 1, 5: 1, 6: 0})
	ms, _ = w.store.Mine(ctx, a)
	if len(ms[0].Partner) != 1 || ms[0].Partner[0].TotalText() != "9" || ms[0].Partner[0].Answers != nil || ms[0].Partner[0].Sealed != nil {
		t.Errorf("a's view of b's shared total: %+v", ms[0].Partner)
	}
	ms, _ = w.store.Mine(ctx, b)
	if len(ms[0].Partner) != 0 {
		t.Errorf("a's answer under the unshared version reached b: %+v", ms[0].Partner)
	}
	// A client of another pair sees none of it.
	q := w.Pair(t, w.A, "was_hurt", "broke_trust")
	if ms, _ := w.store.Mine(ctx, w.ClientScope(q, 1)); len(ms) != 0 {
		t.Errorf("another pair's client sees %+v", ms)
	}
	_, err = w.store.AnswerForm(ctx, w.ClientScope(q, 1), aid)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}

func TestCriticalAnswerAlertsTheCounselorOnly(t *testing.T) {
	w := setup(t)
	m := w.active(t, measure.OwnKey, nil)
	p := w.Pair(t, w.A, "was_hurt", "broke_trust")
	aid, err := w.store.Assign(ctx, w.A, p.ID, measure.AssignInput{MeasureID: m.ID, ForUserID: p.Members[1].UserID})
	if err != nil {
		t.Fatal(err)
	}
	a, b := w.ClientScope(p, 1), w.ClientScope(p, 2)
	if due, _ := w.store.DueFor(ctx, a); len(due) != 0 {
		t.Errorf("a measure for b only is due for a: %+v", due)
	}
	got := w.answer(t, b, aid, measure.Answers{1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 4})
	if !got.Result.Critical {
		t.Fatal("item 6 answered 4 is not critical")
	}
	if n := w.Count(t, `SELECT count(*) FROM safety_alerts WHERE measure_response_id = $1 AND counselor_id = $2`, got.ResponseID, w.A.UserID); n != 1 {
		t.Errorf("%d safety alerts for the counselor", n)
	}
	var to, body string
	if err := w.DB.QueryRow(`SELECT to_address, body_text FROM email_log WHERE kind = 'safety_alert'`).Scan(&to, &body); err != nil {
		t.Fatal(err)
	}
	if to != w.A.Email {
		t.Errorf("alert to %s, want the counselor %s", to, w.A.Email)
	}
	if strings.Contains(body, "afraid") || strings.Contains(body, m.Definition.Name) {
		t.Errorf("the alert email carries clinical text: %s", body)
	}
	if n := w.Count(t, `SELECT count(*) FROM email_log WHERE kind = 'safety_alert' AND user_id IN ($1, $2)`, a.UserID, b.UserID); n != 0 {
		t.Errorf("%d safety emails reached a client", n)
	}
}
