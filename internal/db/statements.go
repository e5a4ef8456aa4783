package db

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Statements is Mend's one way to run a hot query prepared: a cache of
// prepared statements keyed by their SQL text, safe for concurrent use. A
// store keeps one next to its *sqlx.DB (the zero value is ready) and runs
// the queries every page sends through it; lib/pq has no statement cache
// of its own, so a query sent as text is parsed and planned again on every
// request, which for Mend's reads costs as much as running them.
//
// How the preparation behaves, as measured with EXPLAIN in
// TestStatementsPlanCache:
//
//   - database/sql prepares a statement on each pooled connection the
//     first time it runs there (so with 25 connections up to 25
//     preparations per query), and again when a connection is replaced.
//     A statement that failed to prepare is not kept: the next use tries
//     again.
//   - Under PostgreSQL's default (plan_cache_mode = auto) the first five
//     executions of a prepared statement are planned with the parameters'
//     values (custom plans); then a generic plan (planned once, without
//     the values) is kept only when its estimated cost is not above the
//     custom plans' average. A lookup by key (id = $1) settles on it; a
//     query filtering on a range of parameters (BETWEEN $1 AND $2) or with
//     LIMIT $n may not, and is then planned on every execution, as an
//     unprepared query would be (the test shows both with
//     pg_prepared_statements' generic_plans and custom_plans). Mend's
//     connections therefore run with plan_cache_mode = force_generic_plan
//     (db.ConnString): every statement here is planned once per
//     connection. Its parameters are ids of the caller's own rows and
//     dates near today, whose best plan does not depend on the values.
//   - Queries calling the period functions of migration 00040
//     (mend_period_count, mend_closed_period_start) with a parameter such
//     as "today" give the same answers under either plan: the functions
//     are inlined into the plan, and in a generic plan the dates stay
//     expressions of the parameter computed at run time ($1 - 28), not
//     constants folded at planning (EXPLAIN VERBOSE in the test). The
//     rows are found by the same index either way.
//   - Inside a transaction, Tx returns the statement bound to the
//     transaction's connection, reusing the preparation made there.
//
// A query built at run time (a varying IN list, an optional filter) must
// not come here: each distinct text would be prepared and kept for the
// life of the process. Such queries go to the *sqlx.DB directly.
type Statements struct {
	mu      sync.RWMutex
	byQuery map[string]*sqlx.Stmt
}

// Prepared returns query prepared on d. A Statements serves one d.
func (s *Statements) Prepared(ctx context.Context, d *sqlx.DB, query string) (*sqlx.Stmt, error) {
	s.mu.RLock()
	st := s.byQuery[query]
	s.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.byQuery[query]; st != nil {
		return st, nil
	}
	st, err := d.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.byQuery == nil {
		s.byQuery = map[string]*sqlx.Stmt{}
	}
	s.byQuery[query] = st
	return st, nil
}

// Get runs query prepared on the pool and scans its one row into dest
// (sqlx.Get).
func (s *Statements) Get(ctx context.Context, d *sqlx.DB, dest any, query string, args ...any) error {
	return s.On(d, d).Get(ctx, dest, query, args...)
}

// Select runs query prepared on the pool and scans its rows into dest
// (sqlx.Select).
func (s *Statements) Select(ctx context.Context, d *sqlx.DB, dest any, query string, args ...any) error {
	return s.On(d, d).Select(ctx, dest, query, args...)
}

// Exec runs query prepared on the pool.
func (s *Statements) Exec(ctx context.Context, d *sqlx.DB, query string, args ...any) (sql.Result, error) {
	return s.On(d, d).Exec(ctx, query, args...)
}

// On returns the statements of d run on q: d itself, or a transaction
// begun on d, in which a statement runs bound to the transaction's
// connection (reusing the preparation made there). Store methods that take
// either (as a sqlx.QueryerContext or sqlx.ExecerContext) pass it on here.
// Any other q runs the query as text on q.
func (s *Statements) On(d *sqlx.DB, q any) Runner {
	return Runner{s: s, d: d, q: q}
}

// Text returns a Runner that sends queries to q as text, unprepared: for
// code shared by a store's prepared path and callers without one (a
// package function given only a transaction).
func Text(q any) Runner { return Runner{q: q} }

// Runner runs prepared statements on a pool or a transaction (On), or
// queries as text (Text).
type Runner struct {
	s *Statements
	d *sqlx.DB
	q any
}

// stmt returns query prepared for the runner's pool or transaction (nil:
// run it as text on q).
func (r Runner) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if r.s == nil || r.d == nil {
		return nil, nil
	}
	switch q := r.q.(type) {
	case *sqlx.DB:
		if q == r.d {
			return r.s.Prepared(ctx, r.d, query)
		}
	case *sqlx.Tx:
		st, err := r.s.Prepared(ctx, r.d, query)
		if err != nil {
			return nil, err
		}
		return q.StmtxContext(ctx, st), nil
	}
	return nil, nil
}

// Get runs query and scans its one row into dest (sqlx.Get).
func (r Runner) Get(ctx context.Context, dest any, query string, args ...any) error {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return sqlx.GetContext(ctx, r.q.(sqlx.QueryerContext), dest, query, args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// Select runs query and scans its rows into dest (sqlx.Select).
func (r Runner) Select(ctx context.Context, dest any, query string, args ...any) error {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return sqlx.SelectContext(ctx, r.q.(sqlx.QueryerContext), dest, query, args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// Exec runs query.
func (r Runner) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.q.(sqlx.ExecerContext).ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}
