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
	"github.com/mend-practice/mend/internal/web/webtest"
)

// mfaPendingEmail is the matrix's mfa_pending caller: a counselor with pairs
// of their own (riverbank's), whom no other caller can change.
const mfaPendingEmail = "counselor1@riverbank.example"

var secretRe = regexp.MustCompile(`id="mfa-secret">([A-Z2-7 ]+)</code>`)

var recoveryCodeRe = regexp.MustCompile(`<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>`)

// enrolMFA turns MFA on for email through the account pages, as the person
// would, and returns the TOTP secret (what their app holds), the recovery
// codes shown once, and the time whose code confirmed the enrolment (that
// code's step is used up).
func enrolMFA(t *testing.T, env *webtest.Env, email string) (string, []string, time.Time) {
	t.Helper()
	c := env.Login(t, email)
	res := c.Get("/account/mfa")
	m := secretRe.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("enrolment page for %s: status %d, no secret shown", email, res.Status)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	at := time.Now()
	res = c.PostForm("/account/mfa", url.Values{"code": {totpCode(t, secret, at)}})
	var codes []string
	for _, m := range recoveryCodeRe.FindAllStringSubmatch(res.Body, -1) {
		codes = append(codes, m[1])
	}
	if res.Status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm enrolment for %s: status %d, %d recovery codes\n%s", email, res.Status, len(codes), res.Body)
	}
	return secret, codes, at
}

// codeAfter is a code for a time step later than used's, as an app shows
// it: the current one if the clock has moved on, else the next one (which
// the server accepts, allowing for clocks a little ahead). Computed when
// needed, it stays valid however slowly a loaded machine runs the test.
func codeAfter(t *testing.T, secret string, used time.Time) string {
	t.Helper()
	at := time.Now()
	if at.Unix()/30 <= used.Unix()/30 {
		at = used.Add(30 * time.Second)
	}
	return totpCode(t, secret, at)
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := auth.CodeAt(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// passwordOnly signs email in with the password and checks that the session
// is sent to the second-factor prompt.
func passwordOnly(t *testing.T, env *webtest.Env, email string) *webtest.Client {
	t.Helper()
	c := env.Login(t, email)
	if res := c.Get("/"); res.Status != http.StatusSeeOther || res.Location != "/login/mfa" {
		t.Fatalf("%s after the password: status %d to %q, want 303 to /login/mfa", email, res.Status, res.Location)
	}
	return c
}

// mfaPendingClient is the matrix's fifth caller.
func mfaPendingClient(t *testing.T, env *webtest.Env) *webtest.Client {
	t.Helper()
	enrolMFA(t, env, mfaPendingEmail)
	return passwordOnly(t, env, mfaPendingEmail)
}

// loadSecurityFixtures adds a stored session per target: own is another
// session of the counselor caller, other of counselor2, foreign of
// riverbank's counselor.
func loadSecurityFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	session := func(email string) int64 {
		return env.ID(t, `INSERT INTO user_sessions (token_hash, user_id, practice_id, ip, user_agent)
			SELECT 'fixture-' || md5(random()::text), id, practice_id, '192.0.2.1', 'Fixture' FROM users WHERE email = $1
			RETURNING id`, email)
	}
	f.ids["session.own"] = session("counselor1@northside.example")
	f.ids["session.other"] = session("counselor2@northside.example")
	f.ids["session.foreign"] = session("counselor1@riverbank.example")
	// A pair closed eight years ago per target (past the default
	// retention): own is counselor1's, other counselor2's, foreign
	// riverbank's counselor's.
	closed := func(email string) int64 {
		return env.ID(t, `INSERT INTO pairs (practice_id, counselor_id, label, kind, status, created_at, closed_at)
			SELECT practice_id, id, 'Closed fixture', 'other', 'closed', now() - interval '9 years', now() - interval '8 years'
			FROM users WHERE email = $1 RETURNING id`, email)
	}
	f.ids["closed.own"] = closed("counselor1@northside.example")
	f.ids["closed.other"] = closed("counselor2@northside.example")
	f.ids["closed.foreign"] = closed("counselor1@riverbank.example")
}

func closedPath(format string) func(*fixtures, string) string {
	return func(f *fixtures, target string) string { return fmt.Sprintf(format, f.id("closed."+target)) }
}

func sessionPath(format string) func(*fixtures, string) string {
	return func(f *fixtures, target string) string { return fmt.Sprintf(format, f.id("session."+target)) }
}

var wrongCode = url.Values{"code": {"000000"}}

var _ = addMatrixRows(
	// The second-factor step: only a pending session uses it; anyone signed
	// in fully is sent home.
	matrixRow{Method: "GET", Route: "/login/mfa", Expect: "anon=303 admin=303 counselor=303 client=303 mfa_pending=200"},
	matrixRow{Method: "POST", Route: "/login/mfa", Form: wrongCode,
		Expect: "anon=303 admin=303 counselor=303 client=303 mfa_pending=422"},
	matrixRow{Method: "GET", Route: "/login/mfa/recovery", Expect: "anon=303 admin=303 counselor=303 client=303 mfa_pending=200"},
	matrixRow{Method: "POST", Route: "/login/mfa/recovery", Form: url.Values{"code": {"aaaa-bbbb-cccc-dddd"}},
		Expect: "anon=303 admin=303 counselor=303 client=303 mfa_pending=422"},

	// Everyone's own account page; a pending session is sent to the prompt.
	matrixRow{Method: "GET", Route: "/account", Expect: "anon=303 admin=200 counselor=200 client=200"},
	matrixRow{Method: "GET", Route: "/account/password", Expect: "anon=303 admin=200 counselor=200 client=200"},
	matrixRow{Method: "POST", Route: "/account/password",
		Form:   url.Values{"current": {"not-the-password"}, "password": {"a new long password"}, "confirm": {"a new long password"}},
		Expect: "anon=303 admin=422 counselor=422 client=422"},
	// The demo admins have MFA (every admin must): their set-up page sends
	// them back to the account page, and a wrong code is a wrong code.
	matrixRow{Method: "GET", Route: "/account/mfa", Expect: "anon=303 admin=303 counselor=200 client=200"},
	matrixRow{Method: "POST", Route: "/account/mfa", Form: wrongCode, Expect: "anon=303 admin=303 counselor=422 client=422"},
	// Counselors and clients have no MFA in the demo: nothing to replace or
	// turn off; admins may not turn theirs off.
	matrixRow{Method: "POST", Route: "/account/mfa/recovery-codes", Form: url.Values{"regen_code": {"000000"}},
		Expect: "anon=303 admin=422 counselor=409 client=409"},
	matrixRow{Method: "POST", Route: "/account/mfa/disable", Form: url.Values{"disable_code": {"000000"}},
		Expect: "anon=303 admin=409 counselor=409 client=409"},
	matrixRow{Method: "POST", Route: "/account/sessions/end-others", Expect: "anon=303 admin=303 counselor=303 client=303"},
	// Only one's own sessions can be ended: own is the counselor caller's.
	matrixRow{Method: "POST", Route: "/account/sessions/:id/end", Path: sessionPath("/account/sessions/%d/end"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},

	// Admin: the practice's security setting and staff actions.
	matrixRow{Method: "GET", Route: "/admin/security", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/admin/security", Form: url.Values{"mfa_required": {"on"}},
		Expect: "anon=303 admin=303 counselor=404 client=404"},
	// Nobody in northside has MFA: a reset is a conflict, not a change.
	matrixRow{Method: "POST", Route: "/admin/staff/:id/mfa/reset", Path: staffPath("/admin/staff/%d/mfa/reset"),
		Expect: "anon=303/303/303 admin=409/409/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/staff/:id/sessions/end", Path: staffPath("/admin/staff/%d/sessions/end"),
		Expect: "anon=303/303/303 admin=303/303/404 counselor=404/404/404 client=404/404/404"},

	// Retention: the period is the admins'; a closed pair's archive is its
	// counselor's and the practice's admins'; purging is for admins (the
	// wrong label shows they got through the policy and the scope).
	matrixRow{Method: "POST", Route: "/admin/security/retention", Form: url.Values{"retention_days": {"soon"}},
		Expect: "anon=303 admin=422 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/archive", Path: closedPath("/pairs/%d/archive"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/admin/pairs/:id/purge", Path: closedPath("/admin/pairs/%d/purge"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/pairs/:id/purge", Path: closedPath("/admin/pairs/%d/purge"),
		Form:   url.Values{"label": {"not the label"}},
		Expect: "anon=303/303/303 admin=422/422/404 counselor=404/404/404 client=404/404/404"},
)
