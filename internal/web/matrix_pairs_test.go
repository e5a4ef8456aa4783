package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"

	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// addPairsFixtures adds, per target, a fresh active homework of the
// target's pair (no check-ins, so it is editable), and a practice-owned
// step and plan: own made by counselor1@northside, other by
// counselor2@northside (same practice: visible to all its staff), foreign
// by counselor1@riverbank.
func addPairsFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	ctx := context.Background()
	lib := env.Stores.Library
	for _, target := range targets {
		f.ids["assignment."+target] = env.ID(t, `
			INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence)
			SELECT p.practice_id, p.id, (SELECT current_version_id FROM steps WHERE key = 'patience' AND practice_id IS NULL),
			       current_date, current_date + 6, 'daily'
			FROM pairs p WHERE p.id = $1 RETURNING id`, f.pair(target))
	}
	builtin := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience' AND practice_id IS NULL`), 10)
	for target, email := range map[string]string{
		"own": "counselor1@northside.example", "other": "counselor2@northside.example", "foreign": "counselor1@riverbank.example",
	} {
		sc := mend.Scope{UserID: env.UserID(t, email), Role: mend.RoleCounselor,
			PracticeID: env.ID(t, `SELECT practice_id FROM users WHERE email = $1`, email)}
		st, err := lib.Create(ctx, sc, library.StepInput{Title: "Fixture step " + target, Both: "Do it.", Questions: "Done?", DurationDays: "3"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := lib.CreatePlan(ctx, sc, library.PlanInput{Name: "Fixture plan " + target, Rows: []library.PlanRow{{Step: builtin}}})
		if err != nil {
			t.Fatal(err)
		}
		f.ids["step."+target], f.ids["plan."+target] = st.ID, p.ID
	}
}

func idPath(kind, format string) func(*fixtures, string) string {
	return func(f *fixtures, target string) string { return fmt.Sprintf(format, f.id(kind+"."+target)) }
}

// A valid step as the step form posts it.
var stepForm = url.Values{"title": {"Matrix step"}, "both": {"Walk together."}, "questions": {"Did you walk?"}, "duration_days": {"4"}}

// Pairs, homework, library and plans. Counselors act on their own pairs
// only (another counselor's pair is 404); admins read every pair of their
// practice and reassign, but do not change homework; the library and plans
// belong to the practice (another counselor's step is visible, another
// practice's is 404); clients have none of these pages.
//
// Rows whose success would need an id unknown when the row is written post
// an invalid form instead: 422 shows that the caller got through both the
// policy and the store's scope (which is checked before the input).
var _ = addMatrixRows(
	matrixRow{Method: "GET", Route: "/pairs", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "GET", Route: "/pairs/new", Expect: "anon=303 admin=404 counselor=200 client=404"},
	matrixRow{Method: "POST", Route: "/pairs", Form: url.Values{
		"label": {"Matrix pair"}, "kind": {"friends"},
		"a_name": {"Ann Matrix"}, "a_email": {"ann.matrix@example.com"}, "a_timezone": {"UTC"}, "a_side": {"mutual"},
		"b_name": {"Bob Matrix"}, "b_email": {"bob.matrix@example.com"}, "b_timezone": {"UTC"}, "b_side": {"mutual"},
	}, Expect: "anon=303 admin=404 counselor=201 client=404"},
	matrixRow{Method: "GET", Route: "/pairs/:id", Path: pairPath("/pairs/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/pause", Path: pairPath("/pairs/%d/pause"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	// The demo pair is active: resuming it is a conflict.
	matrixRow{Method: "POST", Route: "/pairs/:id/resume", Path: pairPath("/pairs/%d/resume"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=409/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/close", Path: pairPath("/pairs/%d/close"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/reassign", Path: pairPath("/pairs/%d/reassign"), Form: url.Values{"counselor": {"0"}},
		Expect: "anon=303/303/303 admin=422/422/404 counselor=404/404/404 client=404/404/404"},
	// Demo clients have accepted their invitations: a new link is a conflict
	// (for the pair's counselor and the practice's admins alike), and so is
	// showing their invitation link again.
	matrixRow{Method: "GET", Route: "/pairs/:id/members/:position/invitation", Path: pairPath("/pairs/%d/members/2/invitation"),
		Expect: "anon=303/303/303 admin=409/409/404 counselor=409/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/members/:position/invitation", Path: pairPath("/pairs/%d/members/2/invitation"),
		Expect: "anon=303/303/303 admin=409/409/404 counselor=409/404/404 client=404/404/404"},
	// A reset link for a client who has joined: shown once to their
	// counselor or an admin of the practice.
	matrixRow{Method: "POST", Route: "/pairs/:id/members/:position/reset", Path: pairPath("/pairs/%d/members/2/reset"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/homework/new", Path: pairPath("/pairs/%d/homework/new"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/homework", Path: pairPath("/pairs/%d/homework"), Form: url.Values{"step": {""}, "cadence": {"daily"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=422/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/plan", Path: pairPath("/pairs/%d/plan"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=200/404/404 client=404/404/404"},
	// The demo pair is already on a plan: applying another is refused next
	// to the plan field.
	matrixRow{Method: "POST", Route: "/pairs/:id/plan", Path: pairPath("/pairs/%d/plan"), Form: url.Values{"plan": {"0"}, "cadence": {"daily"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=422/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/pairs/:id/plan/stop", Path: pairPath("/pairs/%d/plan/stop"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/assignments/:id", Path: idPath("assignment", "/assignments/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/assignments/:id/edit", Path: idPath("assignment", "/assignments/%d/edit"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/assignments/:id", Path: idPath("assignment", "/assignments/%d"), Form: url.Values{"step": {"x"}, "cadence": {"daily"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=422/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/assignments/:id/complete", Path: idPath("assignment", "/assignments/%d/complete"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/assignments/:id/cancel", Path: idPath("assignment", "/assignments/%d/cancel"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/library", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "GET", Route: "/library/new", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "POST", Route: "/library", Form: stepForm, Expect: "anon=303 admin=303 counselor=303 client=404"},
	matrixRow{Method: "GET", Route: "/library/:id", Path: idPath("step", "/library/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/200/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/library/:id/edit", Path: idPath("step", "/library/%d/edit"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/200/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/library/:id", Path: idPath("step", "/library/%d"), Form: stepForm,
		Expect: "anon=303/303/303 admin=303/303/404 counselor=303/303/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/library/:id/copy", Path: idPath("step", "/library/%d/copy"),
		Expect: "anon=303/303/303 admin=303/303/404 counselor=303/303/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/plans", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "GET", Route: "/plans/new", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "POST", Route: "/plans", Form: url.Values{"name": {""}},
		Expect: "anon=303 admin=422 counselor=422 client=404"},
	matrixRow{Method: "GET", Route: "/plans/:id", Path: idPath("plan", "/plans/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/200/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/plans/:id/edit", Path: idPath("plan", "/plans/%d/edit"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/200/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/plans/:id", Path: idPath("plan", "/plans/%d"), Form: url.Values{"name": {""}},
		Expect: "anon=303/303/303 admin=422/422/404 counselor=422/422/404 client=404/404/404"},
)
