package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/web/webtest"
)

var resetLinkRE = regexp.MustCompile(`http://[^"<\s]+/password/reset/[A-Za-z0-9_-]+`)

// TestWithoutAMailServerStaffHandOverTheLinks: a demo without SMTP. After
// creating a pair the page says plainly that no invitation was sent and
// gives the links to hand over; a client who has not joined gets a new
// link from the pair page; a client and a counselor who are locked out
// get a password-reset link from their counselor or the admin, shown
// once, which works and is in the audit log.
func TestWithoutAMailServerStaffHandOverTheLinks(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t) // no SMTP_URL
	counselor := env.Login(t, "counselor1@northside.example")
	wantBody(t, "new-pair form", counselor.Get("/pairs/new").Body, "No mail server is set up, so no email is sent")
	res := createIvyAndJune(t, counselor)
	wantBody(t, "pair created", res.Body, "The invitations were not sent: no mail server is set up.",
		"No email went to <strong>ivy@example.com</strong>", "No email went to <strong>june@example.com</strong>")
	wantNotInBody(t, "pair created", res.Body, "is queued for")
	if n := len(inviteLinkRE.FindAllString(res.Body, -1)); n != 2 {
		t.Fatalf("%d invitation links on the page, want 2", n)
	}

	// The counselor copies June's link again from the pair page while it is
	// open: the same link the first page showed, and the copy is audited.
	first := inviteLinkRE.FindAllString(res.Body, -1)[1]
	pairID := env.PairOf(t, "june@example.com")
	page := counselor.Get(fmt.Sprintf("/pairs/%d", pairID))
	wantBody(t, "pair page", page.Body, "Copy invitation link<span class=\"sr-only\"> for June Marsh",
		"Get a new invitation link<span class=\"sr-only\"> for June Marsh")
	june := env.UserID(t, "june@example.com")
	again := counselor.Get(fmt.Sprintf("/pairs/%d/members/2/invitation", pairID))
	wantStatus(t, "invitation link again", again, http.StatusOK)
	wantBody(t, "invitation link again", again.Body, "Invitation link for June Marsh", "has not joined yet", "no email went out")
	if got := inviteLinkRE.FindString(again.Body); got != first {
		t.Errorf("the link shown again is %q, want the one shown first, %q", got, first)
	}
	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'invitation.link_shown' AND client_id = $1`, june); n != 1 {
		t.Errorf("%d link-shown entries for June, want 1", n)
	}
	if n := count(t, env, `SELECT count(*) FROM user_tokens WHERE user_id = $1 AND link IS NOT NULL AND position($2 IN encode(link, 'escape')) > 0`,
		june, first[strings.LastIndex(first, "/")+1:]); n != 0 {
		t.Error("the invitation link is kept in the database in the clear")
	}
	// Another counselor's client: not found.
	wantStatus(t, "other counselor's client's link", counselor.Get(fmt.Sprintf("/pairs/%d/members/1/invitation", env.PairOf(t, "client3a@northside.example"))), http.StatusNotFound)

	// June has not joined: a new link from the pair page, the old one dead.
	res = counselor.PostForm(fmt.Sprintf("/pairs/%d/members/2/invitation", pairID), nil)
	wantStatus(t, "new invitation link", res, http.StatusOK)
	wantBody(t, "new invitation link", res.Body, "The invitation was not sent: no mail server is set up.", "Invitation for June Marsh")
	link := strings.TrimPrefix(inviteLinkRE.FindString(res.Body), env.URL)
	if link == "" {
		t.Fatal("no invitation link shown")
	}
	wantBody(t, "the new link opens", env.NewClient(t).Get(link).Body, "June Marsh")
	if got := strings.TrimPrefix(inviteLinkRE.FindString(counselor.Get(fmt.Sprintf("/pairs/%d/members/2/invitation", pairID)).Body), env.URL); got != link {
		t.Errorf("after a new link the pair page copies %q, want the new %q", got, link)
	}
	if page := env.NewClient(t).Get(strings.TrimPrefix(first, env.URL)); page.Status == http.StatusOK {
		t.Error("the first link still works after a new one")
	}
	// Once June joins, there is no link to copy.
	wantRedirect(t, "june joins", env.NewClient(t).PostForm(link, urlValues("password", "quiet harbour lanterns glow", "confirm", "quiet harbour lanterns glow",
		"consent", "yes", "consent_version", "1")), "/")
	res = counselor.Get(fmt.Sprintf("/pairs/%d/members/2/invitation", pairID))
	wantStatus(t, "link after joining", res, http.StatusConflict)
	wantBody(t, "link after joining", res.Body, "June Marsh has already accepted their invitation.")
	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'invitation.create' AND client_id = $1`, june); n != 2 {
		t.Errorf("%d invitation entries for June in the audit log, want 2 (the pair's and the new link)", n)
	}

	// Maya (a demo client) is locked out: her counselor makes a reset link.
	demoPair := env.PairOf(t, "client1a@northside.example")
	page = counselor.Get(fmt.Sprintf("/pairs/%d", demoPair))
	wantBody(t, "demo pair page", page.Body, "Password reset link<span class=\"sr-only\">")
	maya := env.UserID(t, "client1a@northside.example")
	res = counselor.PostForm(fmt.Sprintf("/pairs/%d/members/1/reset", demoPair), nil)
	wantStatus(t, "reset link", res, http.StatusOK)
	wantBody(t, "reset link", res.Body, "Password reset link for", "It was not emailed", "expires in 60 minutes")
	reset := strings.TrimPrefix(resetLinkRE.FindString(res.Body), env.URL)
	if reset == "" {
		t.Fatalf("no reset link shown:\n%s", snippet(res.Body))
	}
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE user_id = $1 AND kind = 'password_reset'`, maya); n != 0 {
		t.Errorf("the staff-issued reset link was emailed (%d)", n)
	}
	c := env.NewClient(t)
	wantRedirect(t, "new password", c.PostForm(reset, urlValues("password", "lantern over the quiet bay", "confirm", "lantern over the quiet bay")), "/")
	wantRedirect(t, "signs in", env.NewClient(t).PostForm("/login", urlValues("email", "client1a@northside.example", "password", "lantern over the quiet bay")), "/")
	wantStatus(t, "link used", c.Get(reset), http.StatusGone)

	// The admin makes one for a counselor from the staff list.
	admin := env.Login(t, "admin@northside.example")
	staff := admin.Get("/admin")
	wantBody(t, "staff list", staff.Body, "Password reset link<span class=\"sr-only\"> for", "Create invitation")
	c2 := env.UserID(t, "counselor2@northside.example")
	res = admin.PostForm(fmt.Sprintf("/admin/staff/%d/reset", c2), nil)
	wantStatus(t, "staff reset link", res, http.StatusOK)
	if resetLinkRE.FindString(res.Body) == "" {
		t.Fatal("no reset link for the counselor")
	}
	// Not for oneself.
	wantStatus(t, "own reset link", admin.PostForm(fmt.Sprintf("/admin/staff/%d/reset", env.UserID(t, "admin@northside.example")), nil), http.StatusConflict)

	// Both are in the audit log, as the admin reads it.
	log := admin.Get("/admin/audit?action=password_reset.link_shown")
	wantBody(t, "audit log", log.Body, "Issued a password-reset link")
	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'password_reset.link_shown' AND object_id IN ($1, $2)`, maya, c2); n != 2 {
		t.Errorf("%d reset-link entries in the audit log, want 2", n)
	}
	// A client of another counselor's pair is not this counselor's to reset.
	other := env.PairOf(t, "client3a@northside.example")
	wantStatus(t, "other counselor's client", counselor.PostForm(fmt.Sprintf("/pairs/%d/members/1/reset", other), nil), http.StatusNotFound)
}

// TestWithAMailServerTheInvitationSaysQueuedOrLate: with SMTP set up the
// page says the email is queued; while the mail server is failing it says
// the email may arrive late.
func TestWithAMailServerTheInvitationSaysQueuedOrLate(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t, func(c *config.Config) { c.SMTPURL = "smtp://127.0.0.1:2525" })
	counselor := env.Login(t, "counselor1@northside.example")
	wantNotInBody(t, "new-pair form", counselor.Get("/pairs/new").Body, "No mail server is set up")
	res := createIvyAndJune(t, counselor)
	wantBody(t, "pair created", res.Body, "An email with this link is queued for <strong>ivy@example.com</strong>")
	wantNotInBody(t, "pair created", res.Body, "not sent", "may arrive late")

	env.DB.MustExec(`UPDATE mail_health SET failing_since = now() - interval '20 minutes'`)
	res = counselor.PostForm(fmt.Sprintf("/pairs/%d/members/2/invitation", env.PairOf(t, "june@example.com")), nil)
	wantStatus(t, "new invitation link", res, http.StatusOK)
	wantBody(t, "new invitation link", res.Body, "is queued for <strong>june@example.com</strong>, but the mail server has not been accepting mail since", "may arrive late")
}

// createIvyAndJune creates the pair Ivy & June as the counselor and
// returns the page that says what became of the invitations.
func createIvyAndJune(t *testing.T, counselor *webtest.Client) webtest.Response {
	t.Helper()
	res := counselor.PostForm("/pairs", urlValues(
		"label", "Ivy & June", "kind", "family",
		"a_name", "Ivy Marsh", "a_email", "ivy@example.com", "a_timezone", "UTC", "a_side", "was_hurt",
		"b_name", "June Marsh", "b_email", "june@example.com", "b_timezone", "UTC", "b_side", "broke_trust"))
	wantStatus(t, "create pair", res, http.StatusCreated)
	return res
}
