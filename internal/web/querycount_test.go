package web_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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
	n *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{conn.(pqConn), c.n}, nil
}

type countingConn struct {
	pqConn
	n *atomic.Int64
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.pqConn.ExecContext(ctx, q, args)
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	return c.pqConn.PrepareContext(ctx, q)
}

// countedDB opens dsn through the counter.
func countedDB(t *testing.T, dsn string) (*sqlx.DB, *atomic.Int64) {
	t.Helper()
	pc, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	n := &atomic.Int64{}
	d := sqlx.NewDb(sql.OpenDB(countingConnector{pc, n}), "postgres")
	t.Cleanup(func() { d.Close() })
	return d, n
}
