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

// TestBrowserCounselorSetsUpMFAAndSignsInWithACode: a counselor turns on
// two-step sign-in from their account page by scanning (here: reading) the
// key, signs out, and signs in again with the password and a code.
func TestBrowserCounselorSetsUpMFAAndSignsInWithACode(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	tab := browsertest.Open(t, env.URL)

	tab.Go("/login")
	if status := signIn(tab, email, seed.DemoPassword); status != http.StatusOK || tab.Path() != "/dashboard" {
		t.Fatalf("sign in: %d at %s", status, tab.Path())
	}
	tab.Go("/account")
	if !strings.Contains(tab.Text(), "Two-step sign-in") || !strings.Contains(tab.Text(), "Off") {
		t.Fatalf("account page:\n%s", tab.Text())
	}
	tab.Go("/account/mfa")
	if tab.H1() != "Set up two-step sign-in" {
		t.Fatalf("set-up page: %q", tab.H1())
	}
	tab.Screenshot("mfa-setup")
	secret := strings.ReplaceAll(tab.TextOf("#mfa-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("key shown for typing in: %q", secret)
	}
	// A wrong code first: the message is beside the field.
	tab.Fill("6-digit code", "123456")
	if status := tab.Click("Turn on two-step sign-in"); status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code: status %d", status)
	}
	if !strings.Contains(tab.Text(), "That code is not right") {
		t.Fatalf("no message for a wrong code:\n%s", tab.Text())
	}
	enrolled := time.Now()
	tab.Fill("6-digit code", totpCode(t, secret, enrolled))
	if status := tab.Click("Turn on two-step sign-in"); status != http.StatusOK {
		t.Fatalf("confirm: status %d\n%s", status, tab.Text())
	}
	codes := strings.Fields(tab.TextOf(".recovery-codes"))
	if tab.H1() != "Two-step sign-in is on" || len(codes) != 10 {
		t.Fatalf("after confirming: %q with %d codes\n%s", tab.H1(), len(codes), tab.Text())
	}
	tab.Screenshot("mfa-recovery-codes")

	tab.Click("Sign out")
	if tab.Path() != "/login" {
		t.Fatalf("after signing out: %s", tab.Path())
	}
	signIn(tab, email, seed.DemoPassword)
	if tab.Path() != "/login/mfa" || tab.H1() != "Enter your sign-in code" {
		t.Fatalf("after the password: %s %q", tab.Path(), tab.H1())
	}
	// Nothing else opens meanwhile.
	tab.Go("/dashboard")
	if tab.Path() != "/login/mfa" {
		t.Fatalf("dashboard before the code: at %s", tab.Path())
	}
	tab.Screenshot("mfa-prompt")
	tab.Fill("6-digit code", codeAfter(t, secret, enrolled))
	if status := tab.Click("Continue"); status != http.StatusOK || tab.Path() != "/dashboard" {
		t.Fatalf("with the code: %d at %s\n%s", status, tab.Path(), tab.Text())
	}
	tab.Go("/account")
	tab.Screenshot("account")
	if !strings.Contains(tab.Text(), "On since") || !strings.Contains(tab.Text(), "10 unused recovery codes") {
		t.Fatalf("account page after MFA:\n%s", tab.Text())
	}
}
