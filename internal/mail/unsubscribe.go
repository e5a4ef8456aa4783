package mail

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// UnsubscribeLinks signs the one-click unsubscribe links in reminders and
// checks them. A link carries its own proof: the practice and user ids,
// encrypted (one AES block, so the link does not show them, nor how many
// clients a practice has), and an HMAC-SHA256 of that block cut to 128
// bits, under keys derived from the master key. Nothing is stored per
// email: a row per reminder, which never expires, grew by millions a year
// in a large practice and cost the scheduler an insert per reminder. The
// keys are not in the database, so no link can be made from a dump of it
// (the messages in the email log hold their links, as the emails do). A
// link can do nothing but turn reminders off for its own user, and only
// while the account is active: an anonymised or disabled client's links
// lead nowhere. Links do not expire; those signed under a master key stop
// working once it is neither the current nor an old one
// (MEND_OLD_MASTER_KEYS), and the page then says how to turn reminders off
// after signing in.
//
// Links sent before these (random tokens, their SHA-256 in
// unsubscribe_tokens) are still honoured; no new rows are written there.
type UnsubscribeLinks struct {
	keys []linkKey // the first signs; all verify
}

type linkKey struct {
	ids cipher.Block // encrypts the 16 bytes of ids
	mac []byte       // signs the encrypted block
}

// unsubscribeKeyLabel separates these keys from every other use of the
// master key.
const unsubscribeKeyLabel = "mend unsubscribe link v1"

// NewUnsubscribeLinks derives the keys from the current master key and the
// old ones.
func NewUnsubscribeLinks(master []byte, old ...[]byte) (*UnsubscribeLinks, error) {
	if len(master) == 0 {
		return nil, errors.New("mail: unsubscribe links need the master key")
	}
	l := &UnsubscribeLinks{}
	for _, m := range append([][]byte{master}, old...) {
		k, err := hkdf.Key(sha256.New, m, nil, unsubscribeKeyLabel, 16+32)
		if err != nil {
			return nil, fmt.Errorf("mail: unsubscribe key: %w", err)
		}
		block, err := aes.NewCipher(k[:16])
		if err != nil {
			return nil, fmt.Errorf("mail: unsubscribe key: %w", err)
		}
		l.keys = append(l.keys, linkKey{ids: block, mac: k[16:]})
	}
	return l, nil
}

const (
	idsLen   = 16 // practice and user id, 8 bytes each: one AES block
	macLen   = 16
	tokenLen = idsLen + macLen
)

func (k linkKey) sign(sealed []byte) []byte {
	h := hmac.New(sha256.New, k.mac)
	h.Write(sealed)
	return h.Sum(nil)[:macLen]
}

// Token is the link's last path segment for the user.
func (l *UnsubscribeLinks) Token(practiceID, userID int64) string {
	ids := make([]byte, idsLen)
	binary.BigEndian.PutUint64(ids, uint64(practiceID))
	binary.BigEndian.PutUint64(ids[8:], uint64(userID))
	k := l.keys[0]
	b := make([]byte, idsLen, tokenLen)
	k.ids.Encrypt(b, ids)
	return base64.RawURLEncoding.EncodeToString(append(b, k.sign(b)...))
}

// tokenChars is a token's length in base64 without padding.
var tokenChars = base64.RawURLEncoding.EncodedLen(tokenLen)

// parse returns the ids of a token signed under one of the keys. Only the
// one spelling Token gives is accepted (strict base64, exact length).
func (l *UnsubscribeLinks) parse(token string) (practiceID, userID int64, ok bool) {
	if l == nil || len(token) != tokenChars {
		return 0, 0, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenLen {
		return 0, 0, false
	}
	for _, k := range l.keys {
		if hmac.Equal(b[idsLen:], k.sign(b[:idsLen])) {
			ids := make([]byte, idsLen)
			k.ids.Decrypt(ids, b[:idsLen])
			return int64(binary.BigEndian.Uint64(ids)), int64(binary.BigEndian.Uint64(ids[8:])), true
		}
	}
	return 0, 0, false
}

// hashToken is how unsubscribe_tokens keeps the links sent before
// UnsubscribeLinks.
func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Unsubscribes turns reminders off from a link in a reminder, without login.
type Unsubscribes struct {
	DB    *sqlx.DB
	Audit *audit.Log
	Links *UnsubscribeLinks
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

// errLinkGone is what a link that leads nowhere gets: unknown, signed
// under a key no longer configured, or for an account that is closed.
var errLinkGone = mend.Errorf(mend.ENOTFOUND,
	"This unsubscribe link no longer works. To stop reminder emails, sign in to Mend and turn them off in your settings.")

// Check resolves a token; an unknown one, or one whose account is disabled
// or anonymised, is ENOTFOUND.
func (u *Unsubscribes) Check(ctx context.Context, token string) (UnsubscribeInfo, error) {
	var info UnsubscribeInfo
	if token == "" || len(token) > 100 {
		return info, errLinkGone
	}
	const who = `
		SELECT u.id AS user_id, u.practice_id, u.name, p.name AS practice_name, u.reminders_enabled
		FROM users u JOIN practices p ON p.id = u.practice_id`
	var err error
	if practiceID, userID, ok := u.Links.parse(token); ok {
		err = u.DB.GetContext(ctx, &info, who+`
			WHERE u.id = $1 AND u.practice_id = $2 AND u.disabled_at IS NULL`, userID, practiceID)
	} else {
		err = u.DB.GetContext(ctx, &info, who+`
			JOIN unsubscribe_tokens t ON t.user_id = u.id AND t.practice_id = u.practice_id
			WHERE t.token_hash = $1 AND u.disabled_at IS NULL`, hashToken(token))
	}
	if err == sql.ErrNoRows {
		return info, errLinkGone
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
