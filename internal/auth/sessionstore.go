package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
)

// SessionStore is scs's PostgreSQL store (its table and its commits and
// deletes) with the one read every signed-in request makes prepared:
// postgresstore sends it as a new statement each time, which PostgreSQL
// parses and plans again, at a cost close to that of running it.
type SessionStore struct {
	*postgresstore.PostgresStore
	db    *sqlx.DB
	index *Sessions
	stmts db.Statements
}

// NewSessionStore returns the store; it runs no cleanup of its own (the
// worker's prune deletes expired sessions). Its reads also read the
// session's row in index (see Sessions.find).
func NewSessionStore(d *sqlx.DB, index *Sessions) *SessionStore {
	return &SessionStore{PostgresStore: postgresstore.NewWithCleanupInterval(d.DB, 0), db: d, index: index}
}

// FindCtx returns a live session's data, as postgresstore's Find does;
// scs calls it with the request's context.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	// A read: tried once more if the connection was lost under it.
	err := db.Retry(ctx, func() error {
		var err error
		b, err = s.index.find(ctx, token)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("auth: find session: %w", err)
	}
	return b, true, nil
}

// Find is FindCtx without a context (scs's Store interface).
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// CommitCtx saves a session's data, as postgresstore's Commit does, through
// a prepared statement: every request that changes its session (a flash
// after a form, the sign-in) runs it.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.stmts.Exec(ctx, s.db, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`, token, b, expiry)
	return err
}

// Commit is CommitCtx without a context.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}
