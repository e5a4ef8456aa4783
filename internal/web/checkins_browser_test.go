package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// phoneWidth is the narrowest layout the pages are made for.
const phoneWidth = 375

// signInPhone opens a phone-sized tab signed in as email.
func signInPhone(t *testing.T, env *webtest.Env, email string) *browsertest.Tab {
	t.Helper()
	tab := browsertest.Open(t, env.URL)
	tab.SetPhone()
	tab.Go("/login")
	if status := signIn(tab, email, seed.DemoPassword); status != http.StatusOK {
		t.Fatalf("sign in %s: status %d\n%s", email, status, tab.Text())
	}
	return tab
}

// fitsPhone fails the test when the page scrolls sideways on a phone.
func fitsPhone(t *testing.T, tab *browsertest.Tab, page string) {
	t.Helper()
	if w := tab.ScrollWidth(); w > phoneWidth {
		t.Errorf("%s is %dpx wide on a %dpx phone: it scrolls sideways", page, w, phoneWidth)
	}
}

// checkIn fills the check-in form the tab shows and sends it.
func checkIn(t *testing.T, tab *browsertest.Tab, status, trust, visibility, answer, reflection string) {
	t.Helper()
	tab.Choose("status", status)
	tab.Choose("trust", trust)
	tab.Choose("communication", "5")
	tab.Choose("hope", "7")
	tab.Type("answer_1", answer)
	tab.Type("Anything else on your mind?", reflection)
	tab.Choose("visibility", visibility)
	if got := tab.Click("Send check-in"); got != http.StatusOK {
		t.Fatalf("sending the check-in: status %d\n%s", got, tab.Text())
	}
	if !strings.Contains(tab.Text(), "Your check-in is saved.") {
		t.Fatalf("no confirmation after sending a check-in:\n%s", tab.Text())
	}
}

// TestBrowserPrivateAndSharedCheckins: a client on a phone opens their
// homework, sends a private check-in for today and a shared (late) one for
// yesterday; their partner sees only the shared one; the counselor sees
// both.
func TestBrowserPrivateAndSharedCheckins(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, "client1a@northside.example", "")
	pairID := env.PairOf(t, "client1a@northside.example")
	var title string
	if err := env.DB.Get(&title, `SELECT v.title FROM assignments a JOIN step_versions v ON v.id = a.step_version_id WHERE a.id = $1`, hw); err != nil {
		t.Fatal(err)
	}

	maya := signInPhone(t, env, "client1a@northside.example")
	if got := maya.Path(); got != "/homework" {
		t.Fatalf("client lands on %s", got)
	}
	home := maya.Text()
	if !strings.Contains(home, "Due today") || !strings.Contains(home, title) {
		t.Fatalf("home does not show the homework due today:\n%s", home)
	}
	fitsPhone(t, maya, "the client's home")
	maya.Screenshot("1-home")

	if got := maya.ClickLink(title); got != http.StatusOK || maya.Path() != fmt.Sprintf("/homework/%d", hw) {
		t.Fatalf("opening the homework: status %d at %s", got, maya.Path())
	}
	page := maya.Text()
	for _, want := range []string{"Why it matters", "What to do", "Ten quiet minutes each evening.", "Questions for your check-in"} {
		if !strings.Contains(page, want) {
			t.Errorf("homework page lacks %q", want)
		}
	}
	fitsPhone(t, maya, "the homework page")
	maya.Screenshot("2-homework")

	// Today's check-in, private.
	if got := maya.ClickLink("Check in for"); got != http.StatusOK || maya.H1() != "Check in" {
		t.Fatalf("opening the check-in form: status %d, h1 %q", got, maya.H1())
	}
	fitsPhone(t, maya, "the check-in form")
	maya.Screenshot("3-form")
	checkIn(t, maya, "Done", "4", "Only my counselor", "PRIVATE-ANSWER", "PRIVATE-REFLECTION")

	// Yesterday's, late and shared.
	if got := maya.ClickLink("Check in late for"); got != http.StatusOK {
		t.Fatalf("opening the late check-in form: status %d", got)
	}
	if !strings.Contains(maya.Text(), "Late check-in") {
		t.Error("the form for yesterday does not say the check-in will be late")
	}
	checkIn(t, maya, "Partly", "6", "My counselor and my partner", "SHARED-ANSWER", "SHARED-REFLECTION")
	mine := maya.TextOf("section[aria-labelledby=mine]")
	for _, want := range []string{"PRIVATE-REFLECTION", "Private: counselor only", "SHARED-REFLECTION", "Shared with partner", "Late"} {
		if !strings.Contains(mine, want) {
			t.Errorf("the client's own check-ins lack %q:\n%s", want, mine)
		}
	}
	fitsPhone(t, maya, "the homework page with check-ins")
	maya.Screenshot("4-after")

	// The partner sees the shared check-in only.
	daniel := signInPhone(t, env, "client1b@northside.example")
	daniel.Go(fmt.Sprintf("/homework/%d", hw))
	seen := daniel.Text()
	if !strings.Contains(seen, "SHARED-REFLECTION") || !strings.Contains(seen, "SHARED-ANSWER") {
		t.Errorf("the partner does not see the shared check-in:\n%s", seen)
	}
	for _, hidden := range []string{"PRIVATE-REFLECTION", "PRIVATE-ANSWER"} {
		if strings.Contains(seen, hidden) {
			t.Errorf("the partner sees %q from the private check-in", hidden)
		}
	}
	daniel.Screenshot("5-partner")

	// The counselor sees both, marked private and shared.
	counselor := browsertest.Open(t, env.URL)
	counselor.Go("/login")
	signIn(counselor, "counselor1@northside.example", seed.DemoPassword)
	if got := counselor.Go(fmt.Sprintf("/pairs/%d/checkins", pairID)); got != http.StatusOK {
		t.Fatalf("counselor's list: status %d", got)
	}
	list := counselor.Text()
	for _, want := range []string{"PRIVATE-REFLECTION", "SHARED-REFLECTION", "Private: counselor only", "Shared with partner"} {
		if !strings.Contains(list, want) {
			t.Errorf("the counselor's list lacks %q", want)
		}
	}
	counselor.SetPhone()
	fitsPhone(t, counselor, "the counselor's list")
	counselor.Screenshot("6-counselor")
}
