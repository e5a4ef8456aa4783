// Package review is the counselor's side of check-ins: the dashboard (the
// working queue, most urgent first), reviewing a check-in (feedback, mark
// reviewed, acknowledging a safety flag, walking the queue), a pair's
// progress over time with its CSV export, the feedback a client reads on
// their home, and the admin's overview of the practice.
//
// Every Store method takes the caller's Scope first and its SQL is
// restricted to it: a counselor's own pairs (pairs.counselor_id), an admin's
// practice, a client's own pair. An id outside that is ENOTFOUND.
package review

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// Store reads the dashboard and progress and records reviews. Feedback
// bodies and acknowledgement notes are stored encrypted under the pair's
// data key (Vault), sealed in the writing transaction and opened after
// reading; SQL never filters or sorts on them.
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Audit      *audit.Log
	Checkins   *checkin.Store
	Homework   *homework.Store // the progress tab's plan
	mend.Clock                 // Now: the clock; tests set it (nil: time.Now)

	// The hot statements, prepared: planning the dashboard's pairs
	// statement costs as much as running it, and the counts run on every
	// counselor page (the navigation).
	stmts db.Statements
}

// NewStore returns the review store; it reads check-ins through checkins
// and the progress tab's plan through homework.
func NewStore(d *sqlx.DB, v *vault.Vault, al *audit.Log, checkins *checkin.Store, hw *homework.Store) *Store {
	return &Store{DB: d, Vault: v, Audit: al, Checkins: checkins, Homework: hw}
}

// staff reports whether sc is a counselor or an admin.
func staff(sc mend.Scope) bool { return sc.Role == mend.RoleCounselor || sc.Role == mend.RoleAdmin }

// (The same convention as internal/checkin.)
// auditClients records one audit entry per client for an action on an
// object (reads and exports of a client's records).
func (s *Store) auditClients(ctx context.Context, q sqlx.ExecerContext, sc mend.Scope, action, objType string, objID int64, clients []int64) error {
	return s.Audit.RecordClients(ctx, q, sc, audit.Entry{Action: action, ObjectType: objType, ObjectID: objID}, clients)
}
