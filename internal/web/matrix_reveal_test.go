package web_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Reveal fixtures (issue 21): for each target, a counselor-releases
// exercise both partners answered, not yet released ("reveal.*"), and a
// both-answered exercise already revealed ("revealed.*"); each a once
// period from three days ago (in the pair's first client's zone).
func loadRevealFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	for target, email := range targetClients {
		held := giveReveal(t, env, email, "reveal-what-i-need-to-feel-safe", false)
		shown := giveReveal(t, env, email, "reveal-where-we-each-stand", true)
		f.mutex.Lock()
		f.ids["reveal."+target] = held
		f.ids["revealed."+target] = shown
		f.mutex.Unlock()
	}
}

// giveReveal gives the pair of the client with email a once-exercise on the
// built-in reveal step key, from three days ago to a week ahead, which both
// members have answered (with no words: the matrix needs only the state),
// revealed or not.
func giveReveal(t testing.TB, env *webtest.Env, email, key string, revealed bool) int64 {
	t.Helper()
	today := clientToday(t, env, email)
	id := giveOnce(t, env, email, key, today.AddDays(-3), today.AddDays(7))
	env.ID(t, `WITH x AS (INSERT INTO reveal_answers (practice_id, pair_id, assignment_id, user_id, period_start, period_end)
		SELECT a.practice_id, a.pair_id, a.id, m.user_id, a.starts_on, a.due_on
		FROM assignments a JOIN pair_members m ON m.pair_id = a.pair_id WHERE a.id = $1 RETURNING id)
		SELECT count(*) FROM x`, id)
	if revealed {
		env.ID(t, `INSERT INTO reveals (practice_id, pair_id, assignment_id, period_start, rule)
			SELECT practice_id, pair_id, id, starts_on, 'both' FROM assignments WHERE id = $1 RETURNING id`, id)
	}
	return id
}

// revealPeriod is the fixtures' period for northside's clients (Chicago).
func revealPeriod() string {
	return checkin.Today(time.Now(), "America/Chicago").AddDays(-3).String()
}

var _ = addMatrixRows(
	// The client's page and forms: their own pair's exercises; staff are
	// refused by casbin (404), other pairs' ids by SQL (404).
	matrixRow{Method: "GET", Route: "/homework/:id/reveal", Path: idPath("reveal", "/homework/%d/reveal"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	matrixRow{Method: "POST", Route: "/homework/:id/reveal", Path: idPath("reveal", "/homework/%d/reveal"),
		Form:   url.Values{"period": {revealPeriod()}, "answer_0": {"A matrix answer"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=303/404/404"},
	matrixRow{Method: "POST", Route: "/homework/:id/reveal/reply", Path: idPath("revealed", "/homework/%d/reveal/reply"),
		Form:   url.Values{"period": {revealPeriod()}, "reply": {"Thank you"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=303/404/404"},
	// The staff page: the counselor's own pairs, the admin's practice; only
	// the pair's counselor releases.
	matrixRow{Method: "GET", Route: "/assignments/:id/reveal", Path: idPath("reveal", "/assignments/%d/reveal"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/assignments/:id/reveal/release", Path: idPath("reveal", "/assignments/%d/reveal/release"),
		Form:   url.Values{"period": {revealPeriod()}, "note": {"Read slowly."}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	// The practice's hint setting: admins.
	matrixRow{Method: "POST", Route: "/admin/reveal-hint", Form: url.Values{"hint": {"on"}},
		Expect: "anon=303 admin=303 counselor=404 client=404"},
)
