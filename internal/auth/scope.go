package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mend"
)

// Users loads accounts by id or email. It is the one unscoped reader of the
// users table: it serves login and builds each request's Scope.
type Users struct {
	DB *sqlx.DB
}

type account struct {
	ID           int64          `db:"id"`
	PracticeID   int64          `db:"practice_id"`
	Role         string         `db:"role"`
	Email        string         `db:"email"`
	Name         string         `db:"name"`
	PasswordHash sql.NullString `db:"password_hash"`
	Timezone     string         `db:"timezone"`
	Disabled     bool           `db:"disabled"`
	// DashboardVersion is read by the session check only: a counselor's
	// own version (dashboard_marks), and for a client a 64-bit hash of the
	// versions of all their pairs' counselors, which every change a
	// client's page shows moves too. Not the newest of them: a change that
	// drew its version before another counselor's newer one but committed
	// after it would not move the newest
	// (TestAClientsStampMovesWithEachOfTheirCounselors).
	DashboardVersion int64 `db:"dashboard_version"`
}

const accountColumns = `id, practice_id, role, email, name, password_hash, timezone, disabled_at IS NOT NULL AS disabled`

// Scope returns the scope of an enabled account; a disabled or deleted
// account is ENOTFOUND, which ends its sessions at once.
func (u *Users) Scope(ctx context.Context, userID int64, ip string) (mend.Scope, error) {
	var a account
	err := u.DB.GetContext(ctx, &a, `SELECT `+accountColumns+` FROM users WHERE id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Disabled) {
		return mend.Scope{}, mend.NotFound("Account")
	}
	if err != nil {
		return mend.Scope{}, fmt.Errorf("auth: load scope: %w", err)
	}
	return a.scope(ip), nil
}

func (a account) scope(ip string) mend.Scope {
	return mend.Scope{
		PracticeID: a.PracticeID,
		UserID:     a.ID,
		Role:       mend.Role(a.Role),
		Name:       a.Name,
		Email:      a.Email,
		Timezone:   a.Timezone,
		IP:         ip,

		DashboardVersion: a.DashboardVersion,
	}
}
