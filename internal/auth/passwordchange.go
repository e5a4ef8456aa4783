package auth

import (
	"context"
	"fmt"

	"github.com/mend-practice/mend/internal/mend"
)

// ChangePassword sets a new password for the caller after checking the
// current one. Wrong current passwords count against the same throttle as
// wrong logins, so this form is no way around it. The caller ends the
// account's other sessions.
func (l *Login) ChangePassword(ctx context.Context, sc mend.Scope, current, password, confirm string) error {
	accountKey := "email:" + NormalizeEmail(sc.Email)
	if err := l.checkThrottle(ctx, accountKey, "ip:"+sc.IP); err != nil {
		return err
	}
	a, found, err := l.Users.byEmail(ctx, NormalizeEmail(sc.Email))
	if err != nil {
		return err
	}
	var fe mend.FieldErrors
	if !found || a.ID != sc.UserID || !VerifyPassword(current, a.PasswordHash.String) {
		if _, err := l.DB.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1), ($2)`, accountKey, "ip:"+sc.IP); err != nil {
			return fmt.Errorf("auth: record failure: %w", err)
		}
		fe.Add("current", "That is not your current password.")
		return fe.Err()
	}
	CheckNewPassword(&fe, "password", password, confirm, PasswordOwner{Email: a.Email, Name: a.Name})
	if fe == nil && password == current {
		fe.Add("password", "Choose a password different from your current one.")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := l.DB.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 AND practice_id = $3`,
		sc.UserID, hash, sc.PracticeID); err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	return nil
}
