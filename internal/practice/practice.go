// Package practice manages a practice and its staff: listing counselors,
// inviting them, disabling and re-enabling accounts. Every method takes the
// caller's Scope and touches only the caller's practice.
package practice

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Practice is one counseling practice: the boundary nothing crosses.
type Practice struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Slug     string `db:"slug"`
	Timezone string `db:"timezone"`
}

// Member is a staff member as the admin sees them.
type Member struct {
	ID            int64        `db:"id"`
	Name          string       `db:"name"`
	Email         string       `db:"email"`
	Role          string       `db:"role"`
	Activated     bool         `db:"activated"`
	Disabled      bool         `db:"disabled"`
	LastLoginAt   sql.NullTime `db:"last_login_at"`
	InviteExpires sql.NullTime `db:"invite_expires"`
}

// InvitePending reports whether the member has not set a password yet.
func (m Member) InvitePending() bool { return !m.Activated }

// Store reads and changes practices and their staff.
type Store struct {
	DB    *sqlx.DB
	Links *auth.Links
}

// NewStore returns the practice store; links issues the invitation links.
func NewStore(d *sqlx.DB, links *auth.Links) *Store {
	return &Store{DB: d, Links: links}
}

// Get returns the caller's practice.
func (s *Store) Get(ctx context.Context, sc mend.Scope) (Practice, error) {
	var p Practice
	err := s.DB.GetContext(ctx, &p, `SELECT id, name, slug, timezone FROM practices WHERE id = $1`, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Practice{}, mend.NotFound("Practice")
	}
	return p, err
}

// Staff lists the practice's admins and counselors.
func (s *Store) Staff(ctx context.Context, sc mend.Scope) ([]Member, error) {
	var ms []Member
	err := s.DB.SelectContext(ctx, &ms, `
		SELECT u.id, u.name, u.email, u.role, u.password_hash IS NOT NULL AS activated,
		       u.disabled_at IS NOT NULL AS disabled, u.last_login_at,
		       (SELECT max(t.expires_at) FROM user_tokens t
		         WHERE t.user_id = u.id AND t.purpose = 'invite' AND t.used_at IS NULL) AS invite_expires
		FROM users u
		WHERE u.practice_id = $1 AND u.role IN ('admin', 'counselor')
		ORDER BY u.role, u.name, u.id`, sc.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("practice: staff: %w", err)
	}
	return ms, nil
}

// NewPerson is what is typed to invite someone.
type NewPerson struct {
	Name     string
	Email    string
	Timezone string
}

// Validate checks a new person's details, adding messages under prefix+field.
func (n *NewPerson) Validate(fe *mend.FieldErrors, prefix string) {
	n.Name = strings.TrimSpace(n.Name)
	n.Email = auth.NormalizeEmail(n.Email)
	n.Timezone = strings.TrimSpace(n.Timezone)
	if msg := NameProblem(n.Name); msg != "" {
		fe.Add(prefix+"name", msg)
	}
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		fe.Add(prefix+"email", "Enter an email address like name@example.com.")
	}
	if n.Timezone == "" {
		n.Timezone = "UTC"
	}
	// "Local" would mean the server's zone, which is nobody's.
	if _, err := time.LoadLocation(n.Timezone); err != nil || n.Timezone == "Local" {
		fe.Add(prefix+"timezone", "Choose a time zone from the list.")
	}
}

// NameProblem says what is wrong with a person's or a practice's name as
// typed, or "" when there is nothing wrong. Names go into email headers
// (To, From), so a line break or another control character is refused
// where it is typed rather than quietly changed when the email is written.
func NameProblem(name string) string {
	switch {
	case name == "":
		return "Enter a name."
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100:
		return "Use at most 100 characters."
	case strings.ContainsFunc(name, unicode.IsControl):
		return "Write the name on one line, without line breaks or tabs."
	}
	return ""
}

// Invitation is a newly issued one-time link, shown once to its issuer.
type Invitation struct {
	UserID    int64
	Name      string
	Email     string
	Token     string
	ExpiresAt time.Time // set when an open invitation is shown again
}

// Notify is called inside the transaction that creates an invitation, to
// queue its email (mail.Outbox.Queue on tx): the account, the link and the
// email exist together or not at all.
type Notify func(tx *sqlx.Tx, inv Invitation) error

// InviteCounselor creates a counselor account in the caller's practice and
// an invitation link for it.
func (s *Store) InviteCounselor(ctx context.Context, sc mend.Scope, in NewPerson, notify Notify) (Invitation, error) {
	var fe mend.FieldErrors
	in.Validate(&fe, "")
	if err := fe.Err(); err != nil {
		return Invitation{}, err
	}
	var inv Invitation
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		id, err := CreateUser(ctx, tx, sc.PracticeID, mend.RoleCounselor, in)
		if err != nil {
			return err
		}
		tok, err := s.Links.Issue(ctx, tx, id, sc.UserID, auth.PurposeInvite)
		if err != nil {
			return err
		}
		inv = Invitation{UserID: id, Name: in.Name, Email: in.Email, Token: tok}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "invitation.create", ObjectType: "user", ObjectID: id}); err != nil {
			return err
		}
		return notify(tx, inv)
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// CreateUser inserts an account without a password (it is set through the
// invitation link). Emails are unique within a practice only, so a taken
// email is a field error about this practice's own accounts: whether the
// address has an account at another practice is never consulted.
func CreateUser(ctx context.Context, q sqlx.QueryerContext, practiceID int64, role mend.Role, in NewPerson) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `
		INSERT INTO users (practice_id, role, email, name, timezone)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, practiceID, string(role), in.Email, in.Name, in.Timezone)
	if db.IsUniqueViolation(err, "users_practice_email_key") {
		return 0, mend.FieldErrors{"email": "Someone in this practice already has this email address."}.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("practice: create user: %w", err)
	}
	return id, nil
}

// Reinvite issues a fresh invitation link for a staff member who has not
// accepted yet; older links stop working.
func (s *Store) Reinvite(ctx context.Context, sc mend.Scope, userID int64, notify Notify) (Invitation, error) {
	m, err := s.staffMember(ctx, sc, userID)
	if err != nil {
		return Invitation{}, err
	}
	if m.Activated {
		return Invitation{}, mend.Errorf(mend.ECONFLICT, "%s has already accepted their invitation.", m.Name)
	}
	if m.Disabled {
		return Invitation{}, mend.Errorf(mend.ECONFLICT, "%s is disabled. Enable the account before sending a new invitation.", m.Name)
	}
	var inv Invitation
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		tok, err := s.Links.Issue(ctx, tx, m.ID, sc.UserID, auth.PurposeInvite)
		if err != nil {
			return err
		}
		inv = Invitation{UserID: m.ID, Name: m.Name, Email: m.Email, Token: tok}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "invitation.create", ObjectType: "user", ObjectID: m.ID}); err != nil {
			return err
		}
		return notify(tx, inv)
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// IssueReset makes a password-reset link for a staff member of the
// caller's practice (an admin's action, for someone locked out; audited)
// and returns it to be shown once: it is not emailed. Older open reset
// links of the account stop working. Your own password is changed on the
// account page instead.
func (s *Store) IssueReset(ctx context.Context, sc mend.Scope, userID int64) (Invitation, error) {
	m, err := s.staffMember(ctx, sc, userID)
	if err != nil {
		return Invitation{}, err
	}
	if err := ResetAllowed(sc, m.ID, m.Name, m.Activated, m.Disabled); err != nil {
		return Invitation{}, err
	}
	return IssueReset(ctx, s.DB, s.Links, sc, Invitation{UserID: m.ID, Name: m.Name, Email: m.Email}, 0)
}

// ResetAllowed says why an account cannot be given a reset link by
// staff, or nil: it must have a password already (else it needs a new
// invitation), be enabled, and not be the caller's own.
func ResetAllowed(sc mend.Scope, userID int64, name string, activated, disabled bool) error {
	switch {
	case userID == sc.UserID:
		return mend.Errorf(mend.ECONFLICT, "Change your own password on your account page.")
	case !activated:
		return mend.Errorf(mend.ECONFLICT, "%s has not accepted their invitation yet: give them a new invitation link instead.", name)
	case disabled:
		return mend.Errorf(mend.ECONFLICT, "%s's account is disabled.", name)
	}
	return nil
}

// IssueReset issues the reset link for who in its own transaction with
// the audit entry ("password_reset.link_shown"; clientID names the client
// whose account it is, 0 for staff).
func IssueReset(ctx context.Context, d *sqlx.DB, links *auth.Links, sc mend.Scope, who Invitation, clientID int64) (Invitation, error) {
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		tok, err := links.Issue(ctx, tx, who.UserID, sc.UserID, auth.PurposeReset)
		if err != nil {
			return err
		}
		who.Token = tok
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "password_reset.link_shown", ObjectType: "user", ObjectID: who.UserID, ClientID: clientID})
	})
	if err != nil {
		return Invitation{}, err
	}
	return who, nil
}

// ShowInvitation loads the open invitation link of who, for the caller to
// copy again and hand over, and records that it was shown (clientID: the
// client it belongs to, 0 for staff). A person who has joined, is disabled
// or has no open link gets a conflict that says what to do instead.
func ShowInvitation(ctx context.Context, d *sqlx.DB, links *auth.Links, sc mend.Scope, who Invitation, activated, disabled bool, clientID int64) (Invitation, error) {
	switch {
	case activated:
		return Invitation{}, mend.Errorf(mend.ECONFLICT, "%s has already accepted their invitation.", who.Name)
	case disabled:
		return Invitation{}, mend.Errorf(mend.ECONFLICT, "%s's account is disabled.", who.Name)
	}
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		raw, expires, err := links.OpenInvitation(ctx, tx, who.UserID)
		if err != nil {
			return err
		}
		if raw == "" {
			return mend.Errorf(mend.ECONFLICT, "%s has no open invitation link (it expired or was replaced). Make a new one.", who.Name)
		}
		who.Token, who.ExpiresAt = raw, expires
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "invitation.link_shown", ObjectType: "user", ObjectID: who.UserID, ClientID: clientID})
	})
	if err != nil {
		return Invitation{}, err
	}
	return who, nil
}

// InvitationLink shows again the open invitation link of a staff member
// of the caller's practice (ShowInvitation).
func (s *Store) InvitationLink(ctx context.Context, sc mend.Scope, userID int64) (Invitation, error) {
	m, err := s.staffMember(ctx, sc, userID)
	if err != nil {
		return Invitation{}, err
	}
	return ShowInvitation(ctx, s.DB, s.Links, sc, Invitation{UserID: m.ID, Name: m.Name, Email: m.Email}, m.Activated, m.Disabled, 0)
}

// SetDisabled disables or re-enables a staff member of the caller's
// practice. Admins cannot disable themselves (a practice must keep an admin).
// Disabling ends every session of the member, with its audit entry, in the
// same transaction.
func (s *Store) SetDisabled(ctx context.Context, sc mend.Scope, userID int64, disabled bool) (Member, error) {
	m, err := s.staffMember(ctx, sc, userID)
	if err != nil {
		return Member{}, err
	}
	if disabled && m.ID == sc.UserID {
		return Member{}, mend.Errorf(mend.ECONFLICT, "You cannot disable your own account.")
	}
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE users SET disabled_at = CASE WHEN $3 THEN coalesce(disabled_at, now()) END
			WHERE id = $1 AND practice_id = $2`, userID, sc.PracticeID, disabled); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		if _, err := auth.EndAllSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "sessions.ended_by_disable", ObjectType: "user", ObjectID: userID})
	})
	m.Disabled = disabled
	return m, err
}

func (s *Store) staffMember(ctx context.Context, sc mend.Scope, userID int64) (Member, error) {
	var m Member
	err := s.DB.GetContext(ctx, &m, `
		SELECT id, name, email, role, password_hash IS NOT NULL AS activated,
		       disabled_at IS NOT NULL AS disabled, last_login_at, NULL::timestamptz AS invite_expires
		FROM users WHERE id = $1 AND practice_id = $2 AND role IN ('admin', 'counselor')`, userID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, mend.NotFound("Staff member")
	}
	return m, err
}
