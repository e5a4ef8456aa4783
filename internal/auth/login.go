package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/semaphore"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Throttle limits password and code guessing. Attempts are counted in
// PostgreSQL so that every web replica sees the same counts, and each
// attempt is reserved before its password or code is checked, so that
// concurrent attempts cannot slip past a limit together.
//
// A stranger must not be able to lock the owner out (issue 17, item 10), so
// the tight limit is per account and address: five wrong passwords from one
// address stop that address, not the account. The account as a whole has a
// slower limit, PerAccount an hour (ASVS 2.2.1 allows at most 100), which
// does not apply from an address the account signed in from lately: the
// owner at home still gets in while someone elsewhere guesses.
type Throttle struct {
	Window            time.Duration // how far back the per-address limits count
	PerAccountAddress int           // wrong passwords per email and address within Window
	PerIP             int           // wrong passwords per address within Window, any email
	AccountWindow     time.Duration // how far back the per-account limit counts
	PerAccount        int           // wrong passwords per email within AccountWindow, from unknown addresses
	PerFactor         int           // wrong second-factor or recovery codes per account within Window
	KnownFor          time.Duration // how long an address the account signed in from counts as the owner's
}

// DefaultThrottle: 5 wrong passwords per account and address or 30 per
// address in 15 minutes; 50 per account in an hour from addresses the
// account has not signed in from in 30 days; 5 wrong codes in 15 minutes.
func DefaultThrottle() Throttle {
	return Throttle{
		Window: 15 * time.Minute, PerAccountAddress: 5, PerIP: 30,
		AccountWindow: time.Hour, PerAccount: 50,
		PerFactor: 5, KnownFor: 30 * 24 * time.Hour,
	}
}

// ErrBadCredentials is the same for an unknown email, a wrong password, a
// disabled account and an account not yet activated: the login page must not
// tell which.
var ErrBadCredentials = mend.Errorf(mend.EUNAUTHORIZED, "That email and password do not match an account. Check both and try again.")

// Login checks an email and password and returns the account's scope.
type Login struct {
	DB       *sqlx.DB
	Throttle Throttle
	// Audit records failed sign-ins and throttle refusals: the evidence,
	// which, unlike the throttle's counts, nothing deletes.
	Audit *audit.Log
	// Hashing bounds the password checks that run at once (nil: no bound).
	// Each takes 19 MiB and a core for tens of milliseconds, so a burst
	// of sign-ins (the morning rush, or someone trying passwords from many
	// addresses) would otherwise hold hundreds of megabytes at once and
	// starve the pages being served; beyond the bound they wait their turn.
	Hashing *semaphore.Weighted
}

// verify is VerifyPassword within the Hashing bound.
func (l *Login) verify(ctx context.Context, password, hash string) (bool, error) {
	if l.Hashing != nil {
		if err := l.Hashing.Acquire(ctx, 1); err != nil {
			return false, err
		}
		defer l.Hashing.Release(1)
	}
	return VerifyPassword(password, hash), nil
}

// NormalizeEmail is how emails are compared and stored.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Throttle keys. accountKey counts an email's failures from anywhere,
// addressKey one email's from one address, ipKey one address's for any
// email. No address is longer than 254 characters, so a longer one is cut
// there rather than stored whole.
func accountKey(email string) string { return "email:" + clipEmail(email) }
func addressKey(email, ip string) string {
	return "email-ip:" + clipEmail(email) + "|" + ip
}
func ipKey(ip string) string { return "ip:" + ip }

func clipEmail(email string) string {
	if len(email) > 254 {
		return email[:254]
	}
	return email
}

// passwordLimits are the limits a password attempt for email from ip
// reserves against; known: the account signed in from ip lately.
func (t Throttle) passwordLimits(email, ip string, known bool) []limit {
	ls := []limit{
		{Key: addressKey(email, ip), Max: t.PerAccountAddress, Window: t.Window},
		{Key: ipKey(ip), Max: t.PerIP, Window: t.Window},
	}
	if !known {
		ls = append(ls, limit{Key: accountKey(email), Max: t.PerAccount, Window: t.AccountWindow})
	}
	return ls
}

func (t Throttle) refused() error {
	return mend.Errorf(mend.ETHROTTLED, "Too many sign-in attempts. Please wait %d minutes and try again, or reset your password.", int(t.Window.Minutes()))
}

// candidate is the account an email names, if any, and whether it signed
// in from the caller's address lately.
type candidate struct {
	account
	Known bool `db:"known"`
}

// lookup loads the accounts of email (one per practice that has the
// address, usually one) with, in the same statement, whether ip is one of
// each account's known addresses.
func (l *Login) lookup(ctx context.Context, email, ip string) ([]candidate, error) {
	var cs []candidate
	err := l.DB.SelectContext(ctx, &cs, `
		SELECT `+accountColumns+`,
		       EXISTS (SELECT 1 FROM sign_in_addresses a
		               WHERE a.user_id = users.id AND a.ip = $2 AND a.last_at > now() - make_interval(secs => $3)) AS known
		FROM users WHERE email = $1 ORDER BY id`, email, ip, l.Throttle.KnownFor.Seconds())
	if err != nil {
		return nil, fmt.Errorf("auth: load account: %w", err)
	}
	return cs, nil
}

// auditAttempt records a refused or failed password attempt: the account
// it named when there is one (as the object: who typed it is unknown), and
// the address.
func (l *Login) auditAttempt(ctx context.Context, c candidate, found bool, ip, action, outcome string) error {
	sc := mend.Scope{Role: mend.RoleAnonymous, IP: ip}
	e := audit.Entry{Action: action, ObjectType: "user", Outcome: outcome}
	if found {
		sc.PracticeID, e.ObjectID = c.PracticeID, c.ID
	}
	if l.Audit == nil {
		return nil
	}
	return l.Audit.Record(ctx, nil, sc, e)
}

// checkPassword is the throttled password check of login and of a
// password change: reserve, then verify. A refusal and a wrong password are
// audited; the reservation of a wrong password stays as its failure.
func (l *Login) checkPassword(ctx context.Context, email, password, ip, action string, matches func(candidate) bool) (candidate, reservation, error) {
	cs, err := l.lookup(ctx, email, ip)
	if err != nil {
		return candidate{}, reservation{}, err
	}
	known := false
	for _, c := range cs {
		known = known || c.Known
	}
	// The account a refusal or failure is recorded against: the only one,
	// or the first when the address has accounts at several practices.
	var named candidate
	found := len(cs) > 0
	if found {
		named = cs[0]
	}
	att := attempts{DB: l.DB}
	r, ok, err := att.reserve(ctx, l.Throttle.passwordLimits(email, ip, known))
	if err != nil {
		return candidate{}, reservation{}, err
	}
	if !ok {
		if err := l.auditAttempt(ctx, named, found, ip, action+".throttled", audit.Denied); err != nil {
			return candidate{}, reservation{}, err
		}
		return candidate{}, reservation{}, l.Throttle.refused()
	}
	if !found {
		if _, err := l.verify(ctx, password, ""); err != nil { // the same work as a wrong password
			return candidate{}, reservation{}, l.abandoned(ctx, named, found, ip, action, err)
		}
	}
	// A password opens at most one of an address's accounts (SetPassword
	// refuses one that opens another), so the first match is the account.
	for _, c := range cs {
		ok, err := l.verify(ctx, password, c.PasswordHash.String)
		if err != nil {
			return candidate{}, reservation{}, l.abandoned(ctx, named, found, ip, action, err)
		}
		if ok && matches(c) {
			return c, r, nil
		}
	}
	if err := l.auditAttempt(ctx, named, found, ip, action+".failed", audit.Failed); err != nil {
		return candidate{}, reservation{}, err
	}
	return candidate{}, reservation{}, ErrBadCredentials
}

// abandoned records an attempt whose request went away (err) while it
// waited for a hashing slot, and returns err. The attempt keeps its
// reservation, as a failure does, so that abandoning attempts is no way
// around the throttle; and it is audited, in a context of its own (the
// request's is done), so that none goes unrecorded.
func (l *Login) abandoned(ctx context.Context, named candidate, found bool, ip, action string, err error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(err, l.auditAttempt(actx, named, found, ip, action+".abandoned", audit.Failed))
}

// passed releases a good password's reservation, clears the failures from
// this address, and remembers the address as the owner's.
func (l *Login) passed(ctx context.Context, q sqlx.ExtContext, c candidate, r reservation, ip string) error {
	if err := (&attempts{DB: l.DB}).release(ctx, q, r, addressKey(c.Email, ip)); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO sign_in_addresses (user_id, ip) VALUES ($1, $2)
		ON CONFLICT (user_id, ip) DO UPDATE SET last_at = now()`, c.ID, ip)
	if err != nil {
		return fmt.Errorf("auth: remember address: %w", err)
	}
	return nil
}

// Attempt logs someone in. It refuses with ETHROTTLED, without checking the
// password, when a limit is reached; the limits are keyed by the typed email
// whether or not it exists.
func (l *Login) Attempt(ctx context.Context, email, password, ip string) (mend.Scope, error) {
	email = NormalizeEmail(email)
	c, r, err := l.checkPassword(ctx, email, password, ip, "login", func(c candidate) bool { return !c.Disabled })
	if err != nil {
		return mend.Scope{}, err
	}
	err = db.InTx(ctx, l.DB, func(tx *sqlx.Tx) error {
		if err := l.passed(ctx, tx, c, r, ip); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = now() WHERE id = $1`, c.ID)
		return err
	})
	if err != nil {
		return mend.Scope{}, fmt.Errorf("auth: record login: %w", err)
	}
	return c.scope(ip), nil
}
