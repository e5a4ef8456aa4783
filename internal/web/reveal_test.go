package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// giveOpenReveal gives the pair of the client with email a once-exercise
// on the built-in reveal step key, open today (from yesterday to six days
// ahead in that client's zone), that nobody has answered. It returns the
// homework id and the period's first day.
func giveOpenReveal(t testing.TB, env *webtest.Env, email, key string) (int64, string) {
	t.Helper()
	today := clientToday(t, env, email)
	return giveOnce(t, env, email, key, today.AddDays(-1), today.AddDays(6)), today.AddDays(-1).String()
}

// giveOnce gives the pair of the client with email a once-homework on the
// current version of the built-in step key, from starts to due, and
// returns its id.
func giveOnce(t testing.TB, env *webtest.Env, email, key string, starts, due checkin.Date) int64 {
	t.Helper()
	return env.ID(t, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence)
		SELECT p.practice_id, p.id, (SELECT s.current_version_id FROM steps s WHERE s.key = $2), $3, $4, 'once'
		FROM pairs p WHERE p.id = $1 RETURNING id`,
		env.PairOf(t, email), key, starts, due)
}

// clientName is a demo client's name.
func clientName(t testing.TB, env *webtest.Env, email string) string {
	t.Helper()
	var name string
	if err := env.DB.Get(&name, `SELECT name FROM users WHERE email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPartnerPagesNeverShowAnUnrevealedAnswer looks from Daniel's side at
// every page a client reaches while Maya's answer is unrevealed: none
// carries her words; the exercise page says only that she has answered
// (and not even that once the practice turns the hint off). After Daniel's
// answer both read both; from then on an edit is refused with a message
// and changes nothing.
func TestPartnerPagesNeverShowAnUnrevealedAnswer(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const a, b = "client1a@northside.example", "client1b@northside.example"
	hw, period := giveOpenReveal(t, env, a, "reveal-where-we-each-stand")
	path := fmt.Sprintf("/homework/%d/reveal", hw)
	maya, daniel := env.Login(t, a), env.Login(t, b)
	mayaName := clientName(t, env, a)
	first := strings.Fields(mayaName)[0]

	// Maya answers, then changes her answer.
	for _, words := range []string{"Lighthouse at dawn", "Lighthouse at dusk"} {
		res := maya.PostForm(path, url.Values{"period": {period}, "answer_0": {words}, "answer_2": {"Quokka-shaped worries"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("Maya's answer: status %d\n%s", res.Status, res.Body)
		}
	}
	if res := maya.Get(path); !strings.Contains(res.Body, "Lighthouse at dusk") || !strings.Contains(res.Body, "Save changes") {
		t.Fatalf("Maya does not read her own answer back on the form:\n%s", res.Body)
	}

	pages := []string{"/homework", fmt.Sprintf("/homework/%d", hw), path, "/shared", "/progress", "/feedback"}
	for _, p := range pages {
		res := daniel.Get(p)
		if res.Status != http.StatusOK {
			t.Fatalf("Daniel GET %s: status %d", p, res.Status)
		}
		for _, words := range []string{"Lighthouse", "Quokka"} {
			if strings.Contains(res.Body, words) {
				t.Errorf("Daniel's %s shows Maya's unrevealed answer (%q)", p, words)
			}
		}
	}
	page := daniel.Get(path).Body
	if !strings.Contains(page, first+" has answered") && !strings.Contains(page, mayaName+" has answered") {
		t.Errorf("Daniel is not told that Maya has answered:\n%s", page)
	}

	// The admin turns the hint off: Daniel no longer learns even that.
	admin := env.Login(t, "admin@northside.example")
	if res := admin.PostForm("/admin/reveal-hint", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("turning the hint off: %d", res.Status)
	}
	if page := daniel.Get(path).Body; strings.Contains(page, "has answered") {
		t.Error("with the hint off Daniel still reads that Maya has answered")
	}
	admin.PostForm("/admin/reveal-hint", url.Values{"hint": {"on"}})

	// Daniel answers: both read both, side by side.
	res := daniel.PostForm(path, url.Values{"period": {period}, "answer_0": {"Harbour fog"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("Daniel's answer: status %d", res.Status)
	}
	for who, c := range map[string]*webtest.Client{"Maya": maya, "Daniel": daniel} {
		body := c.Get(path).Body
		if !strings.Contains(body, "Lighthouse at dusk") || !strings.Contains(body, "Harbour fog") || !strings.Contains(body, "Both answers shown") {
			t.Errorf("%s does not read both answers after the reveal:\n%s", who, body)
		}
	}
	// Fixed from now on: the edit POST is refused with a message, and
	// nothing changes.
	res = maya.PostForm(path, url.Values{"period": {period}, "answer_0": {"Changed after the reveal"}})
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "can no longer be changed") {
		t.Errorf("an edit after the reveal: status %d\n%s", res.Status, res.Body)
	}
	if body := daniel.Get(path).Body; strings.Contains(body, "Changed after the reveal") || !strings.Contains(body, "Lighthouse at dusk") {
		t.Error("the refused edit changed Maya's answer")
	}
	// The counselor reads both, with the edit count.
	counselor := env.Login(t, "counselor1@northside.example")
	body := counselor.Get(fmt.Sprintf("/assignments/%d/reveal", hw)).Body
	if !strings.Contains(body, "Lighthouse at dusk") || !strings.Contains(body, "Harbour fog") || !strings.Contains(body, "changed 1×") {
		t.Errorf("the counselor's page:\n%s", body)
	}
}

// TestOddRevealInputIsRefusedWithAMessage: a NUL byte, an over-long answer
// and an empty form get a message beside the field, keep what was typed,
// and store nothing; a nonsense period is a message too, never a 500.
func TestOddRevealInputIsRefusedWithAMessage(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw, period := giveOpenReveal(t, env, "client1a@northside.example", "reveal-where-we-each-stand")
	path := fmt.Sprintf("/homework/%d/reveal", hw)
	maya := env.Login(t, "client1a@northside.example")
	for name, form := range map[string]url.Values{
		"nul":    {"period": {period}, "answer_0": {"a\x00b"}},
		"long":   {"period": {period}, "answer_1": {"Kept words " + strings.Repeat("x", 4001)}},
		"empty":  {"period": {period}},
		"period": {"period": {"99999999-99-99"}, "answer_0": {"Kept words"}},
	} {
		res := maya.PostForm(path, form)
		if res.Status >= 500 || res.Status < 400 {
			t.Errorf("%s: status %d", name, res.Status)
		}
		if name == "long" && (!strings.Contains(res.Body, "Kept words") || !strings.Contains(res.Body, "4000 characters or fewer")) {
			t.Errorf("%s: the form does not keep the text or say why:\n%s", name, res.Body)
		}
	}
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM reveal_answers WHERE assignment_id = $1`, hw); err != nil || n != 0 {
		t.Errorf("%d answers stored from refused input (%v)", n, err)
	}
}
