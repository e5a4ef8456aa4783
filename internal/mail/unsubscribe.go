package mail

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Unsubscribe links are random single-purpose tokens, one per reminder
// email, of which only a SHA-256 is stored: a database dump holds no
// working link, and a token can do nothing but turn reminders off for its
// own user. They do not expire: an old reminder's link must still work.

func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Unsubscribes turns reminders off from a link in a reminder, without login.
type Unsubscribes struct {
	DB    *sqlx.DB
	Audit *audit.Log
}

// UnsubscribeInfo is what the unsubscribe page may say about the link's
// owner: nothing beyond their own first name and setting.
type UnsubscribeInfo struct {
	UserID           int64  `db:"user_id"`
	PracticeID       int64  `db:"practice_id"`
	Name             string `db:"name"`
	PracticeName     string `db:"practice_name"`
	RemindersEnabled bool   `db:"reminders_enabled"`
}

// Check resolves a token; an unknown token is mend.NotFound.
func (u *Unsubscribes) Check(ctx context.Context, token string) (UnsubscribeInfo, error) {
	var info UnsubscribeInfo
	if token == "" || len(token) > 100 {
		return info, mend.NotFound("Unsubscribe link")
	}
	err := u.DB.GetContext(ctx, &info, `
		SELECT t.user_id, t.practice_id, u.name, p.name AS practice_name, u.reminders_enabled
		FROM unsubscribe_tokens t
		JOIN users u ON u.id = t.user_id AND u.practice_id = t.practice_id
		JOIN practices p ON p.id = t.practice_id
		WHERE t.token_hash = $1`, hashToken(token))
	if err == sql.ErrNoRows {
		return info, mend.NotFound("Unsubscribe link")
	}
	if err != nil {
		return info, fmt.Errorf("mail: unsubscribe check: %w", err)
	}
	return info, nil
}

// Apply turns reminders off for the token's user. It is idempotent: a
// second click (or a mail provider's one-click POST after the person's own)
// changes nothing and succeeds. ip goes to the audit log.
func (u *Unsubscribes) Apply(ctx context.Context, token, ip string) (UnsubscribeInfo, error) {
	info, err := u.Check(ctx, token)
	if err != nil {
		return info, err
	}
	err = db.InTx(ctx, u.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE users SET reminders_enabled = false WHERE id = $1 AND practice_id = $2`,
			info.UserID, info.PracticeID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE unsubscribe_tokens SET used_at = coalesce(used_at, now()) WHERE token_hash = $1`,
			hashToken(token)); err != nil {
			return err
		}
		// The person is not signed in: the entry names them as the object.
		return u.Audit.Record(ctx, tx, mend.Scope{PracticeID: info.PracticeID, IP: ip}, audit.Entry{
			Action: "reminders.unsubscribe", ObjectType: "user", ObjectID: info.UserID, ClientID: info.UserID,
		})
	})
	if err != nil {
		return info, fmt.Errorf("mail: unsubscribe: %w", err)
	}
	info.RemindersEnabled = false
	return info, nil
}
