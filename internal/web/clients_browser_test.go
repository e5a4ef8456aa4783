package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserSharedOnHomeworkForOneReachesThePartner: on phones, Maya
// checks in on homework given to her alone and shares it; Daniel, who
// cannot open that homework, sees it marked new in "Shared with you" on
// his home and counted in the navigation, reads it, and it is no longer
// new. The homework's note for Maya never reaches him.
func TestBrowserSharedOnHomeworkForOneReachesThePartner(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const maya, daniel = "client1a@northside.example", "client1b@northside.example"
	hw := giveHomework(t, env, maya, maya)

	m := signInPhone(t, env, maya)
	m.Go(fmt.Sprintf("/homework/%d", hw))
	if got := m.ClickLink("Check in for"); got != http.StatusOK {
		t.Fatalf("check-in form: status %d", got)
	}
	checkIn(t, m, "Done", "6", "My counselor and my partner", "SHARED-ALONE-ANSWER", "SHARED-ALONE-REFLECTION")
	fitsPhone(t, m, "Maya's homework page after sharing")
	m.Screenshot("1-maya-shared")
	checkinID := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1`, hw)

	d := signInPhone(t, env, daniel)
	item := fmt.Sprintf(`li.shared-item.is-new a[href="/shared/%d"]`, checkinID)
	if got := d.TextOf(item); !strings.Contains(got, "Maya Brooks") {
		t.Fatalf("Daniel's home does not list Maya's new shared check-in (%q):\n%s", got, d.Text())
	}
	if got := d.TextOf(fmt.Sprintf(`li.shared-item.is-new:has(a[href="/shared/%d"]) .badge.new`, checkinID)); got != "New" {
		t.Errorf("the shared check-in is not marked new: %q", got)
	}
	if nav := d.TextOf("header nav"); !strings.Contains(nav, "Shared with you (") {
		t.Errorf("the navigation does not count what is new: %q", nav)
	}
	fitsPhone(t, d, "Daniel's home")
	d.Screenshot("2-daniel-home-new")
	d.Press(item)
	waitPath(t, d, fmt.Sprintf("/shared/%d", checkinID))
	page := d.Text()
	for _, want := range []string{"Shared by Maya Brooks", "SHARED-ALONE-REFLECTION", "SHARED-ALONE-ANSWER", "Shared with you"} {
		if !strings.Contains(page, want) {
			t.Errorf("the shared check-in page lacks %q", want)
		}
	}
	if strings.Contains(page, "Ten quiet minutes each evening.") {
		t.Error("the partner sees the counselor's note on homework that is not theirs")
	}
	fitsPhone(t, d, "the shared check-in")
	d.Screenshot("3-daniel-reads")
	d.Go("/homework")
	if got := d.TextOf(item); got != "" {
		t.Errorf("after reading it the check-in is still marked new: %q", got)
	}
	if status := d.Go(fmt.Sprintf("/homework/%d", hw)); status != http.StatusNotFound {
		t.Errorf("Daniel opens Maya's own homework: status %d", status)
	}
}

// waitPath waits until the tab shows path (after a script-driven click),
// its document parsed whole (reading its text any sooner read a part).
func waitPath(t *testing.T, tab interface {
	Path() string
	Loaded() bool
}, path string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if tab.Path() == path && tab.Loaded() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page did not become %s (still %s)", path, tab.Path())
}

// TestBrowserSafetyFlagLeadsToCare: on a phone, a check-in with "I do not
// feel safe" leads to the care page (the counselor has been told, what
// happens next, the practice's crisis line); the note is not shown again
// on the author's pages; the quick exit replaces the page without adding
// to the history.
func TestBrowserSafetyFlagLeadsToCare(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t, func(c *config.Config) { c.QuickExitURL = "about:blank#neutral" })
	const maya = "client1a@northside.example"
	admin := env.Login(t, "admin@northside.example")
	wantRedirect(t, "care wording", admin.PostForm("/admin/clients", urlValues(
		"consent", currentConsent(t, env, "northside.example"),
		"care", "PRACTICE-CARE: Jo will call you within the hour.",
		"crisis", "PRACTICE-CRISIS: call the Northside line on 555 0100.",
	)), "/admin/clients")
	hw := giveHomework(t, env, maya, "")

	m := signInPhone(t, env, maya)
	m.Go(fmt.Sprintf("/homework/%d/checkins/new", hw))
	m.Choose("status", "Partly")
	m.Choose("trust", "2")
	m.Choose("communication", "2")
	m.Choose("hope", "3")
	m.Choose("visibility", "Only my counselor")
	m.Choose("unsafe", "I do not feel safe")
	m.Type("safety_note", "NOTE-FOR-COUNSELOR-ONLY")
	if got := m.Click("Send check-in"); got != http.StatusOK {
		t.Fatalf("sending: status %d", got)
	}
	if h1 := m.H1(); h1 != "Your counselor has been told" {
		t.Fatalf("after a safety flag the page is %q:\n%s", h1, m.Text())
	}
	care := m.Text()
	for _, want := range []string{"PRACTICE-CARE: Jo will call you", "PRACTICE-CRISIS: call the Northside line", "If you are in danger right now", "Quick exit"} {
		if !strings.Contains(care, want) {
			t.Errorf("the care page lacks %q", want)
		}
	}
	if strings.Contains(care, "NOTE-FOR-COUNSELOR-ONLY") || strings.Contains(care, "Thank you. Your check-in is saved.") {
		t.Error("the care page shows the note or the everyday thank-you")
	}
	fitsPhone(t, m, "the care page")
	m.Screenshot("1-care")
	if v := m.SeriousAxe(); len(v) > 0 {
		t.Errorf("care page: %v", v)
	}

	checkinID := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1`, hw)
	for _, page := range []string{fmt.Sprintf("/homework/%d", hw), fmt.Sprintf("/checkins/%d/edit", checkinID), "/homework"} {
		m.Go(page)
		text := m.Text()
		if strings.Contains(text, "NOTE-FOR-COUNSELOR-ONLY") {
			t.Errorf("%s shows the safety note back to its author", page)
		}
		if page != "/homework" && !strings.Contains(text, "You told your counselor on") {
			t.Errorf("%s does not say when the counselor was told:\n%s", page, text)
		}
	}
	m.Screenshot("2-homework-after")
	// The counselor has the note.
	c := env.Login(t, "counselor1@northside.example")
	if body := c.Get(fmt.Sprintf("/pairs/%d/checkins", env.PairOf(t, maya))).Body; !strings.Contains(body, "NOTE-FOR-COUNSELOR-ONLY") {
		t.Error("the counselor does not see the note")
	}

	// Quick exit: the page is replaced, the history does not grow.
	before := m.Eval("history.length")
	m.Press("a[data-quick-exit]")
	if got := m.WaitLocation("about:blank#neutral", 10*time.Second); got != "about:blank#neutral" {
		t.Fatalf("quick exit went to %q", got)
	}
	if after := m.Eval("history.length"); after != before {
		t.Errorf("quick exit added to the history: %s entries, %s before", after, before)
	}
}
