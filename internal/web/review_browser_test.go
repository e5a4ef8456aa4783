package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserReviewFlow: the counselor opens the dashboard, starts
// reviewing (the safety-flagged check-in comes first), writes feedback to
// its author and is taken to the next check-in; the author then reads the
// feedback on their home, and their partner does not.
func TestBrowserReviewFlow(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	feedback := "Maya, thank you for telling me. Let's make Sunday our first topic on Thursday."

	tab := signInPhone(t, env, "counselor1@northside.example")
	if got := tab.Path(); got != "/dashboard" {
		t.Fatalf("counselor landed on %s", got)
	}
	text := tab.Text()
	for _, want := range []string{"Safety flags", "Maya Brooks said they do not feel safe", "Waiting for review",
		"Pairs needing attention", "Trust falling", "Far apart", "Active pairs"} {
		if !strings.Contains(text, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(tab.TextOf("header nav"), "Review (") {
		t.Errorf("the navigation shows no review count: %q", tab.TextOf("header nav"))
	}
	fitsPhone(t, tab, "the dashboard")
	tab.Screenshot("dashboard-375")

	if status := tab.ClickLink("Start reviewing"); status != http.StatusOK {
		t.Fatalf("start reviewing: status %d\n%s", status, tab.Text())
	}
	first := tab.Path()
	if !strings.HasPrefix(first, "/review/checkins/") || !strings.Contains(tab.H1(), "Maya Brooks") {
		t.Fatalf("the queue should start with Maya's flagged check-in; at %s: %q", first, tab.H1())
	}
	if !strings.Contains(tab.Text(), "Acknowledge the safety flag") {
		t.Errorf("the flagged check-in's page offers no acknowledgement:\n%s", tab.Text())
	}
	fitsPhone(t, tab, "the review page")
	tab.Screenshot("review-375")

	tab.Type("Write feedback", feedback)
	if status := tab.Click("Send feedback"); status != http.StatusOK {
		t.Fatalf("send feedback: status %d\n%s", status, tab.Text())
	}
	if !strings.Contains(tab.Text(), "Feedback sent. The check-in is marked reviewed. Here is the next check-in.") {
		t.Errorf("no confirmation after sending feedback:\n%s", tab.Text())
	}
	if next := tab.Path(); next == first || !strings.HasPrefix(next, "/review/checkins/") {
		t.Errorf("after feedback the counselor is at %s; want the next check-in in the queue", next)
	}
	tab.Go(first)
	if text := tab.Text(); !strings.Contains(text, "Reviewed") || !strings.Contains(text, feedback) {
		t.Errorf("the reviewed check-in's page does not show the review and feedback:\n%s", text)
	}

	maya := signInPhone(t, env, "client1a@northside.example")
	if text := maya.Text(); !strings.Contains(text, "Latest feedback from your counselor") || !strings.Contains(text, feedback) {
		t.Errorf("Maya's home does not show the feedback:\n%s", text)
	}
	fitsPhone(t, maya, "the client's home")
	maya.Screenshot("client-home-375")

	daniel := signInPhone(t, env, "client1b@northside.example")
	if strings.Contains(daniel.Text(), feedback) {
		t.Errorf("Daniel reads feedback addressed to Maya alone")
	}
}

// TestBrowserReviewPagesLook renders the review area's pages on a phone and
// a desktop for people to look at ($MEND_SCREENSHOTS keeps them) and checks
// that none scrolls sideways, that every chart has its title and data
// table, and that no page carries a style attribute (the CSP would block
// it).
func TestBrowserReviewPagesLook(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pair := env.PairOf(t, "client1a@northside.example")
	progress := "/pairs/" + itoa(pair) + "/progress"
	// An acknowledged flag, for the flags history to show one with its note.
	alert := env.ID(t, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id, created_at)
		SELECT c.practice_id, c.pair_id, c.id, p.counselor_id, c.created_at FROM checkins c JOIN pairs p ON p.id = c.pair_id
		WHERE c.pair_id = $1 AND NOT EXISTS (SELECT 1 FROM safety_alerts sa WHERE sa.checkin_id = c.id)
		ORDER BY c.period_start DESC, c.id DESC LIMIT 1 RETURNING id`, pair)
	if res := env.Login(t, "counselor1@northside.example").PostForm("/review/alerts/"+itoa(alert)+"/acknowledge",
		url.Values{"note": {"Phoned both that evening; they agreed a plan for the weekend and will call the line if it happens again."}}); res.Status != http.StatusSeeOther {
		t.Fatalf("acknowledge: status %d", res.Status)
	}
	for _, tc := range []struct {
		email string
		pages []string
	}{
		{"counselor1@northside.example", []string{"/dashboard", progress, "/review/next", "/review/flags"}},
		{"counselor2@northside.example", []string{"/dashboard"}},
		{"admin@northside.example", []string{"/admin/overview", "/admin/audit", "/review/flags"}},
	} {
		tab := browsertest.Open(t, env.URL)
		tab.Go("/login")
		signIn(tab, tc.email, "demo-password")
		for _, page := range tc.pages {
			for _, width := range []int{375, 1280} {
				if width == 375 {
					tab.SetPhone()
				} else {
					tab.SetViewport(width, 900)
				}
				if status := tab.Go(page); status != http.StatusOK {
					t.Errorf("%s as %s: status %d", page, tc.email, status)
					continue
				}
				if w := tab.ScrollWidth(); w > width {
					t.Errorf("%s is %dpx wide on a %dpx screen", page, w, width)
				}
				name := strings.Split(tc.email, "@")[0] + strings.ReplaceAll(page, "/", "-") + "-" + itoa(int64(width))
				tab.Screenshot(name)
			}
		}
	}

	c := env.Login(t, "counselor1@northside.example")
	res := c.Get(progress)
	if res.Status != http.StatusOK {
		t.Fatalf("progress: %d", res.Status)
	}
	if strings.Contains(res.Body, "style=") {
		t.Errorf("the progress page has a style attribute, which the CSP blocks")
	}
	// The ratings' charts, then the measures' section (issue 20), which
	// draws one chart per measure and subscale the demo pair answered.
	ratings, measures, _ := strings.Cut(res.Body, `<section aria-labelledby="measures-h"`)
	if charts := strings.Count(ratings, `role="img"`); charts != 5 || strings.Count(ratings, "<title id=") != charts || strings.Count(ratings, `class="chart-data"`) != charts {
		t.Errorf("%d ratings charts (want 5: one per client, three side by side), each with a <title> and a data table", charts)
	}
	if charts := strings.Count(measures, `role="img"`); charts == 0 || strings.Count(measures, "<title id=") != charts || strings.Count(measures, `class="chart-data"`) != charts {
		t.Errorf("%d measure charts (want at least one: the demo pair answered the closeness check), each with a <title> and a data table", charts)
	}
	for _, want := range []string{"Ratings over time", "Side by side", "Check-in completion", "Plan"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("progress page lacks %q", want)
		}
	}
	// A date in the filter that is not a date: a message next to the field,
	// what was typed kept.
	res = c.Get(progress + "?from=yesterday&to=2026-01-31")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Enter a date like") || !strings.Contains(res.Body, `value="yesterday"`) {
		t.Errorf("bad date: status %d; want 422 with a message and the typed value", res.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
