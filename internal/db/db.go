// Package db opens PostgreSQL, creates the database if it is missing, applies
// the embedded migrations and runs transactions.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/mend-practice/mend/migrations"
)

// ConnString returns a postgres:// dsn with the driver options Mend runs
// with, unless the dsn sets them itself:
//
//   - binary_parameters=yes: lib/pq then sends a query with parameters in
//     one round trip (parse, bind, execute together) instead of two (it
//     otherwise asks for the parameter types first). Most of Mend's reads
//     are one primary-key lookup each, so this halves their latency. It
//     also sends []byte parameters as binary, which is what bytea columns
//     (sealed text, sessions) want; nothing passes []byte for a text or
//     JSON column.
//   - plan_cache_mode=force_generic_plan (a setting lib/pq passes to the
//     server at connection): a prepared statement (db.Statements) is
//     planned once per connection, never again per execution. Under the
//     default (auto) PostgreSQL kept planning several of the client pages'
//     statements with their values on every execution, because their
//     generic plans' estimates (a LIMIT $n, a range of parameters) came out
//     dearer than the custom plans' although both read the same indexes:
//     the "Shared with you" list spent 1 ms planning for a 0.3 ms run.
//     bench/pages measured 1.3 to 1.6 times the throughput on every page
//     read afresh, and no page slower (issue 18). See Statements for what
//     the generic plans of the period functions look like.
//
// A dsn that is not a URL (key=value form) is returned as it is.
func ConnString(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return dsn
	}
	q := u.Query()
	if !q.Has("binary_parameters") {
		q.Set("binary_parameters", "yes")
	}
	if !q.Has("plan_cache_mode") {
		q.Set("plan_cache_mode", "force_generic_plan")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Open connects to the database at dsn, creating the database first if it
// does not exist, and checks the connection.
func Open(ctx context.Context, dsn string) (*sqlx.DB, error) {
	if err := ensureDatabase(ctx, dsn); err != nil {
		return nil, err
	}
	d, err := sqlx.Open("postgres", ConnString(dsn))
	if err != nil {
		return nil, fmt.Errorf("db: open: %w", err)
	}
	d.SetMaxOpenConns(25)
	d.SetMaxIdleConns(25)
	d.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	return d, nil
}

// ensureDatabase creates the database named in dsn when it is missing, by
// connecting to the server's "postgres" database.
func ensureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return fmt.Errorf("db: parse DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return nil
	}
	admin := *u
	admin.Path = "/postgres"
	a, err := sql.Open("postgres", admin.String())
	if err != nil {
		return fmt.Errorf("db: open server: %w", err)
	}
	defer a.Close()
	var exists bool
	if err := a.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		// No access to the server's catalogue: let the real open report it.
		return nil
	}
	if exists {
		return nil
	}
	_, err = a.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	// Created meanwhile by another replica: PostgreSQL reports either
	// duplicate_database or, when both CREATEs race in the catalogue, a
	// unique violation on pg_database's name index.
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "42P04" || pqErr.Code == "23505") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("db: create database %s: %w", name, err)
	}
	return nil
}

// Migrate applies every pending migration. A PostgreSQL advisory lock makes
// concurrent starts of several replicas safe: one migrates, the others wait.
// WithCipher gives the migrations that encrypt existing clinical text their
// key; without it they succeed only when there is nothing to encrypt.
func Migrate(ctx context.Context, d *sqlx.DB, opts ...MigrateOption) error {
	p, err := provider(d, opts)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate up: %w", err)
	}
	return nil
}

// MigrateTo applies pending migrations up to and including version (tests
// of data migrations start from an older schema).
func MigrateTo(ctx context.Context, d *sqlx.DB, version int64, opts ...MigrateOption) error {
	p, err := provider(d, opts)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("db: migrate up to %d: %w", version, err)
	}
	return nil
}

// MigrateDown rolls back the latest migration.
func MigrateDown(ctx context.Context, d *sqlx.DB, opts ...MigrateOption) error {
	p, err := provider(d, opts)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("db: migrate down: %w", err)
	}
	return nil
}

// MigrateDownTo rolls back every migration above version (tests of data
// migrations go back to the schema before them).
func MigrateDownTo(ctx context.Context, d *sqlx.DB, version int64, opts ...MigrateOption) error {
	p, err := provider(d, opts)
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return fmt.Errorf("db: migrate down to %d: %w", version, err)
	}
	return nil
}

// MigrationStatus returns one line per migration: version, file, applied time.
func MigrationStatus(ctx context.Context, d *sqlx.DB) ([]string, error) {
	p, err := provider(d, nil)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	lines := make([]string, 0, len(st))
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		path := s.Source.Path
		if path == "" {
			path = goMigrationName(s.Source.Version)
		}
		lines = append(lines, fmt.Sprintf("%5d  %-45s %s", s.Source.Version, path, applied))
	}
	return lines, nil
}

func provider(d *sqlx.DB, opts []MigrateOption) (*goose.Provider, error) {
	var o migrateOptions
	for _, opt := range opts {
		opt(&o)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("db: migration lock: %w", err)
	}
	// The Go migrations are always registered, with or without a cipher:
	// goose must never skip one and run the SQL migration after it.
	p, err := goose.NewProvider(goose.DialectPostgres, d.DB, migrations.FS, goose.WithSessionLocker(locker),
		goose.WithGoMigrations(goMigrations(o.cipher)...))
	if err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	return p, nil
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func InTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	_, err := inTx(ctx, d, fn)
	return err
}

// InTxRetry is InTx for a person's write: a transient failure
// (IsTransient: the connection lost under a PostgreSQL restart or an
// administrator's termination, a serialization failure) before or at a
// commit that certainly did not happen runs the whole transaction once
// more, so the write survives a blip. fn may run twice: it must only touch
// the database and set (not append to) its result variables.
func InTxRetry(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	committing, err := inTx(ctx, d, fn)
	if IsTransient(err) && (!committing || isRollback(err)) && pause(ctx) {
		_, err = inTx(ctx, d, fn)
	}
	return err
}

// inTx runs one transaction; committing says the failure came from COMMIT.
func inTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) (committing bool, err error) {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return true, fmt.Errorf("db: commit: %w", err)
	}
	return false, nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation,
// optionally of the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}
