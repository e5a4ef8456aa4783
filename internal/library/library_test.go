package library_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair/pairtest"
)

func TestSyncBuiltinsIsIdempotent(t *testing.T) {
	d, _ := dbtest.New(t)
	ctx := context.Background()
	var steps, versions, plans, planSteps int
	count := func() {
		t.Helper()
		for _, q := range []struct {
			n   *int
			sql string
		}{
			{&steps, `SELECT count(*) FROM steps WHERE practice_id IS NULL`},
			{&versions, `SELECT count(*) FROM step_versions`},
			{&plans, `SELECT count(*) FROM plans WHERE practice_id IS NULL`},
			{&planSteps, `SELECT count(*) FROM plan_steps`},
		} {
			if err := d.Get(q.n, q.sql); err != nil {
				t.Fatal(err)
			}
		}
	}
	count()
	if steps < 15 || versions != steps || plans != 1 || planSteps < 15 {
		t.Fatalf("after migration: %d steps, %d versions, %d plans, %d plan steps", steps, versions, plans, planSteps)
	}
	if err := library.SyncBuiltins(ctx, d); err != nil {
		t.Fatal(err)
	}
	s0, v0, p0, ps0 := steps, versions, plans, planSteps
	count()
	if steps != s0 || versions != v0 || plans != p0 || planSteps != ps0 {
		t.Fatalf("second sync changed counts: %d/%d/%d/%d → %d/%d/%d/%d", s0, v0, p0, ps0, steps, versions, plans, planSteps)
	}
}

type libEnv struct {
	*pairtest.Fixture
	lib *library.Store
}

func newLib(t *testing.T) libEnv {
	t.Parallel()
	f := pairtest.New(t)
	return libEnv{f, library.NewStore(f.DB)}
}

var goodStep = library.StepInput{
	Title: "Evening walk", Summary: "Walk together after dinner, quokka pace.", Why: "Side by side is easier.",
	Both: "Walk for twenty minutes.\n- Leave phones at home.", Broke: "Ask one question about their day.",
	Questions: "Did you walk?\nHow did it feel?", DurationDays: "6",
}

func TestBuiltinStepsAreCompleteAndReadOnly(t *testing.T) {
	e := newLib(t)
	ctx := context.Background()
	page, err := e.lib.List(ctx, e.A, "", paging.Request{Number: 1, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The 15 repair steps and, tied to them, 5 reveal exercises (issue 21).
	if len(page.Items) != 20 || page.Items[0].Title != "Acknowledge the hurt" {
		t.Fatalf("%d steps, first %q", len(page.Items), page.Items[0].Title)
	}
	reveals := map[string]int{}
	for _, s := range page.Items {
		reveals[s.Reveal]++
	}
	if reveals[""] != 15 || reveals[library.RevealBoth] < 2 || reveals[library.RevealCounselor] < 1 || reveals[library.RevealSession] < 1 {
		t.Errorf("built-in steps by reveal rule: %v", reveals)
	}
	for _, s := range page.Items {
		if !s.BuiltIn() || s.Why == "" || len(s.Instructions.Both) == 0 || len(s.Questions) < 2 || len(s.Questions) > 4 || s.DurationDays < 1 {
			t.Errorf("built-in step %q is incomplete", s.Title)
		}
	}
	_, err = e.lib.Update(ctx, e.A, page.Items[0].ID, goodStep)
	mendtest.WantCode(t, err, mend.EFORBIDDEN)
	_, err = e.lib.UpdatePlan(ctx, e.A, int64(e.Count(t, `SELECT id FROM plans WHERE key = 'core-path'`)),
		library.PlanInput{Name: "x", Rows: []library.PlanRow{{Step: strconv.FormatInt(page.Items[0].ID, 10)}}})
	mendtest.WantCode(t, err, mend.EFORBIDDEN)
	// Clients have no library.
	_, err = e.lib.List(ctx, mend.Scope{PracticeID: e.A.PracticeID, UserID: 1, Role: mend.RoleClient}, "", paging.First())
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}

func TestOwnStepsAreVersionedAndPracticeScoped(t *testing.T) {
	e := newLib(t)
	ctx := context.Background()
	s, err := e.lib.Create(ctx, e.A, goodStep)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != 1 || s.BuiltIn() || len(s.Instructions.Both) != 2 || s.Instructions.Both[1] != "Leave phones at home." || len(s.Instructions.Hurt) != 0 {
		t.Fatalf("created %+v", s)
	}
	// Colleagues in the practice can edit it; saving the same text adds
	// no version.
	same, err := e.lib.Update(ctx, e.B, s.ID, goodStep)
	if err != nil || same.Version != 1 {
		t.Fatalf("unchanged save: v%d %v", same.Version, err)
	}
	in := goodStep
	in.Title = "Evening walk, longer"
	changed, err := e.lib.Update(ctx, e.B, s.ID, in)
	if err != nil || changed.Version != 2 || changed.Title != in.Title {
		t.Fatalf("changed save: v%d %q %v", changed.Version, changed.Title, err)
	}
	vs, _ := e.lib.Versions(ctx, e.A, s.ID)
	if len(vs) != 2 || vs[1].Title != "Evening walk" {
		t.Fatalf("versions %+v", vs)
	}
	// Another practice can neither see nor change it.
	for _, sc := range []mend.Scope{e.OtherAdmin, e.OtherCounselor} {
		_, err = e.lib.Get(ctx, sc, s.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.lib.Update(ctx, sc, s.ID, in)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		_, err = e.lib.Copy(ctx, sc, s.ID)
		mendtest.WantCode(t, err, mend.ENOTFOUND)
		page, _ := e.lib.List(ctx, sc, "quokka", paging.First())
		if mine, _ := e.lib.List(ctx, e.B, "quokka", paging.First()); len(mine.Items) != 1 {
			t.Fatalf("the practice finds %d of its steps", len(mine.Items))
		}
		if len(page.Items) != 0 {
			t.Fatalf("another practice finds %d steps", len(page.Items))
		}
	}
}

func TestStepValidation(t *testing.T) {
	e := newLib(t)
	ctx := context.Background()
	cases := []struct {
		edit  func(*library.StepInput)
		field string
	}{
		{func(in *library.StepInput) { in.Title = "  " }, "title"},
		{func(in *library.StepInput) { in.Title = strings.Repeat("t", 121) }, "title"},
		{func(in *library.StepInput) { in.Both, in.Broke, in.Hurt = "", "", "" }, "both"},
		{func(in *library.StepInput) { in.Questions = "\n \n" }, "questions"},
		{func(in *library.StepInput) { in.Questions = "1\n2\n3\n4\n5\n6\n7" }, "questions"},
		{func(in *library.StepInput) { in.DurationDays = "0" }, "duration_days"},
		{func(in *library.StepInput) { in.DurationDays = "a week" }, "duration_days"},
	}
	for _, c := range cases {
		in := goodStep
		c.edit(&in)
		_, err := e.lib.Create(ctx, e.A, in)
		mendtest.WantCode(t, err, mend.EINVALID)
		if mend.Fields(err)[c.field] == "" {
			t.Errorf("no message on %s: %v", c.field, mend.Fields(err))
		}
	}
	if n := e.Count(t, `SELECT count(*) FROM steps WHERE practice_id IS NOT NULL`); n != 0 {
		t.Fatalf("%d steps stored", n)
	}
}

func TestCopyAndSearch(t *testing.T) {
	e := newLib(t)
	ctx := context.Background()
	builtin := int64(e.Count(t, `SELECT id FROM steps WHERE key = 'forgiveness-and-letting-go'`))
	cp, err := e.lib.Copy(ctx, e.A, builtin)
	if err != nil {
		t.Fatal(err)
	}
	if cp.BuiltIn() || cp.Version != 1 || cp.CopiedFromID.Int64 != builtin || cp.CopiedFromTitle.String != cp.Title {
		t.Fatalf("copy %+v", cp)
	}
	in := library.InputOf(cp.Content)
	in.Why = "Resentment weighs on the one who carries it; a zebra never forgets."
	if _, err := e.lib.Update(ctx, e.A, cp.ID, in); err != nil {
		t.Fatal(err)
	}
	titles := func(q string) []string {
		page, err := e.lib.List(ctx, e.B, q, paging.First())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range page.Items {
			out = append(out, s.Title)
		}
		return out
	}
	// By title (prefix of a word), by body text, and the copy's new text
	// only (not its old version).
	if got := titles("forgiv"); len(got) < 2 || got[0] != cp.Title || got[1] != cp.Title {
		t.Fatalf("forgiv → %v", got)
	}
	if got := titles("zebra"); len(got) != 1 || got[0] != cp.Title {
		t.Fatalf("zebra → %v", got)
	}
	if got := titles("listen underst"); len(got) == 0 || got[0] != "Listen to understand" {
		t.Fatalf("listen underst → %v", got)
	}
	if got := titles(`'); DROP TABLE steps; --`); got != nil {
		t.Fatalf("odd query → %v", got)
	}
}

func TestPlans(t *testing.T) {
	e := newLib(t)
	ctx := context.Background()
	a := strconv.Itoa(e.Count(t, `SELECT id FROM steps WHERE key = 'patience'`)) // 5 days
	b := strconv.Itoa(e.Count(t, `SELECT id FROM steps WHERE key = 'transparency'`))
	p, err := e.lib.CreatePlan(ctx, e.A, library.PlanInput{Name: " Short path ", Rows: []library.PlanRow{
		{Step: a}, {}, {Step: b, Days: "3"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Short path" || len(p.Steps) != 2 || p.Steps[0].Days != 5 || p.Steps[1].Days != 3 || p.Steps[1].StartDay != 6 || p.TotalDays != 8 {
		t.Fatalf("plan %+v", p)
	}
	foreign, err := e.lib.Create(ctx, e.OtherCounselor, goodStep)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in    library.PlanInput
		field string
	}{
		{library.PlanInput{Name: "", Rows: []library.PlanRow{{Step: a}}}, "name"},
		{library.PlanInput{Name: "x"}, "step-0"},
		{library.PlanInput{Name: "x", Rows: []library.PlanRow{{Step: a}, {Step: "nope"}}}, "step-1"},
		{library.PlanInput{Name: "x", Rows: []library.PlanRow{{Step: strconv.FormatInt(foreign.ID, 10)}}}, "step-0"},
		{library.PlanInput{Name: "x", Rows: []library.PlanRow{{Step: a, Days: "0"}}}, "days-0"},
		{library.PlanInput{Name: "x", Rows: []library.PlanRow{{Days: "4"}}}, "step-0"},
	}
	for _, c := range cases {
		_, err := e.lib.CreatePlan(ctx, e.A, c.in)
		mendtest.WantCode(t, err, mend.EINVALID)
		if mend.Fields(err)[c.field] == "" {
			t.Errorf("no message on %s: %v", c.field, mend.Fields(err))
		}
		_, err = e.lib.UpdatePlan(ctx, e.A, p.ID, c.in)
		mendtest.WantCode(t, err, mend.EINVALID)
	}
	got, _ := e.lib.Plan(ctx, e.B, p.ID)
	if got.Name != "Short path" || len(got.Steps) != 2 {
		t.Fatalf("invalid update changed the plan: %+v", got)
	}
	_, err = e.lib.Plan(ctx, e.OtherAdmin, p.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	page, _ := e.lib.Plans(ctx, e.A, paging.First())
	if len(page.Items) != 2 || !page.Items[0].BuiltIn() || page.Items[0].StepCount != 15 {
		t.Fatalf("plans %+v", page.Items)
	}
}
