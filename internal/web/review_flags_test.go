package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestFlagsHistoryShowsOnlyTheCallersFlags: a flag raised on a counselor's
// pair and acknowledged stays on their flags history with its note and the
// client's name; the other counselor's history shows neither, an admin's
// shows it, and a client has no such page.
func TestFlagsHistoryShowsOnlyTheCallersFlags(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, "client1a@northside.example")
	client := env.UserID(t, "client1a@northside.example")
	var name string
	if err := env.DB.Get(&name, `SELECT name FROM users WHERE id = $1`, client); err != nil {
		t.Fatal(err)
	}
	checkinID := env.ID(t, `
		SELECT c.id FROM checkins c WHERE c.pair_id = $1 AND c.user_id = $2
		  AND NOT EXISTS (SELECT 1 FROM safety_alerts sa WHERE sa.checkin_id = c.id)
		ORDER BY c.period_start DESC, c.id DESC LIMIT 1`, pairID, client)
	alertID := env.ID(t, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id)
		SELECT c.practice_id, c.pair_id, c.id, p.counselor_id FROM checkins c JOIN pairs p ON p.id = c.pair_id
		WHERE c.id = $1 RETURNING id`, checkinID)

	// A critical answer to a measure raises a flag read on the progress tab.
	responseID := env.ID(t, `SELECT r.id FROM measure_responses r WHERE r.pair_id = $1
		  AND NOT EXISTS (SELECT 1 FROM safety_alerts sa WHERE sa.measure_response_id = r.id) ORDER BY r.id DESC LIMIT 1`, pairID)
	env.ID(t, `
		INSERT INTO safety_alerts (practice_id, pair_id, measure_response_id, counselor_id)
		SELECT r.practice_id, r.pair_id, r.id, p.counselor_id FROM measure_responses r JOIN pairs p ON p.id = r.pair_id
		WHERE r.id = $1 RETURNING id`, responseID)

	c1 := env.Login(t, "counselor1@northside.example")
	const note = "Phoned them at noon; plan agreed (flags-history-7f3a)."
	if res := c1.PostForm("/review/alerts/"+strconv.FormatInt(alertID, 10)+"/acknowledge", url.Values{"note": {note}}); res.Status != http.StatusSeeOther {
		t.Fatalf("acknowledge: status %d\n%s", res.Status, res.Body)
	}

	dash := c1.Get("/dashboard")
	if !strings.Contains(dash.Body, `href="/review/flags"`) || !strings.Contains(dash.Body, "Earlier flags") {
		t.Errorf("the dashboard has no link to the earlier flags")
	}

	page := func(c *webtest.Client, who string) string {
		t.Helper()
		res := c.Get("/review/flags")
		if res.Status != http.StatusOK {
			t.Fatalf("%s: /review/flags status %d", who, res.Status)
		}
		return html.UnescapeString(res.Body)
	}
	own := page(c1, "counselor1")
	for _, want := range []string{note, name, "Acknowledged", "/review/checkins/" + strconv.FormatInt(checkinID, 10) + "#safety",
		"/pairs/" + strconv.FormatInt(pairID, 10) + "/progress#response-" + strconv.FormatInt(responseID, 10),
		"Gave a critical answer in a questionnaire", "Said they do not feel safe",
		"Not acknowledged yet"} { // the demo's open flag (Maya Brooks) is listed too
		if !strings.Contains(own, want) {
			t.Errorf("counselor1's flags history lacks %q", want)
		}
	}
	other := page(env.Login(t, "counselor2@northside.example"), "counselor2")
	for _, never := range []string{note, name} {
		if strings.Contains(other, never) {
			t.Errorf("counselor2's flags history shows counselor1's %q", never)
		}
	}
	if !strings.Contains(other, "Jordan Lee") { // counselor2's own demo flag
		t.Errorf("counselor2's flags history lacks their own client's flag")
	}
	admin := env.Login(t, "admin@northside.example")
	if res := admin.Get("/admin/overview"); !strings.Contains(res.Body, `href="/review/flags"`) {
		t.Errorf("the admin's overview has no link to the safety flags")
	}
	if page := page(admin, "admin"); !strings.Contains(page, note) {
		t.Errorf("the admin's flags history lacks the practice's acknowledged flag")
	}
	if res := env.Login(t, "client1a@northside.example").Get("/review/flags"); res.Status != http.StatusNotFound {
		t.Errorf("a client's /review/flags: status %d, want 404", res.Status)
	}
}

// TestReadingTheFlagsIsAudited: the flags page shows each flagged client's
// safety answers and what was done about them, so reading it is in the
// audit log once per flagged client, as a read of their records.
func TestReadingTheFlagsIsAudited(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	co := env.Login(t, counselor)
	var flagged []int64
	if err := env.DB.Select(&flagged, `
		SELECT DISTINCT coalesce(c.user_id, mr.user_id) FROM safety_alerts sa JOIN pairs p ON p.id = sa.pair_id
		LEFT JOIN checkins c ON c.id = sa.checkin_id LEFT JOIN measure_responses mr ON mr.id = sa.measure_response_id
		WHERE p.counselor_id = $1`, env.UserID(t, counselor)); err != nil {
		t.Fatal(err)
	}
	if len(flagged) == 0 {
		t.Fatal("the demo counselor has no flagged client")
	}
	wantPage(t, co.Get("/review/flags"), http.StatusOK)
	for _, client := range flagged {
		if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'safety_alert.read' AND user_id = $1 AND client_id = $2`,
			env.UserID(t, counselor), client); n != 1 {
			t.Errorf("client %d: %d reads of their safety flags audited after one showing of the flags page, want 1", client, n)
		}
	}
}
