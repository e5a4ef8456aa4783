// Package dbtest gives each test its own PostgreSQL database, cloned from a
// template database that is migrated once per schema version, and drops it
// when the test ends. Tests using it can run in parallel.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/migrations"
)

// ServerURL is the PostgreSQL server the tests use: TEST_DATABASE_URL, or the
// local default. Its database part is ignored.
func ServerURL() string {
	if s := os.Getenv("TEST_DATABASE_URL"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RequireService stops the test when a service it needs is unreachable:
// under CI=true that is a failure, elsewhere a skip with the reason.
func RequireService(t testing.TB, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", name, err)
	}
	t.Skipf("%s not reachable (%v); set CI=true to make this a failure", name, err)
}

// New returns a fresh, migrated database for this test and its URL. The
// database is dropped when the test ends.
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	ctx := context.Background()
	server, err := sql.Open("postgres", withDB(ServerURL(), "postgres"))
	if err == nil {
		err = server.PingContext(ctx)
	}
	RequireService(t, "PostgreSQL", err)
	defer server.Close()

	tmpl, err := ensureTemplate(ctx, server)
	if err != nil {
		t.Fatalf("dbtest: template: %v", err)
	}
	name := "mend_test_" + randomHex(6)
	if _, err := server.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		t.Fatalf("dbtest: create %s: %v", name, err)
	}
	dsn := withDB(ServerURL(), name)
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	d.SetMaxOpenConns(10)
	t.Cleanup(func() {
		d.Close()
		drop(name)
	})
	return d, dsn
}

func drop(name string) {
	server, err := sql.Open("postgres", withDB(ServerURL(), "postgres"))
	if err != nil {
		return
	}
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = server.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
}

// ensureTemplate creates and migrates the template database for the current
// migrations, once across all test processes (an advisory lock serialises
// the packages that go test runs in parallel).
func ensureTemplate(ctx context.Context, server *sql.DB) (string, error) {
	name := "mend_tmpl_" + migrationsHash()
	conn, err := server.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(727274)`)

	var ready bool
	err = conn.QueryRowContext(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&ready)
	if err == nil && ready {
		return name, nil
	}
	if err == nil { // a half-made template from a crashed run
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE %s WITH (FORCE)`, name)); err != nil {
			return "", err
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", err
	}
	t, err := sqlx.Open("postgres", withDB(ServerURL(), name))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, t)
	if err == nil {
		// Test databases hold the built-in library, as a migrated
		// production database does.
		err = library.SyncBuiltins(ctx, t)
	}
	t.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, `UPDATE pg_database SET datistemplate = true WHERE datname = $1`, name); err != nil {
		return "", err
	}
	return name, nil
}

// migrationsHash names the template after the migration files' content and
// the built-in library, so a changed schema or wording gets a new template
// instead of a stale one.
func migrationsHash() string {
	h := sha256.New()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(migrations.FS, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	h.Write(library.BuiltinData())
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDB(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return db.ConnString(u.String())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewFromTemplate returns a fresh database cloned from tmpl (made by
// MakeTemplate), dropped when the test ends.
func NewFromTemplate(t testing.TB, tmpl string) (*sqlx.DB, string) {
	t.Helper()
	ctx := context.Background()
	server, err := sql.Open("postgres", withDB(ServerURL(), "postgres"))
	if err == nil {
		err = server.PingContext(ctx)
	}
	RequireService(t, "PostgreSQL", err)
	defer server.Close()
	name := "mend_test_" + randomHex(6)
	if _, err := server.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		t.Fatalf("dbtest: create %s from %s: %v", name, tmpl, err)
	}
	dsn := withDB(ServerURL(), name)
	d, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("dbtest: open: %v", err)
	}
	d.SetMaxOpenConns(10)
	t.Cleanup(func() {
		d.Close()
		drop(name)
	})
	return d, dsn
}

// MakeTemplate builds a database for this test process from the migrated
// template plus fill (e.g. the demo seed), so that many tests can clone a
// filled database cheaply. The returned drop func removes it; call it when
// the process's tests are done (TestMain).
func MakeTemplate(fill func(ctx context.Context, d *sqlx.DB) error) (name string, dropFn func(), err error) {
	ctx := context.Background()
	server, err := sql.Open("postgres", withDB(ServerURL(), "postgres"))
	if err != nil {
		return "", nil, err
	}
	defer server.Close()
	if err := server.PingContext(ctx); err != nil {
		return "", nil, err
	}
	base, err := ensureTemplate(ctx, server)
	if err != nil {
		return "", nil, err
	}
	name = "mend_tmplx_" + randomHex(6)
	if _, err := server.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, base)); err != nil {
		return "", nil, err
	}
	d, err := sqlx.Open("postgres", withDB(ServerURL(), name))
	if err != nil {
		drop(name)
		return "", nil, err
	}
	err = fill(ctx, d)
	d.Close()
	if err != nil {
		drop(name)
		return "", nil, err
	}
	return name, func() { drop(name) }, nil
}

// EmptyURL returns the URL of a database that does not exist yet (for tests
// of creating and migrating a database from nothing); whatever creates it,
// it is dropped when the test ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	server, err := sql.Open("postgres", withDB(ServerURL(), "postgres"))
	if err == nil {
		err = server.PingContext(context.Background())
		server.Close()
	}
	RequireService(t, "PostgreSQL", err)
	name := "mend_test_" + randomHex(6)
	t.Cleanup(func() { drop(name) })
	return withDB(ServerURL(), name)
}

// FindText returns "table.column" for every column of every table in the
// public schema (text, jsonb or bytea) where some value contains needle:
// tests of encryption at rest look for what a person typed everywhere, not
// only where they expect it.
func FindText(t testing.TB, d *sqlx.DB, needle string) []string {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
		Type   string `db:"data_type"`
	}
	if err := d.Select(&cols, `
		SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'
		  AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')
		ORDER BY 1, 2`); err != nil {
		t.Fatalf("dbtest: columns: %v", err)
	}
	var found []string
	for _, c := range cols {
		expr := fmt.Sprintf(`position($1 in %q::text) > 0`, c.Column)
		if c.Type == "bytea" {
			expr = fmt.Sprintf(`position(convert_to($1, 'UTF8') in %q) > 0`, c.Column)
		}
		var hit bool
		if err := d.Get(&hit, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %q WHERE %s)`, c.Table, expr), needle); err != nil {
			t.Fatalf("dbtest: search %s.%s: %v", c.Table, c.Column, err)
		}
		if hit {
			found = append(found, c.Table+"."+c.Column)
		}
	}
	return found
}
