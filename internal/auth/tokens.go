package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// Link purposes.
const (
	PurposeInvite = "invite"
	PurposeReset  = "reset"
)

// Lifetimes of one-time links. A reset link lives an hour (ASVS 2.5.x):
// long enough to read the email, short enough that an old mailbox is no
// key to the account.
const (
	InviteTTL = 7 * 24 * time.Hour
	ResetTTL  = time.Hour
	// ResetEvery is how often one account may be sent a reset link: while
	// a link sent less than this long ago is still open, a new request
	// sends nothing (the open link still works).
	ResetEvery = 5 * time.Minute
)

// Link states a person can land on.
const (
	LinkValid   = "valid"
	LinkExpired = "expired"
	LinkUsed    = "used"
	LinkUnknown = "unknown"
)

// Links issues and redeems invitation and password-reset links. The raw
// token (32 random bytes) is looked up only by its SHA-256. A reset link
// exists only in the link; an invitation's raw token is also kept sealed
// under the practice's key (when Vault is set), so staff can copy it again
// while it is open (Open), and is cleared once the link is used or
// replaced: reading the database without the master key gives no working
// link.
type Links struct {
	DB         *sqlx.DB
	Vault      *vault.Vault // nil: invitations are not kept for copying again
	mend.Clock              // Now: the clock; tests set it (nil: time.Now)
}

// LinkInfo is what a link's page may show about it.
type LinkInfo struct {
	State       string
	Purpose     string
	UserID      int64
	Name        string
	Email       string
	Role        string
	PracticeID  int64
	Practice    string
	InviterName string
	ExpiresAt   time.Time
}

func hashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// Issue creates a link token for userID and returns the raw token. Older
// unused links of the same purpose stop working: only the newest one sent
// is valid. q is a transaction when the link is part of a larger change.
func (l *Links) Issue(ctx context.Context, q sqlx.ExtContext, userID, createdBy int64, purpose string) (string, error) {
	ttl := InviteTTL
	if purpose == PurposeReset {
		ttl = ResetTTL
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	raw := base64.RawURLEncoding.EncodeToString(b)
	now := l.Clock.Time()
	if _, err := q.ExecContext(ctx, `
		UPDATE user_tokens SET expires_at = LEAST(expires_at, $3), link = NULL
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, userID, purpose, now); err != nil {
		return "", fmt.Errorf("auth: retire old links: %w", err)
	}
	var creator sql.NullInt64
	if createdBy != 0 {
		creator = sql.NullInt64{Int64: createdBy, Valid: true}
	}
	var row struct {
		ID         int64 `db:"id"`
		PracticeID int64 `db:"practice_id"`
	}
	if err := sqlx.GetContext(ctx, q, &row, `
		INSERT INTO user_tokens (user_id, purpose, token_hash, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id, (SELECT practice_id FROM users WHERE id = $1) AS practice_id`,
		userID, purpose, hashToken(raw), creator, now, now.Add(ttl)); err != nil {
		return "", fmt.Errorf("auth: store link: %w", err)
	}
	if purpose == PurposeInvite && l.Vault != nil {
		sealed, err := l.Vault.SealText(ctx, q, vault.PracticeScope(row.PracticeID), vault.InvitationLink, row.ID, raw)
		if err != nil {
			return "", fmt.Errorf("auth: keep invitation: %w", err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE user_tokens SET link = $2 WHERE id = $1`, row.ID, sealed); err != nil {
			return "", fmt.Errorf("auth: keep invitation: %w", err)
		}
	}
	return raw, nil
}

// OpenInvitation returns the raw token of userID's open invitation, kept
// sealed by Issue, and when it expires; "" when none is open (accepted,
// replaced, expired, or made without a vault). The caller has checked that
// the person is theirs to invite.
func (l *Links) OpenInvitation(ctx context.Context, q sqlx.QueryerContext, userID int64) (string, time.Time, error) {
	var row struct {
		ID        int64     `db:"id"`
		Link      []byte    `db:"link"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT id, link, expires_at FROM user_tokens
		WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 AND link IS NOT NULL
		ORDER BY id DESC LIMIT 1`, userID, PurposeInvite, l.Clock.Time())
	if errors.Is(err, sql.ErrNoRows) || (err == nil && l.Vault == nil) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: open invitation: %w", err)
	}
	raw, err := l.Vault.OpenText(ctx, q, vault.InvitationLink, row.ID, row.Link)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: open invitation: %w", err)
	}
	return raw, row.ExpiresAt, nil
}

type linkRow struct {
	ID          int64          `db:"id"`
	UserID      int64          `db:"user_id"`
	Purpose     string         `db:"purpose"`
	ExpiresAt   time.Time      `db:"expires_at"`
	Used        bool           `db:"used"`
	Name        string         `db:"name"`
	Email       string         `db:"email"`
	Role        string         `db:"role"`
	Disabled    bool           `db:"disabled"`
	PracticeID  int64          `db:"practice_id"`
	Practice    string         `db:"practice"`
	InviterName sql.NullString `db:"inviter_name"`
}

const linkQuery = `
	SELECT t.id, t.user_id, t.purpose, t.expires_at, t.used_at IS NOT NULL AS used,
	       u.name, u.email, u.role, u.disabled_at IS NOT NULL AS disabled,
	       u.practice_id, p.name AS practice, inv.name AS inviter_name
	FROM user_tokens t
	JOIN users u ON u.id = t.user_id
	JOIN practices p ON p.id = u.practice_id
	LEFT JOIN users inv ON inv.id = t.created_by
	WHERE t.token_hash = $1 AND t.purpose = $2`

// Check tells what state a link is in, without using it.
func (l *Links) Check(ctx context.Context, raw, purpose string) (LinkInfo, error) {
	var r linkRow
	err := l.DB.GetContext(ctx, &r, linkQuery, hashToken(raw), purpose)
	return l.info(r, err)
}

func (l *Links) info(r linkRow, err error) (LinkInfo, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return LinkInfo{State: LinkUnknown}, nil
	}
	if err != nil {
		return LinkInfo{}, fmt.Errorf("auth: check link: %w", err)
	}
	info := LinkInfo{
		State: LinkValid, Purpose: r.Purpose, UserID: r.UserID, Name: r.Name, Email: r.Email, Role: r.Role,
		PracticeID: r.PracticeID, Practice: r.Practice, InviterName: r.InviterName.String, ExpiresAt: r.ExpiresAt,
	}
	switch {
	case r.Disabled:
		return LinkInfo{State: LinkUnknown}, nil
	case r.Used:
		info.State = LinkUsed
	case !l.Clock.Time().Before(r.ExpiresAt):
		info.State = LinkExpired
	}
	return info, nil
}

// Redeem uses a valid link to set the account's password, once. It returns
// the account's scope so that the person can be logged in straight away.
// In the same transaction every other open link of the account stops
// working, a second factor still being set up is dropped, the throttle
// forgets the account's failures, a reset ends every session the account
// had (whoever knew the old password is out) with its audit entries, and
// notify (nil: nothing) queues the notice of the new password.
func (l *Links) Redeem(ctx context.Context, raw, purpose, password, confirm, ip string, notify func(tx *sqlx.Tx, sc mend.Scope) error) (mend.Scope, error) {
	tx, err := l.DB.BeginTxx(ctx, nil)
	if err != nil {
		return mend.Scope{}, err
	}
	defer tx.Rollback()
	var r linkRow
	err = tx.GetContext(ctx, &r, linkQuery+` FOR UPDATE OF t`, hashToken(raw), purpose)
	info, err := l.info(r, err)
	if err != nil {
		return mend.Scope{}, err
	}
	if info.State != LinkValid {
		return mend.Scope{}, &mend.Error{Code: mend.ENOTFOUND, Message: linkMessage(info.State)}
	}
	var fe mend.FieldErrors
	CheckNewPassword(&fe, "password", password, confirm, PasswordOwner{Email: info.Email, Name: info.Name})
	if fe == nil {
		taken, err := opensAnotherAccount(ctx, tx, info.Email, r.UserID, password)
		if err != nil {
			return mend.Scope{}, err
		}
		if taken {
			fe.Add("password", samePasswordMessage)
		}
	}
	if err := fe.Err(); err != nil {
		return mend.Scope{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return mend.Scope{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = $2, link = NULL WHERE id = $1`, r.ID, l.Clock.Time()); err != nil {
		return mend.Scope{}, err
	}
	var a account
	if err := tx.GetContext(ctx, &a, `UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING `+accountColumns, r.UserID, hash); err != nil {
		return mend.Scope{}, err
	}
	if err := afterNewPassword(ctx, tx, a.ID); err != nil {
		return mend.Scope{}, err
	}
	// Whoever proved they own the address with a link may sign in again at
	// once, from anywhere: the throttle's message tells a locked-out person
	// to do this. (The audit log keeps the failures.)
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = $1 OR starts_with(key, $2)`,
		accountKey(a.Email), addressKey(a.Email, "")); err != nil {
		return mend.Scope{}, err
	}
	sc := a.scope(ip)
	if purpose == PurposeReset {
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "password_reset.completed", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
			return mend.Scope{}, err
		}
		n, err := EndAllSessions(ctx, tx, sc.UserID)
		if err != nil {
			return mend.Scope{}, err
		}
		if n > 0 {
			if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "sessions.ended_by_reset", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
				return mend.Scope{}, err
			}
		}
	}
	if notify != nil {
		if err := notify(tx, sc); err != nil {
			return mend.Scope{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return mend.Scope{}, err
	}
	return sc, nil
}

func linkMessage(state string) string {
	switch state {
	case LinkExpired:
		return "This link has expired."
	case LinkUsed:
		return "This link has already been used."
	}
	return "This link is not valid."
}

// What a reset request did.
const (
	ResetSent      = "sent"       // a link was made and its email queued
	ResetNoAccount = "no_account" // no enabled, activated account has the email
	ResetTooSoon   = "too_soon"   // a link sent within ResetEvery is still open
)

// ResetOutcome is what a reset request did for one account.
type ResetOutcome struct {
	Outcome string   // ResetSent, ResetNoAccount or ResetTooSoon
	To      LinkInfo // the account; empty for ResetNoAccount
}

// entry is the outcome's audit entry.
func (o ResetOutcome) entry() audit.Entry {
	e := audit.Entry{Action: "password_reset.requested", ObjectType: "user", ObjectID: o.To.UserID, Outcome: audit.OK}
	switch o.Outcome {
	case ResetNoAccount:
		e.Outcome = audit.Failed
	case ResetTooSoon:
		e.Action, e.Outcome = "password_reset.throttled", audit.Denied
	}
	return e
}

// RequestReset issues a reset link for each enabled, activated account that
// has email (one per practice that has the address, usually one), and
// calls send with the raw token and the account in the same transaction,
// so that a link exists exactly when its email is queued; each email names
// its practice. While a link sent within ResetEvery is open for an account
// it sends nothing for it: the accounts' row locks make concurrent
// requests take turns, so twenty at once still send one email. It returns
// what it did for each account, or one ResetNoAccount. The caller answers
// the person the same way whatever happens here (and before it happens).
//
// Every outcome is in the audit log, written in the same transaction
// (anonymous, from ip): password_reset.requested (failed when no account
// has the address) or password_reset.throttled.
func (l *Links) RequestReset(ctx context.Context, email, ip string, send func(tx *sqlx.Tx, raw string, to LinkInfo) error) error {
	tx, err := l.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var accounts []struct {
		account
		Practice string `db:"practice"`
	}
	err = tx.SelectContext(ctx, &accounts, `
		SELECT `+accountColumns+`, (SELECT p.name FROM practices p WHERE p.id = users.practice_id) AS practice
		FROM users WHERE email = $1 AND disabled_at IS NULL AND password_hash IS NOT NULL
		ORDER BY id FOR UPDATE`, NormalizeEmail(email))
	if err != nil {
		return fmt.Errorf("auth: reset request: %w", err)
	}
	var out []ResetOutcome
	if len(accounts) == 0 {
		out = append(out, ResetOutcome{Outcome: ResetNoAccount})
	}
	now := l.Clock.Time()
	for _, a := range accounts {
		to := LinkInfo{UserID: a.ID, Name: a.Name, Email: a.Email, PracticeID: a.PracticeID, Practice: a.Practice, Role: a.Role}
		var recent bool
		if err := tx.GetContext(ctx, &recent, `
			SELECT EXISTS (SELECT 1 FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL
			               AND expires_at > $3 AND created_at > $4)`, a.ID, PurposeReset, now, now.Add(-ResetEvery)); err != nil {
			return fmt.Errorf("auth: reset request: %w", err)
		}
		if recent {
			out = append(out, ResetOutcome{Outcome: ResetTooSoon, To: to})
			continue
		}
		raw, err := l.Issue(ctx, tx, a.ID, 0, PurposeReset)
		if err != nil {
			return err
		}
		if err := send(tx, raw, to); err != nil {
			return err
		}
		out = append(out, ResetOutcome{Outcome: ResetSent, To: to})
	}
	for _, o := range out {
		if err := audit.Append(ctx, tx, mend.Scope{Role: mend.RoleAnonymous, PracticeID: o.To.PracticeID, IP: ip}, o.entry()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// ResetRequests throttles reset requests per address, before anything is
// looked up: the answer then cannot depend on whether an account exists.
type ResetRequests struct {
	DB *sqlx.DB
	// PerIP requests per address within Window.
	PerIP  int
	Window time.Duration
}

// DefaultResetRequests: ten requests per address in fifteen minutes.
func DefaultResetRequests(d *sqlx.DB) *ResetRequests {
	return &ResetRequests{DB: d, PerIP: 10, Window: 15 * time.Minute}
}

// Admit counts a reset request from ip; ETHROTTLED when the address has
// asked too often.
func (rr *ResetRequests) Admit(ctx context.Context, ip string) error {
	_, ok, err := (&attempts{DB: rr.DB}).reserve(ctx, []limit{{Key: "reset-ip:" + ip, Max: rr.PerIP, Window: rr.Window}})
	if err != nil {
		return err
	}
	if !ok {
		return mend.Errorf(mend.ETHROTTLED, "Too many reset requests from your network. Please wait %d minutes and try again.", int(rr.Window.Minutes()))
	}
	return nil
}
