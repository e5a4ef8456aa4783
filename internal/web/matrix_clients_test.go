package web_test

import (
	"net/url"
	"testing"

	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Client-side fixtures: for each target, a check-in the second client of
// the pair shared on homework assigned to them alone ("shared.*", which
// the first client may read), and a check-in of the first client with a
// safety flag ("care.*").
func loadClientFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	for target, pair := range map[string][2]string{
		"own":     {"client1a@northside.example", "client1b@northside.example"},
		"other":   {"client3a@northside.example", "client3b@northside.example"},
		"foreign": {"client1a@riverbank.example", "client1b@riverbank.example"},
	} {
		a, b := pair[0], pair[1]
		alone := giveHomework(t, env, b, b)
		// Yesterday's: the review fixtures take the pair's latest check-in.
		shared := giveCheckin(t, env, b, alone, clientToday(t, env, b).AddDays(-1), "partner", "Fixture shared")
		hw := giveHomework(t, env, a, "")
		flagged := giveCheckin(t, env, a, hw, clientToday(t, env, a).AddDays(-1), "counselor", "Fixture flagged")
		env.ID(t, `UPDATE checkins SET safety_flag = true WHERE id = $1 RETURNING id`, flagged)
		env.ID(t, `INSERT INTO safety_alerts (practice_id, pair_id, checkin_id) SELECT practice_id, pair_id, id FROM checkins WHERE id = $1 RETURNING id`, flagged)
		f.mutex.Lock()
		f.ids["shared."+target] = shared
		f.ids["care."+target] = flagged
		f.mutex.Unlock()
	}
}

var _ = addMatrixRows(
	// The client's own pages: staff get casbin's 404; a check-in shared in
	// another pair, or another pair's flagged check-in, is the SQL's 404.
	matrixRow{Method: "GET", Route: "/shared", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "GET", Route: "/shared/:id", Path: idPath("shared", "/shared/%d"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	matrixRow{Method: "GET", Route: "/feedback", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "GET", Route: "/progress", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "GET", Route: "/checkins/:id/care", Path: idPath("care", "/checkins/%d/care"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	// Consent: the client's own; with nothing owed the page sends them on.
	matrixRow{Method: "GET", Route: "/consent", Expect: "anon=303 admin=404 counselor=404 client=303"},
	matrixRow{Method: "POST", Route: "/consent", Form: url.Values{"consent": {"yes"}, "version": {"1"}},
		Expect: "anon=303 admin=404 counselor=404 client=303"},
	// What clients are told: the practice's admin.
	matrixRow{Method: "GET", Route: "/admin/clients", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/admin/clients",
		// The current text: a new version would ask the matrix's client again.
		Form:   url.Values{"consent": {consent.DefaultText}, "care": {""}, "crisis": {""}},
		Expect: "anon=303 admin=303 counselor=404 client=404"},
)
