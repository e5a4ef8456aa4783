// Package webtest starts a real Mend web server for tests: a fresh database
// cloned from a demo-seeded template, the real handler stack, on a random
// loopback port, and an HTTP client that signs in like a browser.
package webtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/app/apptest"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/internal/web"
)

var (
	demoOnce sync.Once
	demoTmpl string
	demoDrop func()
	demoErr  error
)

// Main runs a package's tests, then runs cleanups (e.g. browsertest.Close)
// and drops the demo template the package made. Use it from TestMain.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	if demoDrop != nil {
		demoDrop()
	}
	os.Exit(code)
}

// DemoDB returns a fresh database holding the demo practices.
func DemoDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	demoOnce.Do(func() {
		demoTmpl, demoDrop, demoErr = dbtest.MakeTemplate(func(ctx context.Context, d *sqlx.DB) error {
			st, err := apptest.Open(d)
			if err != nil {
				return err
			}
			_, err = seed.Demo(ctx, st)
			return err
		})
	})
	dbtest.RequireService(t, "PostgreSQL", demoErr)
	return dbtest.NewFromTemplate(t, demoTmpl)
}

// RedisURL is the Redis the tests use.
func RedisURL() string {
	if s := os.Getenv("TEST_REDIS_URL"); s != "" {
		return s
	}
	return "redis://127.0.0.1:6379/0"
}

// TestMasterKey is the master key of test servers (tests only: it is
// public); the demo template is seeded through a vault under the same key.
const TestMasterKey = vaulttest.MasterKey

// Env is a running server with its database.
type Env struct {
	URL    string
	DB     *sqlx.DB
	Server *web.Server
	Config config.Config
	// Stores are the server's stores (app.New), for tests that set data up
	// the way the pages would.
	Stores *app.Stores
	// Logs holds every line the server logged (debug level and up).
	Logs *LogBuffer
}

// Start runs a server on a demo database. Options may adjust the config.
func Start(t testing.TB, opts ...func(*config.Config)) *Env {
	t.Helper()
	d, dsn := DemoDB(t)
	return StartWithDB(t, d, dsn, opts...)
}

// StartWithDB runs a server on the given database.
func StartWithDB(t testing.TB, d *sqlx.DB, dsn string, opts ...func(*config.Config)) *Env {
	t.Helper()
	ropt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	dbtest.RequireService(t, "Redis", rdb.Ping(ctx).Err())

	// The listener comes first: BASE_URL must name its port.
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := config.Config{
		DatabaseURL: dsn, RedisURL: RedisURL(), BaseURL: base, ListenAddr: ts.Listener.Addr().String(),
		LogLevel: "error", SessionIdleTimeout: 30 * time.Minute, SessionLifetime: 12 * time.Hour,
		ShutdownTimeout: 5 * time.Second, WorkerConcurrency: 2, MailFrom: "Mend <no-reply@mend.test>",
		MasterKey: TestMasterKey, DashboardCache: 500, // as deployed: tests see the kept dashboards
		QuickExitURL: "https://www.bbc.co.uk/weather",
	}
	for _, o := range opts {
		o(&cfg)
	}
	enf, err := authz.New()
	if err != nil {
		t.Fatal(err)
	}
	// Everything the server logs is kept for tests that check what logs
	// must never contain; with -v, warnings and errors are shown too.
	logs := &LogBuffer{}
	var handler slog.Handler = slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})
	if testing.Verbose() {
		handler = slog.NewMultiHandler(handler, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	logger := slog.New(handler)
	st, err := app.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: cfg, Stores: st, Redis: rdb, Logger: logger, Enforcer: enf})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &Env{URL: base, DB: d, Server: srv, Config: cfg, Stores: st, Logs: logs}
}

// LogBuffer collects a server's log lines; safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Client is a browser-like HTTP client: it keeps cookies (Secure ones too,
// as browsers do on loopback), does not follow redirects, and sends the
// headers a browser sends on same-origin form posts.
type Client struct {
	t    testing.TB
	base string
	http *http.Client
	jar  *Jar
}

// NewClient returns a client with no session.
func (e *Env) NewClient(t testing.TB) *Client {
	jar := &Jar{cookies: map[string]*http.Cookie{}}
	return &Client{t: t, base: e.URL, jar: jar, http: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Login returns a client signed in as email with the demo password; the
// test fails if the login does not succeed.
func (e *Env) Login(t testing.TB, email string) *Client {
	t.Helper()
	c := e.NewClient(t)
	res := c.PostForm("/login", url.Values{"email": {email}, "password": {seed.DemoPassword}})
	if res.Status != http.StatusSeeOther || res.Location == "/login" {
		t.Fatalf("login %s: status %d, location %q\n%s", email, res.Status, res.Location, res.Body)
	}
	if res.Location == "/login/mfa" && strings.HasPrefix(email, "admin@") { // the demo admins' factor is known
		c.PassDemoFactor(t)
	}
	return c
}

// PassDemoFactor gives the second-factor step of a demo admin's sign-in the
// code their authenticator app would show (seed.DemoTOTPSecret). A code is
// accepted once, so when an earlier sign-in in the test used this step's
// code it gives the next step's (the server accepts one step of drift), and
// when that was used too it waits for the next step.
func (c *Client) PassDemoFactor(t testing.TB) Response {
	t.Helper()
	var res Response
	for try := range 4 {
		if try == 2 {
			time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30 * time.Second)))
		}
		res = c.PostForm("/login/mfa", url.Values{"code": {DemoCode(time.Now().Add(time.Duration(try%2) * 30 * time.Second))}})
		if res.Status == http.StatusSeeOther {
			return res
		}
	}
	t.Fatalf("second factor: status %d\n%s", res.Status, res.Body)
	return res
}

// DemoCode is the demo admins' sign-in code at t.
func DemoCode(at time.Time) string {
	code, err := auth.CodeAt(seed.DemoTOTPSecret, at)
	if err != nil { // only a malformed constant gets here
		panic("demo TOTP secret: " + err.Error())
	}
	return code
}

// Response is what a test looks at.
type Response struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.Do(req)
}

// PostForm posts a form to path, as a same-origin browser form would.
func (c *Client) PostForm(path string, form url.Values) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.Do(req)
}

// Do sends req and reads the whole response.
func (c *Client) Do(req *http.Request) Response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return Response{Status: res.StatusCode, Location: res.Header.Get("Location"), Header: res.Header, Body: string(b)}
}

// Cookie returns the session cookie the client holds, or nil.
func (c *Client) Cookie(name string) *http.Cookie { return c.jar.get(name) }

// SetCookie puts a cookie in the client's jar (e.g. to replay an old one).
func (c *Client) SetCookie(ck *http.Cookie) { c.jar.set(ck) }

// Jar is a cookie jar for one test server that, like a browser on
// localhost, keeps Secure cookies over plain HTTP.
type Jar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *Jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		j.set(c)
	}
}

func (j *Jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

func (j *Jar) set(c *http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
		delete(j.cookies, c.Name)
		return
	}
	cc := *c
	j.cookies[c.Name] = &cc
}

func (j *Jar) get(name string) *http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c, ok := j.cookies[name]; ok {
		cc := *c
		return &cc
	}
	return nil
}

// ID looks up one id with a query, failing the test if it errors.
func (e *Env) ID(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := e.DB.Get(&id, query, args...); err != nil {
		t.Fatalf("fixture %q %v: %v", query, args, err)
	}
	return id
}

// UserID returns the id of the account with email.
func (e *Env) UserID(t testing.TB, email string) int64 {
	return e.ID(t, `SELECT id FROM users WHERE email = $1`, email)
}

// PairOf returns the pair id that the client with email belongs to.
func (e *Env) PairOf(t testing.TB, email string) int64 {
	return e.ID(t, `SELECT m.pair_id FROM pair_members m JOIN users u ON u.id = m.user_id WHERE u.email = $1`, email)
}
