package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestAuditLogReadsLikeWhatHappened: the admin's audit log names the pair,
// the homework and the people, lists creating a pair, inviting, assigning
// homework, applying a plan, submitting and editing a check-in, and the
// refusal of a counselor who opened another counselor's pair (a store's
// 404, not casbin's); a sentence the client wrote never reaches the log.
func TestAuditLogReadsLikeWhatHappened(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	co := env.Login(t, counselor)
	_, fresh := newPair(t, env, co, "Audit & Co", "audit-a@example.com", "audit-b@example.com")
	planID := env.ID(t, `SELECT id FROM plans WHERE key = 'core-path' AND practice_id IS NULL`)
	today := practiceToday(t, env, counselor).Format("2006-01-02")
	res := co.PostForm(fmt.Sprintf("/pairs/%d/plan", fresh), url.Values{"plan": {strconv.FormatInt(planID, 10)},
		"starts_on": {today}, "cadence": {"daily"}})
	wantStatus(t, "apply plan", res, http.StatusSeeOther)

	hw := giveHomework(t, env, clientA, "")
	demoPair := env.PairOf(t, clientA)
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience'`), 10)
	res = co.PostForm(fmt.Sprintf("/pairs/%d/homework", demoPair), url.Values{"step": {step}, "for": {"both"},
		"starts_on": {today}, "cadence": {"daily"}})
	wantStatus(t, "assign homework", res, http.StatusSeeOther)

	const secret = "AUDIT-SECRET-6d1f the sentence I wrote for my counselor"
	a := env.Login(t, clientA)
	day := clientToday(t, env, clientA)
	form := checkinForm(day, "counselor")
	form.Set("reflection", secret)
	form.Set("answer_1", secret)
	res = a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), form)
	wantStatus(t, "check in", res, http.StatusSeeOther)
	id := env.ID(t, `SELECT max(id) FROM checkins WHERE assignment_id = $1`, hw)
	form.Set("reflection", secret+" (edited)")
	res = a.PostForm(fmt.Sprintf("/checkins/%d", id), form)
	wantStatus(t, "edit check-in", res, http.StatusSeeOther)

	// Another counselor opens this counselor's pair: 404, audited.
	other := env.Login(t, "counselor2@northside.example")
	wantStatus(t, "another counselor's pair", other.Get(fmt.Sprintf("/pairs/%d", demoPair)), http.StatusNotFound)

	var label string
	if err := env.DB.Get(&label, `SELECT label FROM pairs WHERE id = $1`, demoPair); err != nil {
		t.Fatal(err)
	}
	admin := env.Login(t, "admin@northside.example")
	page := admin.Get("/admin/audit")
	wantPage(t, page, http.StatusOK)
	body := html.UnescapeString(page.Body)
	wantBody(t, "audit log", body,
		"Created a pair", "Pair: Audit & Co",
		"Invited", "Person: Ada Audit & Co", "Person: Bo Audit & Co",
		"Applied a repair plan", "Repair plan: Rebuilding trust: the core path · Audit & Co",
		"Assigned homework", "Homework: Practice patience · "+label,
		"Submitted a check-in", "Edited a check-in", "’s check-in on Talk openly and honestly",
		"Refused: not theirs to open", "Pair: "+label)
	wantNotInBody(t, "audit log", body, "assignment #", "pair #", "AUDIT-SECRET")
	// Nowhere in the stored rows either.
	if n := count(t, env, `SELECT count(*) FROM audit_log a WHERE a::text LIKE '%AUDIT-SECRET%'`); n != 0 {
		t.Errorf("%d audit rows hold the client's words", n)
	}
	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'route.denied' AND object_type = 'pair' AND object_id = $1
		AND user_id = $2 AND outcome = 'denied'`, demoPair, env.UserID(t, "counselor2@northside.example")); n != 1 {
		t.Errorf("%d refusal entries for the other counselor's 404, want 1", n)
	}
}
