// Command dashboard benchmarks the counselor's dashboard on a practice of
// 5,000 pairs and about 1,000,000 check-ins, against the stack's cheapest
// page (shared/bench/baseline) in the same run:
//
//	go run ./bench/dashboard                  # seeds mend_bench once (a few minutes), then measures
//	go run ./bench/dashboard -n 300 -d 15s    # more requests, longer load
//
// It runs two Mend servers: one as deployed, which keeps each counselor's
// rendered dashboard until a change it shows (or the 15-minute slot) moves
// the counselor's stamp, and one that reads and renders the dashboard on
// every request (DASHBOARD_CACHE=0). For each it prints the server time
// (median and p99 over -n sequential requests by a counselor with 150
// pairs) and the SQL statements per request (counted by a database/sql
// driver wrapper around lib/pq that only this program uses). Then -c
// concurrent clients, each signed in as a counselor with 150 pairs, load
// for -d: the kept dashboards with no writes, the same while -writes
// changes a second land on those counselors' pairs (each one makes a
// dashboard be read and rendered again), and the dashboard read every
// time; then the baseline server under the same load, and the ratios.
//
// All servers listen on 127.0.0.1 only and stop when the program ends.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/review"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/web"
)

//go:embed seed.sql
var seedSQL string

const password = "bench-password"

func main() {
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/mend_bench?sslmode=disable", "the benchmark's own database (created and seeded if empty)")
	n := flag.Int("n", 200, "sequential dashboard requests")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 10*time.Second, "duration of each concurrent run")
	warm := flag.Duration("warm", 3*time.Second, "warm-up before each concurrent run (not measured)")
	baseline := flag.String("baseline", "/work/shared/bench/baseline", "directory of the baseline server (empty: skip it)")
	reseed := flag.Bool("reseed", false, "drop and seed the database again")
	cpuprofile := flag.String("cpuprofile", "", "write CPU profiles of the sequential requests to fresh-<file> and kept-<file>, and of the first concurrent run to load-kept-<file>")
	verbose := flag.Bool("v", false, "print the time spent in each SQL statement during the sequential requests")
	writes := flag.Float64("writes", 5, "changes per second to the loaded counselors' pairs during the second concurrent run")
	explain := flag.Bool("explain", false, "print EXPLAIN ANALYZE of the dashboard's main query for counselor1 and exit")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	if *reseed {
		dropDatabase(ctx, *dsn)
	}
	if err := prepare(ctx, *dsn); err != nil {
		log.Fatal(err)
	}

	if *explain {
		if err := explainDashboard(ctx, *dsn); err != nil {
			log.Fatal(err)
		}
		return
	}

	// Two Mend servers in this process on one counting database handle:
	// one keeps rendered dashboards (as deployed), one reads and renders
	// the dashboard on every request (DASHBOARD_CACHE=0).
	counter := &counting{verbose: *verbose}
	d := openCounting(*dsn, counter)
	defer d.Close()
	kept, stopKept := startServer(d, 500)
	defer stopKept()
	fresh, stopFresh := startServer(d, 0)
	defer stopFresh()

	fmt.Printf("dashboard, counselor with 150 pairs (5,000 pairs, %s check-ins in the practice)\n", count(ctx, d, `SELECT count(*) FROM checkins`))
	// profile writes a CPU profile of this process to <label>-<cpuprofile>
	// until the returned function is called (nothing without -cpuprofile).
	profile := func(label string) (stop func()) {
		if *cpuprofile == "" {
			return func() {}
		}
		f, err := os.Create(label + "-" + *cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		return func() { pprof.StopCPUProfile(); f.Close() }
	}
	// label names the profile file: <label>-<cpuprofile>.
	sequential := func(name, label string, srv *benchServer) {
		c1 := login(srv.base, "counselor1@bench.example")
		for i := 0; i < 10; i++ { // warm caches and the connection pool
			c1.get("/dashboard")
		}
		srv.timing.reset()
		stopProfile := profile(label)
		counter.reset()
		before := counter.statements.Load()
		for i := 0; i < *n; i++ {
			c1.get("/dashboard")
		}
		stopProfile()
		perReq := float64(counter.statements.Load()-before) / float64(*n)
		med, p99 := srv.timing.percentiles()
		fmt.Printf("  %s: server time over %d sequential requests median %s, p99 %s; %.1f SQL statements per request\n",
			name, *n, ms(med), ms(p99), perReq)
		if *verbose {
			counter.print(*n)
		}
	}
	sequential("read and rendered on every request", "fresh", fresh)
	sequential("kept, data unchanged", "kept", kept)
	c34 := login(fresh.base, "counselor34@bench.example")
	before := counter.statements.Load()
	c34.get("/dashboard")
	fmt.Printf("  SQL statements for a counselor with 50 pairs, read and rendered: %d (the count does not grow with pairs)\n", counter.statements.Load()-before)

	// Concurrent: -c clients, each a counselor with 150 pairs.
	clientsOf := func(srv *benchServer) []*client {
		var cs []*client
		for i := 0; i < *conc; i++ {
			cs = append(cs, login(srv.base, fmt.Sprintf("counselor%d@bench.example", i%33+1)))
		}
		return cs
	}
	dashGet := func(c *client, _ *rand.Rand) { c.get("/dashboard") }
	// Warm up first (not measured): every pooled connection's first use
	// loads PostgreSQL's catalog caches and the prepared statement's first
	// five runs are planned; a long-running server is past that.
	// Each run also records the server time of every request: from its
	// first byte read to its last byte written, the figure the sequential
	// runs print; the clients' latency adds the time a request waits
	// for a core before the server reads it.
	run := func(srv *benchServer, clients []*client) result {
		load(clients, *warm, dashGet)
		srv.timing.reset()
		r := load(clients, *dur, dashGet)
		r.serverP50, r.serverP99 = srv.timing.percentiles()
		return r
	}
	var results []namedResult
	keptClients := clientsOf(kept)
	stopProfile := profile("load-kept")
	results = append(results, namedResult{"dashboard kept, no writes", run(kept, keptClients)})
	stopProfile()
	stopWrites := churn(ctx, d, *writes)
	results = append(results, namedResult{fmt.Sprintf("dashboard kept, %g writes/s to these counselors' pairs", *writes), run(kept, keptClients)})
	stopWrites()
	results = append(results, namedResult{"dashboard read and rendered every time", run(fresh, clientsOf(fresh))})
	fmt.Printf("\n%d concurrent clients for %s each:\n", *conc, *dur)
	for _, r := range results {
		fmt.Printf("  %-58s %s\n", r.name, r.result)
	}
	fmt.Println("server time of the same requests:")
	for _, r := range results {
		fmt.Printf("  %-58s p50 %s, p99 %s\n", r.name, ms(r.result.serverP50), ms(r.result.serverP99))
	}

	if *baseline == "" {
		return
	}
	bl, stop, err := startBaseline(*baseline, *dsn)
	if err != nil {
		log.Fatalf("baseline: %v", err)
	}
	defer stop()
	var bclients []*client
	for i := 0; i < *conc; i++ {
		bclients = append(bclients, &client{base: bl, http: newHTTP()})
	}
	itemGet := func(c *client, r *rand.Rand) { c.get(fmt.Sprintf("/item/%d", 1+r.IntN(1000000))) }
	load(bclients, *warm, itemGet)
	bres := load(bclients, *dur, itemGet)
	fmt.Printf("  %-58s %s\n", "baseline GET /item/:id", bres)
	fmt.Println("ratio to the baseline (throughput; p50 and p99 latency):")
	for _, r := range results {
		fmt.Printf("  %-58s %.2f; %.1f×, %.1f×\n", r.name,
			r.result.rps/bres.rps, float64(r.result.p50)/float64(bres.p50), float64(r.result.p99)/float64(bres.p99))
	}
}

type namedResult struct {
	name   string
	result result
}

type benchServer struct {
	base   string
	timing *serverTimes
}

// startServer serves Mend on a free loopback port with the given number of
// kept dashboards.
func startServer(d *sqlx.DB, dashboards int) (*benchServer, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv, err := newServer(d, base, dashboards)
	if err != nil {
		log.Fatal(err)
	}
	timing := &serverTimes{}
	hs := &http.Server{Handler: timing.wrap(srv.Handler()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &benchServer{base: base, timing: timing}, func() { _ = hs.Close() }
}

// churn changes, perSecond times a second until stopped, something the
// dashboards show: it marks the latest check-in of a random pair of the
// loaded counselors reviewed, or back (so the data stays as seeded), the
// way a counselor's review or a client's new check-in would.
func churn(ctx context.Context, d *sqlx.DB, perSecond float64) (stop func()) {
	if perSecond <= 0 {
		return func() {}
	}
	var pairs []int64
	if err := d.SelectContext(ctx, &pairs, `
		SELECT p.id FROM pairs p JOIN users u ON u.id = p.counselor_id
		WHERE u.email LIKE 'counselor%@bench.example' AND p.status = 'active'`); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
		defer tick.Stop()
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_, err := d.ExecContext(ctx, `
				UPDATE checkins SET reviewed_at = CASE WHEN reviewed_at IS NULL THEN now() END
				WHERE id = (SELECT id FROM checkins WHERE pair_id = $1 ORDER BY period_end DESC, id DESC LIMIT 1)`,
				pairs[r.IntN(len(pairs))])
			if err != nil && ctx.Err() == nil {
				log.Fatal(err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// prepare migrates the benchmark database and seeds it unless it already
// holds the bench practice.
func prepare(ctx context.Context, dsn string) error {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	if err := library.SyncBuiltins(ctx, d); err != nil {
		return err
	}
	var seeded bool
	if err := d.GetContext(ctx, &seeded, `SELECT EXISTS (SELECT 1 FROM practices WHERE slug = 'bench.example')`); err != nil {
		return err
	}
	if seeded {
		return nil
	}
	log.Printf("seeding 5,000 pairs and about 1,000,000 check-ins (once; a few minutes)…")
	start := time.Now()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	today := checkin.Today(time.Now(), "America/Chicago").String()
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		for _, stmt := range strings.Split(seedSQL, ";\n") {
			stmt = stripComments(stmt)
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			var args []any
			switch {
			case strings.Contains(stmt, "$1") && strings.Contains(stmt, "$2"):
				args = []any{today, hash}
			case strings.Contains(stmt, "$1"):
				args = []any{today}
			case strings.Contains(stmt, "$2"): // only the hash
				stmt, args = strings.ReplaceAll(stmt, "$2", "$1"), []any{hash}
			}
			if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
				return fmt.Errorf("seed: %w\n%s", err, stmt)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Fresh statistics and visibility maps, as autovacuum would leave them.
	if _, err := d.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	log.Printf("seeded in %s", time.Since(start).Round(time.Second))
	return nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func dropDatabase(ctx context.Context, dsn string) {
	u, err := url.Parse(dsn)
	if err != nil {
		log.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	s, err := sql.Open("postgres", u.String())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		log.Fatal(err)
	}
}

func count(ctx context.Context, d *sqlx.DB, q string) string {
	var n int64
	if err := d.GetContext(ctx, &n, q); err != nil {
		return "?"
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func newServer(d *sqlx.DB, base string, dashboards int) (*web.Server, error) {
	u, _ := url.Parse(base)
	// A fresh master key: the seed's encrypted columns hold opaque bytes of
	// ciphertext size (no data keys), and the dashboard decrypts nothing.
	key, err := vault.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	cfg := config.Config{MasterKey: key,
		DatabaseURL: "postgres://bench", RedisURL: "redis://127.0.0.1:6379/0", BaseURL: base, ListenAddr: u.Host,
		LogLevel: "error", SessionIdleTimeout: time.Hour, SessionLifetime: 12 * time.Hour,
		ShutdownTimeout: time.Second, WorkerConcurrency: 1, MailFrom: "Mend <no-reply@bench.test>",
		DashboardCache: dashboards,
	}
	enf, err := authz.New()
	if err != nil {
		return nil, err
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	return web.New(web.Deps{Config: cfg, DB: d, Redis: redis.NewClient(ropt), Enforcer: enf,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// counting is a database/sql driver around lib/pq that counts the
// statements sent to PostgreSQL (queries, execs, prepares, transaction
// begins and ends), so that the benchmark can say how many a page costs.
type counting struct {
	statements atomic.Int64
	mu         sync.Mutex
	byQuery    map[string]time.Duration // time until the first row, per statement (-v)
	verbose    bool
}

func (c *counting) took(q string, start time.Time) {
	if !c.verbose {
		return
	}
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 70 {
		q = q[:70]
	}
	c.mu.Lock()
	if c.byQuery == nil {
		c.byQuery = map[string]time.Duration{}
	}
	c.byQuery[q] += time.Since(start)
	c.mu.Unlock()
}

// reset forgets the per-statement times.
func (c *counting) reset() { c.mu.Lock(); c.byQuery = nil; c.mu.Unlock() }

// print writes the time per request spent in each statement.
func (c *counting) print(requests int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, t := range c.byQuery {
		fmt.Printf("    %8s per request  %s\n", ms(t/time.Duration(requests)), q)
	}
}

type countingConnector struct {
	dsn string
	c   *counting
}

func (k countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := pq.Open(k.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: k.c}, nil
}

func (k countingConnector) Driver() driver.Driver { return &pq.Driver{} }

type countingConn struct {
	driver.Conn
	c *counting
}

func (x *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	x.c.statements.Add(1)
	defer x.c.took(q, time.Now())
	return x.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (x *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	x.c.statements.Add(1)
	defer x.c.took(q, time.Now())
	return x.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (x *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	x.c.statements.Add(1)
	st, err := x.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{Stmt: st, c: x.c, q: q}, nil
}

// countingStmt counts each execution of a prepared statement.
type countingStmt struct {
	driver.Stmt
	c *counting
	q string
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.statements.Add(1)
	defer s.c.took(s.q, time.Now())
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.statements.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (x *countingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	x.c.statements.Add(1)
	tx, err := x.Conn.(driver.ConnBeginTx).BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return countingTx{Tx: tx, c: x.c}, nil
}

func (x *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := x.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (x *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := x.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

type countingTx struct {
	driver.Tx
	c *counting
}

func (t countingTx) Commit() error   { t.c.statements.Add(1); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.c.statements.Add(1); return t.Tx.Rollback() }

func openCounting(dsn string, c *counting) *sqlx.DB {
	d := sqlx.NewDb(sql.OpenDB(countingConnector{dsn: db.ConnString(dsn), c: c}), "postgres")
	d.SetMaxOpenConns(25)
	d.SetMaxIdleConns(25)
	return d
}

// serverTimes records how long the server took for each dashboard request
// (from the first byte of the request to the last of the response).
type serverTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *serverTimes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		if r.URL.Path == "/dashboard" {
			s.mu.Lock()
			s.d = append(s.d, time.Since(start))
			s.mu.Unlock()
		}
	})
}

func (s *serverTimes) reset() { s.mu.Lock(); s.d = nil; s.mu.Unlock() }

func (s *serverTimes) percentiles() (time.Duration, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return pct(s.d, 50), pct(s.d, 99)
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[min(i, len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// client is one signed-in browser: a session cookie on a keep-alive
// connection. (The cookie is Secure, which Go's cookie jar would not send
// over plain HTTP to 127.0.0.1; browsers do, so it is sent by hand.)
type client struct {
	base   string
	http   *http.Client
	cookie string
	body   bytes.Buffer
}

func newHTTP() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func login(base, email string) *client {
	c := &client{base: base, http: newHTTP()}
	form := url.Values{"email": {email}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.http.Do(req)
	if err != nil {
		log.Fatalf("login %s: %v", email, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if strings.Contains(ck.Name, "session") {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	if res.StatusCode != http.StatusSeeOther || c.cookie == "" {
		log.Fatalf("login %s: status %d", email, res.StatusCode)
	}
	return c
}

// get fetches a page and fails loudly on anything but 200: a benchmark of
// error pages would be worthless.
func (c *client) get(path string) {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	res, err := c.http.Do(req)
	if err != nil {
		log.Fatalf("GET %s: %v", path, err)
	}
	// The body is read into the client's own buffer, reused: the browser
	// is not this process, and the allocations it made here would be
	// collected on the server's time.
	c.body.Reset()
	_, _ = c.body.ReadFrom(res.Body)
	res.Body.Close()
	body := c.body.Bytes()
	if res.StatusCode != http.StatusOK {
		log.Fatalf("GET %s: status %d\n%s", path, res.StatusCode, body[:min(len(body), 400)])
	}
	if path == "/dashboard" && !bytes.Contains(body, []byte("Active pairs")) {
		log.Fatalf("GET /dashboard: not the dashboard")
	}
}

type result struct {
	requests int
	rps      float64
	p50, p99 time.Duration // as the clients saw them
	// serverP50, serverP99: the server's own time (Mend's runs only).
	serverP50, serverP99 time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("%d requests, %.0f requests/s, p50 %s, p99 %s", r.requests, r.rps, ms(r.p50), ms(r.p99))
}

// load runs each client in its own goroutine, one request after another,
// for d, and measures each request's latency as the client sees it.
func load(clients []*client, d time.Duration, do func(*client, *rand.Rand)) result {
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t := time.Now()
				do(c, r)
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	return result{requests: len(all), rps: float64(len(all)) / el.Seconds(), p50: pct(all, 50), p99: pct(all, 99)}
}

// startBaseline builds and starts the baseline server on a free loopback
// port against the benchmark database (filling its table once), and
// returns its URL and a function that stops it. The child also dies with
// this process (Pdeathsig).
func startBaseline(dir, dsn string) (string, func(), error) {
	bin := filepath.Join(os.TempDir(), "mend-bench-baseline")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return "", nil, fmt.Errorf("build: %w", err)
	}
	env := append(os.Environ(), "DATABASE_URL="+dsn)
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return "", nil, err
	}
	var have bool
	err = d.Get(&have, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'baseline_items')`)
	d.Close()
	if err != nil {
		return "", nil, err
	}
	if !have {
		setup := exec.Command(bin, "-setup")
		setup.Env, setup.Stderr = env, os.Stderr
		if err := setup.Run(); err != nil {
			return "", nil, fmt.Errorf("setup: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Env, cmd.Stderr = env, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	for i := 0; ; i++ {
		res, err := http.Get("http://" + addr + "/item/1")
		if err == nil {
			res.Body.Close()
			break
		}
		if i > 100 {
			stop()
			return "", nil, errors.New("baseline did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "http://" + addr, stop, nil
}

// explainDashboard prints the plan of the dashboard's main query as the
// server runs it: prepared, after the executions that make PostgreSQL
// settle on a generic plan.
func explainDashboard(ctx context.Context, dsn string) error {
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	conn, err := d.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var practice, counselor int64
	if err := conn.QueryRowxContext(ctx, `SELECT practice_id, id FROM users WHERE email = 'counselor1@bench.example'`).Scan(&practice, &counselor); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `PREPARE dash(bigint, bigint, timestamptz, int, int) AS `+review.DashboardSQL()); err != nil {
		return err
	}
	args := fmt.Sprintf("(%d, %d, now(), %d, %d)", practice, counselor, checkin.GraceDays, review.CompletionDays)
	for i := 0; i < 6; i++ {
		if _, err := conn.ExecContext(ctx, `EXECUTE dash`+args); err != nil {
			return err
		}
	}
	rows, err := conn.QueryxContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) EXECUTE dash`+args)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		fmt.Println(line)
	}
	return rows.Err()
}
