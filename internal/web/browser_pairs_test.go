package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserCounselorSetsUpAPair: a counselor signs in, creates a pair,
// assigns homework from the library, applies the built-in plan, and sees
// both on the pair page, which reads well on a phone.
func TestBrowserCounselorSetsUpAPair(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := browsertest.Open(t, env.URL)
	tab.Go("/login")
	if status := signIn(tab, "counselor1@northside.example", seed.DemoPassword); status != http.StatusOK {
		t.Fatalf("sign-in: status %d at %s", status, tab.Path())
	}

	tab.Follow("Pairs")
	tab.Follow("New pair")
	text := createNoaAndEli(t, tab, "eli@example.com")
	if links := regexp.MustCompile(`/invite/[A-Za-z0-9_-]{20,}`).FindAllString(text, -1); len(links) != 2 {
		t.Fatalf("the result page shows %d invitation links, want 2:\n%s", len(links), text)
	}
	tab.Follow("Go to the pair")
	pairPath := tab.Path()
	if h := tab.H1(); h != "Noa & Eli" {
		t.Fatalf("pair page h1 %q", h)
	}

	tab.Follow("Assign homework")
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'acknowledge-the-hurt' AND practice_id IS NULL`), 10)
	tab.Fill("Step", step)
	tab.Choose("for", "Both of them")
	tab.Choose("cadence", "Weekly, on chosen days")
	tab.Choose("weekdays", "Mon")
	tab.Choose("weekdays", "Thu")
	if status := tab.Click("Assign homework"); status != http.StatusOK || tab.Path() != pairPath {
		t.Fatalf("assign: status %d at %s\n%s", status, tab.Path(), tab.Text())
	}
	if text := tab.Text(); !strings.Contains(text, "Homework assigned: Acknowledge the hurt.") || !strings.Contains(text, "Weekly on Mon, Thu") {
		t.Fatalf("pair page after assigning:\n%s", text)
	}

	tab.Follow("Apply a plan")
	tab.Choose("plan", "Rebuilding trust: the core path")
	if status := tab.Click("Start plan"); status != http.StatusOK || tab.Path() != pairPath {
		t.Fatalf("apply plan: status %d at %s\n%s", status, tab.Path(), tab.Text())
	}
	text = tab.Text()
	for _, want := range []string{
		"Plan started.",
		"Rebuilding trust: the core path",
		"Step 1 of 15: Acknowledge the hurt",
		"Next: Take responsibility and apologize",
		"Plan step 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("pair page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("pair page:\n%s", text)
	}
	tab.Screenshot("pair-desktop")
	tab.SetPhone()
	tab.Go(pairPath)
	if w := tab.ScrollWidth(); w > 375 {
		t.Errorf("pair page is %dpx wide on a 375px phone", w)
	}
	tab.Screenshot("pair-phone")
}

// createNoaAndEli fills the new-pair form open in tab for Noa & Eli (Eli
// at elisEmail), creates the pair and returns the text of the page that
// shows the invitations.
func createNoaAndEli(t *testing.T, tab *browsertest.Tab, elisEmail string) string {
	t.Helper()
	tab.Fill("Label", "Noa & Eli")
	tab.Choose("kind", "Friends")
	tab.Fill("a_name", "Noa Levin")
	tab.Fill("a_email", "noa@example.com")
	tab.Choose("a_side", "Broke the trust")
	tab.Fill("b_name", "Eli Park")
	tab.Fill("b_email", elisEmail)
	tab.Choose("b_side", "Was hurt")
	if status := tab.Click("Create pair and invite both"); status != http.StatusCreated {
		t.Fatalf("create pair: status %d\n%s", status, tab.Text())
	}
	return tab.Text()
}
