package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// mailRow inserts an email_log row for the practice of email.
func mailRow(t *testing.T, env *webtest.Env, practiceOf, to, kind, status string, daysAgo int) int64 {
	t.Helper()
	return env.ID(t, `WITH e AS (INSERT INTO email_log (practice_id, to_address, kind, subject, body_text, body_html, created_at)
		SELECT practice_id, $2, $3, 'Subject for ' || $2, 'Body', 'Body', now() - make_interval(days => $5)
		FROM users WHERE email = $1 RETURNING id, practice_id, kind)
		INSERT INTO email_delivery (email_id, practice_id, kind, status) SELECT id, practice_id, kind, $4 FROM e
		RETURNING email_id`, practiceOf, to, kind, status, daysAgo)
}

func TestMailLogFiltersAndPages(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	for i := range 55 {
		mailRow(t, env, "admin@northside.example", fmt.Sprintf("page%02d@example.com", i), "invitation", "sent", 1)
	}
	mailRow(t, env, "admin@northside.example", "broken@example.com", "password_reset", "failed", 10)
	mailRow(t, env, "admin@riverbank.example", "other-practice@example.com", "invitation", "failed", 1)

	res := admin.Get("/admin/mail?status=failed")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "broken@example.com") || strings.Contains(res.Body, "page54@example.com") {
		t.Fatalf("status filter: %d\n%s", res.Status, res.Body)
	}
	if strings.Contains(res.Body, "other-practice@example.com") {
		t.Error("another practice's message is listed")
	}
	if res := admin.Get("/admin/mail?kind=password_reset&to=BROKEN"); !strings.Contains(res.Body, "broken@example.com") || strings.Contains(res.Body, "page54@") {
		t.Errorf("kind + recipient filter:\n%s", res.Body)
	}
	// Date range in days: the failed one is 10 days old.
	var from string
	if err := env.DB.Get(&from, `SELECT to_char(now() - interval '3 days', 'YYYY-MM-DD')`); err != nil {
		t.Fatal(err)
	}
	if res := admin.Get("/admin/mail?from=" + from); strings.Contains(res.Body, "broken@example.com") || !strings.Contains(res.Body, "page54@") {
		t.Errorf("from filter:\n%s", res.Body)
	}
	// Bad input: a message by the field, the typed value kept.
	res = admin.Get("/admin/mail?from=yesterday&to=page")
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Enter a date like") || !strings.Contains(res.Body, `value="yesterday"`) {
		t.Errorf("bad date: %d\n%s", res.Status, res.Body)
	}
	// Pages of 50, newest first, then older ones.
	res = admin.Get("/admin/mail?to=page")
	if n := strings.Count(res.Body, "@example.com</td>"); n != mail.LogPageSize {
		t.Fatalf("first page shows %d messages, want %d", n, mail.LogPageSize)
	}
	older := regexp.MustCompile(`href="(/admin/mail\?[^"]+)" rel="next"`).FindStringSubmatch(res.Body)
	if older == nil || !strings.Contains(res.Body, "page54@") || strings.Contains(res.Body, "page00@") {
		t.Fatalf("first page:\n%s", res.Body)
	}
	res = admin.Get(strings.ReplaceAll(older[1], "&amp;", "&"))
	if n := strings.Count(res.Body, "@example.com</td>"); n != 5 || !strings.Contains(res.Body, "page00@") {
		t.Errorf("second page shows %d messages:\n%s", n, res.Body)
	}
}

func TestResendFailedMessage(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	failed := mailRow(t, env, "admin@northside.example", "bounce@example.com", "invitation", "failed", 0)
	sent := mailRow(t, env, "admin@northside.example", "fine@example.com", "invitation", "sent", 0)

	if res := admin.Get(fmt.Sprintf("/admin/mail/%d", failed)); !strings.Contains(res.Body, ">Resend</button>") {
		t.Fatalf("no Resend button on a failed message:\n%s", res.Body)
	}
	if res := admin.Get(fmt.Sprintf("/admin/mail/%d", sent)); strings.Contains(res.Body, ">Resend</button>") {
		t.Error("Resend offered for a sent message")
	}
	res := admin.PostForm(fmt.Sprintf("/admin/mail/%d/resend", failed), nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("resend: %d\n%s", res.Status, res.Body)
	}
	var r struct {
		Status     string `db:"status"`
		Generation int    `db:"generation"`
		Attempts   int    `db:"attempts"`
	}
	if err := env.DB.Get(&r, `SELECT status, generation, attempts FROM email_delivery WHERE email_id = $1`, failed); err != nil {
		t.Fatal(err)
	}
	if r.Status != "queued" || r.Generation != 1 || r.Attempts != 0 {
		t.Errorf("after resend: %+v", r)
	}
	if n := env.ID(t, `SELECT count(*) FROM audit_log WHERE action = 'mail.resend' AND object_id = $1`, failed); n != 1 {
		t.Errorf("%d audit entries for the resend", n)
	}
	if res := admin.PostForm(fmt.Sprintf("/admin/mail/%d/resend", sent), nil); res.Status != http.StatusConflict {
		t.Errorf("resend of a sent message: %d", res.Status)
	}
}

// With no SMTP, the mail log is how a person follows an emailed link to
// its page; links that act on their own (reset, invitation, unsubscribe)
// stay hidden from the admin.
func TestMailLogLinksCanBeFollowed(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	_, id := queueReminder(t, env)
	admin := env.Login(t, "admin@northside.example")
	res := admin.Get(fmt.Sprintf("/admin/mail/%d", id))
	if !strings.Contains(res.Body, `<a href="`+env.URL+`/homework">`) {
		t.Fatalf("the reminder's link is not clickable:\n%s", res.Body)
	}
	if !strings.Contains(res.Body, "/unsubscribe/[link hidden]") || strings.Contains(res.Body, `/unsubscribe/[link hidden]">`) {
		t.Errorf("the unsubscribe link is not hidden:\n%s", res.Body)
	}
	if res := env.Login(t, "client1a@northside.example").Get("/homework"); res.Status != http.StatusOK {
		t.Errorf("following the reminder's link: %d", res.Status)
	}

	anon := env.NewClient(t)
	if res := anon.PostForm("/password/forgot", url.Values{"email": {"client1a@northside.example"}}); res.Status != http.StatusOK {
		t.Fatalf("forgot: %d", res.Status)
	}
	env.Server.Wait() // the email is queued behind the answer
	reset := env.ID(t, `SELECT id FROM email_log WHERE to_address = 'client1a@northside.example' AND kind = 'password_reset'`)
	res = admin.Get(fmt.Sprintf("/admin/mail/%d", reset))
	if !strings.Contains(res.Body, "/password/reset/[link hidden]") || regexp.MustCompile(`href="[^"]*/password/reset/`).MatchString(res.Body) {
		t.Errorf("the reset link is shown or clickable:\n%s", res.Body)
	}
}

// queueReminder queues a check-in reminder to client1a@northside through
// the server's own outbox (its links under the server's address and
// master key) and returns the client's id and the email's.
func queueReminder(t *testing.T, env *webtest.Env) (user, id int64) {
	t.Helper()
	user = env.UserID(t, "client1a@northside.example")
	practice := env.ID(t, `SELECT practice_id FROM users WHERE id = $1`, user)
	id, err := env.Stores.Outbox.Queue(context.Background(), env.DB, mail.Message{PracticeID: practice, UserID: user, To: "client1a@northside.example",
		Kind: mail.KindReminder, Template: "checkin_reminder", Unsubscribe: true,
		Data: map[string]any{"Name": "Client", "PracticeName": "Northside", "Link": env.URL + "/homework"}})
	if err != nil {
		t.Fatal(err)
	}
	return user, id
}

func TestUnsubscribeTurnsRemindersOff(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	user, id := queueReminder(t, env)
	var link string
	if err := env.DB.Get(&link, `SELECT list_unsubscribe FROM email_log WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(link, env.URL)
	enabled := func() bool {
		var on bool
		_ = env.DB.Get(&on, `SELECT reminders_enabled FROM users WHERE id = $1`, user)
		return on
	}
	anon := env.NewClient(t)
	res := anon.Get(path)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Stop reminder emails") || !enabled() {
		t.Fatalf("GET: %d, reminders on %v\n%s", res.Status, enabled(), res.Body)
	}
	// RFC 8058 one-click: a mail provider's POST, no cookie, no Origin.
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hres.Body.Close()
	if hres.StatusCode != http.StatusOK || enabled() {
		t.Fatalf("one-click POST: %d, reminders on %v", hres.StatusCode, enabled())
	}
	// The button on the page does the same, again, and says how to undo it.
	res = anon.PostForm(path, nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "turn them back on") {
		t.Errorf("POST: %d\n%s", res.Status, res.Body)
	}
	if n := env.ID(t, `SELECT count(*) FROM audit_log WHERE action = 'reminders.unsubscribe' AND object_id = $1`, user); n != 2 {
		t.Errorf("%d audit entries", n)
	}
	if res := anon.Get("/unsubscribe/not-a-real-token"); res.Status != http.StatusNotFound || !strings.Contains(res.Body, "turn them off in your settings") {
		t.Errorf("unknown token: %d\n%s", res.Status, res.Body)
	}
	if res := anon.PostForm("/unsubscribe/not-a-real-token", nil); res.Status != http.StatusNotFound {
		t.Errorf("unknown token POST: %d", res.Status)
	}
}

func TestQueuesPage(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	res := env.Login(t, "admin@northside.example").Get("/admin/queues")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "<h1>Job queues</h1>") {
		t.Fatalf("%d\n%s", res.Status, res.Body)
	}
}
