package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// An address that has an account at another practice is, to this practice,
// an address like any other: the new-pair form and the counselor invite
// accept it and answer as for a stranger, and the person gets an account
// here of their own (issue 17, item 7). Sign-in then tells the two accounts
// apart by their passwords, and a reset request reaches both.
func TestAnAddressAtAnotherPracticeIsNeverNamed(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor1@northside.example")
	const elsewhere = "client1a@riverbank.example" // Chris, at Riverbank, in an open pair there

	newPair := func(email string) webtest.Response {
		return counselor.PostForm("/pairs", url.Values{
			"label": {"Pair for " + email}, "kind": {"friends"},
			"a_name": {"Chris Evans"}, "a_email": {email}, "a_timezone": {"UTC"}, "a_side": {"mutual"},
			"b_name": {"Pat Lowe"}, "b_email": {"pat." + strings.ReplaceAll(email, "@", ".") + "@example.com"}, "b_timezone": {"UTC"}, "b_side": {"mutual"},
		})
	}
	stranger := newPair("nobody-yet@example.org")
	known := newPair(elsewhere)
	wantPage(t, known, http.StatusCreated)
	if stranger.Status != known.Status {
		t.Fatalf("new pair: %d for a stranger, %d for an address known elsewhere", stranger.Status, known.Status)
	}
	for _, leak := range []string{"already", "another practice", "Riverbank"} {
		if strings.Contains(known.Body, leak) {
			t.Errorf("the new-pair answer for an address known elsewhere says %q", leak)
		}
	}
	if len(inviteLinkRE.FindAllString(known.Body, -1)) != 2 {
		t.Fatal("the new-pair answer does not show both invitation links")
	}
	if n := count(t, env, `SELECT count(*) FROM users WHERE email = $1`, elsewhere); n != 2 {
		t.Fatalf("%d accounts with %s, want one at each practice", n, elsewhere)
	}

	// The admin's counselor invite: the same.
	admin := env.Login(t, "admin@northside.example")
	res := admin.PostForm("/admin/counselors", url.Values{"name": {"Elena Petrova"}, "email": {"counselor1@riverbank.example"}, "timezone": {"UTC"}})
	if res.Status >= 400 || strings.Contains(res.Body, "already") {
		t.Fatalf("inviting a counselor whose address is used at another practice: status %d\n%s", res.Status, snippet(res.Body))
	}

	// Chris accepts Northside's invitation. The password of the Riverbank
	// account is refused (a password opens one account), another is taken.
	var inviteBody string
	if err := env.DB.Get(&inviteBody, `SELECT e.body_text FROM email_log e JOIN users u ON u.id = e.user_id
		JOIN practices p ON p.id = u.practice_id
		WHERE e.kind = 'invitation' AND e.to_address = $1 AND p.slug = 'northside.example'`, elsewhere); err != nil {
		t.Fatalf("no invitation email from Northside to %s: %v", elsewhere, err)
	}
	link := linkIn(t, env, inviteBody)
	chris := env.NewClient(t)
	res = chris.PostForm(link, url.Values{"password": {seed.DemoPassword}, "confirm": {seed.DemoPassword}, "consent": {"yes"}, "consent_version": {"1"}})
	wantStatus(t, "accept with the other account's password", res, http.StatusUnprocessableEntity)
	wantBody(t, "accept with the other account's password", res.Body, "This password already opens your account at another practice.")
	const northsidePassword = "a separate northside secret"
	wantRedirect(t, "accept", chris.PostForm(link, url.Values{"password": {northsidePassword}, "confirm": {northsidePassword}, "consent": {"yes"}, "consent_version": {"1"}}), "/")

	// Each password opens its own practice's account.
	for _, tc := range []struct{ password, practice string }{
		{seed.DemoPassword, "riverbank.example"},
		{northsidePassword, "northside.example"},
	} {
		env.DB.MustExec(`UPDATE users SET last_login_at = NULL WHERE email = $1`, elsewhere)
		c := env.NewClient(t)
		res := c.PostForm("/login", url.Values{"email": {elsewhere}, "password": {tc.password}})
		if res.Status != http.StatusSeeOther || res.Location == "/login" {
			t.Fatalf("sign in to %s: status %d, location %q", tc.practice, res.Status, res.Location)
		}
		var signedIn []string
		if err := env.DB.Select(&signedIn, `SELECT p.slug FROM users u JOIN practices p ON p.id = u.practice_id
			WHERE u.email = $1 AND u.last_login_at IS NOT NULL`, elsewhere); err != nil {
			t.Fatal(err)
		}
		if len(signedIn) != 1 || signedIn[0] != tc.practice {
			t.Errorf("the %s password signed in to %v", tc.practice, signedIn)
		}
	}

	// A reset request reaches each account, each email naming its practice.
	res = env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {elsewhere}})
	wantStatus(t, "forgot", res, http.StatusOK)
	env.Server.Wait()
	var bodies []string
	if err := env.DB.Select(&bodies, `SELECT body_text FROM email_log WHERE kind = 'password_reset' AND to_address = $1 ORDER BY id`, elsewhere); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 {
		t.Fatalf("%d reset emails, want one per account", len(bodies))
	}
	all := strings.Join(bodies, "\n")
	for _, name := range []string{"Northside Counseling", "Riverbank Relationship Care"} {
		if !strings.Contains(all, name) {
			t.Errorf("no reset email names %s", name)
		}
	}
}
