package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// storedToken is how the session store keys a token: hashed, so that a
// database dump holds no usable session.
func storedToken(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func TestSessionTokenChangesAtLoginAndDiesAtLogout(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)

	// Session fixation: a token held before signing in is never the one
	// that carries the new login, and stops working.
	c := env.Login(t, "counselor1@northside.example")
	before := sessionCookie(c)
	wantRedirect(t, "second login on the same browser", demoLogin(c, "admin@northside.example"), "/login/mfa")
	c.PassDemoFactor(t)
	after := sessionCookie(c)
	if before == "" || after == "" || before == after {
		t.Fatalf("session token not renewed at login: before %q, after %q", before, after)
	}
	old := env.NewClient(t)
	old.SetCookie(&http.Cookie{Name: "mend_session", Value: before})
	wantRedirect(t, "pre-login token replayed", old.Get("/dashboard"), "/login?next=%2Fdashboard")
	wantStatus(t, "the renewed session", c.Get("/admin"), http.StatusOK)

	// A token the server never issued starts no session and is not adopted.
	planted := env.NewClient(t)
	planted.SetCookie(&http.Cookie{Name: "mend_session", Value: "attacker-chosen-token"})
	wantRedirect(t, "login with a planted cookie", demoLogin(planted, "client1a@northside.example"), "/")
	if got := sessionCookie(planted); got == "attacker-chosen-token" {
		t.Error("a planted session token was kept through login")
	}

	// Logout is a POST; a GET changes nothing.
	wantStatus(t, "GET /logout", c.Get("/logout"), http.StatusNotFound)
	wantStatus(t, "still signed in after GET /logout", c.Get("/admin"), http.StatusOK)
	res := c.PostForm("/logout", nil)
	wantRedirect(t, "POST /logout", res, "/login?signed_out=1")
	if sessionCookie(c) != "" {
		t.Error("logout did not clear the session cookie")
	}
	wantBody(t, "signed-out page", c.Get(res.Location).Body, "You have signed out.")
	if n := count(t, env, `SELECT count(*) FROM sessions WHERE token = $1`, storedToken(after)); n != 0 {
		t.Error("the session is still in the store after logout")
	}

	// The old cookie replayed gets the login page, not the admin's.
	replay := env.NewClient(t)
	replay.SetCookie(&http.Cookie{Name: "mend_session", Value: after})
	wantRedirect(t, "replayed cookie after logout", replay.Get("/admin"), "/login?next=%2Fadmin")
	wantRedirect(t, "replayed cookie, POST", replay.PostForm("/admin/counselors", nil), "/login")
}

func TestSessionCookieAndTimeouts(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.NewClient(t)
	res := demoLogin(c, "counselor1@northside.example")
	ck := onlySessionCookie(t, res)
	if ck.Name != "mend_session" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie %q: want mend_session; HttpOnly; SameSite=Lax; Path=/; no Domain", res.Header.Values("Set-Cookie"))
	}
	// Served on loopback over plain HTTP, the cookie is still Secure:
	// browsers keep Secure cookies for localhost.
	if !ck.Secure {
		t.Errorf("session cookie %q is not Secure on loopback", res.Header.Values("Set-Cookie"))
	}
	// A browser-session cookie: closing the browser ends it; the server
	// enforces the timeouts.
	if ck.MaxAge != 0 || !ck.Expires.IsZero() {
		t.Errorf("session cookie %q persists", res.Header.Values("Set-Cookie"))
	}
	if ck.Value == "" || count(t, env, `SELECT count(*) FROM sessions WHERE token = $1`, ck.Value) != 0 {
		t.Error("the raw session token is stored in the database")
	}

	// Absolute lifetime 12 hours: the stored session's expiry and its
	// deadline.
	var row struct {
		Left float64 `db:"left"`
		Data []byte  `db:"data"`
		Xmin string  `db:"xmin"`
	}
	stored := `SELECT extract(epoch FROM expiry - now()) AS left, data, xmin::text AS xmin FROM sessions WHERE token = $1`
	if err := env.DB.Get(&row, stored, storedToken(ck.Value)); err != nil {
		t.Fatalf("session not in the store: %v", err)
	}
	if left := time.Duration(row.Left * float64(time.Second)); left < 11*time.Hour+59*time.Minute || left > 12*time.Hour+time.Minute {
		t.Errorf("stored session expires in %v, want about 12h (lifetime)", left)
	}
	deadline, _, err := auth.SessionCodec{}.Decode(row.Data)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(deadline); left < 11*time.Hour+59*time.Minute || left > 12*time.Hour+time.Minute {
		t.Errorf("session deadline in %v, want about 12h (lifetime)", left)
	}
	// Looking at pages does not rewrite the stored session (a write per
	// request would be the slowest part of a cached page).
	wantStatus(t, "dashboard", c.Get("/dashboard"), http.StatusOK)
	wantStatus(t, "dashboard again", c.Get("/dashboard"), http.StatusOK)
	xmin := row.Xmin
	if err := env.DB.Get(&row, stored, storedToken(ck.Value)); err != nil {
		t.Fatal(err)
	}
	if row.Xmin != xmin {
		t.Error("a page view rewrote the stored session")
	}

	// Idle timeout 30 minutes, from when the session was last seen: 29
	// minutes idle still works (and counts as seen), 31 minutes does not.
	env.DB.MustExec(`UPDATE user_sessions SET last_seen = now() - interval '29 minutes' WHERE token_hash = $1`, storedToken(ck.Value))
	wantStatus(t, "29 minutes idle", c.Get("/dashboard"), http.StatusOK)
	env.DB.MustExec(`UPDATE user_sessions SET last_seen = now() - interval '31 minutes' WHERE token_hash = $1`, storedToken(ck.Value))
	wantRedirect(t, "31 minutes idle", c.Get("/dashboard"), "/login?ended=1&next=%2Fdashboard")
	if n := count(t, env, `SELECT count(*) FROM user_sessions WHERE token_hash = $1`, storedToken(ck.Value)); n != 0 {
		t.Error("the idle session is still listed as active")
	}

	// The defaults a deployment gets are the same.
	cfg, err := config.LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionIdleTimeout != 30*time.Minute || cfg.SessionLifetime != 12*time.Hour {
		t.Errorf("default session timeouts %v / %v, want 30m / 12h", cfg.SessionIdleTimeout, cfg.SessionLifetime)
	}

	// A session past its lifetime is gone.
	c2 := env.NewClient(t)
	ck2 := onlySessionCookie(t, demoLogin(c2, "counselor1@northside.example"))
	env.DB.MustExec(`UPDATE sessions SET expiry = now() - interval '1 second' WHERE token = $1`, storedToken(ck2.Value))
	wantRedirect(t, "session past its lifetime", c2.Get("/dashboard"), "/login?next=%2Fdashboard")
}

func onlySessionCookie(t *testing.T, res webtest.Response) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range res.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if found != nil {
			t.Fatalf("more than one cookie set: %q", res.Header.Values("Set-Cookie"))
		}
		found = ck
	}
	if found == nil {
		t.Fatalf("no cookie set (status %d)", res.Status)
	}
	return found
}

func TestHTTPSDeploymentUsesHostPrefixedCookieAndHSTS(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t, func(c *config.Config) { c.BaseURL = "https://mend.example.org" })
	c := env.NewClient(t)
	res := demoLogin(c, "counselor1@northside.example")
	wantRedirect(t, "login over https", res, "/")
	ck := onlySessionCookie(t, res)
	if ck.Name != "__Host-mend_session" || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
		t.Errorf("session cookie %q: want __Host-mend_session; Secure; Path=/; HttpOnly; no Domain", res.Header.Values("Set-Cookie"))
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no HSTS header when BASE_URL is https")
	}
	wantStatus(t, "signed in with the __Host- cookie", c.Get("/dashboard"), http.StatusOK)

	plain := webtest.Start(t)
	if hsts := plain.NewClient(t).Get("/login").Header.Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("HSTS %q sent when BASE_URL is plain http", hsts)
	}
}

func TestDisabledAccountLosesItsSession(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor2@northside.example")
	wantStatus(t, "counselor before", counselor.Get("/dashboard"), http.StatusOK)
	token := sessionCookie(counselor)

	admin := env.Login(t, "admin@northside.example")
	id := env.UserID(t, "counselor2@northside.example")
	res := admin.PostForm(fmt.Sprintf("/admin/staff/%d/disable", id), nil)
	wantRedirect(t, "disable", res, "/admin")
	wantBody(t, "admin page after disabling", admin.Get("/admin").Body, "is disabled and signed out everywhere", "Disabled")

	wantRedirect(t, "disabled counselor's next request", counselor.Get("/dashboard"), "/login?next=%2Fdashboard")
	if n := count(t, env, `SELECT count(*) FROM sessions WHERE token = $1`, storedToken(token)); n != 0 {
		t.Error("the disabled account's session is still stored")
	}
	// Enabled again, the account signs in afresh.
	wantRedirect(t, "enable", admin.PostForm(fmt.Sprintf("/admin/staff/%d/enable", id), nil), "/admin")
	wantRedirect(t, "sign in after enabling", demoLogin(env.NewClient(t), "counselor2@northside.example"), "/")

	// An admin cannot lock themselves out.
	res = admin.PostForm(fmt.Sprintf("/admin/staff/%d/disable", env.UserID(t, "admin@northside.example")), nil)
	wantStatus(t, "admin disables self", res, http.StatusConflict)
	wantBody(t, "admin disables self", res.Body, "You cannot disable your own account.")
}
