// Package vault encrypts sensitive text at rest: AES-256-GCM under random
// per-scope data keys (one per pair for clinical text, one per practice for
// practice-wide secrets such as TOTP seeds), which are stored only wrapped
// under the master key from the environment (MEND_MASTER_KEY). A database
// dump without the master key reveals nothing; destroying a pair's data keys
// makes every ciphertext of that pair unreadable (crypto-shredding).
//
// A ciphertext carries the id of the data key that made it, so keys can be
// rotated while old ciphertexts stay readable (see Rotate), and it is bound
// to its row through AEAD additional data (table, column, row id): a value
// copied into another row or column fails to decrypt.
//
// Encrypted columns are bytea and are never searched or sorted on in SQL:
// pages sort and filter on plaintext metadata (dates, ids, flags) only.
// Every encrypted column must be listed in Fields, or key rotation would
// retire a key that still has data.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
)

// Ciphertext layout: format (1 byte) | data key id (8 bytes, big endian) |
// nonce (12 bytes) | GCM ciphertext and tag.
const (
	formatV1  byte = 1
	headerLen      = 1 + 8
	nonceLen       = 12
	// KeyLen is the length of the master key and of data keys: AES-256.
	KeyLen = 32
)

// Errors a caller may want to tell apart.
var (
	// ErrDecrypt: the ciphertext was altered, belongs to another row or
	// column, or was made under a different master key.
	ErrDecrypt = errors.New("vault: ciphertext does not decrypt for this row")
	// ErrKeyDestroyed: the data key is gone (its pair was purged).
	ErrKeyDestroyed = errors.New("vault: data key destroyed")
)

// Field names an encrypted column and the column that identifies its row.
type Field struct {
	Table    string
	Column   string
	IDColumn string
}

func (f Field) String() string { return f.Table + "." + f.Column }

// Scope chooses the data key: a pair's, or with PairID 0 the practice's.
type Scope struct {
	PracticeID int64
	PairID     int64
}

// PairScope is the scope of a pair's clinical text.
func PairScope(practiceID, pairID int64) Scope { return Scope{PracticeID: practiceID, PairID: pairID} }

// PracticeScope is the scope of practice-wide secrets.
func PracticeScope(practiceID int64) Scope { return Scope{PracticeID: practiceID} }

func (s Scope) pair() sql.NullInt64 { return sql.NullInt64{Int64: s.PairID, Valid: s.PairID != 0} }

// Vault seals and opens values. It is safe for concurrent use.
type Vault struct {
	db      *sqlx.DB
	current masterKey
	masters map[string]cipher.AEAD // by hex master id, the current one included

	mu    sync.Mutex
	cache map[int64]cachedKey

	stmts db.Statements // the active key's lookup, prepared: every sealing write runs it
}

type masterKey struct {
	id   []byte
	aead cipher.AEAD
}

type cachedKey struct {
	aead    cipher.AEAD
	expires time.Time
}

// Unwrapped data keys are kept in memory briefly: a purge on another replica
// must not leave a usable key here for long.
const (
	cacheTTL  = 5 * time.Minute
	cacheSize = 4096
)

// ParseMasterKey decodes a base64 (standard or URL alphabet, padded or not)
// 32-byte key.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeyLen {
				return nil, fmt.Errorf("the key is %d bytes; it must be %d bytes, base64-encoded", len(b), KeyLen)
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is not valid base64")
}

// GenerateMasterKey returns a new random master key, base64-encoded.
func GenerateMasterKey() (string, error) {
	b := make([]byte, KeyLen)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// MasterID is the fingerprint stored beside each wrapped data key: it names
// the master key without revealing it.
func MasterID(key []byte) []byte {
	h := sha256.Sum256(append([]byte("mend master key id\x00"), key...))
	return h[:8]
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// New returns a vault whose data keys are wrapped under current; old master
// keys only unwrap (until `mend keys rotate` has rewrapped everything).
func New(d *sqlx.DB, current []byte, old ...[]byte) (*Vault, error) {
	if len(current) != KeyLen {
		return nil, fmt.Errorf("vault: master key must be %d bytes", KeyLen)
	}
	v := &Vault{db: d, masters: map[string]cipher.AEAD{}, cache: map[int64]cachedKey{}}
	for i, k := range append([][]byte{current}, old...) {
		if len(k) != KeyLen {
			return nil, fmt.Errorf("vault: old master key %d must be %d bytes", i, KeyLen)
		}
		a, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		id := MasterID(k)
		if i == 0 {
			v.current = masterKey{id: id, aead: a}
		}
		if _, dup := v.masters[hex.EncodeToString(id)]; !dup {
			v.masters[hex.EncodeToString(id)] = a
		}
	}
	return v, nil
}

// DB is the database the vault keeps its keys in.
func (v *Vault) DB() *sqlx.DB { return v.db }

// additionalData binds a ciphertext to its row, column and data key.
func additionalData(f Field, rowID int64, header []byte) []byte {
	ad := make([]byte, 0, 64)
	ad = append(ad, "mend.v1\x00"...)
	ad = append(ad, f.Table...)
	ad = append(ad, 0)
	ad = append(ad, f.Column...)
	ad = append(ad, 0)
	ad = strconv.AppendInt(ad, rowID, 10)
	ad = append(ad, 0)
	return append(ad, header...)
}

func wrapAD(id int64, s Scope) []byte {
	return fmt.Appendf(nil, "mend.datakey.v1\x00%d\x00%d\x00%d", id, s.PracticeID, s.PairID)
}

// Seal encrypts plaintext for row rowID of field f under the scope's active
// data key, creating the key on first use. Call it with the transaction that
// writes the row: the active key is read FOR SHARE, so a rotation waits for
// the write to commit and never retires a key that is being written with.
func (v *Vault) Seal(ctx context.Context, q sqlx.ExtContext, s Scope, f Field, rowID int64, plaintext []byte) ([]byte, error) {
	id, a, err := v.activeKey(ctx, q, s)
	if err != nil {
		return nil, err
	}
	return sealWith(id, a, f, rowID, plaintext)
}

// SealString is Seal for text.
func (v *Vault) SealString(ctx context.Context, q sqlx.ExtContext, s Scope, f Field, rowID int64, plaintext string) ([]byte, error) {
	return v.Seal(ctx, q, s, f, rowID, []byte(plaintext))
}

func sealWith(keyID int64, a cipher.AEAD, f Field, rowID int64, plaintext []byte) ([]byte, error) {
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+a.Overhead())
	out[0] = formatV1
	binary.BigEndian.PutUint64(out[1:headerLen], uint64(keyID))
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return a.Seal(out, out[headerLen:], plaintext, additionalData(f, rowID, out[:headerLen])), nil
}

// KeyID returns the id of the data key a ciphertext was made under.
func KeyID(ct []byte) (int64, error) {
	if len(ct) < headerLen+nonceLen || ct[0] != formatV1 {
		return 0, ErrDecrypt
	}
	return int64(binary.BigEndian.Uint64(ct[1:headerLen])), nil
}

// Open decrypts a ciphertext read from row rowID of field f.
func (v *Vault) Open(ctx context.Context, q sqlx.QueryerContext, f Field, rowID int64, ct []byte) ([]byte, error) {
	id, err := KeyID(ct)
	if err != nil {
		return nil, err
	}
	a, err := v.keyByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	return openWith(a, f, rowID, ct)
}

// OpenString is Open for text.
func (v *Vault) OpenString(ctx context.Context, q sqlx.QueryerContext, f Field, rowID int64, ct []byte) (string, error) {
	b, err := v.Open(ctx, q, f, rowID, ct)
	return string(b), err
}

func openWith(a cipher.AEAD, f Field, rowID int64, ct []byte) ([]byte, error) {
	pt, err := a.Open(nil, ct[headerLen:headerLen+nonceLen], ct[headerLen+nonceLen:], additionalData(f, rowID, ct[:headerLen]))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

type keyRow struct {
	ID         int64         `db:"id"`
	PracticeID int64         `db:"practice_id"`
	PairID     sql.NullInt64 `db:"pair_id"`
	Wrapped    []byte        `db:"wrapped"`
	MasterID   []byte        `db:"master_id"`
}

func (k keyRow) scope() Scope { return Scope{PracticeID: k.PracticeID, PairID: k.PairID.Int64} }

const keyColumns = `id, practice_id, pair_id, wrapped, master_id`

// activeKey returns the scope's active data key, creating it when the scope
// has none. Concurrent first writes race on the unique index of active keys;
// the loser reads the winner's key.
func (v *Vault) activeKey(ctx context.Context, q sqlx.ExtContext, s Scope) (int64, cipher.AEAD, error) {
	if s.PracticeID == 0 {
		return 0, nil, errors.New("vault: scope without a practice")
	}
	for range 2 {
		var k keyRow
		err := v.stmts.On(v.db, q).Get(ctx, &k, `SELECT `+keyColumns+` FROM data_keys
			WHERE practice_id = $1 AND pair_id IS NOT DISTINCT FROM $2 AND active FOR SHARE`, s.PracticeID, s.pair())
		if err == nil {
			a, err := v.unwrapCached(k)
			return k.ID, a, err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, nil, fmt.Errorf("vault: active key: %w", err)
		}
		if err := v.createKey(ctx, q, s); err != nil {
			return 0, nil, err
		}
	}
	return 0, nil, errors.New("vault: could not create a data key")
}

// createKey inserts a new active data key for s (version = latest + 1). A
// concurrent creation makes this a no-op.
func (v *Vault) createKey(ctx context.Context, q sqlx.ExtContext, s Scope) error {
	var id int64
	if err := sqlx.GetContext(ctx, q, &id, `SELECT nextval(pg_get_serial_sequence('data_keys', 'id'))`); err != nil {
		return fmt.Errorf("vault: key id: %w", err)
	}
	wrapped, err := v.newWrappedKey(id, s)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `
		INSERT INTO data_keys (id, practice_id, pair_id, version, wrapped, master_id)
		VALUES ($1, $2, $3, coalesce((SELECT max(version) FROM data_keys
		                              WHERE practice_id = $2 AND pair_id IS NOT DISTINCT FROM $3), 0) + 1, $4, $5)
		ON CONFLICT DO NOTHING`, id, s.PracticeID, s.pair(), wrapped, v.current.id)
	if err != nil {
		return fmt.Errorf("vault: create key: %w", err)
	}
	return nil
}

// newWrappedKey makes a random data key and wraps it under the current
// master key, bound to its id and scope.
func (v *Vault) newWrappedKey(id int64, s Scope) ([]byte, error) {
	key := make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("vault: key: %w", err)
	}
	return v.wrap(id, s, key)
}

func (v *Vault) wrap(id int64, s Scope, key []byte) ([]byte, error) {
	out := make([]byte, nonceLen, nonceLen+len(key)+v.current.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return v.current.aead.Seal(out, out, key, wrapAD(id, s)), nil
}

func (v *Vault) unwrap(k keyRow) ([]byte, error) {
	m, ok := v.masters[hex.EncodeToString(k.MasterID)]
	if !ok {
		return nil, fmt.Errorf("vault: data key %d is wrapped under a master key that is not configured (MEND_MASTER_KEY / MEND_OLD_MASTER_KEYS)", k.ID)
	}
	if len(k.Wrapped) < nonceLen {
		return nil, fmt.Errorf("vault: data key %d is damaged", k.ID)
	}
	key, err := m.Open(nil, k.Wrapped[:nonceLen], k.Wrapped[nonceLen:], wrapAD(k.ID, k.scope()))
	if err != nil {
		return nil, fmt.Errorf("vault: data key %d does not unwrap", k.ID)
	}
	return key, nil
}

func (v *Vault) unwrapCached(k keyRow) (cipher.AEAD, error) {
	now := time.Now()
	v.mu.Lock()
	c, ok := v.cache[k.ID]
	v.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.aead, nil
	}
	key, err := v.unwrap(k)
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.cache) >= cacheSize {
		clear(v.cache)
	}
	v.cache[k.ID] = cachedKey{aead: a, expires: now.Add(cacheTTL)}
	v.mu.Unlock()
	return a, nil
}

func (v *Vault) keyByID(ctx context.Context, q sqlx.QueryerContext, id int64) (cipher.AEAD, error) {
	v.mu.Lock()
	c, ok := v.cache[id]
	v.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.aead, nil
	}
	if q == nil {
		q = v.db
	}
	var k keyRow
	err := sqlx.GetContext(ctx, q, &k, `SELECT `+keyColumns+` FROM data_keys WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrKeyDestroyed
	}
	if err != nil {
		return nil, fmt.Errorf("vault: load key: %w", err)
	}
	return v.unwrapCached(k)
}

// forget drops keys from the in-memory cache (after they are destroyed).
func (v *Vault) forget(ids ...int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range ids {
		delete(v.cache, id)
	}
}

// DestroyPairKeys deletes every data key of a pair (crypto-shredding): what
// was encrypted under them can no longer be read, from the database or from
// any backup taken before. q should be the purge's transaction. It returns
// how many keys were destroyed.
func (v *Vault) DestroyPairKeys(ctx context.Context, q sqlx.QueryerContext, practiceID, pairID int64) (int, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, q, &ids, `
		DELETE FROM data_keys WHERE practice_id = $1 AND pair_id = $2 RETURNING id`, practiceID, pairID); err != nil {
		return 0, fmt.Errorf("vault: destroy keys: %w", err)
	}
	v.forget(ids...)
	return len(ids), nil
}
