package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestSafetyReadersAreNamedTheSameEverywhere: the client's check-in form,
// the client's own flagged check-in, the counselor's review page and
// check-ins tab, the alert email in the email log, the README and
// docs/privacy.md all say, in the same sentence, who reads a safety
// answer: the counselor and the practice's admins, never the partner.
func TestSafetyReadersAreNamedTheSameEverywhere(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const mayaEmail = "client1a@northside.example"
	hw := giveHomework(t, env, mayaEmail, "")
	pairID := env.PairOf(t, mayaEmail)
	says := func(where, body string) {
		t.Helper()
		if !strings.Contains(strings.Join(strings.Fields(html.UnescapeString(body)), " "), safetyReaders) {
			t.Errorf("%s does not say %q", where, safetyReaders)
		}
	}

	maya := env.Login(t, mayaEmail)
	form := maya.Get(fmt.Sprintf("/homework/%d/checkins/new", hw))
	if form.Status != http.StatusOK {
		t.Fatalf("the check-in form: status %d", form.Status)
	}
	says("the client's check-in form", form.Body)
	start := clientToday(t, env, mayaEmail).String()
	values := url.Values{"period": {start}, "status": {"done"}, "trust": {"3"}, "communication": {"3"}, "hope": {"3"},
		"visibility": {"partner"}, "unsafe": {"yes"}, "safety_note": {"I am scared tonight."}}
	if res := maya.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), values); res.Status != http.StatusSeeOther {
		t.Fatalf("sending a flagged check-in: status %d\n%s", res.Status, res.Body)
	}
	mine := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1 AND user_id = $2`, hw, env.UserID(t, mayaEmail))
	says("the client's own flagged check-in", maya.Get(fmt.Sprintf("/homework/%d", hw)).Body)

	counselor := env.Login(t, "counselor1@northside.example")
	review := counselor.Get(fmt.Sprintf("/review/checkins/%d", mine))
	if review.Status != http.StatusOK {
		t.Fatalf("the review page: status %d", review.Status)
	}
	says("the review page", review.Body)
	says("the check-ins tab", counselor.Get(fmt.Sprintf("/pairs/%d/checkins", pairID)).Body)

	var mail struct {
		Text string `db:"body_text"`
		HTML string `db:"body_html"`
	}
	if err := env.DB.Get(&mail, `SELECT body_text, body_html FROM email_log WHERE dedupe_key = $1`, fmt.Sprintf("safety:%d", mine)); err != nil {
		t.Fatalf("the safety alert email: %v", err)
	}
	says("the alert email (text)", mail.Text)
	says("the alert email (HTML)", mail.HTML)

	for _, doc := range []string{"README.md", "docs/privacy.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", doc))
		if err != nil {
			t.Fatal(err)
		}
		says(doc, string(b))
	}
}
