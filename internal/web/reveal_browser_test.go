package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserAnswerSeparatelyThenReveal: on phones, Maya answers a reveal
// exercise alone; Daniel sees only that she has answered, answers, and
// both read the answers side by side. A counselor-releases exercise stays
// hidden after both answered until the counselor releases it with a note,
// which both then read with the answers.
func TestBrowserAnswerSeparatelyThenReveal(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const a, b = "client1a@northside.example", "client1b@northside.example"
	both, _ := giveOpenReveal(t, env, a, "reveal-where-we-each-stand")
	held, _ := giveOpenReveal(t, env, a, "reveal-what-i-need-to-feel-safe")
	mayaName := clientName(t, env, a)

	// Maya: from her home to the exercise, answers alone.
	maya := signInPhone(t, env, a)
	if !strings.Contains(maya.Text(), "Where each of us thinks we are") {
		t.Fatalf("Maya's home does not list the exercise:\n%s", maya.Text())
	}
	maya.Go(fmt.Sprintf("/homework/%d/reveal", both))
	if !strings.Contains(maya.Text(), "Your turn") {
		t.Fatalf("Maya's exercise page:\n%s", maya.Text())
	}
	maya.Type("answer_0", "Halfway up the hill, and still a bit out of breath.")
	maya.Type("answer_2", "I still check your phone in my head.")
	if got := maya.Click("Save my answers"); got != http.StatusOK {
		t.Fatalf("saving Maya's answers: %d", got)
	}
	if !strings.Contains(maya.Text(), "Your answers are saved") {
		t.Fatalf("no confirmation for Maya:\n%s", maya.Text())
	}
	fitsPhone(t, maya, "Maya's exercise page")
	maya.Screenshot("1-maya-answered")

	// Daniel: the hint, none of her words; he answers; both side by side.
	daniel := signInPhone(t, env, b)
	daniel.Go(fmt.Sprintf("/homework/%d/reveal", both))
	text := daniel.Text()
	if !strings.Contains(text, mayaName+" has answered") || strings.Contains(text, "Halfway up the hill") || strings.Contains(text, "check your phone") {
		t.Fatalf("Daniel's page before his answer:\n%s", text)
	}
	fitsPhone(t, daniel, "Daniel's exercise page with the hint")
	daniel.Screenshot("2-daniel-sees-the-hint")
	daniel.Type("answer_0", "At the start, but we have started.")
	daniel.Type("answer_1", "We talk more at breakfast.")
	if got := daniel.Click("Save my answers"); got != http.StatusOK {
		t.Fatalf("saving Daniel's answers: %d", got)
	}
	text = daniel.Text()
	if !strings.Contains(text, "You have both answered") || !strings.Contains(text, "Halfway up the hill") || !strings.Contains(text, "At the start") {
		t.Fatalf("Daniel does not read both answers after his:\n%s", text)
	}
	if n := len(daniel.Texts(".reveal-side")); n < 6 {
		t.Errorf("%d answer boxes side by side, want two per question", n)
	}
	fitsPhone(t, daniel, "the side-by-side reveal")
	daniel.Screenshot("3-daniel-reads-both")
	daniel.Type("reply", "Thank you for the hill; I will bring water.")
	if got := daniel.Click("Send my reply"); got != http.StatusOK || !strings.Contains(daniel.Text(), "Your reply is saved") {
		t.Fatalf("Daniel's reply: %d\n%s", got, daniel.Text())
	}

	maya.Go(fmt.Sprintf("/homework/%d/reveal", both))
	text = maya.Text()
	if !strings.Contains(text, "At the start, but we have started.") || !strings.Contains(text, "I will bring water") || strings.Contains(text, "Save changes") {
		t.Fatalf("Maya after the reveal:\n%s", text)
	}
	maya.Screenshot("4-maya-reads-both-and-the-reply")

	// The counselor-releases exercise: both answer, neither reads the other.
	maya.Go(fmt.Sprintf("/homework/%d/reveal", held))
	maya.Type("answer_0", "Knowing where you are in the evenings.")
	maya.Click("Save my answers")
	daniel.Go(fmt.Sprintf("/homework/%d/reveal", held))
	if !strings.Contains(daniel.Text(), "your counselor reads both") {
		t.Errorf("Daniel is not told the counselor shows the answers:\n%s", daniel.Text())
	}
	daniel.Type("answer_0", "Hearing it when you are hurt, not days later.")
	daniel.Click("Save my answers")
	text = daniel.Text()
	if strings.Contains(text, "Knowing where you are") || !strings.Contains(text, "Waiting for your counselor") {
		t.Fatalf("Daniel's counselor-releases page after both answered:\n%s", text)
	}
	daniel.Screenshot("5-daniel-waits-for-the-counselor")

	counselor := signInPhone(t, env, "counselor1@northside.example")
	counselor.Go("/dashboard")
	if text := counselor.Text(); !strings.Contains(text, "Waiting for you") || !strings.Contains(text, "What I need to feel safe again") {
		t.Errorf("the dashboard does not list the exercise waiting for release:\n%s", text)
	}
	counselor.Screenshot("6a-dashboard-waiting-for-release")
	if got := counselor.ClickLink("Read and release"); got != http.StatusOK || counselor.Path() != fmt.Sprintf("/assignments/%d/reveal", held) {
		t.Fatalf("the dashboard's link leads to %s (%d)", counselor.Path(), got)
	}
	text = counselor.Text()
	if !strings.Contains(text, "Knowing where you are") || !strings.Contains(text, "Hearing it when you are hurt") || !strings.Contains(text, "Waiting for your release") {
		t.Fatalf("the counselor's page before the release:\n%s", text)
	}
	fitsPhone(t, counselor, "the counselor's reveal page")
	counselor.Screenshot("6-counselor-reads-before-release")
	counselor.Type("note", "Read these slowly. We will start Thursday's session here.")
	if got := counselor.Click("Show both answers to the pair"); got != http.StatusOK || !strings.Contains(counselor.Text(), "now shown to the pair") {
		t.Fatalf("the release: %d\n%s", got, counselor.Text())
	}

	daniel.Go(fmt.Sprintf("/homework/%d/reveal", held))
	text = daniel.Text()
	if !strings.Contains(text, "Knowing where you are") || !strings.Contains(text, "We will start Thursday's session here.") {
		t.Fatalf("Daniel after the release:\n%s", text)
	}
	fitsPhone(t, daniel, "the released answers")
	daniel.Screenshot("7-daniel-reads-the-released-answers")
	if v := daniel.SeriousAxe(); len(v) > 0 {
		t.Errorf("accessibility: %v", v)
	}
}
