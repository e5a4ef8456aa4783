package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestDemoDashboardsHaveEverySection: the demo gives both northside
// counselors something in every section of their dashboard, and running
// the demo seed again changes none of it.
func TestDemoDashboardsHaveEverySection(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	want := map[string][]string{
		"counselor1@northside.example": {"Maya Brooks said they do not feel safe", "Trust falling", "Far apart"},
		"counselor2@northside.example": {"Jordan Lee said they do not feel safe", "Missed check-ins", "Overdue"},
	}
	check := func() {
		t.Helper()
		for email, sections := range want {
			res := env.Login(t, email).Get("/dashboard")
			if res.Status != http.StatusOK {
				t.Fatalf("%s: dashboard status %d", email, res.Status)
			}
			for _, s := range append(sections, "Waiting for review", "Active pairs") {
				if !strings.Contains(res.Body, s) {
					t.Errorf("%s's dashboard lacks %q", email, s)
				}
			}
			for _, empty := range []string{"No safety flag is waiting", "Nothing is waiting for review", "No pair needs attention", "You have no active pairs"} {
				if strings.Contains(res.Body, empty) {
					t.Errorf("%s's dashboard says %q", email, empty)
				}
			}
		}
	}
	check()
	count := func() (n int) {
		if err := env.DB.Get(&n, `SELECT (SELECT count(*) FROM feedback) + (SELECT count(*) FROM safety_alerts)
			+ (SELECT count(*) FROM checkins WHERE reviewed_at IS NOT NULL) + (SELECT count(*) FROM assignments)`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if _, err := seed.Demo(context.Background(), env.DB, vaulttest.New(t, env.DB)); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before {
		t.Errorf("running the demo seed again changed the review data (%d rows, then %d)", before, after)
	}
	check()
	// A client's home shows the demo feedback addressed to them.
	if res := env.Login(t, "client1a@northside.example").Get("/homework"); !strings.Contains(res.Body, "Latest feedback from your counselor") {
		t.Errorf("client1a's home shows no feedback")
	}
}
