package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// newPair creates a pair through the form as the signed-in counselor and
// returns the page shown after it and the pair's id.
func newPair(t *testing.T, env *webtest.Env, c *webtest.Client, label, emailA, emailB string) (webtest.Response, int64) {
	t.Helper()
	res := c.PostForm("/pairs", url.Values{
		"label": {label}, "kind": {"romantic"},
		"a_name": {"Ada " + label}, "a_email": {emailA}, "a_timezone": {"UTC"}, "a_side": {"was_hurt"},
		"b_name": {"Bo " + label}, "b_email": {emailB}, "b_timezone": {"UTC"}, "b_side": {"broke_trust"},
	})
	if res.Status != http.StatusCreated {
		t.Fatalf("create pair: status %d\n%s", res.Status, snippet(res.Body))
	}
	return res, env.PairOf(t, emailA)
}

// TestProgressTabOfANewPairSaysNothingYet: a pair created a minute ago has
// no charts, only a sentence saying there is nothing yet; a demo pair's
// tab starts at the pair's first record.
func TestProgressTabOfANewPairSaysNothingYet(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, counselor)
	_, id := newPair(t, env, c, "Fresh pair", "fresh-a@example.com", "fresh-b@example.com")
	res := c.Get(fmt.Sprintf("/pairs/%d/progress", id))
	wantPage(t, res, http.StatusOK)
	wantBody(t, "new pair's progress", res.Body, "Nothing here yet", "Fresh pair has no homework and no check-ins so far.")
	if n := strings.Count(res.Body, `role="img"`); n != 0 {
		t.Errorf("a new pair's progress tab draws %d empty charts", n)
	}

	demo := env.PairOf(t, clientA)
	var first time.Time
	if err := env.DB.Get(&first, `SELECT least((p.created_at AT TIME ZONE pr.timezone)::date,
		(SELECT min(starts_on) FROM assignments WHERE pair_id = p.id), (SELECT min(period_start) FROM checkins WHERE pair_id = p.id))
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id WHERE p.id = $1`, demo); err != nil {
		t.Fatal(err)
	}
	res = c.Get(fmt.Sprintf("/pairs/%d/progress", demo))
	wantPage(t, res, http.StatusOK)
	wantBody(t, "demo pair's progress", res.Body, "<p class=\"range-line\">"+first.Format("Mon 2 Jan 2006")+" to ", "of those asked for", "periods)")
}

// TestKeptProgressTabShowsEachChangeAtOnce: the counselor's progress tab
// is kept between requests (one statement, see TestPagesRunFewStatements),
// yet each change it shows is on it at the next request: homework given,
// a check-in, a client's new name, a measure given, and a reassignment, after which the tab is gone for
// the counselor who had the pair.
func TestKeptProgressTabShowsEachChangeAtOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, counselor)
	_, id := newPair(t, env, c, "Kept pair", "kept-a@example.com", "kept-b@example.com")
	path := fmt.Sprintf("/pairs/%d/progress", id)
	for range 2 { // the second is served from what was kept
		res := c.Get(path)
		wantPage(t, res, http.StatusOK)
		wantBody(t, "progress before any homework", res.Body, "Nothing here yet")
	}

	hw := giveHomework(t, env, "kept-a@example.com", "")
	res := c.Get(path)
	wantPage(t, res, http.StatusOK)
	wantNotInBody(t, "progress after homework was given", res.Body, "Nothing here yet")
	wantBody(t, "progress after homework was given", res.Body, "No check-ins between")

	// Yesterday in Ada's zone (UTC): the tab's range ends on today in the
	// counselor's zone, which is still yesterday just after midnight UTC.
	giveCheckin(t, env, "kept-a@example.com", hw, clientToday(t, env, "kept-a@example.com").AddDays(-1), "partner", "A first evening.")
	res = c.Get(path)
	wantNotInBody(t, "progress after Ada's first check-in", res.Body, "No check-ins between")
	wantBody(t, "progress after Ada's first check-in", res.Body, "No check-ins from Bo Kept pair in this range yet.")

	if _, err := env.DB.Exec(`UPDATE users SET name = 'Bodhi Kept' WHERE email = 'kept-b@example.com'`); err != nil {
		t.Fatal(err)
	}
	res = c.Get(path)
	wantBody(t, "progress after the client changed their name", res.Body, "No check-ins from Bodhi Kept in this range yet.")

	// A measure given (issue 20): its section on the tab at once.
	measureID := env.ID(t, `SELECT m.id FROM measures m JOIN pairs p ON p.practice_id = m.practice_id WHERE p.id = $1 AND m.active ORDER BY m.id LIMIT 1`, id)
	wantStatus(t, "give a measure", c.PostForm(fmt.Sprintf("/pairs/%d/measures", id),
		url.Values{"measure": {strconv.FormatInt(measureID, 10)}, "for": {"both"}}), http.StatusSeeOther)
	res = c.Get(path)
	wantBody(t, "progress after a measure was given", section(t, res.Body, `id="measures"`), "Mend closeness check", "No answers in this range")

	other := env.UserID(t, "counselor2@northside.example")
	if _, err := env.DB.Exec(`UPDATE pairs SET counselor_id = $1 WHERE id = $2`, other, id); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "the former counselor's progress tab after reassignment", c.Get(path), http.StatusNotFound)
}

// TestEveryTableTheProgressTabReadsMovesTheStamp: the kept progress tab is
// as fresh as the data only if every table its reads name has triggers
// that move the counselor's stamp (as TestEveryTableTheDashboardReadsHasStampTriggers
// holds for the dashboard). The tables are taken from the statements a
// fresh read of a demo pair's tab (with a plan, homework, check-ins and
// measures) actually sent, so a new read cannot slip past this test.
func TestEveryTableTheProgressTabReadsMovesTheStamp(t *testing.T) {
	t.Parallel()
	env, log := startLogged(t)
	co := env.Login(t, counselor)
	before := log.len()
	wantPage(t, co.Get(fmt.Sprintf("/pairs/%d/progress", env.PairOf(t, clientA))), http.StatusOK)
	wantStampedTables(t, env, "the progress tab", log.since(before))
}

// TestEveryTableTheClientPagesReadMovesTheStamp: a client's home and
// homework pages are kept under their pairs' counselors' stamp, so every
// table they read must move it, as for the progress tab. Read as the demo
// client whose partner shared check-ins with them, who has feedback,
// homework with check-ins of both and a questionnaire due.
func TestEveryTableTheClientPagesReadMovesTheStamp(t *testing.T) {
	t.Parallel()
	env, log := startLogged(t, func(c *config.Config) { c.DashboardCache = 0 })
	hw := giveHomework(t, env, clientA, "")
	giveCheckin(t, env, "client1b@northside.example", hw, clientToday(t, env, clientA).AddDays(-1), "partner", "Shared with the partner.")
	cl := env.Login(t, clientA)
	before := log.len()
	home := cl.Get("/homework")
	wantPage(t, home, http.StatusOK)
	wantBody(t, "the client's home", home.Body, "Shared with you", "/shared/")
	page := cl.Get(fmt.Sprintf("/homework/%d", hw))
	wantPage(t, page, http.StatusOK)
	wantBody(t, "the homework page", page.Body, "Shared with the partner.")
	wantStampedTables(t, env, "a client's home and homework pages", log.since(before))
}

// wantStampedTables fails unless every table the statements read (FROM or
// JOIN) has triggers that move the dashboard stamp, or is exempt for a
// reason given here.
func wantStampedTables(t *testing.T, env *webtest.Env, what string, statements []string) {
	t.Helper()
	read := map[string]bool{}
	tableName := regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)\b`)
	for _, q := range statements {
		q = regexp.MustCompile(`(?i)DISTINCT\s+FROM`).ReplaceAllString(q, "")
		for _, m := range tableName.FindAllStringSubmatch(q, -1) {
			read[strings.ToLower(m[1])] = true
		}
	}
	var triggered []string
	if err := env.DB.Select(&triggered, `
		SELECT DISTINCT c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		WHERE NOT tg.tgisinternal AND tg.tgname LIKE '%\_dashboard\_%'`); err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, n := range triggered {
		has[n] = true
	}
	exempt := map[string]string{
		"sessions": "the session's own statement", "user_sessions": "the session's own statement",
		"user_mfa": "the session's own statement", "dashboard_marks": "the stamp itself",
		"step_versions": "rows never change: an edit is a new version", "measure_versions": "rows never change: an edit is a new version",
		"audit_log": "written, not shown", "unnest": "a function", "generate_series": "a function", "lateral": "a keyword",
		"data_keys": "the vault's keys: what they open is in the other tables", "its": "a word of a comment",
	}
	var missing []string
	for n := range read {
		if _, ok := exempt[n]; !ok && !has[n] {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%s read %v, whose changes do not move the stamp: a kept body would be shown stale", what, missing)
	}
	if len(read) < 5 {
		t.Fatalf("only %d tables found in the statements %s sent: %v", len(read), what, read)
	}
}

// TestEveryShowingOfTheProgressTabIsAudited: a kept progress tab is still
// a read of both clients' ratings and scores, so each showing, the first
// (read afresh) and the next ones (kept), is in the audit log once per
// client.
func TestEveryShowingOfTheProgressTabIsAudited(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	co := env.Login(t, counselor)
	pairID := env.PairOf(t, clientA)
	path := fmt.Sprintf("/pairs/%d/progress", pairID)
	for range 3 {
		wantPage(t, co.Get(path), http.StatusOK)
	}
	for _, client := range []string{clientA, "client1b@northside.example"} {
		if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'progress.read' AND object_id = $1 AND client_id = $2 AND user_id = $3`,
			pairID, env.UserID(t, client), env.UserID(t, counselor)); n != 3 {
			t.Errorf("%s: %d progress reads in the audit log after three showings of the tab, want 3", client, n)
		}
	}
}
