package reveal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/reveal"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// fx: practice 1 with counselors c1 (pair x: xa, xb) and c2 (pair y: ya,
// yb); practice 2 with counselor c3 and pair z (za, zb). A reveal step per
// rule, with two questions.
type fx struct {
	t     *testing.T
	db    *sqlx.DB
	store *reveal.Store
	now   time.Time
	ids   map[string]int64
	steps map[string]int64 // rule → step version
}

func newFx(t *testing.T) *fx {
	t.Helper()
	t.Parallel()
	d, _ := dbtest.New(t)
	f := &fx{t: t, db: d, ids: map[string]int64{}, steps: map[string]int64{},
		now: time.Date(2026, 3, 11, 18, 0, 0, 0, time.UTC)}
	f.store = reveal.NewStore(d, vaulttest.New(t, d), &audit.Log{DB: d})
	f.store.Now = func() time.Time { return f.now }
	user := func(key string, practice int64, role string) {
		f.ids[key] = f.id(`INSERT INTO users (practice_id, role, email, name, timezone, password_hash) VALUES ($1, $2, $3, $4, 'America/Chicago', 'x') RETURNING id`,
			practice, role, key+"@example.test", "Name "+key)
	}
	pair := func(key string, practice, counselor int64) {
		f.ids[key] = f.id(`INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, $3, 'romantic') RETURNING id`,
			practice, counselor, "Pair "+key)
		f.exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, 'was_hurt'), ($1, $3, 2, 'broke_trust')`,
			f.ids[key], f.ids[key+"a"], f.ids[key+"b"])
	}
	f.ids["p1"] = f.id(`INSERT INTO practices (name, slug, timezone) VALUES ('One', 'one.test', 'America/Chicago') RETURNING id`)
	f.ids["p2"] = f.id(`INSERT INTO practices (name, slug, timezone) VALUES ('Two', 'two.test', 'America/Chicago') RETURNING id`)
	user("admin", f.ids["p1"], "admin")
	user("c1", f.ids["p1"], "counselor")
	user("c2", f.ids["p1"], "counselor")
	user("c3", f.ids["p2"], "counselor")
	for _, k := range []string{"xa", "xb", "ya", "yb"} {
		user(k, f.ids["p1"], "client")
	}
	user("za", f.ids["p2"], "client")
	user("zb", f.ids["p2"], "client")
	pair("x", f.ids["p1"], f.ids["c1"])
	pair("y", f.ids["p1"], f.ids["c2"])
	pair("z", f.ids["p2"], f.ids["c3"])
	for _, rule := range []string{"both", "counselor", "session"} {
		step := f.id(`INSERT INTO steps (practice_id, key) VALUES (NULL, $1) RETURNING id`, "reveal-test-"+rule)
		f.steps[rule] = f.id(`INSERT INTO step_versions (step_id, version, title, instructions, questions, duration_days, reveal_rule)
			VALUES ($1, 1, 'Where we are', '{"both": ["Answer alone"], "broke": [], "hurt": []}', $2, 7, $3) RETURNING id`,
			step, `["Where are we now?", "What stands in our way?"]`, rule)
	}
	return f
}

func (f *fx) id(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (f *fx) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Exec(q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fx) scope(key string) mend.Scope {
	f.t.Helper()
	var s struct {
		PracticeID int64  `db:"practice_id"`
		Role       string `db:"role"`
	}
	if err := f.db.Get(&s, `SELECT practice_id, role FROM users WHERE id = $1`, f.ids[key]); err != nil {
		f.t.Fatal(err)
	}
	return mend.Scope{PracticeID: s.PracticeID, UserID: f.ids[key], Role: mend.Role(s.Role), Timezone: "America/Chicago", Name: key}
}

// exercise gives pair a reveal exercise under rule, once, from 9 to 15
// March 2026 (the clock is the 11th).
func (f *fx) exercise(pair, rule string, cadence checkin.Cadence) int64 {
	f.t.Helper()
	return f.id(`INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, weekdays)
		SELECT practice_id, id, $2, '2026-03-09', '2026-03-15', $3, '{}' FROM pairs WHERE id = $1 RETURNING id`,
		f.ids[pair], f.steps[rule], cadence)
}

const period = "2026-03-09" // the once-period's first day

func (f *fx) save(who string, hw int64, texts ...string) bool {
	f.t.Helper()
	revealed, err := f.store.Save(context.Background(), f.scope(who), hw, period, texts)
	if err != nil {
		f.t.Fatalf("%s saves: %v", who, err)
	}
	return revealed
}

func (f *fx) read(who string, hw int64) reveal.Exercise {
	f.t.Helper()
	e, err := f.store.Exercise(context.Background(), f.scope(who), hw)
	if err != nil {
		f.t.Fatalf("%s reads: %v", who, err)
	}
	if len(e.Periods) != 1 {
		f.t.Fatalf("%s sees %d periods, want 1", who, len(e.Periods))
	}
	return e
}

// hidden fails if anything of the partner's answer reached the reader.
func hidden(t *testing.T, who string, p reveal.Period, secrets ...string) {
	t.Helper()
	o := p.Partner
	if len(o.Answers) != 0 || !o.AnsweredAt.IsZero() || !o.UpdatedAt.IsZero() || o.Edits != 0 || o.Reply != "" {
		t.Errorf("%s sees the partner's unrevealed answer: %+v", who, o)
	}
	for _, sd := range p.Sides {
		if sd.Mine {
			continue
		}
		for _, a := range sd.Answers {
			for _, s := range secrets {
				if strings.Contains(a.Text, s) {
					t.Errorf("%s sees %q", who, s)
				}
			}
		}
	}
	if p.Revealed || p.Note != "" {
		t.Errorf("%s sees the period as revealed", who)
	}
}

// TestPartnerSeesNothingOfTheOthersAnswerBeforeTheReveal walks a "both"
// exercise from the partner's side: before the reveal Daniel learns only
// that Maya answered (and not even that with the hint off) — no text,
// time, edit count; after his own answer both read both, and both answers
// are fixed.
func TestPartnerSeesNothingOfTheOthersAnswerBeforeTheReveal(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	hw := f.exercise("x", "both", checkin.Once)

	// Before anyone answered.
	e := f.read("xb", hw)
	if e.Periods[0].Partner.Answered || e.Current == nil {
		t.Fatalf("nobody answered, yet partner answered=%v, current=%v", e.Periods[0].Partner.Answered, e.Current)
	}
	if f.save("xa", hw, "Maya thinks we are halfway", "Maya's secret obstacle") {
		t.Fatal("one answer revealed the period")
	}
	f.now = f.now.Add(time.Hour)
	f.save("xa", hw, "Maya thinks we are halfway, edited", "Maya's secret obstacle")
	f.save("xa", hw, "Maya thinks we are halfway, edited twice", "Maya's secret obstacle")

	// Daniel (xb): the hint and nothing else.
	e = f.read("xb", hw)
	p := e.Periods[0]
	if !p.Partner.Answered {
		t.Error("the hint is on, but Daniel does not see that Maya answered")
	}
	hidden(t, "xb", p, "Maya")
	if !p.CanAnswer || len(p.Me.Answers) != 0 {
		t.Errorf("Daniel should be able to answer: can=%v, own=%v", p.CanAnswer, p.Me.Answers)
	}
	// Maya reads her own, the counselor reads it with its edit count.
	if e := f.read("xa", hw); len(e.Periods[0].Me.Answers) != 2 || !strings.Contains(e.Periods[0].Me.Answers[0].Text, "edited twice") {
		t.Errorf("Maya's own answers: %+v", e.Periods[0].Me.Answers)
	}
	staff := f.read("c1", hw).Periods[0]
	var mayaSide reveal.Side
	for _, sd := range staff.Sides {
		if sd.UserID == f.ids["xa"] {
			mayaSide = sd
		}
	}
	if len(mayaSide.Answers) != 2 || mayaSide.Edits != 2 || mayaSide.AnsweredAt.IsZero() {
		t.Errorf("the counselor reads %+v, want both answers with 2 edits and a time", mayaSide)
	}
	// Out of scope: another counselor, another practice, another pair's client.
	for _, who := range []string{"c2", "c3", "ya", "za"} {
		if _, err := f.store.Exercise(ctx, f.scope(who), hw); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("%s reads another pair's exercise: %v", who, err)
		}
		if _, err := f.store.Save(ctx, f.scope(who), hw, period, []string{"x"}); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("%s answers another pair's exercise: %v", who, err)
		}
	}

	// With the hint off Daniel does not even learn that she answered.
	f.exec(`UPDATE practices SET reveal_hint = false WHERE id = $1`, f.ids["p1"])
	p = f.read("xb", hw).Periods[0]
	if p.Partner.Answered {
		t.Error("the hint is off, yet Daniel sees that Maya answered")
	}
	hidden(t, "xb", p, "Maya")
	f.exec(`UPDATE practices SET reveal_hint = true WHERE id = $1`, f.ids["p1"])

	// Daniel answers: revealed, both read both, side by side.
	if !f.save("xb", hw, "Daniel thinks we are at the start", "") {
		t.Fatal("the second answer did not reveal the period")
	}
	for _, who := range []string{"xa", "xb"} {
		p := f.read(who, hw).Periods[0]
		if !p.Revealed || len(p.Me.Answers) != 2 || len(p.Partner.Answers) != 2 || p.Partner.AnsweredAt.IsZero() {
			t.Errorf("%s after the reveal: revealed=%v me=%v partner=%v", who, p.Revealed, p.Me.Answers, p.Partner.Answers)
		}
		if p.RevealedBy != "Name xb" || p.Rule != "both" {
			t.Errorf("%s: revealed by %q under %q, want Daniel under both", who, p.RevealedBy, p.Rule)
		}
		if p.Partner.Edits != 0 {
			t.Errorf("%s sees the partner's edit count %d", who, p.Partner.Edits)
		}
	}
	// Fixed from the reveal on.
	_, err := f.store.Save(ctx, f.scope("xa"), hw, period, []string{"a late change", ""})
	if mend.ErrorCode(err) != mend.ECONFLICT || !strings.Contains(mend.ErrorMessage(err), "can no longer be changed") {
		t.Errorf("an edit after the reveal: %v", err)
	}
	var rule string
	var by int64
	if err := f.db.QueryRow(`SELECT rule, revealed_by FROM reveals WHERE assignment_id = $1`, hw).Scan(&rule, &by); err != nil || rule != "both" || by != f.ids["xb"] {
		t.Errorf("reveal recorded as %q by %d (%v)", rule, by, err)
	}
	var audited int
	_ = f.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'reveal.both'`)
	if audited != 2 {
		t.Errorf("%d audit entries for the reveal, want one per partner", audited)
	}
	// At rest the words are sealed.
	var plain int
	_ = f.db.Get(&plain, `SELECT count(*) FROM reveal_answers WHERE position('Maya' in convert_from(answers, 'SQL_ASCII')) > 0`)
	if plain != 0 {
		t.Error("an answer is stored in plain text")
	}
}

// TestCounselorReleasesWithANote: a counselor-releases exercise stays
// hidden after both answered until the pair's counselor releases it; the
// note comes with the reveal; nobody else can release it.
func TestCounselorReleasesWithANote(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	hw := f.exercise("x", "counselor", checkin.Once)
	f.save("xa", hw, "Maya needs calm evenings", "")
	if f.save("xb", hw, "Daniel needs honesty", "") {
		t.Fatal("a counselor-releases exercise revealed itself")
	}
	for _, who := range []string{"xa", "xb"} {
		hidden(t, who, f.read(who, hw).Periods[0], "Maya", "Daniel")
	}
	if p := f.read("c1", hw).Periods[0]; !p.CanRelease {
		t.Error("the counselor is not offered the release")
	}
	for _, who := range []string{"xa", "c2", "c3", "admin"} {
		if err := f.store.Release(ctx, f.scope(who), hw, period, "note"); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("%s releases: %v", who, err)
		}
	}
	if err := f.store.Release(ctx, f.scope("c1"), hw, period, "Read slowly; we will talk on Thursday."); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"xa", "xb"} {
		p := f.read(who, hw).Periods[0]
		if !p.Revealed || len(p.Partner.Answers) == 0 || p.Note != "Read slowly; we will talk on Thursday." || p.Rule != "counselor" {
			t.Errorf("%s after the release: %+v", who, p)
		}
	}
	if err := f.store.Release(ctx, f.scope("c1"), hw, period, ""); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("a second release: %v", err)
	}
}

// TestSessionOnlyIsNeverRevealed: both answered, nothing is shown to the
// partner and there is nothing to release.
func TestSessionOnlyIsNeverRevealed(t *testing.T) {
	f := newFx(t)
	hw := f.exercise("x", "session", checkin.Once)
	f.save("xa", hw, "Maya's account", "")
	f.save("xb", hw, "Daniel's account", "")
	for _, who := range []string{"xa", "xb"} {
		hidden(t, who, f.read(who, hw).Periods[0], "Maya", "Daniel")
	}
	if p := f.read("c1", hw).Periods[0]; p.CanRelease || len(p.Sides[0].Answers) == 0 || len(p.Sides[1].Answers) == 0 {
		t.Errorf("the counselor's view of a session-only exercise: %+v", p)
	}
	if err := f.store.Release(context.Background(), f.scope("c1"), hw, period, ""); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("releasing a session-only exercise: %v", err)
	}
	var n int
	_ = f.db.Get(&n, `SELECT count(*) FROM reveal_notices WHERE kind <> 'answered'`)
	if n != 0 {
		t.Errorf("%d notices for a session-only exercise", n)
	}
}

// TestRepliesAfterTheReveal: a reply only once revealed, one each, read by
// the partner and the counselor.
func TestRepliesAfterTheReveal(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	hw := f.exercise("x", "both", checkin.Once)
	f.save("xa", hw, "Maya's view", "")
	if err := f.store.Reply(ctx, f.scope("xa"), hw, period, "too early"); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("a reply before the reveal: %v", err)
	}
	f.save("xb", hw, "Daniel's view", "")
	if err := f.store.Reply(ctx, f.scope("xa"), hw, period, "Thank you for writing this."); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Reply(ctx, f.scope("xa"), hw, period, "again"); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("a second reply: %v", err)
	}
	if err := f.store.Reply(ctx, f.scope("xb"), hw, period, strings.Repeat("x", reveal.MaxReply+1)); mend.ErrorCode(err) != mend.EINVALID {
		t.Errorf("an over-long reply: %v", err)
	}
	if err := f.store.Reply(ctx, f.scope("ya"), hw, period, "not mine"); mend.ErrorCode(err) != mend.ENOTFOUND {
		t.Errorf("another pair's reply: %v", err)
	}
	if p := f.read("xb", hw).Periods[0]; p.Partner.Reply != "Thank you for writing this." {
		t.Errorf("Daniel reads reply %q", p.Partner.Reply)
	}
	found := false
	for _, sd := range f.read("c1", hw).Periods[0].Sides {
		found = found || sd.Reply == "Thank you for writing this."
	}
	if !found {
		t.Error("the counselor does not read the reply")
	}
}

// TestOddAnswersAreRefused: NUL bytes, over-long text, nothing at all, a
// period that is not the exercise's: a message, nothing stored.
func TestOddAnswersAreRefused(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	hw := f.exercise("x", "both", checkin.Once)
	for name, texts := range map[string][]string{
		"nul":   {"a\x00b", ""},
		"long":  {strings.Repeat("é", reveal.MaxAnswer+1), ""},
		"empty": {"  ", ""},
	} {
		if _, err := f.store.Save(ctx, f.scope("xa"), hw, period, texts); mend.ErrorCode(err) != mend.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.store.Save(ctx, f.scope("xa"), hw, "2026-03-10", []string{"x"}); mend.ErrorCode(err) != mend.EINVALID {
		t.Errorf("a day that starts no period: %v", err)
	}
	if _, err := f.store.Save(ctx, f.scope("xa"), hw, "99999-01-01", []string{"x"}); mend.ErrorCode(err) != mend.EINVALID {
		t.Errorf("a nonsense period: %v", err)
	}
	var n int
	_ = f.db.Get(&n, `SELECT count(*) FROM reveal_answers`)
	if n != 0 {
		t.Errorf("%d answers stored from refused input", n)
	}
}

// TestEachPeriodRevealsOnItsOwn: a daily exercise reveals day by day.
func TestEachPeriodRevealsOnItsOwn(t *testing.T) {
	f := newFx(t)
	ctx := context.Background()
	hw := f.exercise("x", "both", checkin.Daily)
	for _, who := range []string{"xa", "xb"} {
		if _, err := f.store.Save(ctx, f.scope(who), hw, "2026-03-10", []string{who + " on the 10th"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.store.Save(ctx, f.scope("xa"), hw, "2026-03-11", []string{"xa on the 11th"}); err != nil {
		t.Fatal(err)
	}
	e, err := f.store.Exercise(ctx, f.scope("xb"), hw)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reveal.Period{}
	for _, p := range e.Periods {
		got[p.Start.String()] = p
	}
	if p := got["2026-03-10"]; !p.Revealed || len(p.Partner.Answers) == 0 || p.Partner.Answers[0].Text != "xa on the 10th" {
		t.Errorf("the 10th: revealed=%v partner=%v", p.Revealed, p.Partner.Answers)
	}
	hidden(t, "xb", got["2026-03-11"], "xa on the 11th")
	if e.Current == nil || e.Current.Start.String() != "2026-03-11" {
		t.Errorf("current period %v, want the 11th", e.Current)
	}
}
