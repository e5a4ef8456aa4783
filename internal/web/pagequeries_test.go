package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestPagesRunFewStatements counts the statements (queries, executions of
// prepared statements, BEGIN and COMMIT) each page a client
// or counselor uses most sends to PostgreSQL, once the server is warm, and
// holds each page to its budget: a new statement on one of these pages
// costs every request, so it has to be argued for here. A failure lists
// the statements the page sent.
func TestPagesRunFewStatements(t *testing.T) {
	t.Parallel()
	_, dsn := webtest.DemoDB(t)
	d, _, log := loggedDB(t, dsn)
	env := webtest.StartWithDB(t, d, dsn)
	const client = "client1a@northside.example"
	hw := giveHomework(t, env, client, "")
	today := clientToday(t, env, client)
	a := env.Login(t, client)
	co := env.Login(t, "counselor1@northside.example")
	pairID := env.PairOf(t, client)
	mine := giveCheckin(t, env, client, hw, today, "partner", "This evening")
	// The same pages with the dashboard read on every request.
	coldServer := webtest.StartWithDB(t, d, dsn, func(c *config.Config) { c.DashboardCache = 0 })
	cold := coldServer.Login(t, "counselor1@northside.example")
	coldClient := coldServer.Login(t, client)
	// The demo pair answered a measure weekly, both partners (issue 20):
	// the progress tab charts their scores and the dashboard reads them, so
	// the counts below include the measures.
	if n := count(t, env, `SELECT count(DISTINCT user_id) FROM measure_responses WHERE pair_id = $1 HAVING count(*) >= 8`, pairID); n != 2 {
		t.Fatalf("the measured pair has measures answered by %d partners, want both, several times", n)
	}

	// sent runs do and returns the statements it sent.
	sent := func(do func() webtest.Response, status int, what string) []string {
		t.Helper()
		before := log.len()
		if res := do(); res.Status != status {
			t.Fatalf("%s: status %d, want %d\n%s", what, res.Status, status, res.Body)
		}
		// A statement's preparation is not counted: it happens once per
		// pooled connection, on whichever request first runs it there.
		return slices.DeleteFunc(log.since(before), func(q string) bool { return strings.HasPrefix(q, "PREPARE ") })
	}
	// fewest is the fewer statements of two runs: the session's last-seen
	// time is written at most once a minute, and that write can land in
	// any one request.
	fewest := func(runs ...[]string) []string {
		best := runs[0]
		for _, r := range runs[1:] {
			if len(r) < len(best) {
				best = r
			}
		}
		return best
	}
	get := func(c *webtest.Client, path string) []string {
		return fewest(
			sent(func() webtest.Response { return c.Get(path) }, http.StatusOK, "GET "+path),
			sent(func() webtest.Response { return c.Get(path) }, http.StatusOK, "GET "+path))
	}
	form := func(day string) url.Values {
		return url.Values{"period": {day}, "status": {"done"}, "trust": {"6"}, "communication": {"5"}, "hope": {"7"},
			"answer_1": {"An answer"}, "reflection": {"A reflection"}, "visibility": {"partner"}}
	}
	newCheckin := func(day int) []string {
		path := fmt.Sprintf("/homework/%d/checkins", hw)
		return sent(func() webtest.Response { return a.PostForm(path, form(today.AddDays(day).String())) }, http.StatusSeeOther, "POST "+path)
	}
	editPath := fmt.Sprintf("/checkins/%d", mine)
	edit := func() []string {
		return sent(func() webtest.Response { return a.PostForm(editPath, form(today.String())) }, http.StatusSeeOther, "POST "+editPath)
	}
	reviewPath := fmt.Sprintf("/review/checkins/%d", mine)
	pages := []struct {
		name   string
		budget int
		run    func() []string
	}{
		// Every page: the session's data and its index row are read in one
		// statement (auth.WithSessionRead), so a kept dashboard costs one.
		// Client pages: +1 for the unread count of what the partner shared
		// in the navigation (issue 16); the home reads it with its "Shared
		// with you" list (+1) and audits that read (+1); the homework page
		// marks the partner's shared check-ins on it read (+1).
		// +1: the questionnaires due (issue 20).
		{"client home read every time GET /homework", 8, func() []string { return get(coldClient, "/homework") }},
		{"homework page read every time GET /homework/:id", 9, func() []string { return get(coldClient, fmt.Sprintf("/homework/%d", hw)) }},
		// Kept (sealed) per client under their pairs' counselors' stamp:
		// the session's statement, and the audit entry of the partner's
		// shared check-ins (the home's list, the homework page's cards)
		// being read.
		{"client home GET /homework", 2, func() []string {
			if body := a.Get("/homework").Body; !strings.Contains(body, "Shared with you") {
				t.Errorf("the client's home shows nothing the partner shared:\n%s", body)
			}
			return get(a, "/homework")
		}},
		{"homework page GET /homework/:id", 2, func() []string {
			path := fmt.Sprintf("/homework/%d", hw)
			if body := a.Get(path).Body; !strings.Contains(body, "This evening") {
				t.Errorf("the homework page shows not the client's check-in:\n%s", body)
			}
			return get(a, path)
		}},
		{"check-in form GET /homework/:id/checkins/new", 4, func() []string { return get(a, fmt.Sprintf("/homework/%d/checkins/new", hw)) }},
		// +1 for the check-in's audit entry, in its transaction (issue 14);
		// -1: the new row's id read with the homework (issue 18).
		{"new check-in POST /homework/:id/checkins", 8, func() []string { return fewest(newCheckin(-1), newCheckin(-2)) }},
		{"check-in edit form GET /checkins/:id/edit", 4, func() []string { return get(a, editPath+"/edit") }},
		// +1 for the edit's audit entry, in its transaction (issue 14); -3:
		// one key read for both texts, the history's id read with the row,
		// the history and the update in one statement (issue 18).
		{"check-in edit POST /checkins/:id", 8, func() []string { return fewest(edit(), edit()) }},
		// +1: who accepted which consent version (issue 16); -1: the plan
		// and its steps in one statement (issue 20).
		{"pair page read every time GET /pairs/:id", 10, func() []string { return get(cold, fmt.Sprintf("/pairs/%d", pairID)) }},
		// Kept as the review page is: the session, and the audit entry of
		// the pair's records read (+1 with a mail server: its state).
		{"pair page GET /pairs/:id", 2, func() []string { return get(co, fmt.Sprintf("/pairs/%d", pairID)) }},
		// Kept, as the dashboard is (keptBodies): the session's statement,
		// and the audit entry of the clients' progress being read.
		{"progress tab GET /pairs/:id/progress", 2, func() []string {
			path := fmt.Sprintf("/pairs/%d/progress", pairID)
			if body := co.Get(path).Body; !strings.Contains(body, "Mend closeness check: total of each partner") {
				t.Errorf("the progress tab shows no measure:\n%s", body)
			}
			return get(co, path)
		}},
		// Not kept (as after any change the counselor's stamp covers): +1 the
		// pair's first record, where the range starts by default (issue 14);
		// +1 the measures' scores and open flags, one statement, and -1 the
		// plan with its steps (issue 20).
		{"progress tab read every time GET /pairs/:id/progress", 10, func() []string {
			path := fmt.Sprintf("/pairs/%d/progress", pairID)
			if body := cold.Get(path).Body; !strings.Contains(body, "Mend closeness check: total of each partner") {
				t.Errorf("the progress tab shows no measure:\n%s", body)
			}
			return get(cold, path)
		}},
		// Kept (sealed) as the progress tab is: the session, and the audit
		// entry of the check-ins read.
		{"review page GET /review/checkins/:id", 2, func() []string {
			if body := co.Get(reviewPath).Body; !strings.Contains(body, "A reflection") && !strings.Contains(body, "This evening") {
				t.Errorf("the review page shows not the client's words:\n%s", body)
			}
			return get(co, reviewPath)
		}},
		{"review page read every time GET /review/checkins/:id", 9, func() []string { return get(cold, reviewPath) }},
		{"dashboard GET /dashboard", 1, func() []string { return get(co, "/dashboard") }},
		// The measures' attention rules are read in the pairs statement.
		{"dashboard read every time GET /dashboard", 5, func() []string {
			if body := cold.Get("/dashboard").Body; !strings.Contains(body, "See measures") {
				t.Errorf("the dashboard shows no measure's rule:\n%s", body)
			}
			return get(cold, "/dashboard")
		}},
	}
	// A first round warms what the server keeps (prepared statements, the
	// pair's unwrapped data key, the kept dashboard).
	get(a, "/homework")
	get(a, fmt.Sprintf("/homework/%d", hw))
	get(co, fmt.Sprintf("/pairs/%d", pairID))
	get(co, fmt.Sprintf("/pairs/%d/progress", pairID))
	get(co, reviewPath)
	for _, p := range pages {
		got := p.run()
		// Every statement is prepared (sent as an execution of a statement
		// prepared once per connection): one sent as text is parsed and
		// planned again on each request, which for these reads costs as
		// much as running them.
		for _, q := range got {
			if !strings.HasPrefix(q, "EXECUTE ") && q != "BEGIN" && q != "COMMIT" {
				t.Errorf("%s: a statement sent as text, not prepared (run it through the store's db.Statements): %.160s", p.name, q)
			}
		}
		if len(got) > p.budget {
			t.Errorf("%s: %d statements, budget %d:\n  %s", p.name, len(got), p.budget, strings.Join(got, "\n  "))
		} else {
			t.Logf("%s: %d statements (budget %d)\n  %s", p.name, len(got), p.budget, strings.Join(got, "\n  "))
		}
	}
}
