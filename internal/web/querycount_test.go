package web_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// pqConn is what lib/pq's connection implements and the counter forwards.
type pqConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.NamedValueChecker
}

// countingConnector counts every statement sent to PostgreSQL, so a test
// can tell whether a page's queries grow with the data.
type countingConnector struct {
	driver.Connector
	n   *atomic.Int64
	log *statementLog
}

// statementLog keeps the text of each statement counted, so a failing
// count says which statements a page sent.
type statementLog struct {
	mu   sync.Mutex
	sent []string
}

func (l *statementLog) add(q string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.sent = append(l.sent, strings.Join(strings.Fields(q), " "))
	l.mu.Unlock()
}

// since returns the statements counted after the first n.
func (l *statementLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent[min(n, len(l.sent)):])
}

func (l *statementLog) len() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.sent) }

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{conn.(pqConn), c.n, c.log}, nil
}

type countingConn struct {
	pqConn
	n   *atomic.Int64
	log *statementLog
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	c.log.add(q)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	c.log.add(q)
	return c.pqConn.ExecContext(ctx, q, args)
}

// PrepareContext counts the preparation and each execution of the
// statement: both are round trips to PostgreSQL.
func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	c.log.add("PREPARE " + q)
	st, err := c.pqConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{st.(pqStmt), c.n, c.log, q}, nil
}

// pqStmt is what lib/pq's prepared statement implements.
type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type countingStmt struct {
	pqStmt
	n   *atomic.Int64
	log *statementLog
	q   string
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	s.log.add("EXECUTE " + s.q)
	return s.pqStmt.QueryContext(ctx, args)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	s.log.add("EXECUTE " + s.q)
	return s.pqStmt.ExecContext(ctx, args)
}

// BeginTx counts BEGIN; the transaction's COMMIT or ROLLBACK are counted
// by countingTx.
func (c countingConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	c.log.add("BEGIN")
	tx, err := c.pqConn.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, c.n, c.log}, nil
}

type countingTx struct {
	driver.Tx
	n   *atomic.Int64
	log *statementLog
}

func (t countingTx) Commit() error {
	t.n.Add(1)
	t.log.add("COMMIT")
	return t.Tx.Commit()
}

func (t countingTx) Rollback() error {
	t.n.Add(1)
	t.log.add("ROLLBACK")
	return t.Tx.Rollback()
}

// countedDB opens dsn through the counter.
func countedDB(t *testing.T, dsn string) (*sqlx.DB, *atomic.Int64) {
	t.Helper()
	d, n, _ := loggedDB(t, dsn)
	return d, n
}

// loggedDB opens dsn through the counter, which also keeps each
// statement's text.
// startLogged starts the server on a fresh copy of the demo whose
// statements are logged, so a test can read what a page sent.
func startLogged(t *testing.T, opts ...func(*config.Config)) (*webtest.Env, *statementLog) {
	t.Helper()
	_, dsn := webtest.DemoDB(t)
	d, _, log := loggedDB(t, dsn)
	return webtest.StartWithDB(t, d, dsn, opts...), log
}

func loggedDB(t *testing.T, dsn string) (*sqlx.DB, *atomic.Int64, *statementLog) {
	t.Helper()
	pc, err := pq.NewConnector(db.ConnString(dsn))
	if err != nil {
		t.Fatal(err)
	}
	n, log := &atomic.Int64{}, &statementLog{}
	d := sqlx.NewDb(sql.OpenDB(countingConnector{pc, n, log}), "postgres")
	t.Cleanup(func() { d.Close() })
	return d, n, log
}
