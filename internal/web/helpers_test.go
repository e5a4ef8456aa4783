package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Shared helpers for the foundation's web tests.

const (
	badCredentials = "That email and password do not match an account. Check both and try again."
	throttled      = "Too many sign-in attempts."
)

// login posts the login form.
func login(c *webtest.Client, email, password string) webtest.Response {
	return c.PostForm("/login", url.Values{"email": {email}, "password": {password}})
}

// demoLogin posts the login form with the demo password.
func demoLogin(c *webtest.Client, email string) webtest.Response {
	return login(c, email, seed.DemoPassword)
}

// wantStatus fails the test when res has another status.
func wantStatus(t *testing.T, what string, res webtest.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.Status, status, snippet(res.Body))
	}
}

// wantRedirect fails the test unless res is a 303 to location.
func wantRedirect(t *testing.T, what string, res webtest.Response, location string) {
	t.Helper()
	if res.Status != http.StatusSeeOther || res.Location != location {
		t.Fatalf("%s: status %d to %q, want 303 to %q\n%s", what, res.Status, res.Location, location, snippet(res.Body))
	}
}

// wantBody fails the test unless body contains every one of parts.
func wantBody(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: page lacks %q\n%s", what, p, snippet(body))
		}
	}
}

// wantNotInBody fails the test if body contains any of parts.
func wantNotInBody(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(body, p) {
			t.Errorf("%s: page contains %q\n%s", what, p, snippet(body))
		}
	}
}

// snippet is the part of a page worth reading in a failure: its main.
func snippet(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 1500 {
		body = body[:1500] + "…"
	}
	return body
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/(?:invite|password/reset)/[A-Za-z0-9_-]+`)

// linkIn returns the one-time link in a page or email, as a path.
func linkIn(t *testing.T, env *webtest.Env, text string) string {
	t.Helper()
	l := linkRE.FindString(text)
	if l == "" {
		t.Fatalf("no one-time link in:\n%s", snippet(text))
	}
	if !strings.HasPrefix(l, env.URL+"/") {
		t.Fatalf("link %q does not start with BASE_URL %q", l, env.URL)
	}
	return strings.TrimPrefix(l, env.URL)
}

// tokenOf is the token part of a link path.
func tokenOf(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// count runs a count query.
func count(t *testing.T, env *webtest.Env, query string, args ...any) int {
	t.Helper()
	return int(env.ID(t, query, args...))
}

// sessionCookie returns the value of the client's session cookie ("" if none).
func sessionCookie(c *webtest.Client) string {
	for _, name := range []string{"mend_session", "__Host-mend_session"} {
		if ck := c.Cookie(name); ck != nil {
			return ck.Value
		}
	}
	return ""
}
