package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// runMend runs one command with environ and returns its output.
func runMend(t *testing.T, environ map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, environ, &out)
	return out.String(), err
}

// mustMend runs a command that must succeed.
func mustMend(t *testing.T, environ map[string]string, args ...string) string {
	t.Helper()
	out, err := runMend(t, environ, args...)
	if err != nil {
		t.Fatalf("mend %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, d *sqlx.DB) map[string]int {
	t.Helper()
	var tables []string
	if err := d.Select(&tables, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := d.Get(&n, fmt.Sprintf(`SELECT count(*) FROM %q`, tb)); err != nil {
			t.Fatal(err)
		}
		counts[tb] = n
	}
	return counts
}

func TestMigrateSeedAndUserCreateOnANewDatabase(t *testing.T) {
	t.Parallel()
	dsn := dbtest.EmptyURL(t) // does not exist yet: mend creates it
	environ := map[string]string{"DATABASE_URL": dsn, "BASE_URL": "http://127.0.0.1:8101", "LOG_LEVEL": "error",
		"MEND_MASTER_KEY": webtest.TestMasterKey}

	out := mustMend(t, environ, "migrate", "status")
	if !strings.Contains(out, "00001_foundation.sql") || strings.Count(out, "pending") != strings.Count(strings.TrimSpace(out), "\n")+1 {
		t.Errorf("status of a new database:\n%s", out)
	}
	wantOut(t, mustMend(t, environ, "migrate", "up"), "migrations applied")
	out = mustMend(t, environ, "migrate", "status")
	if strings.Contains(out, "pending") {
		t.Errorf("status after up:\n%s", out)
	}
	wantOut(t, mustMend(t, environ, "migrate", "down"), "rolled back one migration")
	out = mustMend(t, environ, "migrate", "status")
	if strings.Count(out, "pending") != 1 {
		t.Errorf("status after down, want one pending:\n%s", out)
	}
	mustMend(t, environ, "migrate")
	if out := mustMend(t, environ, "migrate", "status"); strings.Contains(out, "pending") {
		t.Errorf("status after up again:\n%s", out)
	}

	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// The demo seed, twice: the second run changes nothing.
	out = mustMend(t, environ, "seed", "--demo")
	wantOut(t, out, "Sign in at http://127.0.0.1:8101/login", `"demo-password"`, "admin@northside.example", "client4b@northside.example", "client1b@riverbank.example")
	first := rowCounts(t, d)
	if first["users"] != 15 || first["practices"] != 2 || first["pairs"] != 5 || first["pair_members"] != 10 {
		t.Errorf("demo seed made %v", first)
	}
	mustMend(t, environ, "seed", "--demo")
	if second := rowCounts(t, d); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("second seed changed row counts:\n%v\n%v", first, second)
	}

	// A staff account from the command line, with its invitation link.
	out = mustMend(t, environ, "user", "create", "--role", "counselor", "--email", "Kim@Northside.example", "--name", "Kim Ortiz", "--practice", "northside.example")
	link := regexp.MustCompile(`http://127\.0\.0\.1:8101/invite/([A-Za-z0-9_-]{40,})`).FindStringSubmatch(out)
	if link == nil {
		t.Fatalf("user create printed no invitation link:\n%s", out)
	}
	info, err := (&auth.Links{DB: d}).Check(context.Background(), link[1], auth.PurposeInvite)
	if err != nil || info.State != auth.LinkValid || info.Email != "kim@northside.example" || info.Role != "counselor" || info.Practice != "Northside Counseling" {
		t.Errorf("printed link: %+v, %v", info, err)
	}
	// The first admin of a new practice.
	out = mustMend(t, environ, "user", "create", "--role", "admin", "--email", "owner@new.example", "--name", "Owner", "--practice", "new.example", "--practice-name", "New Practice", "--timezone", "Europe/Paris")
	wantOut(t, out, "/invite/")
	var practice struct {
		Name string `db:"name"`
		TZ   string `db:"timezone"`
	}
	if err := d.Get(&practice, `SELECT name, timezone FROM practices WHERE slug = 'new.example'`); err != nil || practice.Name != "New Practice" || practice.TZ != "Europe/Paris" {
		t.Errorf("new practice %+v, %v", practice, err)
	}

	// Mistakes get a clear message and change nothing.
	users := rowCounts(t, d)["users"]
	base := []string{"user", "create", "--role", "counselor", "--email", "new@northside.example", "--name", "New", "--practice", "northside.example"}
	with := func(flag, value string) []string {
		args := append([]string(nil), base...)
		for i := range args {
			if args[i] == flag {
				args[i+1] = value
			}
		}
		return args
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{with("--role", "client"), "--role must be admin or counselor"},
		{with("--email", "not-an-email"), "--email: Enter an email address"},
		{with("--email", "counselor1@northside.example"), "--email: Someone in this practice already has this email address."},
		{with("--name", ""), "--name: Enter a name."},
		{with("--practice", " "), "--practice is required"},
		{append(with("", ""), "--timezone", "Mars/Olympus"), "--timezone: Choose a time zone"},
		{append(with("", ""), "--bogus"), "flag provided but not defined: -bogus"},
		{append(with("", ""), "extra"), `unexpected argument "extra"`},
		{[]string{"user", "delete"}, "usage: mend user create"},
		{[]string{"user"}, "usage: mend user create"},
		{[]string{"seed"}, "only --demo"},
		{[]string{"migrate", "sideways"}, `unknown "sideways"`},
		{[]string{"serve", "--port", "80"}, "flag provided but not defined: -port"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		out, err := runMend(t, environ, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("mend %s: %v (output %q), want an error with %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
	}
	if n := rowCounts(t, d)["users"]; n != users {
		t.Errorf("failed commands changed users: %d, was %d", n, users)
	}

	if _, err := runMend(t, map[string]string{"BASE_URL": "localhost"}, "migrate", "status"); err == nil || !strings.Contains(err.Error(), "BASE_URL") {
		t.Errorf("bad BASE_URL: %v", err)
	}
	wantOut(t, mustMend(t, nil, "help"), "mend serve", "mend user create")
}

func wantOut(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("output lacks %q:\n%s", p, out)
		}
	}
}

// freePort finds a loopback port nobody is listening on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDrainsWhenStopped starts `mend serve`, begins a request, stops
// the server (as SIGTERM does: its context is cancelled) while the request
// is still being sent, and checks that for the drain period /readyz
// answers 503 while requests are still served (one on a keep-alive
// connection opened before the stop, told to close), that then no new
// connection is accepted, that the request in flight is answered in full,
// and that serve returns.
func TestServeDrainsWhenStopped(t *testing.T) {
	t.Parallel()
	_, dsn := dbtest.New(t)
	ropt, err := redis.ParseURL(webtest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
	dbtest.RequireService(t, "Redis", rdb.Ping(pctx).Err())
	pcancel()
	rdb.Close()

	addr := freePort(t)
	environ := map[string]string{
		"DATABASE_URL": dsn, "REDIS_URL": webtest.RedisURL(), "LISTEN_ADDR": addr, "BASE_URL": "http://" + addr,
		"LOG_LEVEL": "error", "SHUTDOWN_TIMEOUT": "10s", "WORKER_CONCURRENCY": "1", "DRAIN_PERIOD": "1500ms",
		"MEND_MASTER_KEY": webtest.TestMasterKey,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, []string{"serve"}, environ, &out) }()

	// Wait (bounded) for the server to answer.
	up := false
	for i := 0; i < 200 && !up; i++ {
		select {
		case err := <-done:
			t.Fatalf("serve ended before serving: %v", err)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			up = res.StatusCode == http.StatusOK
		}
		if !up {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !up {
		t.Fatal("serve did not answer /healthz within 10s")
	}

	// A login whose body is not sent yet. "Expect: 100-continue" makes the
	// server say when the handler starts reading the body: from then on the
	// request is in flight (a connection still in the accept queue would
	// simply be reset by the stop, as with any server).
	body := url.Values{"email": {"someone@example.com"}, "password": {"not-their-password"}}.Encode()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nSec-Fetch-Site: same-origin\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n",
		addr, len(body))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q, %v", line, err)
	}
	if line, _ := r.ReadString('\n'); line != "\r\n" {
		t.Fatalf("after 100 Continue: %q", line)
	}

	// A keep-alive connection, idle when the stop comes.
	keepAlive := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	if res, err := keepAlive.Get("http://" + addr + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("/readyz before the stop: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	cancel()
	stopped := time.Now()
	// Draining: /readyz says 503 on a new connection, and a request on the
	// idle keep-alive connection is served and told to close.
	sawDrain := false
	for i := 0; i < 100 && !sawDrain; i++ {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatalf("/readyz during the drain: %v", err)
		}
		res.Body.Close()
		sawDrain = res.StatusCode == http.StatusServiceUnavailable
		if !sawDrain {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !sawDrain {
		t.Fatal("/readyz never answered 503 after the stop")
	}
	res, err := keepAlive.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatalf("request on a keep-alive connection during the drain: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !res.Close {
		t.Errorf("during the drain: status %d, Connection: close %v; want 200 and close", res.StatusCode, res.Close)
	}
	if time.Since(stopped) > 1500*time.Millisecond {
		t.Fatal("the drain checks took longer than the drain period; nothing was tested")
	}

	// Shutdown has begun once the listener refuses new connections.
	refused := false
	for i := 0; i < 400 && !refused; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(25 * time.Millisecond)
	}
	if !refused {
		t.Fatal("the listener still accepts connections after the stop")
	}
	if d := time.Since(stopped); d < 1500*time.Millisecond {
		t.Errorf("the listener stopped accepting %s after the stop, before the drain period (1.5s) ended", d)
	}

	// The request in flight is still answered, in full.
	if _, err := conn.Write([]byte(body)); err != nil {
		t.Fatalf("finishing the request: %v", err)
	}
	res, err = http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	var page bytes.Buffer
	_, err = page.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusUnauthorized || !strings.Contains(page.String(), "do not match an account") || !strings.Contains(page.String(), "</html>") {
		t.Errorf("in-flight request: status %d, err %v\n%s", res.StatusCode, err, page.String())
	}

	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v, want nil after a clean drain", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return within 20s of being stopped")
	}
}

// TestSeedDemoUsesTheDevelopmentKey: `mend seed --demo` without
// MEND_MASTER_KEY follows the rule of `serve --demo`: it creates (then
// reuses) the development key file in the working directory, with a
// warning, and the demo's clinical text is encrypted under that key. Not
// parallel: it changes the working directory.
func TestSeedDemoUsesTheDevelopmentKey(t *testing.T) {
	t.Chdir(t.TempDir())
	d, dsn := dbtest.New(t)
	environ := map[string]string{"DATABASE_URL": dsn, "LOG_LEVEL": "error"}
	out := mustMend(t, environ, "seed", "--demo")
	wantOut(t, out, "WARNING: MEND_MASTER_KEY is not set", "created the DEVELOPMENT key", "admin@northside.example")
	key, created, err := vault.LoadOrCreateKeyFile(vault.DevKeyFile)
	if err != nil || created {
		t.Fatalf("the development key file was not left behind: created now %v, %v", created, err)
	}
	wantOut(t, mustMend(t, environ, "seed", "--demo"), "using the DEVELOPMENT key")

	// The demo's reflections are ciphertext that this key opens.
	raw, _ := vault.ParseMasterKey(key)
	v, err := vault.New(d, raw)
	if err != nil {
		t.Fatal(err)
	}
	var row struct {
		ID         int64  `db:"id"`
		Reflection []byte `db:"reflection"`
	}
	if err := d.Get(&row, `SELECT id, reflection FROM checkins WHERE reflection IS NOT NULL ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	text, err := v.OpenText(context.Background(), d, vault.CheckinReflection, row.ID, row.Reflection)
	if err != nil || text == "" || strings.Contains(string(row.Reflection), text) {
		t.Fatalf("demo reflection %q, %v", text, err)
	}
}
