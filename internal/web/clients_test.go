package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// urlValues builds a form from name, value pairs.
func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// currentConsent is a practice's current consent text.
func currentConsent(t *testing.T, env *webtest.Env, slug string) string {
	t.Helper()
	var body string
	if err := env.DB.Get(&body, `SELECT v.body FROM consent_versions v JOIN practices p ON p.id = v.practice_id
		WHERE p.slug = $1 ORDER BY v.version DESC LIMIT 1`, slug); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestClientConsentAtInvitationAndEachNewVersion: a client's invitation
// page says what Mend is, who invited them and who reads what, and shows
// the practice's consent text; without ticking "I agree" no password is
// set, and a password made of their own email is refused. Accepting is
// recorded with the version, shown on the pair page; when the admin
// changes the text, the client is asked again at their next sign-in and
// nothing else opens until they agree.
func TestClientConsentAtInvitationAndEachNewVersion(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor1@northside.example")
	link := firstInviteLink(t, env, counselor, urlValues(
		"label", "Sam & Kit", "kind", "friends",
		"a_name", "Sam Hill", "a_email", "sam.hill@example.com", "a_timezone", "UTC", "a_side", "broke_trust",
		"b_name", "Kit Vale", "b_email", "kit@example.com", "b_timezone", "UTC", "b_side", "was_hurt"))
	sam := env.UserID(t, "sam.hill@example.com")
	var practice, counselorName string
	if err := env.DB.Get(&practice, `SELECT name FROM practices WHERE slug = 'northside.example'`); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Get(&counselorName, `SELECT name FROM users WHERE email = 'counselor1@northside.example'`); err != nil {
		t.Fatal(err)
	}

	c := env.NewClient(t)
	page := c.Get(link)
	wantStatus(t, "invitation page", page, http.StatusOK)
	wantBody(t, "invitation page", page.Body, "What Mend is", practice, counselorName, "Who reads what",
		"They never see what you keep for your counselor", "What you agree to", "Mend is not an emergency service",
		"Version 1", "I have read this and I agree")

	// Not ticked: nothing is set.
	res := c.PostForm(link, urlValues("password", "quiet harbor lantern", "confirm", "quiet harbor lantern", "consent_version", "1"))
	wantStatus(t, "without consent", res, http.StatusUnprocessableEntity)
	wantBody(t, "without consent", res.Body, "Tick the box to agree")
	if n := count(t, env, `SELECT count(*) FROM users WHERE id = $1 AND password_hash IS NOT NULL`, sam); n != 0 {
		t.Fatal("a password was set without consent")
	}
	// Ticked, but the password is the email's name.
	res = c.PostForm(link, urlValues("password", "sam.hill-forever-2026", "confirm", "sam.hill-forever-2026", "consent", "yes", "consent_version", "1"))
	wantStatus(t, "own email as password", res, http.StatusUnprocessableEntity)
	wantBody(t, "own email as password", res.Body, "contains your name or email")
	res = c.PostForm(link, urlValues("password", "password1234", "confirm", "password1234", "consent", "yes", "consent_version", "1"))
	wantStatus(t, "common word and digits", res, http.StatusUnprocessableEntity)
	if n := count(t, env, `SELECT count(*) FROM consent_acceptances WHERE user_id = $1`, sam); n != 0 {
		t.Fatal("consent recorded although no password was set")
	}
	wantRedirect(t, "accept", c.PostForm(link, urlValues("password", "quiet harbor lantern", "confirm", "quiet harbor lantern", "consent", "yes", "consent_version", "1")), "/")
	if n := count(t, env, `SELECT count(*) FROM consent_acceptances WHERE user_id = $1 AND version = 1`, sam); n != 1 {
		t.Fatalf("acceptance of version 1 recorded %d times", n)
	}
	wantStatus(t, "client home", c.Get("/homework"), http.StatusOK)
	pairID := env.PairOf(t, "sam.hill@example.com")
	wantBody(t, "pair page", counselor.Get(fmt.Sprintf("/pairs/%d", pairID)).Body, "Consent: accepted version 1 on", "Consent: not given yet")

	// A new version: asked at the next sign-in.
	admin := env.Login(t, "admin@northside.example")
	res = admin.PostForm("/admin/clients", urlValues("consent", consent.DefaultText+"\n\nNEW-CLAUSE: sessions may be recorded.", "care", "", "crisis", ""))
	wantRedirect(t, "new consent version", res, "/admin/clients")
	wantBody(t, "admin page", admin.Get("/admin/clients").Body, "version 2")
	// The session Sam already has goes on; the next sign-in asks.
	again := env.NewClient(t)
	wantRedirect(t, "sign in", again.PostForm("/login", urlValues("email", "sam.hill@example.com", "password", "quiet harbor lantern")), "/")
	wantRedirect(t, "home before agreeing", again.Get("/homework"), "/consent")
	page = again.Get("/consent")
	wantBody(t, "consent page", page.Body, "NEW-CLAUSE: sessions may be recorded.", "Version 2")
	res = again.PostForm("/consent", urlValues("version", "2"))
	wantStatus(t, "consent unticked", res, http.StatusUnprocessableEntity)
	wantRedirect(t, "still asked", again.Get("/progress"), "/consent")
	wantRedirect(t, "agree", again.PostForm("/consent", urlValues("version", "2", "consent", "yes")), "/")
	wantStatus(t, "home after agreeing", again.Get("/homework"), http.StatusOK)
	if n := count(t, env, `SELECT count(*) FROM consent_acceptances WHERE user_id = $1`, sam); n != 2 {
		t.Errorf("%d acceptances recorded, want versions 1 and 2", n)
	}
	wantBody(t, "pair page", counselor.Get(fmt.Sprintf("/pairs/%d", pairID)).Body, "Consent: accepted version 2 on", "earlier: version 1")
	// A demo client who accepted only version 1 is asked too.
	maya := env.NewClient(t)
	wantRedirect(t, "demo sign in", maya.PostForm("/login", urlValues("email", "client1a@northside.example", "password", seed.DemoPassword)), "/")
	wantRedirect(t, "demo client asked", maya.Get("/homework"), "/consent")
}

// TestClientPagesShowFeedbackProgressAndShared: the feedback page lists
// all feedback (more than the home's three), the progress page draws the
// client's chart with its data table and the streak, and the partner's
// chart only from what the partner shared.
func TestClientPagesShowFeedbackProgressAndShared(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const maya, daniel = "client1a@northside.example", "client1b@northside.example"
	hw := giveHomework(t, env, maya, "")
	today := clientToday(t, env, maya)
	giveCheckin(t, env, maya, hw, today.AddDays(-1), "counselor", "Mine")
	giveCheckin(t, env, daniel, hw, today.AddDays(-1), "counselor", "Daniel private")
	m := env.Login(t, maya)
	page := m.Get("/progress")
	wantStatus(t, "progress", page, http.StatusOK)
	wantBody(t, "progress", page.Body, "Your progress", "in a row", "Maya Brooks: ratings over time", "Show the numbers")
	// Daniel's chart comes only from his shared check-ins; the demo has
	// some, so there is one; with his shared ones made private, none.
	env.ID(t, `WITH u AS (UPDATE checkins SET visibility = 'counselor' WHERE user_id = $1 RETURNING 1) SELECT count(*) FROM u`, env.UserID(t, daniel))
	page = m.Get("/progress")
	if strings.Contains(page.Body, "Daniel Brooks: ratings over time") {
		t.Error("the partner's private ratings are charted")
	}
	wantBody(t, "progress without shares", page.Body, "Daniel Brooks has not shared a check-in in this range.")
	// Odd input keeps the default range and says what was wrong.
	res := m.Get("/progress?from=soon&to=2026-99-99")
	wantStatus(t, "bad range", res, http.StatusUnprocessableEntity)
	wantBody(t, "bad range", res.Body, "Enter a date like")

	feedback := m.Get("/feedback")
	wantStatus(t, "feedback", feedback, http.StatusOK)
	wantBody(t, "feedback", feedback.Body, "Feedback from your counselor")
}

// TestConsentAndPasswordAreSetTogether: when the consent cannot be
// recorded, the invitation sets no password either: the client is not let
// in without the record of what they agreed to, and the same link still
// works once the fault is gone.
// firstInviteLink creates a pair as the counselor and returns the path of
// the first member's invitation link, shown once on the answer.
func firstInviteLink(t *testing.T, env *webtest.Env, counselor *webtest.Client, pair url.Values) string {
	t.Helper()
	res := counselor.PostForm("/pairs", pair)
	wantStatus(t, "create pair", res, http.StatusCreated)
	links := inviteLinkRE.FindAllString(res.Body, -1)
	if len(links) != 2 {
		t.Fatalf("%d invitation links", len(links))
	}
	return strings.TrimPrefix(links[0], env.URL)
}

func TestConsentAndPasswordAreSetTogether(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor1@northside.example")
	link := firstInviteLink(t, env, counselor, urlValues(
		"label", "Ari & Bo", "kind", "colleagues",
		"a_name", "Ari Lund", "a_email", "ari@example.com", "a_timezone", "UTC", "a_side", "mutual",
		"b_name", "Bo Reyes", "b_email", "bo@example.com", "b_timezone", "UTC", "b_side", "mutual"))
	ari := env.UserID(t, "ari@example.com")

	env.DB.MustExec(`CREATE FUNCTION refuse_consent() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'consent store unavailable'; END $$`)
	env.DB.MustExec(`CREATE TRIGGER refuse_consent BEFORE INSERT ON consent_acceptances
		FOR EACH ROW EXECUTE FUNCTION refuse_consent()`)
	c := env.NewClient(t)
	accept := urlValues("password", "quiet harbor lantern", "confirm", "quiet harbor lantern", "consent", "yes", "consent_version", "1")
	res := c.PostForm(link, accept)
	wantStatus(t, "consent cannot be recorded", res, http.StatusInternalServerError)
	if n := count(t, env, `SELECT count(*) FROM users WHERE id = $1 AND password_hash IS NOT NULL`, ari); n != 0 {
		t.Fatal("the password was set although the consent was not recorded")
	}
	if res := c.Get("/homework"); res.Status == http.StatusOK {
		t.Fatal("the failed acceptance left the client signed in")
	}
	if res := env.NewClient(t).PostForm("/login", urlValues("email", "ari@example.com", "password", "quiet harbor lantern")); res.Status == http.StatusSeeOther {
		t.Fatal("the password of the failed acceptance signs in")
	}

	env.DB.MustExec(`DROP TRIGGER refuse_consent ON consent_acceptances`)
	wantBody(t, "the link still works", c.Get(link).Body, "I have read this and I agree")
	wantRedirect(t, "accept", c.PostForm(link, accept), "/")
	if n := count(t, env, `SELECT count(*) FROM consent_acceptances WHERE user_id = $1 AND version = 1`, ari); n != 1 {
		t.Fatalf("acceptance recorded %d times", n)
	}
	wantStatus(t, "client home", c.Get("/homework"), http.StatusOK)
}
