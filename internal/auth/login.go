package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mend"
)

// Throttle limits failed logins. Failures are counted in PostgreSQL so that
// every web replica sees the same counts.
type Throttle struct {
	Window     time.Duration // how far back failures count
	PerAccount int           // failures per email within Window
	PerIP      int           // failures per IP within Window
}

// DefaultThrottle is 5 wrong passwords per account or 30 per IP in 15
// minutes.
func DefaultThrottle() Throttle {
	return Throttle{Window: 15 * time.Minute, PerAccount: 5, PerIP: 30}
}

// ErrBadCredentials is the same for an unknown email, a wrong password, a
// disabled account and an account not yet activated: the login page must not
// tell which.
var ErrBadCredentials = mend.Errorf(mend.EUNAUTHORIZED, "That email and password do not match an account. Check both and try again.")

// Login checks an email and password and returns the account's scope.
type Login struct {
	DB       *sqlx.DB
	Users    *Users
	Throttle Throttle
}

// NormalizeEmail is how emails are compared and stored.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Attempt logs someone in. It refuses with ETHROTTLED before checking the
// password when the account or IP has failed too often; the throttle is
// keyed by the typed email whether or not it exists.
func (l *Login) Attempt(ctx context.Context, email, password, ip string) (mend.Scope, error) {
	email = NormalizeEmail(email)
	accountKey, ipKey := accountThrottleKey(email), "ip:"+ip
	if err := l.checkThrottle(ctx, accountKey, ipKey); err != nil {
		return mend.Scope{}, err
	}
	a, found, err := l.Users.byEmail(ctx, email)
	if err != nil {
		return mend.Scope{}, err
	}
	hash := ""
	if found {
		hash = a.PasswordHash.String
	}
	ok := VerifyPassword(password, hash) // constant work whether found or not
	if !found || !ok || a.Disabled {
		if _, err := l.DB.ExecContext(ctx, `INSERT INTO login_failures (key) VALUES ($1), ($2)`, accountKey, ipKey); err != nil {
			return mend.Scope{}, fmt.Errorf("auth: record failure: %w", err)
		}
		return mend.Scope{}, ErrBadCredentials
	}
	if _, err := l.DB.ExecContext(ctx, `
		WITH cleared AS (DELETE FROM login_failures WHERE key = $2)
		UPDATE users SET last_login_at = now() WHERE id = $1`, a.ID, accountKey); err != nil {
		return mend.Scope{}, fmt.Errorf("auth: record login: %w", err)
	}
	return a.scope(ip), nil
}

// accountThrottleKey is the login_failures key of an email. No address is
// longer than 254 characters, so a longer one is cut there rather than
// stored whole.
func accountThrottleKey(email string) string {
	if len(email) > 254 {
		email = email[:254]
	}
	return "email:" + email
}

func (l *Login) checkThrottle(ctx context.Context, accountKey, ipKey string) error {
	var perAccount, perIP int
	err := l.DB.QueryRowxContext(ctx, `
		SELECT count(*) FILTER (WHERE key = $1), count(*) FILTER (WHERE key = $2)
		FROM login_failures
		WHERE key IN ($1, $2) AND failed_at > now() - $3::interval`,
		accountKey, ipKey, fmt.Sprintf("%d seconds", int(l.Throttle.Window.Seconds()))).Scan(&perAccount, &perIP)
	if err != nil {
		return fmt.Errorf("auth: throttle: %w", err)
	}
	if perAccount >= l.Throttle.PerAccount || perIP >= l.Throttle.PerIP {
		return mend.Errorf(mend.ETHROTTLED, "Too many sign-in attempts. Please wait %d minutes and try again, or reset your password.", int(l.Throttle.Window.Minutes()))
	}
	return nil
}

// PruneFailures deletes failures older than the throttle window.
func (l *Login) PruneFailures(ctx context.Context) error {
	_, err := l.DB.ExecContext(ctx, `DELETE FROM login_failures WHERE failed_at < now() - $1::interval`,
		fmt.Sprintf("%d seconds", int(l.Throttle.Window.Seconds())))
	return err
}
