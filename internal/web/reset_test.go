package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// resetLink asks for a reset link for email and returns the newest one in
// the email log.
func resetLink(t *testing.T, env *webtest.Env, email string) (string, webtest.Response) {
	t.Helper()
	res := env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {email}})
	wantStatus(t, "forgot "+email, res, http.StatusOK)
	env.Server.Wait() // the link and its email are made behind the answer
	var body string
	if err := env.DB.Get(&body, `SELECT body_text FROM email_log WHERE kind = 'password_reset' AND to_address = $1 ORDER BY id DESC LIMIT 1`,
		strings.ToLower(strings.TrimSpace(email))); err != nil {
		t.Fatalf("no password_reset email for %s: %v", email, err)
	}
	return linkIn(t, env, body), res
}

func TestPasswordResetByEmailedLink(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)

	// Known and unknown emails get the same answer; only the known one
	// gets an email.
	link, known := resetLink(t, env, "client1a@northside.example")
	unknown := env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {"stranger@northside.example"}})
	wantStatus(t, "forgot, unknown email", unknown, http.StatusOK)
	env.Server.Wait()
	if strings.ReplaceAll(known.Body, "client1a@northside.example", "EMAIL") != strings.ReplaceAll(unknown.Body, "stranger@northside.example", "EMAIL") {
		t.Error("the answer for a known email differs from the one for an unknown email")
	}
	wantBody(t, "forgot answer", known.Body, "If an account uses")
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE to_address = 'stranger@northside.example'`); n != 0 {
		t.Error("an email was queued for an address without an account")
	}
	res := env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {"  "}})
	wantStatus(t, "forgot, empty email", res, http.StatusUnprocessableEntity)
	wantBody(t, "forgot, empty email", res.Body, "Enter the email address you sign in with.")

	// The link sets a new password, with the same rules as an invitation.
	c := env.NewClient(t)
	wantStatus(t, "open reset link", c.Get(link), http.StatusOK)
	res = c.PostForm(link, url.Values{"password": {"short"}, "confirm": {"short"}})
	wantStatus(t, "short password", res, http.StatusUnprocessableEntity)
	wantBody(t, "short password", res.Body, "Use at least 12 characters")
	res = c.PostForm(link, url.Values{"password": {"a brand new secret"}, "confirm": {"a brand new secreT"}})
	wantStatus(t, "mismatch", res, http.StatusUnprocessableEntity)
	wantBody(t, "mismatch", res.Body, "The two passwords do not match.")
	wantRedirect(t, "reset", c.PostForm(link, url.Values{"password": {"a brand new secret"}, "confirm": {"a brand new secret"}}), "/")
	wantBody(t, "after reset", c.Get("/homework").Body, "Your password has been changed.")

	// Once only; the old password is gone, the new one works.
	res = env.NewClient(t).Get(link)
	wantStatus(t, "used reset link", res, http.StatusGone)
	wantBody(t, "used reset link", res.Body, "already been used")
	wantStatus(t, "old password", demoLogin(env.NewClient(t), "client1a@northside.example"), http.StatusUnauthorized)
	wantRedirect(t, "new password", login(env.NewClient(t), "client1a@northside.example", "a brand new secret"), "/")

	// Only the newest link works; an expired one offers a new one.
	first, _ := resetLink(t, env, "client1b@northside.example")
	// (A new link is sent only when the last one is some minutes old.)
	env.DB.MustExec(`UPDATE user_tokens SET created_at = created_at - interval '6 minutes' WHERE purpose = 'reset'`)
	second, _ := resetLink(t, env, "client1b@northside.example")
	wantStatus(t, "older reset link", env.NewClient(t).Get(first), http.StatusGone)
	env.DB.MustExec(`UPDATE user_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset'`)
	res = env.NewClient(t).Get(second)
	wantStatus(t, "expired reset link", res, http.StatusGone)
	wantBody(t, "expired reset link", res.Body, "This link has expired", `href="/password/forgot"`)

	// Disabled accounts and invitations not yet accepted get no email.
	env.DB.MustExec(`UPDATE users SET disabled_at = now() WHERE email = 'client2a@northside.example'`)
	env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {"client2a@northside.example"}})
	env.Server.Wait()
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE to_address = 'client2a@northside.example'`); n != 0 {
		t.Error("a disabled account was sent a reset link")
	}
}

func TestResetLinkLiftsTheLoginThrottle(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.NewClient(t)
	for range 5 {
		login(c, "counselor1@northside.example", "forgotten-password")
	}
	wantStatus(t, "throttled", demoLogin(c, "counselor1@northside.example"), http.StatusTooManyRequests)
	link, _ := resetLink(t, env, "counselor1@northside.example")
	wantRedirect(t, "reset", c.PostForm(link, url.Values{"password": {"remembered at last"}, "confirm": {"remembered at last"}}), "/")
	wantRedirect(t, "sign in with the new password", login(env.NewClient(t), "counselor1@northside.example", "remembered at last"), "/")
}
