package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserClientChangesACheckIn: Maya shares a check-in with her
// partner, then changes its words and a rating on her phone. She reads
// her new words on the homework page; her partner reads only the new
// words; her counselor reads the new words on the review page, with the
// earlier version under "earlier versions". An edit writes the earlier
// version and the new one in one statement, and reads again only Maya's
// figures in the dashboard's summary (issue 18): what each person reads
// is what this test checks.
func TestBrowserClientChangesACheckIn(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const mayaEmail, danielEmail = "client1a@northside.example", "client1b@northside.example"
	hw := giveHomework(t, env, mayaEmail, "")
	before := "We sat on the steps and I said what Tuesday had cost me."
	after := "We sat on the back steps; I told him what Tuesday had cost me, and he listened to the end."

	maya := signInPhone(t, env, mayaEmail)
	maya.Go(fmt.Sprintf("/homework/%d/checkins/new", hw))
	const reflection = "Calmer than the week before, and I said so out loud."
	checkIn(t, maya, "Done", "4", "My counselor and my partner", before, reflection)
	mine := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1 AND user_id = $2`, hw, env.UserID(t, mayaEmail))

	maya.Go(fmt.Sprintf("/checkins/%d/edit", mine))
	maya.Type("answer_1", after)
	maya.Choose("trust", "8")
	if status := maya.Click("Save changes"); status != http.StatusOK {
		t.Fatalf("saving the change: status %d", status)
	}
	text := maya.Text()
	if !strings.Contains(text, "Your check-in is updated.") || !strings.Contains(text, after) || strings.Contains(text, before) {
		t.Errorf("after the change, Maya's homework page does not show the new words alone:\n%s", text)
	}
	lookAt(t, maya, "edit-1-client-after")

	// The partner's home lists it with the new rating; its page has the
	// new words alone.
	daniel := signInPhone(t, env, danielEmail)
	daniel.Go("/homework")
	if text := daniel.TextOf(".shared-list, main"); !strings.Contains(text, "trust 8, communication 5, hope 7") {
		t.Errorf("the partner's home does not list the check-in with its new rating:\n%s", text)
	}
	daniel.Go(fmt.Sprintf("/shared/%d", mine))
	if text := daniel.Text(); !strings.Contains(text, after) || !strings.Contains(text, reflection) || strings.Contains(text, before) {
		t.Errorf("the partner does not read the new words alone:\n%s", text)
	}
	lookAt(t, daniel, "edit-2-partner")

	counselor := signInAt(t, env, "counselor1@northside.example", 1280)
	counselor.Go(fmt.Sprintf("/review/checkins/%d", mine))
	text = counselor.Text()
	for _, want := range []string{after, reflection, "Changed 1 time: earlier versions"} {
		if !strings.Contains(text, want) {
			t.Errorf("the review page lacks %q:\n%s", want, text)
		}
	}
	counselor.Press("details.history summary")
	if got := counselor.TextOf("details.history"); !strings.Contains(got, before) || !strings.Contains(got, "trust 4") {
		t.Errorf("the earlier version does not show what Maya first wrote and rated: %q", got)
	}
	lookAt(t, counselor, "edit-3-review")
}
