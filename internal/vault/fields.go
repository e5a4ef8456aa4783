package vault

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/jmoiron/sqlx/reflectx"
)

// The encrypted columns. They are values, never changed: each store names
// the column it seals and opens through one of these, so that the registry
// below and the stores cannot drift apart.
var (
	UserMFASecret = Field{Table: "user_mfa", Column: "secret", IDColumn: "user_id"}

	CheckinAnswers    = Field{Table: "checkins", Column: "answers", IDColumn: "id"}
	CheckinReflection = Field{Table: "checkins", Column: "reflection", IDColumn: "id"}
	CheckinSafetyNote = Field{Table: "checkins", Column: "safety_note", IDColumn: "id"}

	HistoryAnswers    = Field{Table: "checkin_history", Column: "answers", IDColumn: "id"}
	HistoryReflection = Field{Table: "checkin_history", Column: "reflection", IDColumn: "id"}
	HistorySafetyNote = Field{Table: "checkin_history", Column: "safety_note", IDColumn: "id"}

	AlertAckNote   = Field{Table: "safety_alerts", Column: "ack_note", IDColumn: "id"}
	AssignmentNote = Field{Table: "assignments", Column: "note", IDColumn: "id"}
	FeedbackBody   = Field{Table: "feedback", Column: "body", IDColumn: "id"}

	// MeasureAnswers are a measure response's item values (born sealed:
	// the table came after migration 00056).
	MeasureAnswers = Field{Table: "measure_responses", Column: "answers", IDColumn: "id"}

	// A reveal exercise's answers, the counselor's note and the partners'
	// replies (born sealed, issue 21).
	RevealAnswers = Field{Table: "reveal_answers", Column: "answers", IDColumn: "id"}
	RevealNote    = Field{Table: "reveals", Column: "note", IDColumn: "id"}
	RevealReply   = Field{Table: "reveal_replies", Column: "body", IDColumn: "id"}

	// InvitationLink is an open invitation's raw token, under the
	// practice's key, for staff to copy again while it is valid.
	InvitationLink = Field{Table: "user_tokens", Column: "link", IDColumn: "id"}
)

// Fields lists every encrypted column in Mend. Rotation re-encrypts exactly
// these; a column that holds ciphertext and is missing here would become
// unreadable when its old key is retired (TestEveryByteaColumnIsKnown in
// this package guards that). Every clinical column is sealed under its
// pair's data key, so purging a pair shreds all of them.
func Fields() []Field {
	return []Field{
		UserMFASecret,
		CheckinAnswers, CheckinReflection, CheckinSafetyNote,
		HistoryAnswers, HistoryReflection, HistorySafetyNote,
		AlertAckNote, AssignmentNote, FeedbackBody,
		MeasureAnswers,
		RevealAnswers, RevealNote, RevealReply,
		InvitationLink,
	}
}

// ErrNoVault: text had to be sealed or opened by code that was given no
// vault (no master key configured).
var ErrNoVault = errors.New("vault: no master key configured (MEND_MASTER_KEY) to encrypt or decrypt clinical text")

// Sealer seals values for one scope inside one transaction: the scope's
// active key is looked up (and locked FOR SHARE) once, not per value.
type Sealer struct {
	keyID int64
	aead  cipher.AEAD
}

// Sealer returns a sealer for scope s; q must be the transaction that
// writes the rows (the key stays locked against rotation until it ends).
func (v *Vault) Sealer(ctx context.Context, q sqlx.ExtContext, s Scope) (*Sealer, error) {
	if v == nil {
		return nil, ErrNoVault
	}
	id, a, err := v.activeKey(ctx, q, s)
	if err != nil {
		return nil, err
	}
	return &Sealer{keyID: id, aead: a}, nil
}

// Seal encrypts plaintext for row rowID of field f.
func (s *Sealer) Seal(f Field, rowID int64, plaintext []byte) ([]byte, error) {
	return sealWith(s.keyID, s.aead, f, rowID, plaintext)
}

// Text seals text for row rowID of f, or returns nil (SQL NULL) for empty
// text: an empty value needs no key, and a NULL tells a reader of the
// database nothing a ciphertext's length would not.
func (s *Sealer) Text(f Field, rowID int64, text string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	return s.Seal(f, rowID, []byte(text))
}

// SealText is Sealer.Text for a single value. A nil vault may "seal" empty
// text (there is nothing to encrypt), so background work that writes rows
// without text needs no master key.
func (v *Vault) SealText(ctx context.Context, q sqlx.ExtContext, s Scope, f Field, rowID int64, text string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	sl, err := v.Sealer(ctx, q, s)
	if err != nil {
		return nil, err
	}
	return sl.Text(f, rowID, text)
}

// OpenText opens what SealText or Sealer.Text made; NULL is empty text.
// q may be nil (the vault's own database).
func (v *Vault) OpenText(ctx context.Context, q sqlx.QueryerContext, f Field, rowID int64, ct []byte) (string, error) {
	if ct == nil {
		return "", nil
	}
	if v == nil {
		return "", ErrNoVault
	}
	b, err := v.Open(ctx, q, f, rowID, ct)
	return string(b), err
}

// sqlxTx gives a database/sql transaction the sqlx interface the vault's
// queries use (the migrations get a plain *sql.Tx from goose).
func sqlxTx(tx *sql.Tx) *sqlx.Tx {
	return &sqlx.Tx{Tx: tx, Mapper: reflectx.NewMapperFunc("db", strings.ToLower)}
}

// SealColumn seals one value during a migration (see db.Cipher): the row's
// pair key, or the practice key when pairID is 0.
func (v *Vault) SealColumn(ctx context.Context, tx *sql.Tx, practiceID, pairID int64, table, column, idColumn string, rowID int64, plaintext []byte) ([]byte, error) {
	f := Field{Table: table, Column: column, IDColumn: idColumn}
	return v.Seal(ctx, sqlxTx(tx), Scope{PracticeID: practiceID, PairID: pairID}, f, rowID, plaintext)
}

// OpenColumn opens one value during a migration (see db.Cipher).
func (v *Vault) OpenColumn(ctx context.Context, tx *sql.Tx, table, column, idColumn string, rowID int64, ciphertext []byte) ([]byte, error) {
	f := Field{Table: table, Column: column, IDColumn: idColumn}
	return v.Open(ctx, sqlxTx(tx), f, rowID, ciphertext)
}
