package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// loseConnectionOnCheckin makes PostgreSQL end the session (as a restart
// or an administrator's pg_terminate_backend does) of the first `times`
// check-ins written, in the middle of their INSERT.
func loseConnectionOnCheckin(t *testing.T, env *webtest.Env, times int) {
	t.Helper()
	env.DB.MustExec(`CREATE SEQUENCE fault_checkin_writes`)
	env.DB.MustExec(fmt.Sprintf(`
		CREATE FUNCTION fault_lose_connection() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('fault_checkin_writes') <= %d THEN
				PERFORM pg_terminate_backend(pg_backend_pid());
				PERFORM pg_sleep(5); -- the termination lands here
			END IF;
			RETURN NEW;
		END $$`, times))
	env.DB.MustExec(`CREATE TRIGGER fault_lose_connection BEFORE INSERT ON checkins
		FOR EACH ROW EXECUTE FUNCTION fault_lose_connection()`)
}

// TestCheckinSurvivesALostDatabaseConnection: the database connection is
// lost under a check-in being saved. Once: the write is tried again within
// the request and the check-in is stored. Every time: the form comes back
// (503) with everything the client typed and "not saved", and nothing is
// stored; never an error page.
func TestCheckinSurvivesALostDatabaseConnection(t *testing.T) {
	t.Parallel()
	const typed = "I told Sam about the letter tonight, and we both stayed calm."
	for _, tc := range []struct {
		name   string
		losses int
		stored bool
	}{
		{"lost once", 1, true},
		{"lost on every try", 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := webtest.Start(t)
			hw := giveHomework(t, env, clientA, "")
			today := clientToday(t, env, clientA)
			c := env.Login(t, clientA)
			loseConnectionOnCheckin(t, env, tc.losses)
			form := checkinForm(today, "counselor")
			form.Set("reflection", typed)
			res := c.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), form)
			if tc.stored {
				wantRedirect(t, "check-in after one lost connection", res, fmt.Sprintf("/homework/%d", hw))
				if n := countCheckins(t, env, hw); n != 1 {
					t.Errorf("%d check-ins stored, want 1", n)
				}
				page := c.Get(fmt.Sprintf("/homework/%d", hw))
				wantBody(t, "homework page", page.Body, "Your check-in is saved")
				return
			}
			wantStatus(t, "check-in while the database keeps failing", res, http.StatusServiceUnavailable)
			wantBody(t, "form shown again", res.Body, "Not saved", "send it again")
			if got := textareaValue(res.Body, "reflection"); got != typed {
				t.Errorf("the reflection field holds %q, want what was typed", got)
			}
			if n := countCheckins(t, env, hw); n != 0 {
				t.Errorf("%d check-ins stored, want none", n)
			}
		})
	}
}

// TestAdminSeesThatDeliveryIsFailing: while the workers record an SMTP
// outage (mail_health, as mail.Delivery writes it), the admin's mail log
// says since when and how the server refuses, and the operator's /metrics
// says so too; once delivery recovers, the notice is gone.
func TestAdminSeesThatDeliveryIsFailing(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	wantNotInBody(t, "mail log, delivery working", admin.Get("/admin/mail").Body, "Delivery failing")

	env.DB.MustExec(`UPDATE mail_health SET failing_since = now() - interval '3 minutes', last_failure_at = now(),
		last_reply = 'the mail server answered 451 to DATA', smtp_failures = smtp_failures + 7, retries = retries + 7`)
	page := admin.Get("/admin/mail")
	wantStatus(t, "mail log during an outage", page, http.StatusOK)
	wantBody(t, "mail log during an outage", page.Body, "Delivery failing since", "the mail server answered 451 to DATA")
	wantBody(t, "metrics during an outage", operatorMetrics(t, env),
		"mend_email_delivery_failing 1", "mend_email_smtp_failures_total 7", "mend_email_retries_total 7",
		`mend_emails{status="queued"}`, "mend_email_oldest_unsent_age_seconds")

	env.DB.MustExec(`UPDATE mail_health SET failing_since = NULL`)
	wantNotInBody(t, "mail log after recovery", admin.Get("/admin/mail").Body, "Delivery failing")
	wantBody(t, "metrics after recovery", operatorMetrics(t, env), "mend_email_delivery_failing 0")
}

// operatorMetrics is what the operator's metrics listener serves.
func operatorMetrics(t *testing.T, env *webtest.Env) string {
	t.Helper()
	operator := httptest.NewServer(env.Server.MetricsHandler())
	defer operator.Close()
	res, err := http.Get(operator.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("operator's metrics: %d, %v", res.StatusCode, err)
	}
	return string(b)
}
