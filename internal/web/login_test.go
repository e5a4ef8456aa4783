package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// demoUsers is the demo practice of DESIGN.md, by email and role.
func demoUsers() map[string]string {
	users := map[string]string{
		"admin@northside.example":      "admin",
		"counselor1@northside.example": "counselor",
		"counselor2@northside.example": "counselor",
		"admin@riverbank.example":      "admin",
		"counselor1@riverbank.example": "counselor",
		"client1a@riverbank.example":   "client",
		"client1b@riverbank.example":   "client",
	}
	for n := 1; n <= 4; n++ {
		users[fmt.Sprintf("client%da@northside.example", n)] = "client"
		users[fmt.Sprintf("client%db@northside.example", n)] = "client"
	}
	return users
}

func TestEveryDemoUserSignsInAndLandsOnTheirHome(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	home := map[string]string{"admin": "/admin", "counselor": "/dashboard", "client": "/homework"}
	users := demoUsers()
	if n := count(t, env, `SELECT count(*) FROM users`); n != len(users) {
		t.Errorf("demo has %d users, want %d", n, len(users))
	}
	for email, role := range users {
		c := env.NewClient(t)
		if role == "admin" { // every admin has a second factor
			wantRedirect(t, email+" signs in", demoLogin(c, email), "/login/mfa")
			wantRedirect(t, email+" passes the second factor", c.PassDemoFactor(t), "/")
		} else {
			wantRedirect(t, email+" signs in", demoLogin(c, email), "/")
		}
		wantRedirect(t, email+" at /", c.Get("/"), home[role])
		res := c.Get(home[role])
		wantStatus(t, email+" home", res, http.StatusOK)
		var name string
		if err := env.DB.Get(&name, `SELECT name FROM users WHERE email = $1`, email); err != nil {
			t.Fatal(err)
		}
		wantBody(t, email+" home", strings.ReplaceAll(res.Body, "&#39;", "'"), name)
	}

	// Email addresses are matched without regard to case or spaces.
	c := env.NewClient(t)
	wantRedirect(t, "mixed-case email", demoLogin(c, "  Counselor1@NorthSide.Example "), "/")

	// A next= page is honoured after signing in, but only on this site.
	c = env.NewClient(t)
	res := c.Get("/pairs")
	wantRedirect(t, "anonymous /pairs", res, "/login?next=%2Fpairs")
	wantBody(t, "login page with next", c.Get(res.Location).Body, `name="next" value="/pairs"`)
	res = c.PostForm("/login", map[string][]string{"email": {"counselor1@northside.example"}, "password": {"demo-password"}, "next": {"/pairs"}})
	wantRedirect(t, "sign in with next", res, "/pairs")
	c = env.NewClient(t)
	res = c.PostForm("/login", map[string][]string{"email": {"counselor1@northside.example"}, "password": {"demo-password"}, "next": {"/\t/evil.example"}})
	wantRedirect(t, "sign in with a foreign next", res, "/")
}

func TestWrongPasswordUnknownEmailAndDisabledAccountLookTheSame(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	env.DB.MustExec(`UPDATE users SET disabled_at = now() WHERE email = 'counselor2@northside.example'`)
	env.DB.MustExec(`INSERT INTO users (practice_id, role, email, name) SELECT practice_id, 'counselor', 'invited@northside.example', 'Not Yet'
		FROM users WHERE email = 'admin@northside.example'`)

	attempts := []struct{ what, email, password string }{
		{"wrong password", "counselor1@northside.example", "not-the-password"},
		{"unknown email", "nobody@northside.example", "not-the-password"},
		{"disabled account, right password", "counselor2@northside.example", "demo-password"},
		{"invitation not accepted yet", "invited@northside.example", "demo-password"},
	}
	var first string
	for _, a := range attempts {
		c := env.NewClient(t)
		res := login(c, a.email, a.password)
		wantStatus(t, a.what, res, http.StatusUnauthorized)
		wantBody(t, a.what, res.Body, badCredentials, `value="`+a.email+`"`)
		if a.password != "demo-password" {
			wantNotInBody(t, a.what, res.Body, a.password)
		}
		wantNotInBody(t, a.what, res.Body, `type="password" value`, "disabled", "not accepted")
		if sessionCookie(c) != "" {
			t.Errorf("%s: a session cookie was set", a.what)
		}
		// Apart from the typed email, the pages are identical.
		page := strings.ReplaceAll(res.Body, a.email, "EMAIL")
		if first == "" {
			first = page
		} else if page != first {
			t.Errorf("%s: page differs from the wrong-password page", a.what)
		}
	}
}

func TestLoginThrottlePerAccountAndPerIP(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.NewClient(t)
	for i := 1; i <= 5; i++ {
		wantStatus(t, fmt.Sprintf("wrong password %d", i), login(c, "counselor1@northside.example", "wrong-password"), http.StatusUnauthorized)
	}
	// The sixth attempt is refused before the password is looked at, even
	// the right one.
	res := demoLogin(c, "counselor1@northside.example")
	wantStatus(t, "sixth attempt with the right password", res, http.StatusTooManyRequests)
	wantBody(t, "throttled page", res.Body, throttled, "reset your password", `value="counselor1@northside.example"`)
	if sessionCookie(c) != "" {
		t.Error("a throttled login set a session cookie")
	}
	knownPage := strings.ReplaceAll(res.Body, "counselor1@northside.example", "EMAIL")

	// Another account from the same address still signs in.
	wantRedirect(t, "other account, same IP", demoLogin(env.NewClient(t), "counselor2@northside.example"), "/")

	// An unknown email is throttled the same way: no telling which exist.
	for i := 1; i <= 5; i++ {
		wantStatus(t, fmt.Sprintf("unknown email %d", i), login(c, "ghost@northside.example", "wrong-password"), http.StatusUnauthorized)
	}
	res = login(c, "ghost@northside.example", "wrong-password")
	wantStatus(t, "sixth attempt for an unknown email", res, http.StatusTooManyRequests)
	if strings.ReplaceAll(res.Body, "ghost@northside.example", "EMAIL") != knownPage {
		t.Error("the throttle page for an unknown email differs from the one for a real account")
	}

	// 10 failures so far from this IP; at 30 every account is refused.
	for i := 1; i <= 20; i++ {
		wantStatus(t, fmt.Sprintf("spray %d", i), login(c, fmt.Sprintf("spray%d@example.com", i), "wrong-password"), http.StatusUnauthorized)
	}
	res = demoLogin(env.NewClient(t), "client1a@northside.example")
	wantStatus(t, "good login after 30 failures from the IP", res, http.StatusTooManyRequests)
	wantBody(t, "IP-throttled page", res.Body, throttled)
}
