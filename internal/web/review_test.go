package web_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
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
	if _, err := seed.Demo(context.Background(), env.Stores); err != nil {
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

// TestKeptDashboardShowsEveryChangeAtOnce: the rendered dashboard a
// counselor is shown again is never older than the data. Each change below
// comes after a view that kept the dashboard, and the next view shows it.
func TestKeptDashboardShowsEveryChangeAtOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, "counselor1@northside.example")
	view := func(want ...string) {
		t.Helper()
		res := c.Get("/dashboard")
		if res.Status != http.StatusOK {
			t.Fatalf("dashboard status %d", res.Status)
		}
		for _, w := range want {
			if !strings.Contains(res.Body, w) {
				t.Errorf("dashboard lacks %q", w)
			}
		}
	}
	var counselor int64
	if err := env.DB.Get(&counselor, `SELECT id FROM users WHERE email = 'counselor1@northside.example'`); err != nil {
		t.Fatal(err)
	}
	first := c.Get("/dashboard")
	kept := c.Get("/dashboard")
	if !strings.Contains(kept.Body, "Maya Brooks said they do not feel safe") || kept.Body != first.Body {
		t.Errorf("the kept dashboard differs from the one read and rendered:\n%s\n----\n%s", first.Body, kept.Body)
	}
	// The body is written inside the page's main, and nothing of how it was
	// put there reaches the browser.
	main := kept.Body[strings.Index(kept.Body, `<main id="main"`):]
	if i, j := strings.Index(main, "<h1>Your dashboard</h1>"), strings.Index(main, "</main>"); i < 0 || j < i ||
		!strings.HasSuffix(strings.TrimSpace(kept.Body), "</html>") || strings.Contains(kept.Body, "mend:kept-body") {
		t.Errorf("the dashboard is not whole inside <main>:\n%s", kept.Body)
	}

	// A client renames themself: their name changes everywhere on it.
	env.DB.MustExec(`UPDATE users SET name = 'Maya Brooks-Okafor' WHERE name = 'Maya Brooks'`)
	view("Maya Brooks-Okafor said they do not feel safe")

	// Every waiting check-in is reviewed and the flag acknowledged
	// (elsewhere: another tab, another server).
	env.DB.MustExec(`UPDATE checkins c SET reviewed_at = now(), reviewed_by = $1
		FROM pairs p WHERE p.id = c.pair_id AND p.counselor_id = $1 AND c.reviewed_at IS NULL`, counselor)
	env.DB.MustExec(`UPDATE safety_alerts sa SET acknowledged_at = now(), acknowledged_by = $1
		FROM pairs p WHERE p.id = sa.pair_id AND p.counselor_id = $1`, counselor)
	view("Nothing is waiting for review", "No safety flag is waiting for you", ">Review<")
	// A one-time message shows above a kept dashboard, once.
	if res := c.Get("/review/next"); res.Status != http.StatusSeeOther {
		t.Fatalf("review next with nothing left: status %d", res.Status)
	}
	view("Nothing else is waiting for review.", "Nothing is waiting for review")
	if res := c.Get("/dashboard"); strings.Contains(res.Body, "Nothing else is waiting for review.") {
		t.Error("the one-time message showed twice")
	}

	// A pair moves to the other counselor: it leaves this dashboard.
	var label string
	if err := env.DB.Get(&label, `
		UPDATE pairs SET counselor_id = (SELECT id FROM users WHERE email = 'counselor2@northside.example')
		WHERE id = (SELECT min(id) FROM pairs WHERE counselor_id = $1 AND status = 'active') RETURNING label`, counselor); err != nil {
		t.Fatal(err)
	}
	label = html.EscapeString(label)
	if res := c.Get("/dashboard"); strings.Contains(res.Body, ">"+label+"<") {
		t.Errorf("the dashboard still lists %q after it moved to another counselor", label)
	}
	if res := env.Login(t, "counselor2@northside.example").Get("/dashboard"); !strings.Contains(res.Body, ">"+label+"<") {
		t.Errorf("the new counselor's dashboard does not list %q", label)
	}
}
