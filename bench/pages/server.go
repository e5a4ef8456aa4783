package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/web"
)

// serve is the web process the benchmark measures (-serve): Mend's server
// as deployed, on a database handle that counts statements, with a second
// listener on which the benchmark reads the count and the server time of
// each request (/stats) and starts them again (/reset).
func serve(dsn, addr, statsAddr, key string, dashboards int) {
	counter := &counting{}
	d := sqlx.NewDb(sql.OpenDB(countingConnector{dsn: db.ConnString(dsn), c: counter}), "postgres")
	d.SetMaxOpenConns(25)
	d.SetMaxIdleConns(25)
	base := "http://" + addr
	u, _ := url.Parse(base)
	cfg := config.Config{MasterKey: key,
		DatabaseURL: "postgres://bench", RedisURL: "redis://127.0.0.1:6379/0", BaseURL: base, ListenAddr: u.Host,
		LogLevel: "error", SessionIdleTimeout: time.Hour, SessionLifetime: 12 * time.Hour,
		ShutdownTimeout: time.Second, WorkerConcurrency: 1, MailFrom: "Mend <no-reply@bench.test>",
		DashboardCache: dashboards,
	}
	enf, err := authz.New()
	if err != nil {
		log.Fatal(err)
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		log.Fatal(err)
	}
	st, err := app.New(cfg, d)
	if err != nil {
		log.Fatal(err)
	}
	web.LimitMemory() // as deployed (cmd/mend)
	srv, err := web.New(web.Deps{Config: cfg, Stores: st, Redis: redis.NewClient(ropt), Enforcer: enf,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		log.Fatal(err)
	}
	times := &serverTimes{}
	stats := http.NewServeMux()
	stats.HandleFunc("/reset", func(w http.ResponseWriter, _ *http.Request) {
		times.reset()
		counter.statements.Store(0)
	})
	stats.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(times.stats(counter.statements.Load()))
	})
	// Profiles of the web process (go tool pprof), on the loopback
	// statistics address only: -profile fetches them under load.
	stats.Handle("/debug/pprof/", http.DefaultServeMux)
	go func() { log.Fatal(http.ListenAndServe(statsAddr, stats)) }()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: times.wrap(srv.Handler()), ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(hs.Serve(ln))
}

// serverTimes records how long the server took for each request (from
// the first byte of the request to the last of the response).
type serverTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *serverTimes) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		el := time.Since(start)
		s.mu.Lock()
		s.d = append(s.d, el)
		s.mu.Unlock()
	})
}

func (s *serverTimes) reset() { s.mu.Lock(); s.d = nil; s.mu.Unlock() }

// serverStats is what /stats reports since the last /reset.
type serverStats struct {
	Requests   int           `json:"requests"`
	Statements int64         `json:"statements"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
}

func (s *serverTimes) stats(statements int64) serverStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return serverStats{Requests: len(s.d), Statements: statements, P50: pct(s.d, 50), P99: pct(s.d, 99)}
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

// counting is a database/sql driver around lib/pq that counts the
// statements sent to PostgreSQL: queries, executions and preparations of
// prepared statements, transaction begins and ends.
type counting struct {
	statements atomic.Int64
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
	return x.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (x *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	x.c.statements.Add(1)
	return x.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (x *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	x.c.statements.Add(1)
	st, err := x.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{Stmt: st, c: x.c}, nil
}

// countingStmt counts each execution of a prepared statement.
type countingStmt struct {
	driver.Stmt
	c *counting
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.statements.Add(1)
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
