package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mssola/useragent"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Sessions keeps the index of live sessions per user (user_sessions) beside
// scs's own table (sessions), which is keyed by token hash alone. The index
// is authoritative: a session without an index row is refused, so a session
// ended while one of its requests was in flight cannot be written back to
// life by that request.
type Sessions struct {
	DB *sqlx.DB
	// TouchEvery throttles last-seen updates: at most one write per session
	// per interval.
	TouchEvery time.Duration
	// IdleTimeout ends a session not seen for this long (0: never). It is
	// enforced here, from last_seen, rather than by scs, which would
	// rewrite the session row on every request to move its expiry.
	IdleTimeout time.Duration

	stmts db.Statements // Check's query, prepared: every request runs it
}

// idleSeconds is IdleTimeout for SQL (live: last_seen later than now()
// minus it). The comparison is the database's clock against its own
// last_seen, so the web servers' clocks do not matter.
func (s *Sessions) idleSeconds() float64 {
	if s.IdleTimeout <= 0 {
		return 100 * 365 * 24 * 3600 // never idle
	}
	return s.IdleTimeout.Seconds()
}

// liveSQL is the condition on user_sessions us of a session that is not
// idle, with the idle seconds as parameter $n.
func liveSQL(n int) string {
	return fmt.Sprintf(`us.last_seen > now() - make_interval(secs => $%d)`, n)
}

// TokenHash is how scs stores a token when HashTokenInStore is on (and so
// the key of both tables).
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

const maxUserAgent = 512

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// Start indexes a new session for sc's user, after the token was renewed at
// login. It also drops the index rows of the user's sessions that expired.
func (s *Sessions) Start(ctx context.Context, token string, sc mend.Scope, userAgent string) error {
	_, err := s.DB.ExecContext(ctx, `
		WITH stale AS (
			DELETE FROM user_sessions us WHERE us.user_id = $2 AND us.created_at < now() - interval '1 minute'
			  AND (NOT `+liveSQL(6)+`
			       OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = us.token_hash AND s.expiry > now())))
		INSERT INTO user_sessions (token_hash, user_id, practice_id, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (token_hash) DO NOTHING`,
		TokenHash(token), sc.UserID, sc.PracticeID, sc.IP, clip(userAgent, maxUserAgent), s.idleSeconds())
	if err != nil {
		return fmt.Errorf("auth: index session: %w", err)
	}
	return nil
}

// Rekey moves a session's index row to its renewed token; verified marks
// that the session has passed its second factor.
func (s *Sessions) Rekey(ctx context.Context, oldToken, newToken string, verified bool) error {
	_, err := s.DB.ExecContext(ctx, `
		UPDATE user_sessions SET token_hash = $2,
		       mfa_verified_at = CASE WHEN $3 THEN now() ELSE mfa_verified_at END
		WHERE token_hash = $1`, TokenHash(oldToken), TokenHash(newToken), verified)
	if err != nil {
		return fmt.Errorf("auth: rekey session: %w", err)
	}
	return nil
}

// Forget removes a session's index row (logout: scs deletes its own row).
func (s *Sessions) Forget(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := s.DB.ExecContext(ctx, `DELETE FROM user_sessions WHERE token_hash = $1`, TokenHash(token))
	return err
}

// SessionState is what a request learns about its session.
type SessionState struct {
	Found bool
	// Scope is the session's account as the request's caller (its IP
	// included); set when Found.
	Scope mend.Scope
	// Pending: the session may only reach the second-factor pages, because
	// the user has MFA and this session has not passed it, or because the
	// practice requires MFA of this staff member and they have none yet.
	Pending bool
	// MustEnrol: pending because MFA has to be set up first.
	MustEnrol bool
}

// Check looks up the session for a request together with its account, in
// one statement (every request runs it), and, at most once per TouchEvery,
// records when and from where it was last seen. A session idle for
// IdleTimeout is ended; a session whose account is disabled or gone is not
// found either.
func (s *Sessions) Check(ctx context.Context, token string, userID int64, ip string) (SessionState, error) {
	hash := TokenHash(token)
	row, ok := takeSessionRead(ctx, hash)
	if !ok {
		err := s.stmts.Get(ctx, s.DB, &row, `
			SELECT `+checkColumns+`
			FROM user_sessions us
			JOIN users u ON u.id = us.user_id
			JOIN practices p ON p.id = u.practice_id
			WHERE us.token_hash = $1`, hash, s.idleSeconds())
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return SessionState{}, fmt.Errorf("auth: check session: %w", err)
		default:
			row.Indexed = true
		}
	}
	if !row.Indexed || row.UserID != userID || row.Account.Disabled {
		return SessionState{}, nil
	}
	if row.Idle {
		// Idle too long: ended as EndIdle would end it (the caller also
		// clears the browser's cookie).
		var n int
		if err := s.DB.GetContext(ctx, &n, endSQL(`us.id = $1`), row.ID); err != nil {
			return SessionState{}, fmt.Errorf("auth: end idle session: %w", err)
		}
		return SessionState{}, nil
	}
	state := SessionState{Found: true, Scope: row.Account.scope(ip)}
	switch {
	case row.HasMFA && !row.Verified:
		state.Pending = true
	case !row.HasMFA && row.Required:
		state.Pending, state.MustEnrol = true, true
	}
	if time.Since(row.LastSeen) >= s.TouchEvery || row.IP != ip {
		if _, err := s.DB.ExecContext(ctx, `UPDATE user_sessions SET last_seen = now(), ip = $2 WHERE id = $1`, row.ID, ip); err != nil {
			return SessionState{}, fmt.Errorf("auth: touch session: %w", err)
		}
	}
	return state, nil
}

// checkRow is a session's index row and its account, as Check needs them.
type checkRow struct {
	Indexed  bool      `db:"indexed"` // false: the session has no index row
	ID       int64     `db:"id"`
	UserID   int64     `db:"user_id"`
	LastSeen time.Time `db:"last_seen"`
	IP       string    `db:"ip"`
	Verified bool      `db:"verified"`
	HasMFA   bool      `db:"has_mfa"`
	Required bool      `db:"required"`
	Idle     bool      `db:"idle"`
	Account  account   `db:"account"`
}

// checkColumns are checkRow's columns from user_sessions us, users u and
// practices p, with the idle seconds as $2. Each is coalesced so that the
// session store's read, which joins them to scs's row with a LEFT JOIN
// (an anonymous session has no index row), scans the same way.
//
// A client's stamp joins their pairs to their counselors' marks directly:
// a counselor of two of the client's pairs is hashed twice, which is as
// good a stamp (it moves whenever one of the versions does). A DISTINCT
// over the counselors, or an IN, costs every request more than it saves:
// PostgreSQL sets up each node of a plan before it runs one (the
// DISTINCT's sort, unique and hash join; the IN's hash aggregate), a
// counselor's requests too, which never run this branch. pgbench, prepared,
// one connection, medians of eight alternated 2 s runs, for a client's
// token: 6,673 statements/s with the DISTINCT, 7,579 with IN, 8,315 joined.
const checkColumns = `us.id IS NOT NULL AS indexed, coalesce(us.id, 0) AS id, coalesce(us.user_id, 0) AS user_id,
	coalesce(us.last_seen, 'epoch') AS last_seen, coalesce(us.ip, '') AS ip, us.mfa_verified_at IS NOT NULL AS verified,
	EXISTS (SELECT 1 FROM user_mfa m WHERE m.user_id = us.user_id AND m.confirmed_at IS NOT NULL) AS has_mfa,
	coalesce(` + requiredSQL + `, false) AS required,
	coalesce(u.id, 0) AS "account.id", coalesce(u.practice_id, 0) AS "account.practice_id", coalesce(u.role, '') AS "account.role",
	coalesce(u.email, '') AS "account.email", coalesce(u.name, '') AS "account.name", coalesce(u.timezone, '') AS "account.timezone",
	u.disabled_at IS NOT NULL AS "account.disabled",
	coalesce(CASE WHEN u.role = 'client'
		THEN (SELECT hashtextextended(string_agg(dm.counselor_id || ':' || dm.version, ',' ORDER BY dm.counselor_id), 0)
		      FROM pair_members pm JOIN pairs p ON p.id = pm.pair_id JOIN dashboard_marks dm ON dm.counselor_id = p.counselor_id
		      WHERE pm.user_id = u.id)
		ELSE (SELECT dm.version FROM dashboard_marks dm WHERE dm.counselor_id = u.id) END, 0) AS "account.dashboard_version",
	coalesce(NOT us.last_seen > now() - make_interval(secs => $2), false) AS idle` // the condition of liveSQL(2)

// sessionRead carries, within one request, the session index row that the
// session store read together with scs's data (SessionStore.FindCtx) to
// the Check that follows: every signed-in request then costs one statement
// for its session, not two. It is used once, and only for the token it was
// read for (a sign-in renews the token, and its Check reads afresh).
type sessionRead struct {
	tokenHash string
	row       checkRow
}

type sessionReadKey struct{}

// WithSessionRead prepares a request's context to carry its session read;
// the web server's outermost session middleware calls it.
func WithSessionRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionReadKey{}, &sessionRead{})
}

// takeSessionRead returns the row read for tokenHash in this request, once.
func takeSessionRead(ctx context.Context, tokenHash string) (checkRow, bool) {
	r, _ := ctx.Value(sessionReadKey{}).(*sessionRead)
	if r == nil || r.tokenHash == "" || r.tokenHash != tokenHash {
		return checkRow{}, false
	}
	row := r.row
	*r = sessionRead{}
	return row, true
}

// find reads scs's data for a session (by token hash) and, in the same
// statement, its index row and account, which it leaves in ctx for Check
// when ctx was prepared by WithSessionRead.
func (s *Sessions) find(ctx context.Context, tokenHash string) ([]byte, error) {
	var row struct {
		Data []byte `db:"data"`
		checkRow
	}
	err := s.stmts.Get(ctx, s.DB, &row, `
		SELECT s.data, `+checkColumns+`
		FROM sessions s
		LEFT JOIN user_sessions us ON us.token_hash = s.token
		LEFT JOIN users u ON u.id = us.user_id
		LEFT JOIN practices p ON p.id = u.practice_id
		WHERE s.token = $1 AND current_timestamp < s.expiry`, tokenHash, s.idleSeconds())
	if err != nil {
		return nil, err // sql.ErrNoRows: no live session
	}
	if r, _ := ctx.Value(sessionReadKey{}).(*sessionRead); r != nil {
		*r = sessionRead{tokenHash: tokenHash, row: row.checkRow}
	}
	return row.Data, nil
}

// ActiveSession is one row of "your sessions".
type ActiveSession struct {
	ID        int64     `db:"id"`
	CreatedAt time.Time `db:"created_at"`
	LastSeen  time.Time `db:"last_seen"`
	IP        string    `db:"ip"`
	UserAgent string    `db:"user_agent"`
	Current   bool      `db:"current"`
}

// Device describes the browser and system from the User-Agent.
func (a ActiveSession) Device() string { return DeviceOf(a.UserAgent) }

// DeviceOf turns a User-Agent into "Firefox on Linux"-style text.
func DeviceOf(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "Unknown device"
	}
	p := useragent.New(ua)
	browser, _ := p.Browser()
	os := p.OS()
	if os == "" {
		os = p.Platform()
	}
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	}
	return "Unknown device"
}

// List returns the user's live sessions, the current one first.
func (s *Sessions) List(ctx context.Context, sc mend.Scope, currentToken string) ([]ActiveSession, error) {
	var out []ActiveSession
	err := s.DB.SelectContext(ctx, &out, `
		SELECT us.id, us.created_at, us.last_seen, us.ip, us.user_agent, us.token_hash = $2 AS current
		FROM user_sessions us
		WHERE us.user_id = $1
		  AND (us.token_hash = $2 OR (`+liveSQL(3)+`
		       AND EXISTS (SELECT 1 FROM sessions s WHERE s.token = us.token_hash AND s.expiry > now())))
		ORDER BY us.token_hash = $2 DESC, us.last_seen DESC`, sc.UserID, TokenHash(currentToken), s.idleSeconds())
	if err != nil {
		return nil, fmt.Errorf("auth: list sessions: %w", err)
	}
	return out, nil
}

// endSQL deletes index rows (chosen by the WHERE clause given) and the scs
// rows they point to, in one statement, and counts them.
func endSQL(where string) string {
	return `
		WITH gone AS (DELETE FROM user_sessions us WHERE ` + where + ` RETURNING us.token_hash),
		     scs AS (DELETE FROM sessions WHERE token IN (SELECT token_hash FROM gone))
		SELECT count(*) FROM gone`
}

// EndIdle ends every session idle for IdleTimeout (index row and scs row)
// and says how many; the worker's prune runs it, so an idle session's data
// does not wait for its browser to come back or for its lifetime to end.
func (s *Sessions) EndIdle(ctx context.Context) (int, error) {
	if s.IdleTimeout <= 0 {
		return 0, nil
	}
	var n int
	if err := s.DB.GetContext(ctx, &n, endSQL(`NOT `+liveSQL(1)), s.idleSeconds()); err != nil {
		return 0, fmt.Errorf("auth: end idle sessions: %w", err)
	}
	return n, nil
}

// End ends one of the caller's other sessions, with its audit entry in the
// same transaction. Ending the current one is signing out, which is its own
// route.
func (s *Sessions) End(ctx context.Context, sc mend.Scope, id int64, currentToken string) error {
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, endSQL(`id = $1 AND user_id = $2 AND token_hash <> $3`), id, sc.UserID, TokenHash(currentToken)); err != nil {
			return fmt.Errorf("auth: end session: %w", err)
		}
		if n == 0 {
			return mend.NotFound("Session")
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "session.ended", ObjectType: "session", ObjectID: id})
	})
}

// EndOthers ends every session of the caller but the current one, with its
// audit entry in the same transaction, and says how many it ended.
func (s *Sessions) EndOthers(ctx context.Context, sc mend.Scope, currentToken string) (int, error) {
	var n int
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if n, err = endOthers(ctx, tx, sc.UserID, currentToken); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "sessions.ended_others", ObjectType: "user", ObjectID: sc.UserID})
	})
	return n, err
}

// endOthers ends every session of the user but the one with currentToken.
func endOthers(ctx context.Context, q sqlx.QueryerContext, userID int64, currentToken string) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, endSQL(`user_id = $1 AND token_hash <> $2`), userID, TokenHash(currentToken)); err != nil {
		return 0, fmt.Errorf("auth: end sessions: %w", err)
	}
	return n, nil
}

// EndAll ends every session of a user (disabled account, MFA reset, an
// admin's action). q may be the transaction of the change that calls for it.
func (s *Sessions) EndAll(ctx context.Context, q sqlx.QueryerContext, userID int64) (int, error) {
	if q == nil {
		q = s.DB
	}
	return EndAllSessions(ctx, q, userID)
}

// EndAllSessions ends every session of a user with q, the transaction of
// the change that calls for it.
func EndAllSessions(ctx context.Context, q sqlx.QueryerContext, userID int64) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, endSQL(`user_id = $1`), userID); err != nil {
		return 0, fmt.Errorf("auth: end all sessions: %w", err)
	}
	return n, nil
}

// EndStaffSessions is an admin ending every session of a staff member of
// their practice, with its audit entry in the same transaction. It returns
// the member's name and how many were ended.
func (s *Sessions) EndStaffSessions(ctx context.Context, sc mend.Scope, userID int64) (string, int, error) {
	var name string
	err := s.DB.GetContext(ctx, &name, `
		SELECT name FROM users WHERE id = $1 AND practice_id = $2 AND role IN ('admin', 'counselor')`, userID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, mend.NotFound("Staff member")
	}
	if err != nil {
		return "", 0, err
	}
	if userID == sc.UserID {
		return "", 0, mend.Errorf(mend.ECONFLICT, "To end your own sessions, use your account's sessions page.")
	}
	var n int
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if n, err = EndAllSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "sessions.ended_by_admin", ObjectType: "user", ObjectID: userID})
	})
	return name, n, err
}

// StaffSecurity is a staff member's row on the admin's security page.
type StaffSecurity struct {
	ID       int64        `db:"id"`
	Name     string       `db:"name"`
	Email    string       `db:"email"`
	Role     string       `db:"role"`
	Disabled bool         `db:"disabled"`
	MFA      bool         `db:"mfa"`
	Sessions int          `db:"sessions"`
	LastSeen sql.NullTime `db:"last_seen"`
}

// StaffSecurity lists the practice's staff with their MFA and sessions.
func (s *Sessions) StaffSecurity(ctx context.Context, sc mend.Scope) ([]StaffSecurity, error) {
	var out []StaffSecurity
	err := s.DB.SelectContext(ctx, &out, `
		SELECT u.id, u.name, u.email, u.role, u.disabled_at IS NOT NULL AS disabled,
		       EXISTS (SELECT 1 FROM user_mfa m WHERE m.user_id = u.id AND m.confirmed_at IS NOT NULL) AS mfa,
		       (SELECT count(*) FROM user_sessions us WHERE us.user_id = u.id AND `+liveSQL(2)+`
		          AND EXISTS (SELECT 1 FROM sessions x WHERE x.token = us.token_hash AND x.expiry > now())) AS sessions,
		       (SELECT max(us.last_seen) FROM user_sessions us WHERE us.user_id = u.id) AS last_seen
		FROM users u
		WHERE u.practice_id = $1 AND u.role IN ('admin', 'counselor')
		ORDER BY u.role, u.name, u.id`, sc.PracticeID, s.idleSeconds())
	if err != nil {
		return nil, fmt.Errorf("auth: staff security: %w", err)
	}
	return out, nil
}
