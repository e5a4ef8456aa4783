package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// TOTP parameters: what every authenticator app understands (RFC 6238
// defaults). Skew 1 accepts the previous and next 30-second step, for
// clocks that drift and codes typed just as they change.
const (
	totpPeriod   = 30
	totpSkew     = 1
	totpDigits   = otp.DigitsSix
	secretSize   = 20 // bytes: 160 bits, as RFC 4226 recommends
	qrSize       = 240
	recoveryN    = 10
	recoveryLen  = 16
	recoveryABC  = "abcdefghjkmnpqrstuvwxyz23456789" // no i, l, o, 0, 1: nothing to misread
	mfaThrottleK = "mfa:"
)

// mfaSecretField is where TOTP secrets live, encrypted under the practice's
// data key and bound to the user's row.
var mfaSecretField = vault.Field{Table: "user_mfa", Column: "secret", IDColumn: "user_id"}

// MFA manages TOTP second factors and recovery codes.
type MFA struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Throttle   Throttle
	Issuer     string // shown in authenticator apps; "Mend" when empty
	mend.Clock        // Now: the clock; tests set it (nil: time.Now)
}

func (m *MFA) issuer() string {
	if m.Issuer == "" {
		return "Mend"
	}
	return m.Issuer
}

// MFAStatus is what a person's security page shows about their second factor.
type MFAStatus struct {
	Enabled      bool         `db:"enabled"`
	EnabledAt    sql.NullTime `db:"enabled_at"`
	RecoveryLeft int          `db:"recovery_left"`
	// Required: the practice requires a second factor of this person.
	Required bool `db:"required"`
}

// Status returns the caller's MFA status.
func (m *MFA) Status(ctx context.Context, sc mend.Scope) (MFAStatus, error) {
	var st MFAStatus
	err := m.DB.GetContext(ctx, &st, `
		SELECT mf.confirmed_at IS NOT NULL AS enabled, mf.confirmed_at AS enabled_at,
		       (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS recovery_left,
		       `+requiredSQL+` AS required
		FROM users u
		JOIN practices p ON p.id = u.practice_id
		LEFT JOIN user_mfa mf ON mf.user_id = u.id AND mf.confirmed_at IS NOT NULL
		WHERE u.id = $1 AND u.practice_id = $2`, sc.UserID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return MFAStatus{}, mend.NotFound("Account")
	}
	if err != nil {
		return MFAStatus{}, fmt.Errorf("auth: mfa status: %w", err)
	}
	return st, nil
}

// requiredSQL is whether users u of practice p must have a second factor:
// every admin (ASVS 4.0.3 2.2.x, issue 17 item 14), and counselors where
// the practice requires it (new practices do, by default).
const requiredSQL = `(u.role = 'admin' OR (u.role = 'counselor' AND p.mfa_required))`

// Enrolment is what the enrolment page shows: the QR code an app scans, and
// the same secret as text for typing in by hand.
type Enrolment struct {
	Secret  string // base32, in groups of four
	URL     string // otpauth:// URL
	QRCode  []byte // PNG
	Account string
}

// BeginEnrolment makes a new TOTP secret for the caller and returns it to
// show. Every enrolment attempt (each time the set-up page is opened) gets
// a secret of its own, replacing any earlier unconfirmed one: a secret
// someone saw once on this page is never the one the owner confirms later.
// ECONFLICT when MFA is already on.
func (m *MFA) BeginEnrolment(ctx context.Context, sc mend.Scope) (Enrolment, error) {
	raw := make([]byte, secretSize)
	if _, err := rand.Read(raw); err != nil {
		return Enrolment{}, err
	}
	var stored int64
	err := db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		ct, err := m.Vault.Seal(ctx, tx, vault.PracticeScope(sc.PracticeID), mfaSecretField, sc.UserID, raw)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `
			INSERT INTO user_mfa (user_id, practice_id, secret) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, created_at = now()
			WHERE user_mfa.confirmed_at IS NULL`, sc.UserID, sc.PracticeID, ct)
		if err != nil {
			return err
		}
		stored, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("auth: begin enrolment: %w", err)
	}
	if stored == 0 {
		return Enrolment{}, errMFAOn
	}
	return m.enrolment(sc, raw)
}

// PendingEnrolment shows the caller's unconfirmed secret again: the page
// after a mistyped code keeps the secret the person just scanned. Without
// one it begins a new enrolment.
func (m *MFA) PendingEnrolment(ctx context.Context, sc mend.Scope) (Enrolment, error) {
	raw, confirmed, found, err := m.secret(ctx, m.DB, sc.UserID)
	switch {
	case err != nil:
		return Enrolment{}, err
	case confirmed:
		return Enrolment{}, errMFAOn
	case !found:
		return m.BeginEnrolment(ctx, sc)
	}
	return m.enrolment(sc, raw)
}

var errMFAOn = mend.Errorf(mend.ECONFLICT, "Two-step sign-in is already on for your account.")

// enrolment is the QR code and text of a secret for sc's app.
func (m *MFA) enrolment(sc mend.Scope, raw []byte) (Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: m.issuer(), AccountName: sc.Email, Period: totpPeriod, Digits: totpDigits,
		Algorithm: otp.AlgorithmSHA1, Secret: raw,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("auth: totp key: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return Enrolment{}, fmt.Errorf("auth: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrolment{}, fmt.Errorf("auth: qr png: %w", err)
	}
	return Enrolment{Secret: groups(key.Secret(), 4), URL: key.URL(), QRCode: buf.Bytes(), Account: sc.Email}, nil
}

func groups(s string, n int) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%n == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// secret reads and decrypts a user's TOTP secret.
func (m *MFA) secret(ctx context.Context, q sqlx.QueryerContext, userID int64) (raw []byte, confirmed, found bool, err error) {
	var row struct {
		Secret    []byte `db:"secret"`
		Confirmed bool   `db:"confirmed"`
	}
	err = sqlx.GetContext(ctx, q, &row, `SELECT secret, confirmed_at IS NOT NULL AS confirmed FROM user_mfa WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("auth: load mfa: %w", err)
	}
	raw, err = m.Vault.Open(ctx, q, mfaSecretField, userID, row.Secret)
	if err != nil {
		return nil, false, false, fmt.Errorf("auth: mfa secret: %w", err)
	}
	return raw, row.Confirmed, true, nil
}

// Errors people see on the code forms.
var (
	errCodeWrong = mend.FieldErrors{"code": "That code is not right. Type the 6-digit code your app shows now."}.Err()
	errCodeUsed  = mend.FieldErrors{"code": "That code has already been used. Wait for the next code in your app and type it."}.Err()
	errRecovery  = mend.FieldErrors{"code": "That recovery code is not right, or it has been used already."}.Err()
)

// matchStep returns the TOTP time step whose code is code, within the skew.
func matchStep(raw []byte, code string, now time.Time) (int64, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	secret := b32(raw)
	step := now.Unix() / totpPeriod
	for _, s := range []int64{step, step - 1, step + 1}[:1+2*totpSkew] {
		ok, err := hotp.ValidateCustom(code, uint64(s), secret, hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return s, true
		}
	}
	return 0, false
}

// b32 is how authenticator apps and the otp library spell a secret.
func b32(raw []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
}

// CodeAt returns the TOTP code for a base32 secret at t (for tests and the
// browser test, which play the authenticator app).
func CodeAt(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), t, totp.ValidateOpts{
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
}

// ConfirmEnrolment turns MFA on when code matches the pending secret, and
// returns ten recovery codes to show once. The step used is recorded, so the
// same code cannot then complete a sign-in.
func (m *MFA) ConfirmEnrolment(ctx context.Context, sc mend.Scope, code string) ([]string, error) {
	r, err := m.reserve(ctx, sc.UserID)
	if err != nil {
		return nil, err
	}
	raw, confirmed, found, err := m.secret(ctx, m.DB, sc.UserID)
	if err != nil {
		return nil, err
	}
	if confirmed {
		return nil, m.notAGuess(ctx, r, errMFAOn)
	}
	if !found {
		return nil, m.notAGuess(ctx, r, mend.FieldErrors{"code": "Scan the QR code below with your app first, then type the code it shows."}.Err())
	}
	step, ok := matchStep(raw, code, m.Clock.Time())
	if !ok {
		return nil, errCodeWrong
	}
	var codes []string
	err = db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE user_mfa SET confirmed_at = now(), last_step = $2, last_used_at = now()
			WHERE user_id = $1 AND confirmed_at IS NULL`, sc.UserID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errMFAOn
		}
		codes, err = replaceRecoveryCodes(ctx, tx, sc.UserID)
		if err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "mfa.enrolled", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
			return err
		}
		return m.passed(ctx, tx, r, sc.UserID)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks a sign-in code. A code is accepted once: the UPDATE only
// succeeds for a time step later than the last one accepted, and two
// concurrent requests with the same code serialise on the row, so the
// second finds the step taken.
func (m *MFA) Verify(ctx context.Context, sc mend.Scope, code string) error {
	r, err := m.reserve(ctx, sc.UserID)
	if err != nil {
		return err
	}
	raw, confirmed, _, err := m.secret(ctx, m.DB, sc.UserID)
	if err != nil {
		return err
	}
	if !confirmed {
		return m.notAGuess(ctx, r, mend.Errorf(mend.ECONFLICT, "Two-step sign-in is not set up for your account."))
	}
	step, ok := matchStep(raw, code, m.Clock.Time())
	if !ok {
		return errCodeWrong
	}
	res, err := m.DB.ExecContext(ctx, `
		UPDATE user_mfa SET last_step = $2, last_used_at = now()
		WHERE user_id = $1 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)`, sc.UserID, step)
	if err != nil {
		return fmt.Errorf("auth: record mfa step: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errCodeUsed
	}
	return m.passed(ctx, nil, r, sc.UserID)
}

// UseRecoveryCode signs in with a recovery code, which then stops working.
// It returns how many codes are left.
func (m *MFA) UseRecoveryCode(ctx context.Context, sc mend.Scope, code string) (int, error) {
	r, err := m.reserve(ctx, sc.UserID)
	if err != nil {
		return 0, err
	}
	var left int
	err = m.DB.GetContext(ctx, &left, `
		WITH used AS (
			UPDATE mfa_recovery_codes r SET used_at = now()
			WHERE r.user_id = $1 AND r.code_hash = $2 AND r.used_at IS NULL
			  AND EXISTS (SELECT 1 FROM user_mfa m WHERE m.user_id = $1 AND m.confirmed_at IS NOT NULL)
			RETURNING r.id)
		SELECT CASE WHEN EXISTS (SELECT 1 FROM used)
		            THEN (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL) - 1
		            ELSE -1 END`, sc.UserID, recoveryHash(sc.UserID, code))
	if err != nil {
		return 0, fmt.Errorf("auth: recovery code: %w", err)
	}
	if left < 0 {
		return 0, errRecovery
	}
	return left, m.passed(ctx, nil, r, sc.UserID)
}

// RegenerateRecoveryCodes replaces the caller's recovery codes after a
// valid current code; the old ones stop working.
func (m *MFA) RegenerateRecoveryCodes(ctx context.Context, sc mend.Scope, code string) ([]string, error) {
	if err := m.Verify(ctx, sc, code); err != nil {
		return nil, err
	}
	var codes []string
	err := db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		var err error
		if codes, err = replaceRecoveryCodes(ctx, tx, sc.UserID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "mfa.recovery_codes_replaced", ObjectType: "user", ObjectID: sc.UserID})
	})
	return codes, err
}

// Disable turns the caller's MFA off after a valid current code. Staff of a
// practice that requires MFA cannot turn it off.
func (m *MFA) Disable(ctx context.Context, sc mend.Scope, code string) error {
	st, err := m.Status(ctx, sc)
	if err != nil {
		return err
	}
	if st.Required && sc.Role == mend.RoleAdmin {
		return mend.Errorf(mend.ECONFLICT, "Admins must keep two-step sign-in on, so it cannot be turned off.")
	}
	if st.Required {
		return mend.Errorf(mend.ECONFLICT, "Your practice requires two-step sign-in for staff, so it cannot be turned off.")
	}
	if err := m.Verify(ctx, sc, code); err != nil {
		return err
	}
	return db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		if err := m.remove(ctx, tx, sc.UserID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "mfa.disabled", ObjectType: "user", ObjectID: sc.UserID})
	})
}

func (m *MFA) remove(ctx context.Context, q sqlx.ExecerContext, userID int64) error {
	_, err := q.ExecContext(ctx, `
		WITH codes AS (DELETE FROM mfa_recovery_codes WHERE user_id = $1)
		DELETE FROM user_mfa WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("auth: remove mfa: %w", err)
	}
	return nil
}

// Reset removes a staff member's MFA (an admin's action, e.g. after a lost
// phone): they set it up again at their next sign-in if the practice
// requires it. It returns the member's name. In the same transaction the
// member's sessions end, so that none that only passed the password lives
// on, and the audit entry is written.
func (m *MFA) Reset(ctx context.Context, sc mend.Scope, userID int64) (string, error) {
	var name string
	err := m.DB.GetContext(ctx, &name, `
		SELECT name FROM users WHERE id = $1 AND practice_id = $2 AND role IN ('admin', 'counselor')`, userID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", mend.NotFound("Staff member")
	}
	if err != nil {
		return "", err
	}
	if userID == sc.UserID {
		return "", mend.Errorf(mend.ECONFLICT, "You cannot reset your own two-step sign-in here; use your account's security page.")
	}
	var has bool
	if err := m.DB.GetContext(ctx, &has, `SELECT EXISTS (SELECT 1 FROM user_mfa WHERE user_id = $1)`, userID); err != nil {
		return "", err
	}
	if !has {
		return "", mend.Errorf(mend.ECONFLICT, "%s has not set up two-step sign-in.", name)
	}
	return name, db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		if err := m.remove(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := EndAllSessions(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "mfa.reset", ObjectType: "user", ObjectID: userID})
	})
}

// replaceRecoveryCodes deletes a user's recovery codes and makes ten new
// ones, returned in the clear once and stored hashed.
func replaceRecoveryCodes(ctx context.Context, tx *sqlx.Tx, userID int64) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryN)
	for i := range codes {
		c, err := newRecoveryCode()
		if err != nil {
			return nil, err
		}
		codes[i] = c
		if _, err := tx.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)`,
			userID, recoveryHash(userID, c)); err != nil {
			return nil, fmt.Errorf("auth: store recovery code: %w", err)
		}
	}
	return codes, nil
}

// newRecoveryCode is 16 characters from a 31-letter alphabet (79 bits),
// shown as four groups of four.
func newRecoveryCode() (string, error) {
	var b strings.Builder
	max := big.NewInt(int64(len(recoveryABC)))
	for i := range recoveryLen {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b.WriteByte(recoveryABC[n.Int64()])
	}
	return b.String(), nil
}

// recoveryHash is the stored form of a recovery code: typed case, spaces and
// dashes do not matter. The user id salts it.
func recoveryHash(userID int64, code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r == ' ' || r == '-':
			return -1
		}
		return r
	}, strings.TrimSpace(code))
	h := sha256.Sum256([]byte("mend recovery code\x00" + strconv.FormatInt(userID, 10) + "\x00" + norm))
	return h[:]
}

func mfaKey(userID int64) string { return mfaThrottleK + strconv.FormatInt(userID, 10) }

// reserve takes one of the account's guesses at a code (TOTP or recovery)
// before the code is checked; a wrong code keeps it as its failure. See
// attempts.reserve for why this cannot be raced.
func (m *MFA) reserve(ctx context.Context, userID int64) (reservation, error) {
	r, ok, err := (&attempts{DB: m.DB}).reserve(ctx, []limit{{Key: mfaKey(userID), Max: m.Throttle.PerFactor, Window: m.Throttle.Window}})
	if err != nil {
		return reservation{}, err
	}
	if !ok {
		return reservation{}, mend.Errorf(mend.ETHROTTLED, "Too many wrong codes. Please wait %d minutes and try again.", int(m.Throttle.Window.Minutes()))
	}
	return r, nil
}

// passed releases a right code's reservation and forgets the account's
// earlier wrong codes.
func (m *MFA) passed(ctx context.Context, q sqlx.ExecerContext, r reservation, userID int64) error {
	return (&attempts{DB: m.DB}).release(ctx, q, r, mfaKey(userID))
}

// notAGuess releases the reservation of an attempt refused before any code
// was compared, and returns err.
func (m *MFA) notAGuess(ctx context.Context, r reservation, err error) error {
	if rerr := (&attempts{DB: m.DB}).release(ctx, nil, r); rerr != nil {
		return rerr
	}
	return err
}

// EnrolKnownFactor turns MFA on for a user with a given base32 secret, in
// tx, unless they have a second factor already. It is for the demo
// practice only, whose admins must have a second factor (every admin must)
// and whose secret is published so that anyone trying the demo can sign in.
func EnrolKnownFactor(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, practiceID, userID int64, secret string) error {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(secret, " ", ""))
	if err != nil {
		return fmt.Errorf("auth: known factor: %w", err)
	}
	ct, err := v.Seal(ctx, tx, vault.PracticeScope(practiceID), mfaSecretField, userID, raw)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO user_mfa (user_id, practice_id, secret, confirmed_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_id) DO NOTHING`, userID, practiceID, ct)
	return err
}

// MFARequired reports whether the caller's practice requires MFA of staff.
func (m *MFA) MFARequired(ctx context.Context, sc mend.Scope) (bool, error) {
	var req bool
	err := m.DB.GetContext(ctx, &req, `SELECT mfa_required FROM practices WHERE id = $1`, sc.PracticeID)
	return req, err
}

// SetMFARequired changes the practice setting (admins only, by policy),
// with its audit entry in the same transaction.
func (m *MFA) SetMFARequired(ctx context.Context, sc mend.Scope, required bool) error {
	action := "practice.mfa_optional"
	if required {
		action = "practice.mfa_required"
	}
	return db.InTx(ctx, m.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE practices SET mfa_required = $2 WHERE id = $1`, sc.PracticeID, required); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: action, ObjectType: "practice", ObjectID: sc.PracticeID})
	})
}
