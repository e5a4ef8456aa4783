package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// The access-control matrix: every registered route has a row, and each row
// says what each kind of caller gets, for an object of their own, of another
// counselor (for a client: another pair) in the same practice, and of
// another practice. TestEveryRouteHasAMatrixRow fails when a route is added
// without a row.
//
// Callers: anon (no session), admin (admin@northside), counselor
// (counselor1@northside), client (client1a@northside, in pair 1 of
// counselor1). Targets: own = pair 1 / its member / counselor1 (for staff
// routes: counselor2, whom admin manages); other = pair 3 of counselor2;
// foreign = riverbank's pair 1 / its staff.
//
// Expect is "anon=S admin=S counselor=S client=S", where S is one status for
// routes without an object id, or own/other/foreign for routes with one.
//
// A fifth caller, mfa_pending (counselor1@riverbank with MFA on, signed in
// with the password only), needs no column: where anon is sent to the login
// page it must be sent to the second-factor prompt (303 → /login/mfa), and
// elsewhere it must get what anon gets. A row may still say "mfa_pending=S"
// where the pending state differs from anon (status only).
type matrixRow struct {
	Method, Route string
	// Path builds the concrete URL for a target; nil means Route as is.
	Path   func(f *fixtures, target string) string
	Form   url.Values
	Expect string
}

// matrixRows is extended by each area's matrix_*_test.go file.
var (
	matrixMu   sync.Mutex
	matrixRows []matrixRow
)

func addMatrixRows(rows ...matrixRow) bool {
	matrixMu.Lock()
	defer matrixMu.Unlock()
	matrixRows = append(matrixRows, rows...)
	return true
}

// targetClients is, for each target of the matrix, the pair's first
// client: own = pair 1, other = pair 3 (another counselor's), foreign =
// riverbank's pair 1.
var targetClients = map[string]string{
	"own": "client1a@northside.example", "other": "client3a@northside.example", "foreign": "client1a@riverbank.example",
}

// fixtures are the demo ids the rows need.
type fixtures struct {
	env   *webtest.Env
	ids   map[string]int64
	mutex sync.Mutex
}

// id returns a demo id by a short name (see load).
func (f *fixtures) id(name string) int64 {
	f.mutex.Lock()
	defer f.mutex.Unlock()
	id, ok := f.ids[name]
	if !ok {
		panic("no fixture " + name)
	}
	return id
}

// pair returns the pair id for a target.
//
//lint:ignore U1000 for the areas' matrix rows (pairs, check-ins, review)
func (f *fixtures) pair(target string) int64 { return f.id("pair." + target) }

// staff returns a staff member id for a target (own: counselor2@northside,
// other: counselor1@northside, foreign: counselor1@riverbank).
func (f *fixtures) staff(target string) int64 { return f.id("staff." + target) }

// pairPath formats a route with the target's pair id.
//
//lint:ignore U1000 for the areas' matrix rows (pairs, check-ins, review)
func pairPath(format string) func(*fixtures, string) string {
	return func(f *fixtures, target string) string { return fmt.Sprintf(format, f.pair(target)) }
}

func loadFixtures(t *testing.T, env *webtest.Env) *fixtures {
	f := &fixtures{env: env, ids: map[string]int64{}}
	f.ids["pair.own"] = env.PairOf(t, "client1a@northside.example")
	f.ids["pair.other"] = env.PairOf(t, "client3a@northside.example")
	f.ids["pair.foreign"] = env.PairOf(t, "client1a@riverbank.example")
	f.ids["staff.own"] = env.UserID(t, "counselor2@northside.example")
	f.ids["staff.other"] = env.UserID(t, "counselor1@northside.example")
	f.ids["staff.foreign"] = env.UserID(t, "counselor1@riverbank.example")
	mail := func(practiceEmail string) int64 {
		return env.ID(t, `WITH e AS (INSERT INTO email_log (practice_id, to_address, kind, subject, body_text, body_html)
			SELECT practice_id, email, 'invitation', 'Test', 'Test', 'Test' FROM users WHERE email = $1 RETURNING id, practice_id, kind)
			INSERT INTO email_delivery (email_id, practice_id, kind) SELECT id, practice_id, kind FROM e RETURNING email_id`, practiceEmail)
	}
	f.ids["mail.own"] = mail("counselor2@northside.example")
	f.ids["mail.other"] = mail("counselor1@riverbank.example")
	f.ids["mail.foreign"] = mail("admin@riverbank.example")
	// (fixtures: mail) failed messages to resend, and a known unsubscribe token.
	for _, target := range targets {
		env.ID(t, `UPDATE email_delivery SET status = 'failed', last_error = 'test' WHERE email_id = $1 RETURNING email_id`, f.ids["mail."+target])
	}
	env.ID(t, `INSERT INTO unsubscribe_tokens (practice_id, user_id, token_hash)
		SELECT practice_id, id, sha256(convert_to($1, 'UTF8')) FROM users WHERE email = 'client1a@northside.example' RETURNING id`, matrixUnsubscribeToken)
	loadCheckinFixtures(t, env, f)
	loadRevealFixtures(t, env, f)
	loadClientFixtures(t, env, f)
	addPairsFixtures(t, env, f)
	loadSecurityFixtures(t, env, f)
	reviewFixtures(t, env, f.ids)
	measureFixtures(t, env, f)
	return f
}

var callers = map[string]string{
	"admin":     "admin@northside.example",
	"counselor": "counselor1@northside.example",
	"client":    "client1a@northside.example",
}

// parseExpect turns "anon=303 admin=200/404/404 …" into caller → statuses.
func parseExpect(t *testing.T, s string) map[string][]int {
	out := map[string][]int{}
	for _, part := range strings.Fields(s) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			t.Fatalf("bad expect %q", s)
		}
		for _, n := range strings.Split(v, "/") {
			code, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("bad expect %q", s)
			}
			out[k] = append(out[k], code)
		}
	}
	for _, k := range []string{"anon", "admin", "counselor", "client"} {
		if len(out[k]) == 0 {
			t.Fatalf("expect %q lacks %s", s, k)
		}
	}
	return out
}

var targets = []string{"own", "other", "foreign"}

func TestEveryRouteHasAMatrixRow(t *testing.T) {
	env := webtest.Start(t)
	have := map[string]bool{}
	for _, r := range matrixRows {
		have[r.Method+" "+r.Route] = true
	}
	for _, r := range env.Server.Routes() {
		if !have[r.Method+" "+r.Path] {
			t.Errorf("route %s %s has no row in the access-control matrix", r.Method, r.Path)
		}
	}
}

// TestAccessMatrix runs every row: each row gets its own server and demo
// database, because a POST that succeeds changes what the next one sees.
func TestAccessMatrix(t *testing.T) {
	for _, row := range matrixRows {
		t.Run(row.Method+" "+row.Route, func(t *testing.T) {
			t.Parallel()
			env := webtest.Start(t)
			f := loadFixtures(t, env)
			want := parseExpect(t, row.Expect)
			anonGot := map[int]webtest.Response{}
			for _, caller := range []string{"anon", "client", "counselor", "admin", "mfa_pending"} {
				var c *webtest.Client
				switch caller {
				case "anon":
					c = env.NewClient(t)
				case "mfa_pending":
					c = mfaPendingClient(t, env)
				default:
					c = env.Login(t, callers[caller])
				}
				statuses := want[caller]
				if caller == "mfa_pending" && statuses == nil {
					statuses = want["anon"]
				}
				// Out-of-scope targets first: they must change nothing,
				// so the own target still finds the demo state.
				order := []int{0}
				if len(statuses) == 3 {
					order = []int{2, 1, 0}
				}
				for _, i := range order {
					path := row.Route
					if row.Path != nil {
						path = row.Path(f, targets[i])
					}
					var res webtest.Response
					if row.Method == http.MethodGet {
						res = c.Get(path)
					} else {
						res = c.PostForm(path, row.Form)
					}
					if caller == "anon" {
						anonGot[i] = res
					}
					if caller == "mfa_pending" && want[caller] == nil && sentToLogin(anonGot[i]) {
						if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login/mfa") {
							t.Errorf("%s %s as mfa_pending (target %s): status %d to %q, want 303 to /login/mfa",
								row.Method, path, targets[i], res.Status, res.Location)
						}
						continue
					}
					if res.Status != statuses[i] {
						t.Errorf("%s %s as %s (target %s): status %d, want %d", row.Method, path, caller, targets[i], res.Status, statuses[i])
					}
					if caller == "anon" && res.Status == http.StatusSeeOther && !strings.HasPrefix(res.Location, "/login") {
						t.Errorf("%s %s as anon: redirect to %q, want the login page", row.Method, path, res.Location)
					}
				}
			}
		})
	}
}

// sentToLogin reports whether a response is authorize's redirect of an
// anonymous caller to the login page.
func sentToLogin(res webtest.Response) bool {
	return res.Status == http.StatusSeeOther && (res.Location == "/login" || strings.HasPrefix(res.Location, "/login?next="))
}
