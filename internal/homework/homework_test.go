package homework_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/pair/pairtest"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) addDays(n int)   { c.set(c.now().AddDate(0, 0, n)) }

// Monday 2 March 2026, 09:00 in Chicago (the test practice's zone).
var start = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

type env struct {
	*pairtest.Fixture
	hw    *homework.Store
	lib   *library.Store
	clock *clock
	ctx   context.Context
}

func setup(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	f := pairtest.New(t)
	c := &clock{t: start}
	hw := homework.NewStore(f.DB, vaulttest.New(t, f.DB))
	hw.Now = c.now
	return &env{Fixture: f, hw: hw, lib: library.NewStore(f.DB), clock: c, ctx: context.Background()}
}

func (e *env) builtinStep(t *testing.T, key string) int64 {
	t.Helper()
	return int64(e.Count(t, `SELECT id FROM steps WHERE key = $1 AND practice_id IS NULL`, key))
}

func (e *env) corePlan(t *testing.T) int64 {
	t.Helper()
	return int64(e.Count(t, `SELECT id FROM plans WHERE key = $1 AND practice_id IS NULL`, library.BuiltinPlanKey))
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func day(s string) checkin.Date {
	d, err := checkin.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func sameDay(a, b checkin.Date) bool { return a == b }

func TestAssignValidatesAndStoresNothingOnError(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	other := e.Pair(t, e.A, "mutual", "mutual")
	step := e.builtinStep(t, "acknowledge-the-hurt")
	foreignStep, err := e.lib.Create(e.ctx, e.OtherCounselor, library.StepInput{
		Title: "Theirs", Both: "Do it", Questions: "How?", DurationDays: "3"})
	if err != nil {
		t.Fatal(err)
	}
	good := homework.Input{StepID: id(step), For: "both", StartsOn: "2026-03-02", DueOn: "2026-03-08", Cadence: "daily"}
	cases := []struct {
		name  string
		edit  func(*homework.Input)
		field string
	}{
		{"due before start", func(in *homework.Input) { in.DueOn = "2026-03-01" }, "due_on"},
		{"unparseable start", func(in *homework.Input) { in.StartsOn = "next tuesday" }, "starts_on"},
		{"unparseable due", func(in *homework.Input) { in.DueOn = "2026-02-30" }, "due_on"},
		{"start years away", func(in *homework.Input) { in.StartsOn = "2029-03-02"; in.DueOn = "2029-03-03" }, "starts_on"},
		{"unknown step", func(in *homework.Input) { in.StepID = "999999" }, "step"},
		{"no step", func(in *homework.Input) { in.StepID = "" }, "step"},
		{"another practice's step", func(in *homework.Input) { in.StepID = id(foreignStep.ID) }, "step"},
		{"member of another pair", func(in *homework.Input) { in.For = id(other.Members[0].UserID) }, "for"},
		{"weekly without weekdays", func(in *homework.Input) { in.Cadence = "weekly" }, "weekdays"},
		{"weekday out of range", func(in *homework.Input) { in.Cadence = "weekly"; in.Weekdays = []string{"8"} }, "weekdays"},
		{"unknown cadence", func(in *homework.Input) { in.Cadence = "hourly" }, "cadence"},
		{"note too long", func(in *homework.Input) { in.Note = strings.Repeat("x", 1001) }, "note"},
	}
	for _, c := range cases {
		in := good
		c.edit(&in)
		_, err := e.hw.Assign(e.ctx, e.A, p.ID, in)
		mendtest.WantCode(t, err, mend.EINVALID)
		if mend.Fields(err)[c.field] == "" {
			t.Errorf("%s: no message on %s: %v", c.name, c.field, mend.Fields(err))
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM assignments`); n != 0 {
		t.Fatalf("%d assignments stored after invalid input", n)
	}
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, good)
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Acknowledge the hurt" || !sameDay(a.StartsOn, day("2026-03-02")) || !sameDay(a.DueOn, day("2026-03-08")) || !a.ForBoth() {
		t.Fatalf("assigned %+v", a)
	}
	// An empty due date takes the step's suggested duration (7 days).
	in := good
	in.DueOn, in.Cadence, in.Weekdays = "", "weekly", []string{"4", "1", "4"}
	a, err = e.hw.Assign(e.ctx, e.A, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDay(a.DueOn, day("2026-03-08")) || a.CadenceText() != "Weekly on Mon, Thu" {
		t.Fatalf("defaults: due %s, cadence %q", a.DueOn, a.CadenceText())
	}
}

func TestTodayIsThePracticesDate(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	// 03:00 UTC on 3 March is still 2 March (21:00) in Chicago.
	e.clock.set(time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC))
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(e.builtinStep(t, "patience")), Cadence: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if !sameDay(a.StartsOn, day("2026-03-02")) {
		t.Fatalf("start defaulted to %s, want the practice's today 2026-03-02", a.StartsOn.Format(time.DateOnly))
	}
}

func TestInstructionsFollowEachMembersSide(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	mutual := e.Pair(t, e.A, "mutual", "mutual")
	step := e.builtinStep(t, "acknowledge-the-hurt")
	st, err := e.lib.Get(e.ctx, e.A, step)
	if err != nil {
		t.Fatal(err)
	}
	both := homework.Input{StepID: id(step), Cadence: "daily"}
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, both)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.hw.Assign(e.ctx, e.A, mutual.ID, both)
	if err != nil {
		t.Fatal(err)
	}
	headings := func(v homework.ClientView) string {
		var hs []string
		for _, s := range v.Sections {
			hs = append(hs, s.Heading)
		}
		return strings.Join(hs, " | ")
	}
	broke, err := e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 1), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if headings(broke) != "For both of you | For you" || broke.Sections[1].Items[0] != st.Instructions.Broke[0] {
		t.Fatalf("broke-trust member sees %q: %v", headings(broke), broke.Sections)
	}
	hurt, err := e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 2), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if headings(hurt) != "For both of you | For you" || hurt.Sections[1].Items[0] != st.Instructions.Hurt[0] {
		t.Fatalf("was-hurt member sees %q: %v", headings(hurt), hurt.Sections)
	}
	mv, err := e.hw.ClientAssignment(e.ctx, e.ClientScope(mutual, 1), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if headings(mv) != "For both of you | For the partner who broke the trust | For the partner who was hurt" {
		t.Fatalf("mutual member sees %q", headings(mv))
	}

	// Homework for one member only is invisible to the other.
	only, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(step), For: id(p.Members[1].UserID), Cadence: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 1), only.ID); mend.ErrorCode(err) != mend.ENOTFOUND {
		t.Fatalf("partner reads homework for the other member: %v", err)
	}
	if _, err := e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 2), only.ID); err != nil {
		t.Fatalf("member cannot read their own homework: %v", err)
	}
	list, err := e.hw.ForClient(e.ctx, e.ClientScope(p, 1), paging.First())
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].ID != a.ID {
		t.Fatalf("broke-trust member's list: %d items", len(list.Items))
	}
	// Staff see each member's view side by side.
	d, err := e.hw.GetDetail(e.ctx, e.A, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Members) != 2 || d.Members[0].Sections[1].Items[0] != st.Instructions.Broke[0] {
		t.Fatalf("detail members: %+v", d.Members)
	}
}

func TestCompleteAndCancel(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	in := homework.Input{StepID: id(e.builtinStep(t, "patience")), Cadence: "daily"}
	a, _ := e.hw.Assign(e.ctx, e.A, p.ID, in)
	b, _ := e.hw.Assign(e.ctx, e.A, p.ID, in)
	done, err := e.hw.Complete(e.ctx, e.A, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != homework.StatusCompleted || !done.CompletedAt.Valid || done.State() != homework.StateCompleted {
		t.Fatalf("completed: %+v", done)
	}
	_, err = e.hw.Complete(e.ctx, e.A, a.ID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	_, err = e.hw.Cancel(e.ctx, e.A, a.ID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	gone, err := e.hw.Cancel(e.ctx, e.A, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gone.Status != homework.StatusCancelled || !gone.CancelledAt.Valid {
		t.Fatalf("cancelled: %+v", gone)
	}
	cur, _ := e.hw.Current(e.ctx, e.A, p.ID)
	hist, _ := e.hw.History(e.ctx, e.A, p.ID, paging.First())
	if len(cur) != 0 || len(hist.Items) != 2 {
		t.Fatalf("current %d, history %d; want 0 and 2", len(cur), len(hist.Items))
	}
	// Finished homework cannot be edited.
	_, err = e.hw.Update(e.ctx, e.A, a.ID, in)
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

func TestEditOnlyWhileNoCheckinExists(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(e.builtinStep(t, "patience")), Cadence: "daily", Note: "first"})
	if err != nil {
		t.Fatal(err)
	}
	in := homework.InputOf(a)
	in.Note, in.DueOn = "second", "2026-03-20"
	if _, err := e.hw.Update(e.ctx, e.A, a.ID, in); err != nil {
		t.Fatal(err)
	}
	// Invalid edits change nothing.
	bad := in
	bad.DueOn, bad.Note = "2026-02-01", "third"
	_, err = e.hw.Update(e.ctx, e.A, a.ID, bad)
	mendtest.WantCode(t, err, mend.EINVALID)
	// A whole check-in: the check-in area's migration (00020) makes its
	// answers required.
	if _, err := e.DB.Exec(`INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end,
		status, trust_rating, communication_rating, hope_rating) VALUES ($1, $2, $3, $4, $5, $5, 'done', 5, 5, 5)`,
		p.PracticeID, p.ID, a.ID, p.Members[0].UserID, "2026-03-02"); err != nil {
		t.Fatal(err)
	}
	in.Note = "after check-in"
	_, err = e.hw.Update(e.ctx, e.A, a.ID, in)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	got, _ := e.hw.Get(e.ctx, e.A, a.ID)
	if got.Note != "second" || !sameDay(got.DueOn, day("2026-03-20")) || got.Editable() {
		t.Fatalf("after refused edit: note %q due %s editable %v", got.Note, got.DueOn, got.Editable())
	}
	// It can still be completed.
	if _, err := e.hw.Complete(e.ctx, e.A, a.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAssignedWordingSurvivesStepEdits(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	own, err := e.lib.Copy(e.ctx, e.A, e.builtinStep(t, "transparency"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(own.ID), Cadence: "daily"})
	if err != nil {
		t.Fatal(err)
	}
	in := library.InputOf(own.Content)
	in.Title = "Open books, our way"
	in.Both = "Share your calendar every Sunday."
	if _, err := e.lib.Update(e.ctx, e.B, own.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err := e.hw.GetDetail(e.ctx, e.A, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != own.Title || got.Content.Instructions.Both[0] != own.Instructions.Both[0] || got.StepVersion != 1 || !got.Newer() {
		t.Fatalf("assigned homework changed with the step: %q v%d, both[0] %q", got.Title, got.StepVersion, got.Content.Instructions.Both[0])
	}
	cv, _ := e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 1), a.ID)
	if cv.Title != own.Title {
		t.Fatalf("client sees %q", cv.Title)
	}
	// Editing the homework's dates keeps its version; new homework gets
	// the new wording.
	edit := homework.InputOf(got.Assignment)
	edit.Note = "dates only"
	if kept, err := e.hw.Update(e.ctx, e.A, a.ID, edit); err != nil || kept.StepVersion != 1 {
		t.Fatalf("edit: version %d, err %v", kept.StepVersion, err)
	}
	b, _ := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(own.ID), Cadence: "daily"})
	if b.Title != "Open books, our way" || b.StepVersion != 2 {
		t.Fatalf("new homework: %q v%d", b.Title, b.StepVersion)
	}
}

// planState returns "position:status:start:due" for each started step.
func planState(t *testing.T, e *env, pairID int64) []string {
	t.Helper()
	var rows []struct {
		Position int       `db:"position"`
		Status   string    `db:"status"`
		StartsOn time.Time `db:"starts_on"`
		DueOn    time.Time `db:"due_on"`
	}
	if err := e.DB.Select(&rows, `
		SELECT s.position, a.status, a.starts_on, a.due_on FROM assignments a JOIN pair_plan_steps s ON s.id = a.pair_plan_step_id
		JOIN pair_plans pp ON pp.id = s.pair_plan_id WHERE pp.pair_id = $1 ORDER BY s.position`, pairID); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d:%s:%s:%s", r.Position, r.Status, r.StartsOn.Format("01-02"), r.DueOn.Format("01-02")))
	}
	return out
}

func system(p pair.Pair) mend.Scope { return mend.SystemScope(p.PracticeID) }

func TestPlanAdvancesByDate(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
	// Step 1 (7 days) runs 2–8 March.
	if got := strings.Join(planState(t, e, p.ID), " "); got != "1:active:03-02:03-08" {
		t.Fatalf("after apply: %s", got)
	}
	// On its due date nothing moves yet.
	e.clock.set(start.AddDate(0, 0, 6))
	if n, err := e.hw.AdvanceDue(e.ctx, system(p)); err != nil || n != 0 {
		t.Fatalf("advance on the due date: %d, %v", n, err)
	}
	// The day after, step 2 starts, and step 1 is done.
	e.clock.set(start.AddDate(0, 0, 7))
	if n, err := e.hw.AdvanceDue(e.ctx, system(p)); err != nil || n != 1 {
		t.Fatalf("advance: %d, %v", n, err)
	}
	if got := strings.Join(planState(t, e, p.ID), " "); got != "1:completed:03-02:03-08 2:active:03-09:03-15" {
		t.Fatalf("after due date: %s", got)
	}
	// Running again changes nothing.
	if n, _ := e.hw.AdvanceDue(e.ctx, system(p)); n != 0 {
		t.Fatalf("second run created %d", n)
	}
	v, err := e.hw.Plan(e.ctx, e.A, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Current().Position != 2 || v.Total() < 15 || v.Next().Position != 3 || !v.Next().Expected ||
		!sameDay(v.Next().StartsOn.Date, day("2026-03-16")) {
		t.Fatalf("plan view: current %d of %d, next %+v", v.Current().Position, v.Total(), v.Next())
	}
}

func TestPlanAdvancesAtOnceWhenCompletedOrCancelled(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "once"}); err != nil {
		t.Fatal(err)
	}
	e.clock.addDays(3) // Thursday 5 March
	cur, _ := e.hw.Current(e.ctx, e.A, p.ID)
	if _, err := e.hw.Complete(e.ctx, e.A, cur[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(planState(t, e, p.ID), " "); got != "1:completed:03-02:03-08 2:active:03-05:03-11" {
		t.Fatalf("after completing step 1 early: %s", got)
	}
	cur, _ = e.hw.Current(e.ctx, e.A, p.ID)
	if _, err := e.hw.Cancel(e.ctx, e.A, cur[0].ID); err != nil {
		t.Fatal(err)
	}
	// Step 3 is 5 days.
	if got := planState(t, e, p.ID); got[2] != "3:active:03-05:03-09" || !strings.HasPrefix(got[1], "2:cancelled") {
		t.Fatalf("after cancelling step 2: %v", got)
	}
}

func TestPlanStartedInThePastCatchesUpAndFinishes(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	// A two-step plan of the practice's own.
	plan, err := e.lib.CreatePlan(e.ctx, e.A, library.PlanInput{Name: "Short", Rows: []library.PlanRow{
		{Step: id(e.builtinStep(t, "acknowledge-the-hurt")), Days: "3"},
		{Step: id(e.builtinStep(t, "patience")), Days: "4"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(plan.ID), StartsOn: "2026-02-26", Cadence: "daily", ConfirmDates: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(planState(t, e, p.ID), " "); got != "1:completed:02-26:02-28 2:active:03-01:03-04" {
		t.Fatalf("started in the past: %s", got)
	}
	e.clock.addDays(3) // 5 March: step 2 has ended, no step is left
	if _, err := e.hw.AdvanceDue(e.ctx, system(p)); err != nil {
		t.Fatal(err)
	}
	v, _ := e.hw.Plan(e.ctx, e.A, p.ID)
	if v.Status != homework.PlanFinished || v.Next() != nil {
		t.Fatalf("plan status %s", v.Status)
	}
	if n := e.Count(t, `SELECT count(*) FROM pair_events WHERE pair_id = $1 AND kind = 'plan_finished'`, p.ID); n != 1 {
		t.Fatalf("%d plan_finished events", n)
	}
	// A finished plan lets a new one start.
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(plan.ID), Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanIsASnapshot(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	step, err := e.lib.Copy(e.ctx, e.A, e.builtinStep(t, "patience"))
	if err != nil {
		t.Fatal(err)
	}
	other := e.builtinStep(t, "vulnerability")
	plan, err := e.lib.CreatePlan(e.ctx, e.A, library.PlanInput{Name: "Mine", Rows: []library.PlanRow{
		{Step: id(step.ID), Days: "2"}, {Step: id(step.ID), Days: "2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(plan.ID), Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
	// Change the template and the step's wording after applying.
	if _, err := e.lib.UpdatePlan(e.ctx, e.A, plan.ID, library.PlanInput{Name: "Mine, changed", Rows: []library.PlanRow{
		{Step: id(other), Days: "9"},
	}}); err != nil {
		t.Fatal(err)
	}
	in := library.InputOf(step.Content)
	in.Title = "Patience, reworded"
	if _, err := e.lib.Update(e.ctx, e.A, step.ID, in); err != nil {
		t.Fatal(err)
	}
	e.clock.addDays(2)
	if _, err := e.hw.AdvanceDue(e.ctx, system(p)); err != nil {
		t.Fatal(err)
	}
	v, _ := e.hw.Plan(e.ctx, e.A, p.ID)
	if v.Name != "Mine" || v.Total() != 2 || v.Steps[1].Title != step.Title || v.Steps[1].Days != 2 || v.Current().Position != 2 {
		t.Fatalf("pair's plan changed with its template: %s, %d steps, step 2 %q (%d days)", v.Name, v.Total(), v.Steps[1].Title, v.Steps[1].Days)
	}
}

func TestPausedPairsWaitAndResumeFromTheResumeDate(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pairs.Pause(e.ctx, e.A, p.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.addDays(10) // 12 March
	if n, _ := e.hw.AdvanceDue(e.ctx, system(p)); n != 0 {
		t.Fatalf("paused pair advanced %d", n)
	}
	// The pair is resumed "now" by the database clock; make the store's
	// clock agree with it so that the resume date is today.
	e.clock.set(time.Now())
	if _, err := e.Pairs.Resume(e.ctx, e.A, p.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.hw.AdvanceDue(e.ctx, system(p)); n != 1 {
		t.Fatalf("resumed pair advanced %d, want 1", n)
	}
	today, _ := e.hw.Today(e.ctx, e.A)
	got := planState(t, e, p.ID)
	if len(got) != 2 || !strings.HasPrefix(got[1], "2:active:"+today.Format("01-02")) {
		t.Fatalf("after resume: %v (today %s)", got, today.Format("01-02"))
	}
}

func TestConcurrentAdvancersCreateEachStepOnce(t *testing.T) {
	e := setup(t)
	var pairs []pair.Pair
	for range 6 {
		p := e.Pair(t, e.A, "mutual", "mutual")
		if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "daily"}); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	e.clock.addDays(20) // 22 March: steps 1-3 (7+7+5 days) have ended
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := e.hw.AdvanceDue(e.ctx, system(pairs[0])); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Skipped (locked) pairs are picked up by a later run.
	if _, err := e.hw.AdvanceDue(e.ctx, system(pairs[0])); err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if got := strings.Join(planState(t, e, p.ID), " "); got != "1:completed:03-02:03-08 2:completed:03-09:03-15 3:completed:03-16:03-20 4:active:03-21:03-25" {
			t.Fatalf("pair %d: %s", p.ID, got)
		}
	}
}

func TestScope(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	otherPair := e.Pair(t, e.B, "mutual", "mutual")
	in := homework.Input{StepID: id(e.builtinStep(t, "patience")), Cadence: "daily"}
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.hw.Assign(e.ctx, e.B, otherPair.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	plan := homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "daily"}
	for _, sc := range []mend.Scope{e.B, e.OtherAdmin, e.OtherCounselor, e.ClientScope(otherPair, 1)} {
		_, err := e.hw.Get(e.ctx, sc, a.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.hw.Assign(e.ctx, sc, p.ID, in)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.hw.Update(e.ctx, sc, a.ID, in)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.hw.Complete(e.ctx, sc, a.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.hw.Cancel(e.ctx, sc, a.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.hw.ApplyPlan(e.ctx, sc, p.ID, plan)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		err = e.hw.StopPlan(e.ctx, sc, p.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		if cur, _ := e.hw.Current(e.ctx, sc, p.ID); len(cur) != 0 {
			t.Fatalf("%s %d sees another pair's homework", sc.Role, sc.UserID)
		}
		if sum, _ := e.hw.Summaries(e.ctx, sc, []int64{p.ID}); len(sum) != 0 {
			t.Fatalf("%s %d sees another pair's summary", sc.Role, sc.UserID)
		}
	}
	// A client cannot read another pair's homework; staff reads are not
	// for clients at all.
	_, err = e.hw.ClientAssignment(e.ctx, e.ClientScope(p, 1), b.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = e.hw.Get(e.ctx, e.ClientScope(p, 1), a.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	// The admin sees the practice's pairs, and nothing was changed above.
	got, err := e.hw.Get(e.ctx, e.Admin, a.ID)
	if err != nil || got.Status != homework.StatusActive {
		t.Fatalf("admin get: %v %v", got.Status, err)
	}
	if n := e.Count(t, `SELECT count(*) FROM pair_plans`); n != 0 {
		t.Fatalf("%d plans applied from out of scope", n)
	}
	// Only the system scope advances plans.
	for _, sc := range []mend.Scope{e.Admin, e.A} {
		_, err := e.hw.AdvanceDue(e.ctx, sc)
		mendtest.WantCode(t, err, mend.EFORBIDDEN)
	}
}

func TestClosedPairHomeworkIsCancelled(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "mutual", "mutual")
	if _, err := e.hw.ApplyPlan(e.ctx, e.A, p.ID, homework.PlanInput{PlanID: id(e.corePlan(t)), Cadence: "daily"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pairs.Close(e.ctx, e.A, p.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.Count(t, `SELECT count(*) FROM assignments WHERE pair_id = $1 AND status = 'active'`, p.ID); n != 0 {
		t.Fatalf("%d active assignments on a closed pair", n)
	}
	v, _ := e.hw.Plan(e.ctx, e.A, p.ID)
	if v.Status != homework.PlanStopped {
		t.Fatalf("plan %s on a closed pair", v.Status)
	}
	_, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: id(e.builtinStep(t, "patience")), Cadence: "daily"})
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

// Pair is a pair created well before the test clock's today (pairtest
// creates it at the database's now, which may be after the clock).
func (e *env) Pair(t *testing.T, sc mend.Scope, sideA, sideB string) pair.Pair {
	t.Helper()
	p := e.Fixture.Pair(t, sc, sideA, sideB)
	p.CreatedAt = time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC)
	if _, err := e.DB.Exec(`UPDATE pairs SET created_at = $2 WHERE id = $1`, p.ID, p.CreatedAt); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPastDatesAskForConfirmation: a start date before today or a due date
// already over is not saved until the counselor confirms; the warning says
// how many periods are already over and which can still get a late
// check-in. Keeping already-saved dates while editing asks nothing again.
func TestPastDatesAskForConfirmation(t *testing.T) {
	e := setup(t) // today is Monday 2 March 2026 in the practice
	p := e.Pair(t, e.A, "broke_trust", "was_hurt")
	step := id(e.builtinStep(t, "patience"))
	in := homework.Input{StepID: step, For: "both", StartsOn: "2026-02-23", DueOn: "2026-03-08", Cadence: "daily"}
	_, err := e.hw.Assign(e.ctx, e.A, p.ID, in)
	mendtest.WantCode(t, err, mend.EINVALID)
	warning := mend.Fields(err)[homework.ConfirmField]
	for _, want := range []string{"starts on Mon 23 Feb 2026, before today", "7 check-in periods are already over",
		"2 can still get a late check-in", "the other 5 stay without check-ins", "no missing or overdue alerts"} {
		if !strings.Contains(warning, want) {
			t.Errorf("warning %q does not say %q", warning, want)
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM assignments`); n != 0 {
		t.Fatalf("%d assignments stored before the counselor confirmed", n)
	}
	// A due date already over says so.
	over := homework.Input{StepID: step, For: "both", StartsOn: "2026-02-16", DueOn: "2026-02-20", Cadence: "once"}
	_, err = e.hw.Assign(e.ctx, e.A, p.ID, over)
	if w := mend.Fields(err)[homework.ConfirmField]; !strings.Contains(w, "due date, Fri 20 Feb 2026, is already over") ||
		!strings.Contains(w, "can no longer check in") {
		t.Errorf("warning for a due date already over: %q", w)
	}
	in.ConfirmDates = true
	a, err := e.hw.Assign(e.ctx, e.A, p.ID, in)
	if err != nil {
		t.Fatalf("confirmed: %v", err)
	}
	if !sameDay(a.StartsOn, day("2026-02-23")) || !a.CreatedAt.Equal(start) {
		t.Errorf("stored start %s, created %s; want 23 Feb, created at the store's now", a.StartsOn, a.CreatedAt)
	}
	// Editing the note keeps the confirmed dates: no new question.
	edit := homework.InputOf(a)
	edit.Note = "Take your time."
	if _, err := e.hw.Update(e.ctx, e.A, a.ID, edit); err != nil {
		t.Fatalf("edit keeping the saved dates: %v", err)
	}
	// Moving the start further back asks again.
	edit.StartsOn = "2026-02-20"
	_, err = e.hw.Update(e.ctx, e.A, a.ID, edit)
	if mend.Fields(err)[homework.ConfirmField] == "" {
		t.Errorf("moving the start further into the past saved without asking: %v", err)
	}
	// Today and later ask nothing.
	if _, err := e.hw.Assign(e.ctx, e.A, p.ID, homework.Input{StepID: step, StartsOn: "2026-03-02", Cadence: "daily"}); err != nil {
		t.Errorf("start today: %v", err)
	}
}

// TestHomeworkCannotEndBeforeThePair: the due date cannot be before the
// day the pair was created, even when confirmed.
func TestHomeworkCannotEndBeforeThePair(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "broke_trust", "was_hurt") // created 5 Jan 2026
	in := homework.Input{StepID: id(e.builtinStep(t, "patience")), StartsOn: "2025-12-29", DueOn: "2026-01-04",
		Cadence: "daily", ConfirmDates: true}
	_, err := e.hw.Assign(e.ctx, e.A, p.ID, in)
	mendtest.WantCode(t, err, mend.EINVALID)
	if msg := mend.Fields(err)["due_on"]; msg != "This pair was created on 5 Jan 2026; its homework cannot end before that." {
		t.Errorf("due_on message %q", msg)
	}
	if n := e.Count(t, `SELECT count(*) FROM assignments`); n != 0 {
		t.Fatalf("%d assignments stored", n)
	}
}
