package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// signIn fills the login form the tab shows and submits it; it returns the
// status of the page the browser lands on.
func signIn(tab *browsertest.Tab, email, password string) int {
	tab.Fill("Email", email)
	tab.Fill("Password", password)
	status := tab.Click("Sign in")
	if tab.Path() == "/login/mfa" { // a demo admin: their app's code
		tab.Fill("6-digit code", webtest.DemoCode(time.Now()))
		status = tab.Click("Continue")
	}
	return status
}

// TestBrowserSignInAndOut walks each demo role through a real browser: the
// front door sends them to the login page, the right home greets them by
// name, signing out says so, and their home is closed to them afterwards.
func TestBrowserSignInAndOut(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	for _, tc := range []struct {
		role, email, home string
	}{
		{"admin", "admin@northside.example", "/admin"},
		{"counselor", "counselor1@northside.example", "/dashboard"},
		{"client", "client1a@northside.example", "/homework"},
	} {
		t.Run(tc.role, func(t *testing.T) {
			t.Parallel()
			var name string
			if err := env.DB.Get(&name, `SELECT name FROM users WHERE email = $1`, tc.email); err != nil {
				t.Fatal(err)
			}
			tab := browsertest.Open(t, env.URL)

			tab.Go("/")
			if got := tab.Path(); got != "/login" {
				t.Fatalf("anonymous / went to %s, want /login", got)
			}
			if status := signIn(tab, tc.email, seed.DemoPassword); status != http.StatusOK {
				t.Fatalf("after signing in: status %d at %s\n%s", status, tab.Path(), tab.Text())
			}
			if got := tab.Path(); got != tc.home {
				t.Fatalf("%s landed on %s, want %s", tc.email, got, tc.home)
			}
			if !strings.Contains(tab.Text(), name) {
				t.Errorf("%s's home does not show their name %q:\n%s", tc.email, name, tab.Text())
			}
			// The session cookie is Secure even on plain-HTTP loopback; the
			// sign-in above only works because Chromium keeps it there.
			ck := tab.Cookie("mend_session")
			if ck == nil || !ck.Secure || !ck.HTTPOnly {
				t.Errorf("session cookie %+v: want it kept, Secure and HttpOnly", ck)
			}

			tab.Click("Sign out")
			if got := tab.Path(); got != "/login" {
				t.Fatalf("after signing out: at %s, want /login", got)
			}
			if !strings.Contains(tab.Text(), "You have signed out.") {
				t.Errorf("login page after sign-out does not say so:\n%s", tab.Text())
			}

			tab.Go(tc.home)
			if got := tab.Path(); got != "/login" {
				t.Errorf("%s after signing out: at %s, want the login page", tc.home, got)
			}
		})
	}
}

// TestBrowserLoginErrorsAlike checks that the login page cannot be used to
// learn which emails have accounts: an unknown email and a wrong password
// read the same.
func TestBrowserLoginErrorsAlike(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := browsertest.Open(t, env.URL)

	message := func(email, password string) string {
		t.Helper()
		tab.Go("/login")
		status := signIn(tab, email, password)
		if status != http.StatusUnprocessableEntity && status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want the login form again with an error", email, status)
		}
		if got := tab.Path(); got != "/login" {
			t.Errorf("%s: at %s after a failed login, want /login", email, got)
		}
		if got := tab.Value("Email"); got != email {
			t.Errorf("%s: email field holds %q; what the person typed should be kept", email, got)
		}
		if got := tab.Value("Password"); got != "" {
			t.Errorf("%s: password field was sent back filled in", email)
		}
		return strings.TrimSpace(tab.TextOf("[role=alert]"))
	}
	unknown := message("nobody@northside.example", seed.DemoPassword)
	wrong := message("counselor1@northside.example", "not-the-password")
	if unknown == "" {
		t.Fatalf("no error shown for an unknown email:\n%s", tab.Text())
	}
	if unknown != wrong {
		t.Errorf("unknown email says %q but wrong password says %q; they must read the same", unknown, wrong)
	}
}

// TestBrowserScreenshots renders the login page on a phone and the admin
// page on a desktop, for people to look at ($MEND_SCREENSHOTS keeps them),
// and checks that no page is wider than its screen (sideways scrolling of
// the whole page on a phone is the usual way a layout breaks).
func TestBrowserScreenshots(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := browsertest.Open(t, env.URL)

	tab.SetPhone()
	tab.Go("/login")
	tab.Screenshot("login-375")
	if w := tab.ScrollWidth(); w > 375 {
		t.Errorf("login page is %dpx wide on a 375px phone: it scrolls sideways", w)
	}
	signIn(tab, "admin@northside.example", seed.DemoPassword)
	if got := tab.Path(); got != "/admin" {
		t.Fatalf("admin landed on %s", got)
	}
	if w := tab.ScrollWidth(); w > 375 {
		t.Errorf("admin page is %dpx wide on a 375px phone: the staff table should scroll inside its box", w)
	}

	tab.SetViewport(1280, 900)
	tab.Screenshot("admin-1280")
	if w := tab.ScrollWidth(); w > 1280 {
		t.Errorf("admin page is %dpx wide on a 1280px screen", w)
	}
}
