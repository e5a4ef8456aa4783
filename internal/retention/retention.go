// Package retention is what happens to a pair's records after the pair is
// closed: its counselor (or an admin) can export everything as an archive,
// and once the practice's retention period has passed since closing, an
// admin can purge it — every row of the pair goes, in every table, and the
// pair's data keys are destroyed in the same transaction, so that even a
// backup taken earlier holds only ciphertext nobody can open
// (crypto-shredding). Both are written to the audit log, without clinical
// text.
package retention

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// Limits on the retention period, in days.
const (
	MinDays     = 1
	MaxDays     = 36500
	DefaultDays = 2557 // seven years
)

// Store runs exports and purges. Every method takes the caller's Scope:
// exports are for the pair's counselor and the practice's admins, the
// settings and purges for admins; any other pair id is ENOTFOUND.
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Audit      *audit.Log
	Sessions   *auth.Sessions // ends the sessions of anonymised clients
	Checkins   *checkin.Store // reads check-ins for archives
	mend.Clock                // Now: the clock; tests set it (nil: time.Now)
}

// NewStore returns the retention store; it reads check-ins for archives
// through checkins and ends anonymised clients' sessions through sessions.
func NewStore(d *sqlx.DB, v *vault.Vault, al *audit.Log, sessions *auth.Sessions, checkins *checkin.Store) *Store {
	return &Store{DB: d, Vault: v, Audit: al, Sessions: sessions, Checkins: checkins}
}

func adminOnly(sc mend.Scope) error {
	if sc.Role != mend.RoleAdmin {
		return mend.Errorf(mend.EFORBIDDEN, "Only an admin can do this.")
	}
	return nil
}

// Days returns the practice's retention period in days (admins).
func (s *Store) Days(ctx context.Context, sc mend.Scope) (int, error) {
	if err := adminOnly(sc); err != nil {
		return 0, err
	}
	var days int
	if err := s.DB.GetContext(ctx, &days, `SELECT retention_days FROM practices WHERE id = $1`, sc.PracticeID); err != nil {
		return 0, fmt.Errorf("retention: read setting: %w", err)
	}
	return days, nil
}

// SetDays changes the practice's retention period from what the admin
// typed (a whole number of days) and records the change in the audit log.
// Bad input is a message on the "retention_days" field; nothing changes.
func (s *Store) SetDays(ctx context.Context, sc mend.Scope, typed string) (int, error) {
	if err := adminOnly(sc); err != nil {
		return 0, err
	}
	days, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(typed, ",", "")))
	if err != nil || days < MinDays || days > MaxDays {
		return 0, mend.FieldErrors{"retention_days": fmt.Sprintf(
			"Enter a whole number of days from %d to %s (100 years); seven years is 2,557.", MinDays, "36,500")}.Err()
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE practices SET retention_days = $2 WHERE id = $1`, sc.PracticeID, days); err != nil {
		return 0, fmt.Errorf("retention: save setting: %w", err)
	}
	return days, s.Audit.Record(ctx, nil, sc, audit.Entry{Action: "practice.retention_changed", ObjectType: "practice", ObjectID: sc.PracticeID})
}

// Closed is a closed pair on the admin's retention list.
type Closed struct {
	ID            int64          `db:"id"`
	Label         string         `db:"label"`
	CounselorName sql.NullString `db:"counselor_name"`
	ClosedAt      time.Time      `db:"closed_at"`
	PurgeableFrom time.Time      `db:"purgeable_from"`
	Due           bool           `db:"due"`
}

// maxClosed bounds the list; the oldest come first, and those are the ones
// that fall due.
const maxClosed = 200

// ClosedPairs lists the practice's closed pairs, longest closed first, with
// the day each may be purged (admins).
func (s *Store) ClosedPairs(ctx context.Context, sc mend.Scope) ([]Closed, error) {
	if err := adminOnly(sc); err != nil {
		return nil, err
	}
	var out []Closed
	err := s.DB.SelectContext(ctx, &out, `
		SELECT p.id, p.label, c.name AS counselor_name, p.closed_at,
		       p.closed_at + make_interval(days => pr.retention_days) AS purgeable_from,
		       p.closed_at + make_interval(days => pr.retention_days) <= $2 AS due
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id LEFT JOIN users c ON c.id = p.counselor_id
		WHERE p.practice_id = $1 AND p.status = 'closed' AND p.closed_at IS NOT NULL
		ORDER BY p.closed_at, p.id LIMIT $3`, sc.PracticeID, s.Clock.Time(), maxClosed)
	if err != nil {
		return nil, fmt.Errorf("retention: closed pairs: %w", err)
	}
	return out, nil
}

// closedPair is a pair as exports and purges need it.
type closedPair struct {
	ID            int64          `db:"id"`
	PracticeID    int64          `db:"practice_id"`
	PracticeName  string         `db:"practice_name"`
	Label         string         `db:"label"`
	Kind          string         `db:"kind"`
	Status        string         `db:"status"`
	CounselorID   sql.NullInt64  `db:"counselor_id"`
	CounselorName sql.NullString `db:"counselor_name"`
	CreatedAt     time.Time      `db:"created_at"`
	ClosedAt      sql.NullTime   `db:"closed_at"`
	RetentionDays int            `db:"retention_days"`
}

func (p closedPair) purgeableFrom() time.Time {
	return p.ClosedAt.Time.AddDate(0, 0, p.RetentionDays)
}

// loadPair reads a pair the caller may export (the counselor's own, or any
// of an admin's practice), optionally locking it.
func loadPair(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64, lock bool) (closedPair, error) {
	if !sc.Role.IsStaff() {
		return closedPair{}, mend.NotFound("Pair")
	}
	cond, args := access.StaffPairs(sc, "p", 2)
	args = append([]any{id}, args...)
	query := `
		SELECT p.id, p.practice_id, pr.name AS practice_name, p.label, p.kind, p.status, p.counselor_id,
		       c.name AS counselor_name, p.created_at, p.closed_at, pr.retention_days
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id LEFT JOIN users c ON c.id = p.counselor_id
		WHERE p.id = $1 AND ` + cond
	if lock {
		query += ` FOR UPDATE OF p`
	}
	var p closedPair
	err := sqlx.GetContext(ctx, q, &p, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return closedPair{}, mend.NotFound("Pair")
	}
	if err != nil {
		return closedPair{}, fmt.Errorf("retention: pair: %w", err)
	}
	return p, nil
}
