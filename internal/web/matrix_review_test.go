package web_test

import (
	"net/url"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// Matrix rows of the review area: the dashboard's queue, review pages,
// progress, exports, the admin overview and the audit log. A client never
// reaches any of them; a counselor only their own pairs; an admin reads
// every pair of the practice but writes no review.

// reviewFixtures adds the review area's ids: check-ins (checkin.*) and
// open safety alerts (alert.*) of the own, other and foreign pairs.
func reviewFixtures(t *testing.T, env *webtest.Env, ids map[string]int64) {
	t.Helper()
	for _, target := range []string{"own", "other", "foreign"} {
		ids["checkin."+target] = env.ID(t, `
			SELECT id FROM checkins WHERE pair_id = $1 ORDER BY period_start DESC, id DESC LIMIT 1`, ids["pair."+target])
	}
	// The demo has open flags on the own and other pairs; the foreign
	// practice gets one here.
	ids["alert.own"] = env.ID(t, `SELECT id FROM safety_alerts WHERE pair_id = $1 AND acknowledged_at IS NULL ORDER BY id LIMIT 1`, ids["pair.own"])
	ids["alert.other"] = env.ID(t, `SELECT id FROM safety_alerts WHERE pair_id = $1 AND acknowledged_at IS NULL ORDER BY id LIMIT 1`, ids["pair.other"])
	ids["alert.foreign"] = env.ID(t, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id)
		SELECT c.practice_id, c.pair_id, c.id, p.counselor_id FROM checkins c JOIN pairs p ON p.id = c.pair_id
		WHERE c.id = $1 RETURNING id`, ids["checkin.foreign"])
}

// idPath (matrix_pairs_test.go) formats a route with the target's id of a
// kind, e.g. checkin.own.

var _ = addMatrixRows(
	matrixRow{Method: "GET", Route: "/review/next", Expect: "anon=303 admin=404 counselor=303 client=404"},
	matrixRow{Method: "GET", Route: "/review/checkins/:id", Path: idPath("checkin", "/review/checkins/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	// Feedback and reviews are the pair's counselor's: admins read them only.
	matrixRow{Method: "POST", Route: "/review/checkins/:id/feedback", Path: idPath("checkin", "/review/checkins/%d/feedback"),
		Form:   url.Values{"body": {"Thank you."}, "audience": {"client"}, "reviewed": {"yes"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/review/checkins/:id/reviewed", Path: idPath("checkin", "/review/checkins/%d/reviewed"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	// Callers run in the order anon, client, counselor, admin: the admin
	// finds the own pair's flag already acknowledged by the counselor (409)
	// and acknowledges the other counselor's (303).
	matrixRow{Method: "POST", Route: "/review/alerts/:id/acknowledge", Path: idPath("alert", "/review/alerts/%d/acknowledge"),
		Form:   url.Values{"note": {"Called the client; safety plan agreed."}},
		Expect: "anon=303/303/303 admin=409/303/404 counselor=303/404/404 client=404/404/404"},
	// The flags' history lists the caller's own flags: no id to aim at
	// another's (TestFlagsHistoryShowsOnlyTheCallersFlags).
	matrixRow{Method: "GET", Route: "/review/flags", Expect: "anon=303 admin=200 counselor=200 client=404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/progress", Path: pairPath("/pairs/%d/progress"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/export.csv", Path: pairPath("/pairs/%d/export.csv"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/report.pdf", Path: pairPath("/pairs/%d/report.pdf"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/admin/overview", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/admin/audit", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/admin/audit.csv", Expect: "anon=303 admin=200 counselor=404 client=404"},
)
