package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/webtest"
)

const cookieName = "mend_session"

// auditCount counts audit entries of an action about a user.
func auditCount(t *testing.T, env *webtest.Env, action string, userID int64) int64 {
	t.Helper()
	return env.ID(t, `SELECT count(*) FROM audit_log WHERE action = $1 AND object_id = $2`, action, userID)
}

func TestMFASignInNeedsTheCodeAndRenewsTheSession(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	secret, _, enrolledAt := enrolMFA(t, env, email)
	uid := env.UserID(t, email)
	if auditCount(t, env, "mfa.enrolled", uid) != 1 {
		t.Error("enrolment not audited")
	}

	c := env.NewClient(t)
	res := c.PostForm("/login", url.Values{"email": {email}, "password": {seed.DemoPassword}, "next": {"/dashboard"}})
	if res.Status != http.StatusSeeOther || res.Location != "/login/mfa" {
		t.Fatalf("after the password: %d to %q, want the code prompt", res.Status, res.Location)
	}
	pendingToken := c.Cookie(cookieName).Value

	// Nothing but the prompt.
	for _, path := range []string{"/dashboard", "/", "/account", "/admin", "/homework"} {
		if res := c.Get(path); res.Status != http.StatusSeeOther || res.Location != "/login/mfa" {
			t.Errorf("GET %s while pending: %d to %q, want 303 to /login/mfa", path, res.Status, res.Location)
		}
	}
	res = c.Get("/login/mfa")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "Enter your sign-in code") {
		t.Fatalf("prompt: %d", res.Status)
	}
	if strings.Contains(res.Body, `href="/dashboard"`) {
		t.Error("the pending page shows the counselor's navigation")
	}

	// A wrong code: the message beside the field, still pending.
	res = c.PostForm("/login/mfa", url.Values{"code": {"000000"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "That code is not right") {
		t.Fatalf("wrong code: %d\n%s", res.Status, res.Body)
	}
	// The code that confirmed the enrolment has been used: refused.
	res = c.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, enrolledAt)}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "already been used") {
		t.Fatalf("replayed code: %d\n%s", res.Status, res.Body)
	}
	// The next code passes and goes where the person was headed.
	next := codeAfter(t, secret, enrolledAt)
	res = c.PostForm("/login/mfa", url.Values{"code": {next}})
	if res.Status != http.StatusSeeOther || res.Location != "/dashboard" {
		t.Fatalf("right code: %d to %q", res.Status, res.Location)
	}
	if ck := c.Cookie(cookieName); ck == nil || ck.Value == pendingToken {
		t.Fatal("the session token was not renewed when the second factor passed")
	}
	if res := c.Get("/dashboard"); res.Status != http.StatusOK {
		t.Fatalf("dashboard after MFA: %d", res.Status)
	}
	// A wrong code on the account page: the message is beside the field of
	// the form that was sent, not the other one.
	res = c.PostForm("/account/mfa/recovery-codes", url.Values{"regen_code": {"000000"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="f-regen_code-error"`) ||
		strings.Contains(res.Body, `id="f-disable_code-error"`) {
		t.Fatalf("wrong code for new recovery codes: %d\n%s", res.Status, res.Body)
	}
	if auditCount(t, env, "login.mfa", uid) < 2 { // enrolment and this sign-in
		t.Error("the second factor is not audited")
	}
	var failed int64 = env.ID(t, `SELECT count(*) FROM audit_log WHERE action = 'login.mfa' AND outcome = 'failed' AND object_id = $1`, uid)
	if failed != 2 {
		t.Errorf("%d failed second factors audited, want 2", failed)
	}

	// The pending session's token is dead: replaying it gets nowhere.
	old := env.NewClient(t)
	old.SetCookie(&http.Cookie{Name: cookieName, Value: pendingToken})
	if res := old.Get("/login/mfa"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login?") {
		t.Fatalf("old pending cookie: %d to %q, want the login page", res.Status, res.Location)
	}

	// Another sign-in cannot reuse the code just used, even in a new session.
	c2 := passwordOnly(t, env, email)
	if res := c2.PostForm("/login/mfa", url.Values{"code": {next}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("code reused in a second session: %d", res.Status)
	}
}

func TestMFARecoveryCodeSignsInOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "client1a@northside.example" // clients may opt in
	_, codes, _ := enrolMFA(t, env, email)

	c := passwordOnly(t, env, email)
	if res := c.PostForm("/login/mfa/recovery", url.Values{"code": {"aaaa-bbbb-cccc-dddd"}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("made-up recovery code: %d", res.Status)
	}
	res := c.PostForm("/login/mfa/recovery", url.Values{"code": {strings.ToUpper(codes[0])}})
	if res.Status != http.StatusSeeOther || res.Location != "/" {
		t.Fatalf("recovery code: %d to %q", res.Status, res.Location)
	}
	if res := c.Get("/homework"); res.Status != http.StatusOK || !strings.Contains(res.Body, "9 left") {
		t.Fatalf("after recovery: %d; want the homework page saying 9 codes are left", res.Status)
	}
	c2 := passwordOnly(t, env, email)
	if res := c2.PostForm("/login/mfa/recovery", url.Values{"code": {codes[0]}}); res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("used recovery code again: %d", res.Status)
	}
}

// TestMFAPendingReachesNothingElse walks every route in the table, with ids
// of the pending counselor's own records, and checks that a session that
// passed only the password is sent to the prompt from each of them.
func TestMFAPendingReachesNothingElse(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	enrolMFA(t, env, email)
	c := passwordOnly(t, env, email)
	pair := env.PairOf(t, "client1a@northside.example")
	param := regexp.MustCompile(`:[a-z_]+`)
	enf, err := authz.New()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range env.Server.Routes() {
		// Skipped: what anyone may reach (health, login, one-time links…),
		// and the second-factor pages themselves.
		if open, err := enf.Allowed(mend.RoleAnonymous, 0, r.Object, r.Action); err != nil || open || r.Object == "mfa_prompt" {
			continue
		}
		path := param.ReplaceAllString(r.Path, fmt.Sprint(pair))
		path = strings.ReplaceAll(path, "*file", "app.css")
		var res webtest.Response
		if r.Method == http.MethodGet {
			res = c.Get(path)
		} else {
			res = c.PostForm(path, url.Values{})
		}
		if res.Status != http.StatusSeeOther || res.Location != "/login/mfa" {
			t.Errorf("%s %s while pending: %d to %q, want 303 to /login/mfa", r.Method, path, res.Status, res.Location)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d routes checked: the route table or the skip rule is wrong", checked)
	}
	// Still pending afterwards: nothing above completed the sign-in.
	if res := c.Get("/dashboard"); res.Location != "/login/mfa" {
		t.Fatalf("dashboard: %d to %q", res.Status, res.Location)
	}
}

func TestPracticeCanRequireMFAForStaff(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor2@northside.example")
	client := env.Login(t, "client1a@northside.example")
	admin := env.Login(t, "admin@northside.example")
	if res := admin.PostForm("/admin/security", url.Values{"mfa_required": {"on"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("save setting: %d", res.Status)
	}
	if auditCount(t, env, "practice.mfa_required", env.ID(t, `SELECT id FROM practices WHERE slug = 'northside.example'`)) != 1 {
		t.Error("the setting change is not audited")
	}
	// A staff session without MFA reaches nothing but the set-up, at once.
	if res := counselor.Get("/dashboard"); res.Status != http.StatusSeeOther || res.Location != "/login/mfa" {
		t.Fatalf("counselor without MFA: %d to %q", res.Status, res.Location)
	}
	res := counselor.Get("/login/mfa")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `<img src="data:image/png;base64,`) ||
		!strings.Contains(res.Body, "Your practice asks everyone on staff") {
		t.Fatalf("set-up page: %d\n%s", res.Status, res.Body)
	}
	// Clients are not affected.
	if res := client.Get("/homework"); res.Status != http.StatusOK {
		t.Fatalf("client: %d", res.Status)
	}
	m := secretRe.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatal("no secret on the set-up page")
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	res = counselor.PostForm("/login/mfa", url.Values{"code": {"000000"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "data:image/png") {
		t.Fatalf("wrong first code: %d; want the set-up page again with the message", res.Status)
	}
	res = counselor.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, time.Now())}})
	if res.Status != http.StatusOK || len(recoveryCodeRe.FindAllString(res.Body, -1)) != 10 {
		t.Fatalf("confirm: %d\n%s", res.Status, res.Body)
	}
	if res := counselor.Get("/dashboard"); res.Status != http.StatusOK {
		t.Fatalf("dashboard after set-up: %d", res.Status)
	}
	// Required: it cannot be turned off.
	res = counselor.PostForm("/account/mfa/disable", url.Values{"disable_code": {totpCode(t, secret, time.Now().Add(30*time.Second))}})
	if res.Status != http.StatusConflict {
		t.Fatalf("turning off required MFA: %d", res.Status)
	}
	// The admin (who, as every admin, has a second factor) goes on.
	if res := admin.Get("/admin"); res.Status != http.StatusOK {
		t.Fatalf("admin after requiring MFA: %d to %q", res.Status, res.Location)
	}
}

func TestAdminResetsStaffMFA(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	enrolMFA(t, env, email)
	uid := env.UserID(t, email)
	signedIn := passwordOnly(t, env, email)
	admin := env.Login(t, "admin@northside.example")
	page := admin.Get("/admin/security")
	if !strings.Contains(page.Body, fmt.Sprintf("/admin/staff/%d/mfa/reset", uid)) {
		t.Fatal("the security page offers no reset for the counselor")
	}
	res := admin.PostForm(fmt.Sprintf("/admin/staff/%d/mfa/reset", uid), nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.Status)
	}
	if auditCount(t, env, "mfa.reset", uid) != 1 {
		t.Error("the reset is not audited")
	}
	// The sessions that only passed the password are gone with it.
	if res := signedIn.Get("/login/mfa"); !strings.HasPrefix(res.Location, "/login?") {
		t.Fatalf("old session after reset: %d to %q", res.Status, res.Location)
	}
	// Not required here: the password alone signs in now.
	c := env.Login(t, email)
	if res := c.Get("/dashboard"); res.Status != http.StatusOK {
		t.Fatalf("after reset: %d", res.Status)
	}
}

// sessionID is the index id of the session a client holds.
func sessionID(t *testing.T, env *webtest.Env, c *webtest.Client) int64 {
	t.Helper()
	return env.ID(t, `SELECT id FROM user_sessions WHERE token_hash = $1`, auth.TokenHash(c.Cookie(cookieName).Value))
}

func signedOut(t *testing.T, c *webtest.Client, what string) {
	t.Helper()
	if res := c.Get("/account"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
		t.Fatalf("%s: %d to %q, want the login page", what, res.Status, res.Location)
	}
}

func signedIn(t *testing.T, c *webtest.Client, what string) {
	t.Helper()
	if res := c.Get("/account"); res.Status != http.StatusOK {
		t.Fatalf("%s: %d to %q, want the page", what, res.Status, res.Location)
	}
}

func TestPeopleSeeAndEndTheirSessions(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	uid := env.UserID(t, email)
	a := env.Login(t, email)
	b := env.NewClient(t)
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {seed.DemoPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.URL)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if res := b.Do(req); res.Status != http.StatusSeeOther {
		t.Fatalf("second login: %d", res.Status)
	}
	page := a.Get("/account")
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Firefox on Linux") || !strings.Contains(page.Body, "This device") ||
		!strings.Contains(page.Body, "127.0.0.1") {
		t.Fatalf("sessions page: %d\n%s", page.Status, page.Body)
	}
	bID := sessionID(t, env, b)
	if !strings.Contains(page.Body, fmt.Sprintf("/account/sessions/%d/end", bID)) {
		t.Fatal("the other session has no sign-out button")
	}
	// A session idle past the timeout (30 minutes) is over: not listed.
	env.DB.MustExec(`UPDATE user_sessions SET last_seen = now() - interval '31 minutes' WHERE id = $1`, bID)
	if p := a.Get("/account"); strings.Contains(p.Body, fmt.Sprintf("/account/sessions/%d/end", bID)) {
		t.Error("a session idle for 31 minutes is listed as active")
	}
	env.DB.MustExec(`UPDATE user_sessions SET last_seen = now() WHERE id = $1`, bID)
	// Keep b's stored session as a request in flight would write it back.
	var data []byte
	var expiry time.Time
	if err := env.DB.QueryRow(`SELECT data, expiry FROM sessions WHERE token = $1`, auth.TokenHash(b.Cookie(cookieName).Value)).Scan(&data, &expiry); err != nil {
		t.Fatal(err)
	}
	if res := a.PostForm(fmt.Sprintf("/account/sessions/%d/end", bID), nil); res.Status != http.StatusSeeOther {
		t.Fatalf("end session: %d", res.Status)
	}
	if n := env.ID(t, `SELECT count(*) FROM sessions WHERE token = $1`, auth.TokenHash(b.Cookie(cookieName).Value)); n != 0 {
		t.Fatal("the ended session's row is still stored")
	}
	// Written back by a request that was in flight: still refused.
	if _, err := env.DB.Exec(`INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)`, auth.TokenHash(b.Cookie(cookieName).Value), data, expiry); err != nil {
		t.Fatal(err)
	}
	signedOut(t, b, "ended session")
	signedIn(t, a, "the session that ended it")
	if auditCount(t, env, "session.ended", bID) != 1 {
		t.Error("ending a session is not audited")
	}
	// The current session cannot be ended from the list (that is signing out).
	if res := a.PostForm(fmt.Sprintf("/account/sessions/%d/end", sessionID(t, env, a)), nil); res.Status != http.StatusNotFound {
		t.Fatalf("ending the current session by id: %d", res.Status)
	}
	c, d := env.Login(t, email), env.Login(t, email)
	if res := a.PostForm("/account/sessions/end-others", nil); res.Status != http.StatusSeeOther {
		t.Fatalf("end others: %d", res.Status)
	}
	signedOut(t, c, "other session c")
	signedOut(t, d, "other session d")
	signedIn(t, a, "current session")
	if auditCount(t, env, "sessions.ended_others", uid) != 1 {
		t.Error("ending the other sessions is not audited")
	}
	// Signing out removes the index row too.
	a.PostForm("/logout", nil)
	if n := env.ID(t, `SELECT count(*) FROM user_sessions WHERE user_id = $1`, uid); n != 0 {
		t.Fatalf("%d index rows left after every session ended", n)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "client2a@northside.example"
	a, b := env.Login(t, email), env.Login(t, email)
	before := a.Cookie(cookieName).Value
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"current": {"wrong-password"}, "password": {"a fine new password"}, "confirm": {"a fine new password"}}, "That is not your current password."},
		{url.Values{"current": {seed.DemoPassword}, "password": {"qwertyqwerty"}, "confirm": {"qwertyqwerty"}}, "most commonly used"},
		{url.Values{"current": {seed.DemoPassword}, "password": {"too short"}, "confirm": {"too short"}}, "at least 12"},
		{url.Values{"current": {seed.DemoPassword}, "password": {"a fine new password"}, "confirm": {"another one"}}, "do not match"},
	} {
		res := a.PostForm("/account/password", tc.form)
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tc.field) {
			t.Fatalf("%v: %d, want 422 with %q\n%s", tc.form, res.Status, tc.field, res.Body)
		}
		if strings.Contains(res.Body, "a fine new password") || strings.Contains(res.Body, seed.DemoPassword) {
			t.Fatal("a password was echoed back into the page")
		}
	}
	signedIn(t, b, "other session after failed changes")
	res := a.PostForm("/account/password", url.Values{"current": {seed.DemoPassword}, "password": {"a fine new password"}, "confirm": {"a fine new password"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", res.Status, res.Body)
	}
	if a.Cookie(cookieName).Value == before {
		t.Error("the session token was not renewed")
	}
	signedIn(t, a, "the session that changed the password")
	signedOut(t, b, "the other session")
	if auditCount(t, env, "password.changed", env.UserID(t, email)) != 1 {
		t.Error("the change is not audited")
	}
	fresh := env.NewClient(t)
	if res := fresh.PostForm("/login", url.Values{"email": {email}, "password": {seed.DemoPassword}}); res.Status != http.StatusUnauthorized {
		t.Fatalf("old password: %d", res.Status)
	}
	if res := fresh.PostForm("/login", url.Values{"email": {email}, "password": {"a fine new password"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("new password: %d", res.Status)
	}
}

func TestPasswordResetEndsEverySession(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "client3a@northside.example"
	old := env.Login(t, email)
	anon := env.NewClient(t)
	anon.PostForm("/password/forgot", url.Values{"email": {email}})
	env.Server.Wait() // the email is queued behind the answer
	var body string
	if err := env.DB.Get(&body, `SELECT body_text FROM email_log WHERE to_address = $1 AND kind = 'password_reset'`, email); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/password/reset/[A-Za-z0-9_-]+`).FindString(body)
	if m == "" {
		t.Fatalf("no link in\n%s", body)
	}
	if res := anon.PostForm(m, url.Values{"password": {"reset to something new"}, "confirm": {"reset to something new"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.Status)
	}
	signedOut(t, old, "session from before the reset")
	signedIn(t, anon, "the session the reset started")
}

func TestDisabledAccountsOldCookieIsDeadAtOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor2@northside.example"
	uid := env.UserID(t, email)
	c := env.Login(t, email)
	token := c.Cookie(cookieName).Value
	admin := env.Login(t, "admin@northside.example")
	if res := admin.PostForm(fmt.Sprintf("/admin/staff/%d/disable", uid), nil); res.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.Status)
	}
	if n := env.ID(t, `SELECT count(*) FROM sessions WHERE token = $1`, auth.TokenHash(token)); n != 0 {
		t.Error("the disabled account's session row is still stored")
	}
	if n := env.ID(t, `SELECT count(*) FROM user_sessions WHERE user_id = $1`, uid); n != 0 {
		t.Error("the disabled account's session index rows are still stored")
	}
	replay := env.NewClient(t)
	replay.SetCookie(&http.Cookie{Name: cookieName, Value: token})
	if res := replay.Get("/dashboard"); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login") {
		t.Fatalf("old cookie: %d to %q", res.Status, res.Location)
	}
	if auditCount(t, env, "sessions.ended_by_disable", uid) != 1 {
		t.Error("not audited")
	}
}

func TestAdminSignsStaffOutEverywhere(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "counselor1@northside.example"
	uid := env.UserID(t, email)
	c1, c2 := env.Login(t, email), env.Login(t, email)
	admin := env.Login(t, "admin@northside.example")
	page := admin.Get("/admin/security")
	if !strings.Contains(page.Body, fmt.Sprintf("/admin/staff/%d/sessions/end", uid)) {
		t.Fatal("no sign-out button for the counselor")
	}
	res := admin.PostForm(fmt.Sprintf("/admin/staff/%d/sessions/end", uid), nil)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("end: %d", res.Status)
	}
	if page := admin.Get("/admin/security"); !strings.Contains(page.Body, "signed out (2 sessions)") {
		t.Errorf("flash missing:\n%s", page.Body)
	}
	signedOut(t, c1, "first session")
	signedOut(t, c2, "second session")
	signedIn(t, admin, "the admin")
	if auditCount(t, env, "sessions.ended_by_admin", uid) != 1 {
		t.Error("not audited")
	}
}
