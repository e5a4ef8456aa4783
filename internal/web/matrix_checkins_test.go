package web_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Check-in fixtures: for each target (own = pair 1, other = pair 3,
// foreign = riverbank's pair 1), a daily homework for both without
// check-ins ("homework.*"), and on a second homework a check-in of the
// pair's first client for today, not yet reviewed ("checkin.*").
func loadCheckinFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	for target, email := range targetClients {
		hw := giveHomework(t, env, email, "")
		with := giveHomework(t, env, email, "")
		ch := giveCheckin(t, env, email, with, clientToday(t, env, email), "partner", "Fixture")
		f.mutex.Lock()
		f.ids["homework."+target] = hw
		f.ids["checkin."+target] = ch
		f.mutex.Unlock()
	}
}

// matrixCheckinForm is a valid check-in for today in the demo clients'
// zone (northside: America/Chicago).
func matrixCheckinForm() url.Values {
	today := checkin.Today(time.Now(), "America/Chicago")
	return url.Values{"period": {today.String()}, "status": {"done"}, "trust": {"5"}, "communication": {"5"},
		"hope": {"5"}, "visibility": {"counselor"}}
}

var _ = addMatrixRows(
	// Homework pages and check-ins are the client's own: staff get the same
	// 404 as for a page that does not exist (casbin), other pairs' ids 404
	// (SQL scope).
	matrixRow{Method: "GET", Route: "/homework/:id", Path: idPath("homework", "/homework/%d"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	matrixRow{Method: "GET", Route: "/homework/:id/checkins/new", Path: idPath("homework", "/homework/%d/checkins/new"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	matrixRow{Method: "POST", Route: "/homework/:id/checkins", Path: idPath("homework", "/homework/%d/checkins"),
		Form:   matrixCheckinForm(),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=303/404/404"},
	matrixRow{Method: "GET", Route: "/checkins/:id/edit", Path: idPath("checkin", "/checkins/%d/edit"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	matrixRow{Method: "POST", Route: "/checkins/:id", Path: idPath("checkin", "/checkins/%d"),
		Form:   matrixCheckinForm(),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=303/404/404"},
	matrixRow{Method: "GET", Route: "/settings", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "POST", Route: "/settings",
		Form:   url.Values{"timezone": {"Europe/London"}, "reminder_time": {"18:00"}, "reminders": {"on"}},
		Expect: "anon=303 admin=404 counselor=404 client=303"},
	// The counselor's list of a pair's check-ins: their own pairs; admins
	// every pair of the practice.
	matrixRow{Method: "GET", Route: "/pairs/:id/checkins", Path: pairPath("/pairs/%d/checkins"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
)
