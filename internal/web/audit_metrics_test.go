package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

func TestAuditLogRecordsLoginsAndDeniedAccess(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	client := env.Login(t, "client1a@northside.example")
	clientID := env.UserID(t, "client1a@northside.example")
	practiceID := env.ID(t, `SELECT id FROM practices WHERE slug = 'northside.example'`)

	type entry struct {
		PracticeID int64  `db:"practice_id"`
		Role       string `db:"role"`
		ObjectType string `db:"object_type"`
		Outcome    string `db:"outcome"`
		IP         string `db:"ip"`
	}
	get := func(action string) []entry {
		t.Helper()
		var es []entry
		if err := env.DB.Select(&es, `
			SELECT practice_id, role, object_type, outcome, ip
			FROM audit_log WHERE user_id = $1 AND action = $2 ORDER BY id`, clientID, action); err != nil {
			t.Fatal(err)
		}
		return es
	}

	if es := get("login"); len(es) != 1 || es[0].Outcome != "ok" || es[0].Role != "client" || es[0].PracticeID != practiceID || es[0].IP != "127.0.0.1" {
		t.Errorf("login audit rows: %+v", es)
	}
	wantStatus(t, "client opens the admin page", client.Get("/admin"), http.StatusNotFound)
	if es := get("route.denied"); len(es) != 1 || es[0].Outcome != "denied" || es[0].ObjectType != "admin" || es[0].Role != "client" || es[0].PracticeID != practiceID {
		t.Errorf("denied-access audit rows: %+v", es)
	}
	wantRedirect(t, "logout", client.PostForm("/logout", nil), "/login?signed_out=1")
	if es := get("logout"); len(es) != 1 {
		t.Errorf("logout audit rows: %+v", es)
	}

	// The application cannot rewrite history.
	if _, err := env.DB.Exec(`UPDATE audit_log SET outcome = 'ok' WHERE outcome = 'denied'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("UPDATE audit_log: %v, want refused as append-only", err)
	}
	if _, err := env.DB.Exec(`DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("DELETE FROM audit_log: %v, want refused as append-only", err)
	}
	if len(get("route.denied")) != 1 {
		t.Error("the denied-access row is gone")
	}
}

// Issue 17, item 19: request metrics are the deployment's, so they are the
// operator's: served on a listener of their own (MetricsHandler, on
// METRICS_ADDR), and not at all on the listener people use, admins
// included.
func TestMetricsOnTheOperatorsListenerOnly(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	anon := env.NewClient(t)
	anon.Get("/login")
	secret := "S3cretTokenValue-" + strings.Repeat("x", 30)
	anon.Get("/invite/" + secret)
	anon.Get("/no/such/page")

	wantStatus(t, "counselor reads metrics", env.Login(t, "counselor1@northside.example").Get("/metrics"), http.StatusNotFound)
	wantStatus(t, "anonymous reads metrics", anon.Get("/metrics"), http.StatusNotFound)
	res := env.Login(t, "admin@northside.example").Get("/metrics")
	wantStatus(t, "a practice admin reads metrics", res, http.StatusNotFound)
	wantNotInBody(t, "a practice admin reads metrics", res.Body, "mend_http_requests_total")

	operator := httptest.NewServer(env.Server.MetricsHandler())
	defer operator.Close()
	hres, err := http.Get(operator.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer hres.Body.Close()
	b, err := io.ReadAll(hres.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if hres.StatusCode != http.StatusOK {
		t.Fatalf("operator's listener: %d", hres.StatusCode)
	}
	wantBody(t, "metrics", body,
		`mend_http_requests_total{method="GET",route="/login",status="200"} 1`,
		`mend_http_requests_total{method="GET",route="/invite/:token",status="404"} 1`,
		`mend_http_requests_total{method="GET",route="unmatched",status="404"} 4`, // the page and three tries at /metrics
		`mend_http_request_duration_seconds_bucket{method="POST",route="/login"`,
	)
	wantNotInBody(t, "metrics", body, secret, "/no/such/page")
}
