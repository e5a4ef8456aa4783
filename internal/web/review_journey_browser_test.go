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

// safetyReaders is the one sentence every page says about who reads a
// safety answer (templates/partials/checkins.html, "safety_readers").
const safetyReaders = "Only the counselor and the practice's admins read a safety answer, never the partner, even when the check-in is shared."

// signInAt opens a tab of the given width signed in as email.
func signInAt(t *testing.T, env *webtest.Env, email string, width int) *browsertest.Tab {
	t.Helper()
	tab := browsertest.Open(t, env.URL)
	if width == phoneWidth {
		tab.SetPhone()
	} else {
		tab.SetViewport(width, 900)
	}
	tab.Go("/login")
	if status := signIn(tab, email, seed.DemoPassword); status != http.StatusOK {
		t.Fatalf("sign in %s: status %d\n%s", email, status, tab.Text())
	}
	return tab
}

// lookAt takes the page's screenshot at 1280 and 375 px and fails if it
// scrolls sideways at either; the tab is left at 1280 px.
func lookAt(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	for _, width := range []int{phoneWidth, 1280} {
		if width == phoneWidth {
			tab.SetPhone()
		} else {
			tab.SetViewport(width, 900)
		}
		if w := tab.ScrollWidth(); w > width {
			t.Errorf("%s is %dpx wide on a %dpx screen: it scrolls sideways", name, w, width)
		}
		tab.Screenshot(fmt.Sprintf("%s-%d", name, width))
	}
}

// TestBrowserCounselorReadsWhatTheClientWrote is the counselor's day as
// they live it. Maya checks in through her own form, privately, with a
// sentence of her own in the answer, the reflection and the safety note.
// Her counselor opens the dashboard, starts reviewing and walks the queue
// with "Review next" to her check-in, where every sentence is on the page
// (the review page once showed the ratings and none of the words); the
// safety note stands next to the acknowledgement form; the admin reads
// the same words. The counselor acknowledges the flag and sends feedback,
// which marks the check-in reviewed; Maya reads the feedback on her home
// and can no longer change the check-in. Finally the pair's check-ins tab
// is filtered by client, review state and homework.
func TestBrowserCounselorReadsWhatTheClientWrote(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const mayaEmail, danielEmail = "client1a@northside.example", "client1b@northside.example"
	hw := giveHomework(t, env, mayaEmail, "")
	pairID := env.PairOf(t, mayaEmail)
	answer := "We walked to the harbour and nobody raised their voice, not once."
	reflection := "The quiet evenings feel less like a truce and more like rest now."
	note := "The slammed door on Friday still frightens me when I hear keys."
	ack := "Called Maya the same evening; safety plan agreed."
	feedback := "Thank you for the harbour walk, Maya. Let's start there on Thursday."

	// Maya writes, on her phone, through her own form.
	maya := signInPhone(t, env, mayaEmail)
	if status := maya.Go(fmt.Sprintf("/homework/%d", hw)); status != http.StatusOK {
		t.Fatalf("Maya's homework: status %d", status)
	}
	if status := maya.ClickLink("Check in for"); status != http.StatusOK {
		t.Fatalf("opening the check-in form: status %d", status)
	}
	if form := maya.Text(); !strings.Contains(form, safetyReaders) {
		t.Errorf("the check-in form does not say who reads a safety answer (%q):\n%s", safetyReaders, form)
	}
	maya.Choose("status", "Done")
	maya.Choose("trust", "4")
	maya.Choose("communication", "5")
	maya.Choose("hope", "7")
	maya.Type("answer_1", answer)
	maya.Type("Anything else on your mind?", reflection)
	maya.Choose("visibility", "Only my counselor")
	maya.Choose("unsafe", "I do not feel safe")
	maya.Type("safety_note", note)
	// A flagged check-in leads to the care page, not the usual thanks.
	if status := maya.Click("Send check-in"); status != http.StatusOK || !strings.Contains(maya.Text(), "Your counselor has been told") {
		t.Fatalf("sending the check-in: status %d\n%s", status, maya.Text())
	}
	mine := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1 AND user_id = $2`, hw, env.UserID(t, mayaEmail))
	reviewPath := fmt.Sprintf("/review/checkins/%d", mine)

	// The counselor: dashboard, "Start reviewing", then "Review next"
	// along the queue (flags first) until Maya's new check-in.
	counselor := signInAt(t, env, "counselor1@northside.example", 1280)
	if got := counselor.Path(); got != "/dashboard" {
		t.Fatalf("the counselor landed on %s", got)
	}
	if status := counselor.ClickLink("Start reviewing"); status != http.StatusOK {
		t.Fatalf("start reviewing: status %d", status)
	}
	for step := 0; counselor.Path() != reviewPath; step++ {
		if step == 20 || !strings.HasPrefix(counselor.Path(), "/review/checkins/") {
			t.Fatalf("the queue never reached Maya's check-in %s (at %s)", reviewPath, counselor.Path())
		}
		if status := counselor.ClickLink("Review next"); status != http.StatusOK {
			t.Fatalf("review next: status %d", status)
		}
	}
	page := counselor.Text()
	for _, want := range []string{"Maya Brooks's check-in", "Waiting for review", answer, reflection, note,
		"Private: counselor only", "on time", safetyReaders, "Daniel"} {
		if !strings.Contains(page, want) {
			t.Errorf("the review page lacks %q:\n%s", want, page)
		}
	}
	// The note stands in the safety panel, next to the acknowledgement.
	if panel := counselor.TextOf("#safety"); !strings.Contains(panel, note) || !strings.Contains(panel, "Acknowledge with a note") {
		t.Errorf("the safety panel does not show the note beside the acknowledgement:\n%s", panel)
	}
	// The client's words are in what the counselor reads first, her
	// card, not only somewhere on the page.
	if card := counselor.TextOf(".review-main"); !strings.Contains(card, answer) || !strings.Contains(card, reflection) {
		t.Errorf("Maya's card lacks her answer or reflection:\n%s", card)
	}
	lookAt(t, counselor, "review-page")

	// The admin reads the same words.
	admin := signInAt(t, env, "admin@northside.example", 1280)
	if status := admin.Go(reviewPath); status != http.StatusOK {
		t.Fatalf("the admin's review page: status %d", status)
	}
	if text := admin.Text(); !strings.Contains(text, answer) || !strings.Contains(text, reflection) || !strings.Contains(text, note) {
		t.Errorf("the admin does not read what Maya wrote:\n%s", text)
	}

	// Acknowledge the flag, with the note in view.
	counselor.Type("Acknowledge with a note", ack)
	if status := counselor.Click("Acknowledge the safety flag"); status != http.StatusOK {
		t.Fatalf("acknowledging: status %d", status)
	}
	if text := counselor.TextOf("#safety"); !strings.Contains(text, "Acknowledged") || !strings.Contains(text, ack) || !strings.Contains(text, note) {
		t.Errorf("after acknowledging, the panel shows:\n%s", text)
	}
	lookAt(t, counselor, "acknowledged")

	// Feedback, which also marks the check-in reviewed.
	counselor.Type("Write feedback", feedback)
	if status := counselor.Click("Send feedback"); status != http.StatusOK {
		t.Fatalf("send feedback: status %d", status)
	}
	if !strings.Contains(counselor.Text(), "Feedback sent. The check-in is marked reviewed.") {
		t.Errorf("no confirmation after the feedback:\n%s", counselor.Text())
	}
	counselor.Go(reviewPath)
	if text := counselor.Text(); !strings.Contains(text, "Reviewed by") || !strings.Contains(text, feedback) {
		t.Errorf("the reviewed page lacks the review or the feedback:\n%s", text)
	}

	// Maya reads the feedback, and her check-in is now closed to changes.
	maya.Go("/homework")
	if text := maya.Text(); !strings.Contains(text, feedback) {
		t.Errorf("Maya's home lacks the feedback:\n%s", text)
	}
	maya.Go(fmt.Sprintf("/checkins/%d/edit", mine))
	if text := maya.Text(); !strings.Contains(text, "Your counselor has read this check-in") || !strings.Contains(text, reflection) {
		t.Errorf("Maya's reviewed check-in is not shown as read and locked:\n%s", text)
	}
	fitsPhone(t, maya, "Maya's reviewed check-in")

	// The check-ins tab: everything, then narrowed.
	tabPath := fmt.Sprintf("/pairs/%d/checkins", pairID)
	counselor.Go(tabPath)
	if text := counselor.Text(); !strings.Contains(text, reflection) || !strings.Contains(text, feedback) || !strings.Contains(text, "Reviewed by") {
		t.Errorf("the check-ins tab lacks the check-in, its review or its feedback:\n%s", text)
	}
	lookAt(t, counselor, "checkins-tab")
	// Paged, not one endless stream: the demo pair has more check-ins
	// than a page holds.
	if n := len(counselor.Texts(".checkin-card")); n != 10 || !strings.Contains(counselor.TextOf("nav.pager"), "Page 1") {
		t.Errorf("the first page shows %d check-ins and pager %q; want 10 and a pager", n, counselor.TextOf("nav.pager"))
	}
	if status := counselor.ClickLink("Next"); status != http.StatusOK || !strings.Contains(counselor.TextOf("nav.pager"), "Page 2") ||
		strings.Contains(counselor.Text(), reflection) {
		t.Errorf("page 2 of the check-ins: status %d, pager %q", status, counselor.TextOf("nav.pager"))
	}
	authors := func() []string {
		var out []string
		for _, h := range counselor.Texts(".checkin-card h2, .checkin-card h3") {
			out = append(out, strings.SplitN(h, " · ", 2)[0])
		}
		return out
	}
	onlyBy := func(what, name string) {
		t.Helper()
		got := authors()
		if len(got) == 0 {
			t.Errorf("%s: no check-ins at all", what)
		}
		for _, a := range got {
			if a != name {
				t.Errorf("%s: a check-in by %q is listed (all: %v)", what, a, got)
				return
			}
		}
	}
	counselor.Fill("Client", fmt.Sprint(env.UserID(t, danielEmail)))
	counselor.Click("Show")
	onlyBy("filtered by Daniel", "Daniel Brooks")
	if strings.Contains(counselor.Text(), reflection) {
		t.Error("filtered by Daniel, Maya's check-in is still listed")
	}
	lookAt(t, counselor, "checkins-filtered")

	counselor.Fill("Client", fmt.Sprint(env.UserID(t, mayaEmail)))
	counselor.Fill("Review", "reviewed")
	counselor.Click("Show")
	onlyBy("Maya's reviewed check-ins", "Maya Brooks")
	if text := counselor.Text(); !strings.Contains(text, reflection) || !strings.Contains(text, feedback) {
		t.Errorf("Maya's reviewed check-ins lack the one just reviewed:\n%s", text)
	}
	for _, state := range counselor.Texts(".review-line") {
		if !strings.Contains(state, "Reviewed") {
			t.Errorf("filtered to reviewed, a row says %q", state)
		}
	}
	counselor.Fill("Review", "waiting")
	counselor.Click("Show")
	if strings.Contains(counselor.Text(), reflection) {
		t.Error("filtered to waiting, the reviewed check-in is still listed")
	}
	counselor.Fill("Review", "reviewed")
	counselor.Fill("Homework", fmt.Sprint(hw))
	counselor.Click("Show")
	if homework := counselor.Texts(".checkin-homework"); len(homework) != 1 || !strings.Contains(counselor.Text(), reflection) {
		t.Errorf("Maya's reviewed check-ins on the new homework: %d (want the one just reviewed)", len(homework))
	}
	if status := counselor.ClickLink("Open the review page"); status != http.StatusOK || counselor.Path() != reviewPath {
		t.Errorf("the tab's link leads to %s (status %d), want %s", counselor.Path(), status, reviewPath)
	}
}
