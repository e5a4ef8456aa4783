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
//   - PostgreSQL plans the first five executions of a prepared statement
//     with the parameters' values (custom plans), then keeps a generic plan
//     (planned once, without the values) when its estimated cost is not
//     above the custom plans' average (plan_cache_mode = auto, the default;
//     Mend sets nothing else). A lookup by key (id = $1, pair_id = $1)
//     settles on the generic plan: from the sixth run on it is not planned
//     at all. A query filtering on a range of parameters (BETWEEN $1 AND
//     $2) may not: its generic plan guesses a wider range, so PostgreSQL
//     keeps planning it with the values, as an unprepared query would,
//     and preparing it only saves the parse. The test shows both with
//     pg_prepared_statements' generic_plans and custom_plans.
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

// Get runs query prepared and scans its one row into dest (sqlx.Get).
func (s *Statements) Get(ctx context.Context, d *sqlx.DB, dest any, query string, args ...any) error {
	st, err := s.Prepared(ctx, d, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

// Select runs query prepared and scans its rows into dest (sqlx.Select).
func (s *Statements) Select(ctx context.Context, d *sqlx.DB, dest any, query string, args ...any) error {
	st, err := s.Prepared(ctx, d, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// Exec runs query prepared.
func (s *Statements) Exec(ctx context.Context, d *sqlx.DB, query string, args ...any) (sql.Result, error) {
	st, err := s.Prepared(ctx, d, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Tx returns query prepared and bound to tx (on tx's connection), for a
// hot statement inside a transaction. The bound statement is closed with
// the transaction; the preparation stays on the connection.
func (s *Statements) Tx(ctx context.Context, d *sqlx.DB, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	st, err := s.Prepared(ctx, d, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtxContext(ctx, st), nil
}
