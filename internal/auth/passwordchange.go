package auth

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// ChangePassword sets a new password for the caller after checking the
// current one. The current password is checked under the same throttle as
// a login, so this form is no way around it. In the same transaction as the
// new password, every open reset link of the account stops working, a
// second factor still being set up is dropped (whoever saw its secret
// before must not hold the next factor), and notify queues the notice to
// the account's address; the account's other sessions (all but the one with
// currentToken) end, and the audit entry is written. It returns how many
// sessions ended.
func (l *Login) ChangePassword(ctx context.Context, sc mend.Scope, current, password, confirm, currentToken string, notify func(tx *sqlx.Tx) error) (int, error) {
	email := NormalizeEmail(sc.Email)
	c, r, err := l.checkPassword(ctx, email, current, sc.IP, "password_change", func(c candidate) bool { return c.ID == sc.UserID })
	if mend.ErrorCode(err) == mend.EUNAUTHORIZED {
		return 0, mend.FieldErrors{"current": "That is not your current password."}.Err()
	}
	if err != nil {
		return 0, err
	}
	var fe mend.FieldErrors
	CheckNewPassword(&fe, "password", password, confirm, PasswordOwner{Email: c.Email, Name: c.Name})
	if fe == nil && password == current {
		fe.Add("password", "Choose a password different from your current one.")
	}
	if fe == nil {
		taken, err := opensAnotherAccount(ctx, l.DB, c.Email, c.ID, password)
		if err != nil {
			return 0, err
		}
		if taken {
			fe.Add("password", samePasswordMessage)
		}
	}
	if err := fe.Err(); err != nil {
		// The current password was right: not a failure.
		if rerr := (&attempts{DB: l.DB}).release(ctx, nil, r); rerr != nil {
			return 0, rerr
		}
		return 0, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return 0, err
	}
	var ended int
	err = db.InTx(ctx, l.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 AND practice_id = $3`,
			sc.UserID, hash, sc.PracticeID); err != nil {
			return fmt.Errorf("auth: change password: %w", err)
		}
		if err := l.passed(ctx, tx, c, r, sc.IP); err != nil {
			return err
		}
		if err := afterNewPassword(ctx, tx, sc.UserID); err != nil {
			return err
		}
		if ended, err = endOthers(ctx, tx, sc.UserID, currentToken); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "password.changed", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
			return err
		}
		return notify(tx)
	})
	return ended, err
}

// afterNewPassword is what every new password brings, by change or by
// reset: no emailed link sent before it works any more, and a second factor
// that was never confirmed is gone.
func afterNewPassword(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	_, err := tx.ExecContext(ctx, `
		WITH links AS (
			UPDATE user_tokens SET expires_at = LEAST(expires_at, now()), link = NULL
			WHERE user_id = $1 AND used_at IS NULL)
		DELETE FROM user_mfa WHERE user_id = $1 AND confirmed_at IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("auth: retire links and pending factor: %w", err)
	}
	return nil
}
