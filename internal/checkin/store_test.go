package checkin_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/templates"
)

// fx is a small world: practice 1 with an admin, two counselors and a pair
// for each (x for counselor 1, y for counselor 2); practice 2 with pair z.
// Clients: xa (was hurt) and xb (broke trust), ya/yb, za/zb.
type fx struct {
	t     *testing.T
	db    *sqlx.DB
	store *checkin.Store
	now   time.Time
	ids   map[string]int64
	step  int64 // a step version with two questions
}

var questions = []string{"What went well?", "What was hard?"}

func newFx(t *testing.T) *fx {
	t.Helper()
	t.Parallel()
	d, _ := dbtest.New(t)
	f := &fx{t: t, db: d, ids: map[string]int64{}, now: time.Date(2026, 3, 11, 18, 0, 0, 0, time.UTC)}
	outbox, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	f.store = checkin.NewStore(d, vaulttest.New(t, d), &audit.Log{DB: d}, outbox, "https://mend.test")
	f.store.Now = func() time.Time { return f.now }
	id := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := d.Get(&id, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	user := func(key string, practice int64, role, tz string) {
		f.ids[key] = id(`INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			practice, role, key+"@example.test", "Name "+key, tz)
	}
	pair := func(key string, practice, counselor int64) {
		f.ids[key] = id(`INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, $3, 'romantic') RETURNING id`,
			practice, sql.NullInt64{Int64: counselor, Valid: counselor != 0}, "Pair "+key)
		if _, err := d.Exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, 'was_hurt'), ($1, $3, 2, 'broke_trust')`,
			f.ids[key], f.ids[key+"a"], f.ids[key+"b"]); err != nil {
			t.Fatal(err)
		}
	}
	f.ids["p1"] = id(`INSERT INTO practices (name, slug, timezone) VALUES ('One', 'one.test', 'America/Chicago') RETURNING id`)
	f.ids["p2"] = id(`INSERT INTO practices (name, slug, timezone) VALUES ('Two', 'two.test', 'Europe/London') RETURNING id`)
	user("admin", f.ids["p1"], "admin", "America/Chicago")
	user("c1", f.ids["p1"], "counselor", "America/Chicago")
	user("c2", f.ids["p1"], "counselor", "America/Chicago")
	user("c3", f.ids["p2"], "counselor", "Europe/London")
	for _, k := range []string{"xa", "xb", "ya", "yb"} {
		user(k, f.ids["p1"], "client", "America/Chicago")
	}
	user("za", f.ids["p2"], "client", "Europe/London")
	user("zb", f.ids["p2"], "client", "Europe/London")
	pair("x", f.ids["p1"], f.ids["c1"])
	pair("y", f.ids["p1"], f.ids["c2"])
	pair("z", f.ids["p2"], f.ids["c3"])
	stepID := id(`INSERT INTO steps (practice_id, key) VALUES (NULL, 'test-step') RETURNING id`)
	f.step = id(`INSERT INTO step_versions (step_id, version, title, summary, why, instructions, questions, duration_days)
		VALUES ($1, 1, 'Listen', 'Listen well', 'Because', '{"both": ["Sit down"], "broke": ["Own it"], "hurt": ["Say it"]}', $2, 7)
		RETURNING id`, stepID, `["What went well?", "What was hard?"]`)
	return f
}

// scope is the Scope of a fixture user, with their stored timezone.
func (f *fx) scope(key string) mend.Scope {
	f.t.Helper()
	var s struct {
		PracticeID int64  `db:"practice_id"`
		Role       string `db:"role"`
		Timezone   string `db:"timezone"`
	}
	if err := f.db.Get(&s, `SELECT practice_id, role, timezone FROM users WHERE id = $1`, f.ids[key]); err != nil {
		f.t.Fatal(err)
	}
	return mend.Scope{PracticeID: s.PracticeID, UserID: f.ids[key], Role: mend.Role(s.Role), Timezone: s.Timezone, Name: key}
}

// assign gives pair homework; forUser "" is for both.
func (f *fx) assign(pair, forUser string, starts, due checkin.Date, cadence checkin.Cadence, weekdays ...int64) int64 {
	f.t.Helper()
	practice := f.ids["p1"]
	if pair == "z" {
		practice = f.ids["p2"]
	}
	var forID sql.NullInt64
	if forUser != "" {
		forID = sql.NullInt64{Int64: f.ids[forUser], Valid: true}
	}
	if weekdays == nil {
		weekdays = []int64{}
	}
	var id int64
	err := f.db.Get(&id, `INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, weekdays)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		practice, f.ids[pair], f.step, forID, starts, due, cadence, pq.Int64Array(weekdays))
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func good(period checkin.Date, vis checkin.Visibility) checkin.Input {
	return checkin.Input{Period: period.String(), Status: "done", Trust: "6", Communication: "5", Hope: "7",
		Answers: []string{"We talked", "Staying calm"}, Reflection: "A better week.", Visibility: string(vis)}
}

func (f *fx) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Get(&n, q, args...); err != nil {
		f.t.Fatal(err)
	}
	return n
}

var ctx = context.Background()

func TestOneCheckinPerClientHomeworkAndPeriod(t *testing.T) {
	f := newFx(t)
	// Wednesday 11 March 2026, 13:00 in Chicago.
	hw := f.assign("x", "", checkin.D(2026, 3, 9), checkin.D(2026, 3, 22), checkin.Daily)
	xa, xb := f.scope("xa"), f.scope("xb")
	today := checkin.D(2026, 3, 11)
	id, err := f.store.Create(ctx, xa, hw, good(today, checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Create(ctx, xa, hw, good(today, checkin.ToPartner))
	mendtest.WantCode(t, err, mend.ECONFLICT)
	if !strings.Contains(mend.ErrorMessage(err), "already checked in for Wednesday 11 March") {
		t.Errorf("second check-in message: %q", mend.ErrorMessage(err))
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE assignment_id = $1`, hw); n != 1 {
		t.Fatalf("%d check-ins stored after a refused second one", n)
	}
	// The partner checks in for the same period: that is their own.
	if _, err := f.store.Create(ctx, xb, hw, good(today, checkin.ToCounselor)); err != nil {
		t.Fatalf("partner's check-in for the same period: %v", err)
	}
	// The draft for xa's period points at the existing check-in.
	d, err := f.store.NewDraft(ctx, xa, hw, today.String())
	if err != nil || d.Existing != id {
		t.Errorf("draft for a period with a check-in: existing %d (want %d), %v", d.Existing, id, err)
	}
	// Without a period, the draft picks yesterday (late), which has none.
	d, err = f.store.NewDraft(ctx, xa, hw, "")
	if err != nil || d.Period.Start != today.AddDays(-1) || !d.Late || d.Existing != 0 {
		t.Errorf("default draft = %+v, %v; want yesterday, late", d, err)
	}
	// The stored check-in has the period's bounds and what was typed.
	var row struct {
		Start  checkin.Date `db:"period_start"`
		End    checkin.Date `db:"period_end"`
		Late   bool         `db:"late"`
		Sealed []byte       `db:"answers"`
		Ans    checkin.Answers
	}
	if err := f.db.Get(&row, `SELECT period_start, period_end, late, answers FROM checkins WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	raw, err := f.store.Vault.OpenText(ctx, f.db, vault.CheckinAnswers, id, row.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if err := row.Ans.Scan(raw); err != nil {
		t.Fatal(err)
	}
	if row.Start != today || row.End != today || row.Late || len(row.Ans) != 2 || row.Ans[0].Question != questions[0] || row.Ans[0].Answer != "We talked" {
		t.Errorf("stored %+v", row)
	}
}

func TestWeeklyAndOncePeriodsAreStoredWhole(t *testing.T) {
	f := newFx(t)
	xa := f.scope("xa")
	weekly := f.assign("x", "", checkin.D(2026, 3, 5), checkin.D(2026, 3, 25), checkin.Weekly, 1) // Thursdays start
	if _, err := f.store.Create(ctx, xa, weekly, good(checkin.D(2026, 3, 10), checkin.ToCounselor)); mend.ErrorCode(err) != mend.EINVALID {
		t.Errorf("a mid-week date was accepted as a weekly period: %v", err)
	}
	id, err := f.store.Create(ctx, xa, weekly, good(checkin.D(2026, 3, 5), checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	var end checkin.Date
	_ = f.db.Get(&end, `SELECT period_end FROM checkins WHERE id = $1`, id)
	if end != checkin.D(2026, 3, 11) {
		t.Errorf("weekly period ends %s", end)
	}
	once := f.assign("x", "", checkin.D(2026, 3, 2), checkin.D(2026, 3, 20), checkin.Once)
	id, err = f.store.Create(ctx, xa, once, good(checkin.D(2026, 3, 2), checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	_ = f.db.Get(&end, `SELECT period_end FROM checkins WHERE id = $1`, id)
	if end != checkin.D(2026, 3, 20) {
		t.Errorf("one-off period ends %s", end)
	}
}

func TestLateCheckinsAndTheGraceWindow(t *testing.T) {
	f := newFx(t)
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	xa := f.scope("xa")
	today := checkin.D(2026, 3, 11)
	for _, tc := range []struct {
		day  checkin.Date
		code string
		late bool
	}{
		{today, "", false},
		{today.AddDays(-1), "", true},
		{today.AddDays(-2), "", true},
		{today.AddDays(-3), mend.EINVALID, false}, // past the grace window
		{today.AddDays(1), mend.EINVALID, false},  // not started
	} {
		id, err := f.store.Create(ctx, xa, hw, good(tc.day, checkin.ToCounselor))
		if mend.ErrorCode(err) != tc.code {
			t.Errorf("check-in for %s: %v, want %q", tc.day, err, tc.code)
			continue
		}
		if tc.code != "" {
			if msg := mend.Fields(err)["period"]; msg == "" {
				t.Errorf("refusal for %s has no message on the period: %v", tc.day, err)
			}
			continue
		}
		var late bool
		_ = f.db.Get(&late, `SELECT late FROM checkins WHERE id = $1`, id)
		if late != tc.late {
			t.Errorf("check-in for %s: late = %v", tc.day, late)
		}
	}
	if n := f.count(`SELECT count(*) FROM checkins`); n != 3 {
		t.Errorf("%d check-ins stored, want 3", n)
	}
}

// The client's today decides; Auckland is a day ahead of Chicago, and a
// Chicago evening around a DST change still belongs to its own date.
func TestTodayIsTheClientsInTheStore(t *testing.T) {
	f := newFx(t)
	if _, err := f.db.Exec(`UPDATE users SET timezone = 'Pacific/Auckland' WHERE id = $1`, f.ids["xb"]); err != nil {
		t.Fatal(err)
	}
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	// 2026-03-09 04:30 UTC: 23:30 on Sunday 8 March in Chicago (CDT since
	// 02:00 that day), 17:30 on Monday 9 March in Auckland.
	f.now = time.Date(2026, 3, 9, 4, 30, 0, 0, time.UTC)
	xa, xb := f.scope("xa"), f.scope("xb")
	a, err := f.store.Create(ctx, xa, hw, good(checkin.D(2026, 3, 8), checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.store.Create(ctx, xb, hw, good(checkin.D(2026, 3, 8), checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	var lateA, lateB bool
	_ = f.db.Get(&lateA, `SELECT late FROM checkins WHERE id = $1`, a)
	_ = f.db.Get(&lateB, `SELECT late FROM checkins WHERE id = $1`, b)
	if lateA {
		t.Error("Chicago client at 23:30 on the 8th: the 8th's check-in is on time")
	}
	if !lateB {
		t.Error("Auckland client on the 9th: the 8th's check-in is late")
	}
	// The Chicago client's 9th has not started; Auckland's has.
	if _, err := f.store.Create(ctx, xa, hw, good(checkin.D(2026, 3, 9), checkin.ToCounselor)); mend.ErrorCode(err) != mend.EINVALID {
		t.Errorf("Chicago client checking in for tomorrow: %v", err)
	}
	if _, err := f.store.Create(ctx, xb, hw, good(checkin.D(2026, 3, 9), checkin.ToCounselor)); err != nil {
		t.Errorf("Auckland client checking in for their today: %v", err)
	}
	// Half an hour later it is midnight in Chicago (a 23-hour day ended):
	// the 8th is closed for editing for the on-time check-in.
	f.now = f.now.Add(30 * time.Minute)
	_, err = f.store.Update(ctx, xa, a, good(checkin.D(2026, 3, 8), checkin.ToPartner))
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

func TestEditWindowAndHistory(t *testing.T) {
	f := newFx(t)
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	xa := f.scope("xa")
	today := checkin.D(2026, 3, 11)
	id, err := f.store.Create(ctx, xa, hw, good(today, checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	in := good(today, checkin.ToPartner)
	in.Reflection, in.Trust = "Second thoughts.", "3"
	if got, err := f.store.Update(ctx, xa, id, in); err != nil || got != hw {
		t.Fatalf("edit within the period: %d, %v", got, err)
	}
	c, err := f.store.Own(ctx, xa, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Reflection != "Second thoughts." || c.Trust != 3 || c.Visibility != checkin.ToPartner || c.Version != 2 {
		t.Errorf("after edit: %+v", c)
	}
	var h struct {
		ID         int64  `db:"id"`
		Version    int    `db:"version"`
		Sealed     []byte `db:"reflection"`
		Reflection string
		Trust      int    `db:"trust_rating"`
		Visibility string `db:"visibility"`
	}
	if err := f.db.Get(&h, `SELECT id, version, reflection, trust_rating, visibility FROM checkin_history WHERE checkin_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	// The earlier text is kept encrypted, sealed for the history row.
	if strings.Contains(string(h.Sealed), "better week") {
		t.Error("the history row holds the reflection in plaintext")
	}
	if h.Reflection, err = f.store.Vault.OpenText(ctx, f.db, vault.HistoryReflection, h.ID, h.Sealed); err != nil {
		t.Fatal(err)
	}
	if h.Version != 1 || h.Reflection != "A better week." || h.Trust != 6 || h.Visibility != "counselor" {
		t.Errorf("history keeps %+v", h)
	}
	// The counselor sees the earlier version.
	list, err := f.store.ForPair(ctx, f.scope("c1"), f.ids["x"], checkin.PairFilter{}, paging.First())
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || len(list.Items[0].History) != 1 || list.Items[0].History[0].Reflection != "A better week." {
		t.Errorf("counselor's view of the history: %+v", list.Items)
	}

	// Once reviewed, no more edits.
	if _, err := f.db.Exec(`UPDATE checkins SET reviewed_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Update(ctx, xa, id, good(today, checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ECONFLICT)
	if !strings.Contains(mend.ErrorMessage(err), "counselor has read") {
		t.Errorf("message: %q", mend.ErrorMessage(err))
	}
	if c, _ := f.store.Own(ctx, xa, id); c.EditableReason == "" {
		t.Error("a reviewed check-in is shown as editable")
	}

	// Another check-in, not reviewed: editable until its period ends (local
	// midnight in Chicago), not after.
	other, err := f.store.Create(ctx, xa, hw, good(today.AddDays(-1), checkin.ToCounselor)) // late
	if err != nil {
		t.Fatal(err)
	}
	onTime := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Weekly, 3)
	weekly, err := f.store.Create(ctx, xa, onTime, good(checkin.D(2026, 3, 8), checkin.ToCounselor)) // Sun 8 – Sat 14
	if err != nil {
		t.Fatal(err)
	}
	f.now = time.Date(2026, 3, 15, 4, 59, 0, 0, time.UTC) // 23:59 Saturday 14th in Chicago
	if _, err := f.store.Update(ctx, xa, weekly, good(checkin.D(2026, 3, 8), checkin.ToCounselor)); err != nil {
		t.Errorf("edit a minute before the week ends: %v", err)
	}
	f.now = f.now.Add(time.Minute)
	_, err = f.store.Update(ctx, xa, weekly, good(checkin.D(2026, 3, 8), checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ECONFLICT)
	// The late check-in for the 10th stays editable through the 12th.
	f.now = time.Date(2026, 3, 13, 5, 59, 0, 0, time.UTC) // 00:59 on the 13th: closed
	if _, err := f.store.Update(ctx, xa, other, good(today.AddDays(-1), checkin.ToCounselor)); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("late check-in edited after its grace window: %v", err)
	}
	f.now = time.Date(2026, 3, 13, 4, 59, 0, 0, time.UTC) // 23:59 on the 12th
	if _, err := f.store.Update(ctx, xa, other, good(today.AddDays(-1), checkin.ToCounselor)); err != nil {
		t.Errorf("late check-in within its grace window: %v", err)
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	f := newFx(t)
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	xa := f.scope("xa")
	today := checkin.D(2026, 3, 11)
	cases := map[string]func(*checkin.Input){
		"trust":         func(in *checkin.Input) { in.Trust = "0" },
		"communication": func(in *checkin.Input) { in.Communication = "11" },
		"hope":          func(in *checkin.Input) { in.Hope = "seven" },
		"status":        func(in *checkin.Input) { in.Status = "maybe" },
		"visibility":    func(in *checkin.Input) { in.Visibility = "everyone" },
		"reflection":    func(in *checkin.Input) { in.Reflection = strings.Repeat("é", checkin.MaxReflection+1) },
		"answer_2":      func(in *checkin.Input) { in.Answers[1] = strings.Repeat("a", checkin.MaxAnswer+1) },
		"safety_note":   func(in *checkin.Input) { in.SafetyNote = "please call" }, // without the flag
		"answer_1":      func(in *checkin.Input) { in.Answers[0] = "bad \xff\xfe bytes" },
		"period":        func(in *checkin.Input) { in.Period = "2026-02-30" },
	}
	for field, mutate := range cases {
		in := good(today, checkin.ToCounselor)
		mutate(&in)
		_, err := f.store.Create(ctx, xa, hw, in)
		if mend.ErrorCode(err) != mend.EINVALID || mend.Fields(err)[field] == "" {
			t.Errorf("%s: got %v, want a message on %s", field, err, field)
		}
	}
	in := good(today, checkin.ToCounselor)
	in.Reflection = "nul\x00byte"
	if _, err := f.store.Create(ctx, xa, hw, in); mend.Fields(err)["reflection"] == "" {
		t.Errorf("a NUL byte: %v", err)
	}
	// Exactly at the limit is fine, counted in characters, with CRLF as one.
	in = good(today, checkin.ToCounselor)
	in.Reflection = strings.Repeat("é", checkin.MaxReflection-2) + "\r\n."
	if _, err := f.store.Create(ctx, xa, hw, in); err != nil {
		t.Errorf("a reflection of exactly %d characters: %v", checkin.MaxReflection, err)
	}
	if n := f.count(`SELECT count(*) FROM checkins`); n != 1 {
		t.Errorf("%d check-ins stored, want only the valid one", n)
	}
	// Homework of another pair, or for the partner alone: not found.
	other := f.assign("y", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	_, err := f.store.Create(ctx, xa, other, good(today, checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	forB := f.assign("x", "xb", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	_, err = f.store.Create(ctx, xa, forB, good(today, checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	foreign := f.assign("z", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	_, err = f.store.Create(ctx, xa, foreign, good(today, checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	// Cancelled homework takes no check-ins.
	if _, err := f.db.Exec(`UPDATE assignments SET status = 'cancelled' WHERE id = $1`, hw); err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Create(ctx, xa, hw, good(today.AddDays(-1), checkin.ToCounselor))
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

// TestPartnerSeesOnlySharedCheckins runs every query that returns
// check-ins or counts from the partner's side.
func TestPartnerSeesOnlySharedCheckins(t *testing.T) {
	f := newFx(t)
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	xa, xb := f.scope("xa"), f.scope("xb")
	today := checkin.D(2026, 3, 11)
	// xa: a private check-in with a safety answer, and a shared one that
	// also carries a safety answer (which must stay counselor-only).
	in := good(today, checkin.ToCounselor)
	in.Reflection, in.Unsafe, in.SafetyNote = "PRIVATE-REFLECTION", true, "PRIVATE-SAFETY"
	private, err := f.store.Create(ctx, xa, hw, in)
	if err != nil {
		t.Fatal(err)
	}
	in = good(today.AddDays(-1), checkin.ToPartner)
	in.Reflection = "SHARED-REFLECTION"
	shared, err := f.store.Create(ctx, xa, hw, in)
	if err != nil {
		t.Fatal(err)
	}
	// xa then adds a safety answer to the shared one by editing it.
	in.Unsafe, in.SafetyNote = true, "SHARED-SAFETY"
	if _, err := f.store.Update(ctx, xa, shared, in); err != nil {
		t.Fatal(err)
	}

	// ForAssignment: only the shared one, without its safety answer or any
	// sign that it was edited.
	list, err := f.store.ForAssignment(ctx, xb, hw)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != shared {
		t.Fatalf("partner sees %d check-ins: %+v", len(list), list)
	}
	c := list[0]
	if c.SafetyFlag || c.SafetyNote != "" || c.Version != 1 || !c.UpdatedAt.Equal(c.CreatedAt) || c.Mine || c.EditableReason != "" {
		t.Errorf("partner's view leaks the safety answer or the edit: %+v", c)
	}
	// The author sees both, with their own safety flags but not the note:
	// once sent, it is the counselor's (issue 16).
	own, err := f.store.ForAssignment(ctx, xa, hw)
	if err != nil || len(own) != 2 || !own[0].SafetyFlag || own[0].SafetyNote != "" || !own[1].SafetyFlag {
		t.Errorf("author's view: %+v, %v", own, err)
	}

	// Counts: one shared, not two.
	n, err := f.store.CountFor(ctx, xb, hw)
	if err != nil || n != (checkin.Counts{Mine: 0, Shared: 1}) {
		t.Errorf("partner's counts: %+v, %v", n, err)
	}
	n, _ = f.store.CountFor(ctx, xa, hw)
	if n != (checkin.Counts{Mine: 2, Shared: 0}) {
		t.Errorf("author's counts: %+v", n)
	}
	home, err := f.store.Home(ctx, xb)
	if err != nil {
		t.Fatal(err)
	}
	var items []checkin.Item
	items = append(append(items, home.DueToday...), home.ThisWeek...)
	for _, c := range home.CatchUp {
		items = append(items, c.Missed...)
	}
	if len(items) == 0 {
		t.Fatal("partner's home lists no homework")
	}
	for _, it := range items {
		if it.Shared != 1 || it.Mine != 0 {
			t.Errorf("partner's home counts: mine %d, shared %d", it.Mine, it.Shared)
		}
	}
	d, err := f.store.Detail(ctx, xb, hw)
	if err != nil || d.Shared != 1 || d.Mine != 0 {
		t.Errorf("partner's homework page counts: %+v, %v", d.Homework, err)
	}
	for _, o := range d.Open {
		if o.CheckinID != 0 {
			t.Errorf("partner's open period %v points at check-in %d", o.Period, o.CheckinID)
		}
	}
	// The partner's drafts do not see the author's check-ins as theirs.
	dr, err := f.store.NewDraft(ctx, xb, hw, today.String())
	if err != nil || dr.Existing != 0 {
		t.Errorf("partner's draft: %+v, %v", dr, err)
	}

	// Single check-ins: none of the author's, shared or not, is the
	// partner's to open or change.
	for _, id := range []int64{private, shared} {
		_, err := f.store.Own(ctx, xb, id)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = f.store.Update(ctx, xb, id, good(today, checkin.ToPartner))
		mendtest.WantCode(t, err, mend.ENOTFOUND)
	}
	_, err = f.store.ForPair(ctx, xb, f.ids["x"], checkin.PairFilter{}, paging.First())
	mendtest.WantCode(t, err, mend.ENOTFOUND)

	// Clients of another pair or practice see nothing at all.
	for _, k := range []string{"ya", "za"} {
		_, err := f.store.ForAssignment(ctx, f.scope(k), hw)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = f.store.CountFor(ctx, f.scope(k), hw)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = f.store.Detail(ctx, f.scope(k), hw)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		h, err := f.store.Home(ctx, f.scope(k))
		if err != nil || !h.Empty() {
			t.Errorf("%s's home: %+v, %v", k, h, err)
		}
	}

	// Counselor 1 and the admin see both with safety answers; counselor 2
	// and another practice's counselor see nothing.
	for _, k := range []string{"c1", "admin"} {
		l, err := f.store.ForPair(ctx, f.scope(k), f.ids["x"], checkin.PairFilter{}, paging.First())
		if err != nil || len(l.Items) != 2 {
			t.Fatalf("%s: %+v, %v", k, l, err)
		}
		for _, c := range l.Items {
			if !c.SafetyFlag || c.SafetyNote == "" {
				t.Errorf("%s does not see the safety answer on %d", k, c.ID)
			}
		}
		all, err := f.store.ForAssignment(ctx, f.scope(k), hw)
		if err != nil || len(all) != 2 {
			t.Errorf("%s ForAssignment: %d, %v", k, len(all), err)
		}
	}
	for _, k := range []string{"c2", "c3"} {
		_, err := f.store.ForPair(ctx, f.scope(k), f.ids["x"], checkin.PairFilter{}, paging.First())
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = f.store.ForAssignment(ctx, f.scope(k), hw)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
	}

	// Reading was audited with the client's id.
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin.read' AND user_id = $1 AND client_id = $2`,
		f.ids["xb"], f.ids["xa"]); n == 0 {
		t.Error("the partner's read of shared check-ins was not audited")
	}
	if n := f.count(`SELECT count(DISTINCT client_id) FROM audit_log WHERE action = 'checkin.read' AND user_id = $1 AND object_type = 'pair'`,
		f.ids["c1"]); n != 2 {
		t.Errorf("counselor's read of the pair audited for %d clients, want 2", n)
	}
}

func TestSafetyFlagAlertsTheCounselorOnce(t *testing.T) {
	f := newFx(t)
	hw := f.assign("x", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	xa := f.scope("xa")
	today := checkin.D(2026, 3, 11)
	in := good(today, checkin.ToPartner)
	in.Unsafe, in.SafetyNote, in.Reflection = true, "SAFETY-WORDS", "REFLECTION-WORDS"
	id, err := f.store.Create(ctx, xa, hw, in)
	if err != nil {
		t.Fatal(err)
	}
	var alert struct {
		Counselor sql.NullInt64 `db:"counselor_id"`
		Pair      int64         `db:"pair_id"`
		Acked     sql.NullTime  `db:"acknowledged_at"`
	}
	if err := f.db.Get(&alert, `SELECT counselor_id, pair_id, acknowledged_at FROM safety_alerts WHERE checkin_id = $1`, id); err != nil {
		t.Fatalf("no safety alert: %v", err)
	}
	if alert.Counselor.Int64 != f.ids["c1"] || alert.Pair != f.ids["x"] || alert.Acked.Valid {
		t.Errorf("alert %+v", alert)
	}
	var m struct {
		To, Kind, Dedupe, Subject, Text, HTML string
	}
	if err := f.db.QueryRow(`SELECT to_address, kind, dedupe_key, subject, body_text, body_html FROM email_log WHERE kind = 'safety_alert'`).
		Scan(&m.To, &m.Kind, &m.Dedupe, &m.Subject, &m.Text, &m.HTML); err != nil {
		t.Fatalf("no alert email: %v", err)
	}
	if m.To != "c1@example.test" || m.Dedupe != "safety:"+itoa(id) {
		t.Errorf("alert email to %s, key %s", m.To, m.Dedupe)
	}
	if !strings.Contains(m.Text, "https://mend.test/review/checkins/"+itoa(id)+"#safety") {
		t.Errorf("alert email lacks the link:\n%s", m.Text)
	}
	for _, words := range []string{"SAFETY-WORDS", "REFLECTION-WORDS", "Name xa", "Listen"} {
		if strings.Contains(m.Subject+m.Text+m.HTML, words) {
			t.Errorf("alert email carries %q", words)
		}
	}
	// Editing, with the flag still on or off and on again: no second alert.
	in.SafetyNote = "more"
	if _, err := f.store.Update(ctx, xa, id, in); err != nil {
		t.Fatal(err)
	}
	in.Unsafe, in.SafetyNote = false, ""
	if _, err := f.store.Update(ctx, xa, id, in); err != nil {
		t.Fatal(err)
	}
	in.Unsafe = true
	if _, err := f.store.Update(ctx, xa, id, in); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM email_log WHERE kind = 'safety_alert'`); n != 1 {
		t.Errorf("%d alert emails, want 1", n)
	}
	// A flag added by an edit raises the alert then.
	id2, err := f.store.Create(ctx, xa, hw, good(today.AddDays(-1), checkin.ToCounselor))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM safety_alerts WHERE checkin_id = $1`, id2); n != 0 {
		t.Fatal("an alert without a flag")
	}
	in2 := good(today.AddDays(-1), checkin.ToCounselor)
	in2.Unsafe = true
	if _, err := f.store.Update(ctx, xa, id2, in2); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM email_log WHERE dedupe_key = $1`, "safety:"+itoa(id2)); n != 1 {
		t.Errorf("flag added by an edit: %d emails", n)
	}

	// A pair without a counselor: every admin of the practice is alerted.
	if _, err := f.db.Exec(`UPDATE pairs SET counselor_id = NULL WHERE id = $1`, f.ids["y"]); err != nil {
		t.Fatal(err)
	}
	hwY := f.assign("y", "", checkin.D(2026, 3, 1), checkin.D(2026, 3, 31), checkin.Daily)
	in3 := good(today, checkin.ToCounselor)
	in3.Unsafe = true
	id3, err := f.store.Create(ctx, f.scope("ya"), hwY, in3)
	if err != nil {
		t.Fatal(err)
	}
	var to string
	if err := f.db.Get(&to, `SELECT to_address FROM email_log WHERE dedupe_key LIKE $1`, "safety:"+itoa(id3)+":%"); err != nil || to != "admin@example.test" {
		t.Errorf("unassigned pair's alert went to %q (%v)", to, err)
	}
}

func TestSettings(t *testing.T) {
	f := newFx(t)
	xa := f.scope("xa")
	st, err := f.store.Settings(ctx, xa)
	if err != nil || st.Timezone != "America/Chicago" || !st.RemindersEnabled {
		t.Fatalf("defaults: %+v, %v", st, err)
	}
	err = f.store.SaveSettings(ctx, xa, checkin.SettingsInput{Timezone: "Pacific/Auckland", Reminders: false,
		ReminderTime: "07:30", QuietFrom: "22:00", QuietUntil: "06:15"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ = f.store.Settings(ctx, xa)
	if st.Timezone != "Pacific/Auckland" || st.RemindersEnabled || st.ReminderMinute != 450 ||
		st.QuietFrom() != "22:00" || st.QuietUntil() != "06:15" {
		t.Errorf("saved %+v", st)
	}
	bad := map[string]checkin.SettingsInput{
		"timezone":      {Timezone: "Mars/Olympus", ReminderTime: "07:00"},
		"reminder_time": {Timezone: "UTC", ReminderTime: "25:00"},
		"quiet_until":   {Timezone: "UTC", ReminderTime: "07:00", QuietFrom: "22:00"},
		"quiet_from":    {Timezone: "UTC", ReminderTime: "07:00", QuietFrom: "late", QuietUntil: "06:00"},
	}
	for field, in := range bad {
		err := f.store.SaveSettings(ctx, xa, in)
		if mend.Fields(err)[field] == "" {
			t.Errorf("%s: %v", field, err)
		}
	}
	st, _ = f.store.Settings(ctx, xa)
	if st.Timezone != "Pacific/Auckland" || st.ReminderMinute != 450 {
		t.Errorf("refused settings changed something: %+v", st)
	}
	// Clearing quiet hours.
	if err := f.store.SaveSettings(ctx, xa, checkin.SettingsInput{Timezone: "UTC", Reminders: true, ReminderTime: "18:00"}); err != nil {
		t.Fatal(err)
	}
	st, _ = f.store.Settings(ctx, xa)
	if st.QuietStart.Valid || st.QuietEnd.Valid {
		t.Errorf("quiet hours not cleared: %+v", st)
	}
}

func TestHomeSortsHomework(t *testing.T) {
	f := newFx(t)
	xa := f.scope("xa")
	// Wednesday 11 March 2026 in Chicago.
	daily := f.assign("x", "", checkin.D(2026, 3, 9), checkin.D(2026, 3, 20), checkin.Daily)
	weeklyThu := f.assign("x", "xa", checkin.D(2026, 3, 9), checkin.D(2026, 3, 29), checkin.Weekly, 4)
	later := f.assign("x", "", checkin.D(2026, 3, 25), checkin.D(2026, 4, 5), checkin.Once)
	past := f.assign("x", "", checkin.D(2026, 2, 1), checkin.D(2026, 2, 14), checkin.Weekly, 5)
	forB := f.assign("x", "xb", checkin.D(2026, 3, 9), checkin.D(2026, 3, 20), checkin.Daily)
	h, err := f.store.Home(ctx, xa)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(items []checkin.Item) []int64 {
		var out []int64
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	if got := ids(h.DueToday); len(got) != 1 || got[0] != daily {
		t.Errorf("due today: %v, want the daily homework", got)
	}
	// Yesterday and the day before were missed: both can still be sent late.
	if len(h.CatchUp) != 1 || h.CatchUp[0].ID != daily || len(h.CatchUp[0].Missed) != 2 ||
		h.CatchUp[0].Missed[0].Period.Start != checkin.D(2026, 3, 10) {
		t.Errorf("catch up: %+v", h.CatchUp)
	}
	if got := ids(h.ThisWeek); len(got) != 1 || got[0] != weeklyThu {
		t.Errorf("this week: %v, want the weekly homework (expected on Thursday)", got)
	}
	if got := ids(h.Later); len(got) != 1 || got[0] != later {
		t.Errorf("later: %v", got)
	}
	if len(h.Past) != 1 || h.Past[0].ID != past {
		t.Errorf("past: %+v", h.Past)
	}
	for _, it := range append(append(h.DueToday, h.ThisWeek...), h.Later...) {
		if it.ID == forB {
			t.Error("homework for the partner alone is on the client's home")
		}
	}
	// After checking in today, the daily homework moves to "this week" as done.
	if _, err := f.store.Create(ctx, xa, daily, good(checkin.D(2026, 3, 11), checkin.ToCounselor)); err != nil {
		t.Fatal(err)
	}
	h, _ = f.store.Home(ctx, xa)
	if len(h.DueToday) != 0 {
		t.Errorf("still due today after checking in: %v", ids(h.DueToday))
	}
	found := false
	for _, it := range h.ThisWeek {
		if it.ID == daily && it.CheckedIn() {
			found = true
		}
	}
	if !found {
		t.Error("checked-in homework is not listed as done this week")
	}
	// Thursday: the weekly homework's expected day.
	f.now = f.now.Add(24 * time.Hour)
	h, _ = f.store.Home(ctx, xa)
	if got := ids(h.DueToday); len(got) != 2 {
		t.Errorf("Thursday, due today: %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRowsBelongToTheirHomeworksPair: every read of a partner's or a
// practice's rows scopes by the rows' own pair_id and practice_id, so the
// database holds a check-in (and a reveal answer) to its homework's pair
// and practice, and a homework to its pair's practice (migration 00177).
// A row claiming another pair, written by any code, is refused, and the
// other pair's partner has nothing new to read.
func TestRowsBelongToTheirHomeworksPair(t *testing.T) {
	f := newFx(t)
	day := checkin.DateIn(f.now, time.UTC)
	hw := f.assign("x", "", day.AddDays(-3), day.AddDays(3), checkin.Daily)
	mine, err := f.store.Create(ctx, f.scope("xa"), hw, good(day, checkin.ToPartner))
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what, q string, args ...any) {
		t.Helper()
		_, err := f.db.Exec(q, args...)
		var pe *pq.Error
		if !errors.As(err, &pe) || pe.Code != "23503" {
			t.Errorf("%s: got %v, want a foreign key violation", what, err)
		}
	}
	insert := `INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
		trust_rating, communication_rating, hope_rating, visibility)
		VALUES ($1, $2, $3, $4, $5, $5, 'done', 5, 5, 5, 'partner')`
	refused("a check-in on pair x's homework filed under pair y", insert, f.ids["p1"], f.ids["y"], hw, f.ids["xa"], day.AddDays(-1))
	refused("a check-in on pair x's homework filed under practice 2's pair z", insert, f.ids["p2"], f.ids["z"], hw, f.ids["xa"], day.AddDays(-2))
	refused("a check-in moved to pair y", `UPDATE checkins SET pair_id = $2 WHERE id = $1`, mine, f.ids["y"])
	refused("homework of pair x filed under practice 2", `UPDATE assignments SET practice_id = $2 WHERE id = $1`, hw, f.ids["p2"])
	refused("a reveal answer on pair x's homework filed under pair y", `
		INSERT INTO reveal_answers (practice_id, pair_id, assignment_id, user_id, period_start, period_end)
		VALUES ($1, $2, $3, $4, $5, $5)`, f.ids["p1"], f.ids["y"], hw, f.ids["ya"], day)
	if n := f.count(`SELECT count(*) FROM checkins WHERE pair_id = $1`, f.ids["y"]); n != 0 {
		t.Errorf("pair y has %d check-ins", n)
	}
	shared, err := f.store.SharedWithMe(ctx, f.scope("yb"), 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != 0 {
		t.Errorf("pair y's partner reads %d shared check-ins", len(shared))
	}
}
