package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserMeasureJourney (issue 20): the admin creates a measure from
// the CSI-4 structure, which cannot be activated until every item has its
// text; fills the items and activates it. The counselor gives it to a
// pair; both partners answer it on their phones, a few items per screen;
// the counselor sees the divergence on the dashboard, follows its link to
// both partners on one chart on the pair's progress tab (at 375 and 1,280
// px), and every answer on the measures tab.
func TestBrowserMeasureJourney(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const aEmail, bEmail = "client2a@northside.example", "client2b@northside.example"
	pairID := env.PairOf(t, aEmail)
	var nameA, nameB string
	if err := env.DB.Get(&nameA, `SELECT name FROM users WHERE email = $1`, aEmail); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Get(&nameB, `SELECT name FROM users WHERE email = $1`, bEmail); err != nil {
		t.Fatal(err)
	}

	// The admin: a draft from the CSI-4 structure.
	admin := signInAt(t, env, "admin@northside.example", 1280)
	if status := admin.Go("/admin/measures"); status != http.StatusOK {
		t.Fatalf("measures page: %d", status)
	}
	admin.Fill("Structure", "csi4")
	if status := admin.Click("Create draft"); status != http.StatusOK {
		t.Fatalf("create draft: %d\n%s", status, admin.Text())
	}
	if h := admin.H1(); h != "CSI-4" {
		t.Fatalf("after creating: h1 %q", h)
	}
	measureID, _ := strconv.ParseInt(strings.TrimPrefix(admin.Path(), "/admin/measures/"), 10, 64)
	// Activating with empty items is refused, with a message beside them.
	if status := admin.Click("Activate"); status != http.StatusUnprocessableEntity {
		t.Errorf("activating empty items: status %d", status)
	}
	if text := admin.Text(); !strings.Contains(text, "Fill in this item's text from your licensed copy before activating the measure.") {
		t.Errorf("no message beside the empty items:\n%s", text)
	}
	lookAt(t, admin, "admin-empty-items")
	// The practice's own wording (here, test words of Mend's own).
	for i, words := range []string{
		"Test wording one: how things are between us overall.",
		"Test wording two: how warm our time together feels.",
		"Test wording three: how much I look forward to us.",
		"Test wording four: how settled I feel with us.",
	} {
		admin.Fill(fmt.Sprintf("Item %d", i+1), words)
	}
	if status := admin.Click("Save as a new version"); status != http.StatusOK {
		t.Fatalf("save: %d\n%s", status, admin.Text())
	}
	if text := admin.Text(); !strings.Contains(text, "Saved as version 2.") {
		t.Errorf("after saving:\n%s", text)
	}
	if status := admin.Click("Activate"); status != http.StatusOK {
		t.Fatalf("activate: %d\n%s", status, admin.Text())
	}
	if text := admin.Text(); !strings.Contains(text, "Activated: counselors can now give this measure to pairs.") {
		t.Errorf("after activating:\n%s", text)
	}
	lookAt(t, admin, "admin-activated")

	// The counselor gives it to the pair, both partners, once.
	co := signInAt(t, env, counselor, 1280)
	if status := co.Go(fmt.Sprintf("/pairs/%d/measures", pairID)); status != http.StatusOK {
		t.Fatalf("pair's measures: %d", status)
	}
	co.Fill("Measure", strconv.FormatInt(measureID, 10))
	co.Choose("for", "Both partners")
	if status := co.Click("Give measure"); status != http.StatusOK {
		t.Fatalf("give measure: %d\n%s", status, co.Text())
	}
	if text := co.Text(); !strings.Contains(text, "Measure given to the pair.") || !strings.Contains(text, "CSI-4 · both partners · once") {
		t.Errorf("after giving:\n%s", text)
	}

	// Both partners answer on their phones: three items, then one.
	answer := func(email string, values []string, shot string) {
		t.Helper()
		tab := signInPhone(t, env, email)
		if text := tab.Text(); !strings.Contains(text, "Questionnaires to answer") {
			t.Fatalf("%s's home lists no questionnaire:\n%s", email, text)
		}
		if status := tab.ClickLink("Answer now"); status != http.StatusOK {
			t.Fatalf("open the form: %d", status)
		}
		if text := tab.Text(); !strings.Contains(text, "Part 1 of 2") || !strings.Contains(text, "Test wording three") || strings.Contains(text, "Test wording four") {
			t.Errorf("first screen:\n%s", text)
		}
		if w := tab.ScrollWidth(); w > phoneWidth {
			t.Errorf("the answer form is %dpx wide on a phone", w)
		}
		for i, v := range values[:3] {
			tab.Choose(fmt.Sprintf("item_%d", i+1), v)
		}
		tab.Screenshot(shot + "-part1-375")
		if status := tab.Click("Next"); status != http.StatusOK {
			t.Fatalf("next: %d", status)
		}
		if text := tab.Text(); !strings.Contains(text, "Part 2 of 2") || !strings.Contains(text, "Test wording four") {
			t.Errorf("second screen:\n%s", text)
		}
		tab.Choose("item_4", values[3])
		tab.Screenshot(shot + "-part2-375")
		if status := tab.Click("Send my answers"); status != http.StatusOK {
			t.Fatalf("send: %d\n%s", status, tab.Text())
		}
		if text := tab.Text(); !strings.Contains(text, "Thank you. Your answers are with your counselor.") {
			t.Errorf("after sending:\n%s", text)
		}
		tab.Screenshot(shot + "-sent-375")
	}
	answer(aEmail, []string{"6", "5", "5", "5"}, "partner-a") // 21
	answer(bEmail, []string{"1", "1", "1", "1"}, "partner-b") // 4

	// The counselor: the divergence on the dashboard, whose link leads to
	// both partners on one chart on the pair's progress tab.
	if status := co.Go("/dashboard"); status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	want := fmt.Sprintf("Latest CSI-4 totals far apart: %s 21, %s 4", nameA, nameB)
	if text := co.Text(); !strings.Contains(text, want) {
		t.Errorf("the dashboard lacks %q:\n%s", want, text)
	}
	lookAt(t, co, "counselor-dashboard")
	link := co.Eval(`Array.from(document.querySelectorAll("li.reason")).filter(function (li) {
		return li.textContent.indexOf("CSI-4 totals far apart") >= 0; }).map(function (li) {
		return li.querySelector("a").getAttribute("href"); })[0]`)
	if want := fmt.Sprintf("/pairs/%d/progress#measures", pairID); link != want {
		t.Fatalf("the divergence row links to %q, want %q", link, want)
	}
	series := fmt.Sprintf(`section.measure-series[aria-labelledby="ms-%d"]`, measureID)
	for _, width := range []int{phoneWidth, 1280} {
		if width == phoneWidth {
			co.SetPhone()
		} else {
			co.SetViewport(width, 900)
		}
		path := link
		if width != phoneWidth { // the link's page is open: load it again
			path = strings.TrimSuffix(link, "#measures")
		}
		if status := co.Go(path); status != http.StatusOK {
			t.Fatalf("progress tab: %d", status)
		}
		if h := co.TextOf("#measures h2"); h != "Measures" {
			t.Errorf("at %d px the progress tab has no Measures section (%q)", width, h)
		}
		// One chart: the total, both partners in its legend, the bands shaded.
		total := co.TextOf(series + " figure.chart")
		for _, want := range []string{"CSI-4: total of each partner", nameA, nameB, "Distressed", "Not distressed"} {
			if !strings.Contains(total, want) {
				t.Errorf("at %d px the CSI-4 chart lacks %q:\n%s", width, want, total)
			}
		}
		if n := len(co.Texts(series + " figure.chart")); n != 1 {
			t.Errorf("at %d px CSI-4 has %d charts, want one with both partners", width, n)
		}
		// The numbers behind it, opened as a person would.
		co.Press(series + " figure.chart details summary")
		table := co.TextOf(series + " figure.chart table")
		for _, want := range []string{"Date", nameA, nameB, "21", "4"} {
			if !strings.Contains(table, want) {
				t.Errorf("at %d px the numbers behind the chart lack %q:\n%s", width, want, table)
			}
		}
		if w := co.ScrollWidth(); w > width {
			t.Errorf("the progress tab is %dpx wide on a %dpx screen: it scrolls sideways", w, width)
		}
		co.Screenshot(fmt.Sprintf("counselor-progress-measures-%d", width))
	}
	// The measures tab: what was given, and every answer item by item.
	if status := co.Go(fmt.Sprintf("/pairs/%d/measures", pairID)); status != http.StatusOK {
		t.Fatalf("measures tab: %d", status)
	}
	answers := strings.Join(co.Texts(`section.measure-answers`), "\n")
	for _, want := range []string{nameA, nameB, "1: 6, 2: 5, 3: 5, 4: 5", "1: 1, 2: 1, 3: 1, 4: 1"} {
		if !strings.Contains(answers, want) {
			t.Errorf("the measures tab lacks %q:\n%s", want, answers)
		}
	}
	lookAt(t, co, "counselor-measures")
	_ = browsertest.StepTimeout
}
