package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// practiceToday is the practice's calendar date of the user with email.
func practiceToday(t *testing.T, env *webtest.Env, email string) time.Time {
	t.Helper()
	var d time.Time
	if err := env.DB.Get(&d, `SELECT (now() AT TIME ZONE pr.timezone)::date FROM users u JOIN practices pr ON pr.id = u.practice_id
		WHERE u.email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAssignFormAsksBeforeSavingPastDates: the counselor types a start date
// five days back; the form comes back with what was typed, says what the
// dates cause and asks to confirm; nothing is saved until the box is
// ticked. A due date before the pair existed is refused next to the field.
func TestAssignFormAsksBeforeSavingPastDates(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, counselor)
	pairID := env.PairOf(t, clientA)
	today := practiceToday(t, env, counselor)
	day := func(n int) string { return today.AddDate(0, 0, n).Format("2006-01-02") }
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience'`), 10)
	before := count(t, env, `SELECT count(*) FROM assignments`)
	form := url.Values{"step": {step}, "for": {"both"}, "starts_on": {day(-5)}, "due_on": {day(3)},
		"cadence": {"daily"}, "note": {"Typed note 31e7"}}
	res := c.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), form)
	wantPage(t, res, http.StatusUnprocessableEntity)
	wantBody(t, "assign form with a past start", res.Body,
		"Check the dates before saving: nothing is saved yet.",
		"These dates have consequences.",
		"before today",
		"5 check-in periods are already over",
		"Mend raises no missing or overdue alerts for periods that ended before today.",
		`name="confirm_dates" value="yes"`, "I understand; save with these dates",
		`value="`+day(-5)+`"`, `value="`+day(3)+`"`, "Typed note 31e7")
	if n := count(t, env, `SELECT count(*) FROM assignments`); n != before {
		t.Fatalf("assignments %d → %d before confirming", before, n)
	}
	form.Set("confirm_dates", "yes")
	res = c.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), form)
	wantRedirect(t, "confirmed past start", res, fmt.Sprintf("/pairs/%d", pairID))
	if n := count(t, env, `SELECT count(*) FROM assignments`); n != before+1 {
		t.Fatalf("assignments %d → %d after confirming", before, n)
	}

	// The demo pair was created 12 days ago: homework cannot end before.
	var first time.Time
	if err := env.DB.Get(&first, `SELECT (p.created_at AT TIME ZONE pr.timezone)::date FROM pairs p JOIN practices pr ON pr.id = p.practice_id WHERE p.id = $1`, pairID); err != nil {
		t.Fatal(err)
	}
	res = c.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), url.Values{"step": {step}, "for": {"both"},
		"starts_on": {first.AddDate(0, 0, -6).Format("2006-01-02")}, "due_on": {first.AddDate(0, 0, -1).Format("2006-01-02")},
		"cadence": {"daily"}, "confirm_dates": {"yes"}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	wantBody(t, "assign form ending before the pair", res.Body,
		"This pair was created on "+first.Format("2 Jan 2006")+"; its homework cannot end before that.")
	if n := count(t, env, `SELECT count(*) FROM assignments`); n != before+1 {
		t.Fatalf("assignments %d → %d after a homework ending before its pair", before, n)
	}
}

// TestApplyPlanAsksBeforeAPastStart: a plan's first day typed ten days
// back comes back with the form as typed, a message beside the date that
// says which steps would already be over and what that means for the
// check-ins, and a box to confirm; no plan starts until it is ticked.
func TestApplyPlanAsksBeforeAPastStart(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	co := env.Login(t, counselor)
	_, pairID := newPair(t, env, co, "Plan & Past", "plan-a@example.com", "plan-b@example.com")
	planID := strconv.FormatInt(env.ID(t, `SELECT id FROM plans WHERE key = 'core-path' AND practice_id IS NULL`), 10)
	today := practiceToday(t, env, counselor)
	start := today.AddDate(0, 0, -10).Format("2006-01-02")
	form := url.Values{"plan": {planID}, "starts_on": {start}, "cadence": {"weekly"}, "weekdays": {"3"}}
	res := co.PostForm(fmt.Sprintf("/pairs/%d/plan", pairID), form)
	wantPage(t, res, http.StatusUnprocessableEntity)
	wantBody(t, "plan form with a past start", res.Body,
		"Check the start date before starting the plan: nothing is saved yet.",
		"This start date has consequences.",
		"The plan&#39;s first step would start on "+today.AddDate(0, 0, -10).Format("Mon 2 Jan 2006")+", before today.",
		"would be running since",
		"Mend raises no missing or overdue alerts for periods that ended before today.",
		`name="confirm_dates" value="yes"`, "I understand; start the plan on this date",
		`value="`+start+`"`, `value="`+planID+`" checked`, `value="weekly" checked`)
	if n := count(t, env, `SELECT count(*) FROM pair_plans WHERE pair_id = $1`, pairID); n != 0 {
		t.Fatalf("%d plans started before confirming", n)
	}
	if n := count(t, env, `SELECT count(*) FROM assignments WHERE pair_id = $1`, pairID); n != 0 {
		t.Fatalf("%d homework given before confirming", n)
	}
	form.Set("confirm_dates", "yes")
	wantRedirect(t, "confirmed", co.PostForm(fmt.Sprintf("/pairs/%d/plan", pairID), form), fmt.Sprintf("/pairs/%d", pairID))
	if n := count(t, env, `SELECT count(*) FROM pair_plans WHERE pair_id = $1 AND starts_on = $2`, pairID, start); n != 1 {
		t.Fatalf("%d plans starting on %s after confirming", n, start)
	}
	// Today needs no confirmation (the audit-log test starts one so).
}
