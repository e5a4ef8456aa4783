package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

var ctx = context.Background()

// testField is a table that exists only in these tests' databases.
var testField = Field{Table: "vault_test_notes", Column: "body", IDColumn: "id"}

type fixture struct {
	db       *sqlx.DB
	practice int64
	pairs    []int64
}

func setup(t *testing.T) fixture {
	t.Helper()
	t.Parallel()
	d, _ := dbtest.New(t)
	f := fixture{db: d}
	must(t, d.Get(&f.practice, `INSERT INTO practices (name, slug) VALUES ('Test', 'test.example') RETURNING id`))
	for i := range 2 {
		var id int64
		must(t, d.Get(&id, `INSERT INTO pairs (practice_id, label, kind) VALUES ($1, $2, 'romantic') RETURNING id`, f.practice, fmt.Sprint("P", i)))
		f.pairs = append(f.pairs, id)
	}
	_, err := d.Exec(`CREATE TABLE vault_test_notes (
		id bigserial PRIMARY KEY, practice_id bigint NOT NULL, pair_id bigint, body bytea)`)
	must(t, err)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func key(t *testing.T) []byte {
	t.Helper()
	s, err := GenerateMasterKey()
	must(t, err)
	k, err := ParseMasterKey(s)
	must(t, err)
	return k
}

// insertNote stores plaintext in a new row of the test table, sealed for
// the row's own id, as a store would.
func insertNote(t *testing.T, v *Vault, f fixture, pair int64, text string) int64 {
	t.Helper()
	var id int64
	must(t, f.db.Get(&id, `INSERT INTO vault_test_notes (practice_id, pair_id) VALUES ($1, $2) RETURNING id`, f.practice, nullable(pair)))
	scope := PairScope(f.practice, pair)
	if pair == 0 {
		scope = PracticeScope(f.practice)
	}
	ct, err := v.SealString(ctx, f.db, scope, testField, id, text)
	must(t, err)
	_, err = f.db.Exec(`UPDATE vault_test_notes SET body = $2 WHERE id = $1`, id, ct)
	must(t, err)
	return id
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func readNote(t *testing.T, v *Vault, d *sqlx.DB, id int64) (string, error) {
	t.Helper()
	var ct []byte
	must(t, d.Get(&ct, `SELECT body FROM vault_test_notes WHERE id = $1`, id))
	return v.OpenString(ctx, d, testField, id, ct)
}

func TestSealOpenAndNoPlaintextInTheDatabase(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	secret := "I felt betrayed when I found the messages."
	id := insertNote(t, v, f, f.pairs[0], secret)
	got, err := readNote(t, v, f.db, id)
	must(t, err)
	if got != secret {
		t.Fatalf("decrypted %q, want %q", got, secret)
	}
	// Nothing in the database holds the text or the data key in the clear.
	var raw []byte
	must(t, f.db.Get(&raw, `SELECT body FROM vault_test_notes WHERE id = $1`, id))
	if bytes.Contains(raw, []byte("betrayed")) {
		t.Fatal("the stored value contains the plaintext")
	}
	var dump string
	must(t, f.db.Get(&dump, `SELECT string_agg(encode(body, 'escape'), '') FROM vault_test_notes`))
	if strings.Contains(dump, "betrayed") {
		t.Fatal("the table contains the plaintext")
	}
	var wrapped []byte
	must(t, f.db.Get(&wrapped, `SELECT wrapped FROM data_keys WHERE pair_id = $1`, f.pairs[0]))
	if len(wrapped) != nonceLen+KeyLen+16 {
		t.Fatalf("wrapped key is %d bytes, want nonce+key+tag", len(wrapped))
	}
}

func TestCopiedCiphertextDoesNotDecrypt(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	a := insertNote(t, v, f, f.pairs[0], "note A")
	b := insertNote(t, v, f, f.pairs[0], "note B")
	// Copy A's ciphertext into B's row, as someone with write access to the
	// database might, to make B's reader see A's text.
	_, err = f.db.Exec(`UPDATE vault_test_notes SET body = (SELECT body FROM vault_test_notes WHERE id = $1) WHERE id = $2`, a, b)
	must(t, err)
	if got, err := readNote(t, v, f.db, b); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("copied ciphertext read as %q, err %v; want ErrDecrypt", got, err)
	}
	// The same bytes under another column or table name fail too.
	var ct []byte
	must(t, f.db.Get(&ct, `SELECT body FROM vault_test_notes WHERE id = $1`, a))
	for _, other := range []Field{{Table: "vault_test_notes", Column: "title", IDColumn: "id"}, {Table: "other", Column: "body", IDColumn: "id"}} {
		if _, err := v.Open(ctx, f.db, other, a, ct); !errors.Is(err, ErrDecrypt) {
			t.Errorf("opened as %s: err %v, want ErrDecrypt", other, err)
		}
	}
	// A flipped bit fails.
	ct[len(ct)-1] ^= 1
	if _, err := v.Open(ctx, f.db, testField, a, ct); !errors.Is(err, ErrDecrypt) {
		t.Errorf("tampered ciphertext: err %v, want ErrDecrypt", err)
	}
	if got, err := readNote(t, v, f.db, a); err != nil || got != "note A" {
		t.Fatalf("original row: %q, %v", got, err)
	}
}

func TestAnotherMasterKeyCannotUnwrap(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	id := insertNote(t, v, f, f.pairs[0], "private")
	other, err := New(f.db, key(t))
	must(t, err)
	if got, err := readNote(t, other, f.db, id); err == nil {
		t.Fatalf("a vault with another master key read %q", got)
	}
}

func TestScopesHaveTheirOwnKeys(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	ids := []int64{
		insertNote(t, v, f, f.pairs[0], "a"), insertNote(t, v, f, f.pairs[0], "b"),
		insertNote(t, v, f, f.pairs[1], "c"), insertNote(t, v, f, 0, "d"),
	}
	kid := func(id int64) int64 {
		var ct []byte
		must(t, f.db.Get(&ct, `SELECT body FROM vault_test_notes WHERE id = $1`, id))
		k, err := KeyID(ct)
		must(t, err)
		return k
	}
	if kid(ids[0]) != kid(ids[1]) || kid(ids[0]) == kid(ids[2]) || kid(ids[2]) == kid(ids[3]) {
		t.Fatalf("key ids %d %d %d %d: want one key per pair and one for the practice", kid(ids[0]), kid(ids[1]), kid(ids[2]), kid(ids[3]))
	}
}

func TestConcurrentFirstWritesShareOneKey(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.SealString(ctx, f.db, PairScope(f.practice, f.pairs[1]), testField, 1, "x")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	var n int
	must(t, f.db.Get(&n, `SELECT count(*) FROM data_keys WHERE pair_id = $1`, f.pairs[1]))
	if n != 1 {
		t.Fatalf("%d keys for the pair, want 1", n)
	}
}

func keyIDs(t *testing.T, d *sqlx.DB) map[int64]int64 {
	t.Helper()
	rows, err := d.Query(`SELECT id, body FROM vault_test_notes`)
	must(t, err)
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id int64
		var ct []byte
		must(t, rows.Scan(&id, &ct))
		k, err := KeyID(ct)
		must(t, err)
		out[id] = k
	}
	return out
}

func activeKeys(t *testing.T, d *sqlx.DB) map[int64]bool {
	t.Helper()
	var ids []int64
	must(t, d.Select(&ids, `SELECT id FROM data_keys WHERE active`))
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestRotationReencryptsEveryRowAndOldKeysWorkUntilDone(t *testing.T) {
	f := setup(t)
	master := key(t)
	v, err := New(f.db, master)
	must(t, err)
	want := map[int64]string{}
	for i := range 25 {
		pair := f.pairs[i%2]
		if i%5 == 0 {
			pair = 0
		}
		text := fmt.Sprintf("reflection number %d", i)
		want[insertNote(t, v, f, pair, text)] = text
	}
	before := keyIDs(t, f.db)
	oldActive := activeKeys(t, f.db)
	fields := []Field{testField, Fields()[0]}

	// A run stopped after one batch: part of the rows moved to new keys,
	// the rest still under the old ones — and every row still decrypts.
	var total, progressed int64
	res, err := v.Rotate(ctx, RotateOptions{Fields: fields, BatchSize: 10, MaxBatches: 1,
		Start: func(n int64) { total = n }, Progress: func(n int64) { progressed += n }})
	must(t, err)
	if res.Finished || res.NewKeys != 3 || res.Reencrypted != 10 || total != 25 || progressed != 10 {
		t.Fatalf("first run: %+v total %d progressed %d; want 3 new keys, 10 rows re-encrypted, unfinished", res, total, progressed)
	}
	mid := keyIDs(t, f.db)
	moved := 0
	for id, k := range mid {
		if k != before[id] {
			moved++
			if oldActive[k] {
				t.Errorf("row %d moved to an old key", id)
			}
		}
	}
	if moved != 10 {
		t.Fatalf("%d rows on new keys after one batch, want 10", moved)
	}
	for id, text := range want {
		if got, err := readNote(t, v, f.db, id); err != nil || got != text {
			t.Fatalf("mid-rotation row %d: %q, %v", id, got, err)
		}
	}
	// New writes during the rotation use the new keys.
	during := insertNote(t, v, f, f.pairs[0], "written during rotation")
	want[during] = "written during rotation"
	if k := keyIDs(t, f.db)[during]; oldActive[k] {
		t.Fatal("a write during the rotation used a retired key")
	}
	// A writer that had read the old key before the rotation opened, and
	// commits after its row's batch was passed, is caught at the end.
	first := firstRowOfPair(t, f, f.pairs[0])
	oldKeyID := before[first]
	oldKey, err := v.keyByID(ctx, f.db, oldKeyID)
	must(t, err)
	lateCT, err := sealWith(oldKeyID, oldKey, testField, first, []byte("late write under the old key"))
	must(t, err)
	want[first] = "late write under the old key"
	lateWritten := false
	res, err = v.Rotate(ctx, RotateOptions{Fields: fields, BatchSize: 10, Progress: func(int64) {
		if !lateWritten { // after the first batch, which covered the first row
			lateWritten = true
			_, err := f.db.Exec(`UPDATE vault_test_notes SET body = $2 WHERE id = $1`, first, lateCT)
			must(t, err)
		}
	}})
	must(t, err)
	if !res.Finished || !res.Resumed || res.NewKeys != 0 || res.Retired != 3 {
		t.Fatalf("second run: %+v; want resumed, finished, 3 keys retired", res)
	}
	after := keyIDs(t, f.db)
	active := activeKeys(t, f.db)
	for id, k := range after {
		if !active[k] {
			t.Errorf("row %d is still under retired key %d", id, k)
		}
	}
	var retired int
	must(t, f.db.Get(&retired, `SELECT count(*) FROM data_keys WHERE NOT active`))
	if retired != 0 || len(active) != 3 {
		t.Fatalf("%d retired keys left, %d active; want 0 and 3", retired, len(active))
	}
	// A vault with an empty cache reads every row through the new keys.
	v2, err := New(f.db, master)
	must(t, err)
	for id, text := range want {
		if got, err := readNote(t, v2, f.db, id); err != nil || got != text {
			t.Fatalf("after rotation row %d: %q, %v", id, got, err)
		}
	}
	// The old keys are gone: a ciphertext made under one no longer opens.
	if _, err := v2.Open(ctx, f.db, testField, first, lateCT); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("old ciphertext after rotation: %v, want ErrKeyDestroyed", err)
	}
	var open int
	must(t, f.db.Get(&open, `SELECT count(*) FROM key_rotations WHERE finished_at IS NULL`))
	if open != 0 {
		t.Fatal("the rotation is still open")
	}
}

func firstRowOfPair(t *testing.T, f fixture, pair int64) int64 {
	t.Helper()
	var id int64
	must(t, f.db.Get(&id, `SELECT min(id) FROM vault_test_notes WHERE pair_id = $1`, pair))
	return id
}

func TestMasterKeyRotationRewrapsDataKeys(t *testing.T) {
	f := setup(t)
	oldMaster, newMaster := key(t), key(t)
	v1, err := New(f.db, oldMaster)
	must(t, err)
	id := insertNote(t, v1, f, f.pairs[0], "kept across master keys")
	// The new master key is current; the old one is given to unwrap.
	v2, err := New(f.db, newMaster, oldMaster)
	must(t, err)
	if got, err := readNote(t, v2, f.db, id); err != nil || got != "kept across master keys" {
		t.Fatalf("before rewrap: %q, %v", got, err)
	}
	st, err := v2.Status(ctx)
	must(t, err)
	if st.OldMasterKeys != 1 {
		t.Fatalf("status %+v: want 1 key under the old master", st)
	}
	res, err := v2.Rotate(ctx, RotateOptions{Fields: []Field{testField}})
	must(t, err)
	if res.Rewrapped != 1 || !res.Finished {
		t.Fatalf("rotate: %+v", res)
	}
	// Now the old master key is not needed at all.
	v3, err := New(f.db, newMaster)
	must(t, err)
	if got, err := readNote(t, v3, f.db, id); err != nil || got != "kept across master keys" {
		t.Fatalf("with only the new master: %q, %v", got, err)
	}
	if _, err := readNote(t, v1, f.db, id); err == nil {
		// v1 may have the old data key cached; a fresh vault must not read.
		v1fresh, _ := New(f.db, oldMaster)
		if _, err := readNote(t, v1fresh, f.db, id); err == nil {
			t.Fatal("the old master key still unwraps after rotation")
		}
	}
}

func TestDestroyPairKeysShredsItsData(t *testing.T) {
	f := setup(t)
	v, err := New(f.db, key(t))
	must(t, err)
	gone := insertNote(t, v, f, f.pairs[0], "to be purged")
	kept := insertNote(t, v, f, f.pairs[1], "kept")
	n, err := v.DestroyPairKeys(ctx, f.db, f.practice, f.pairs[0])
	must(t, err)
	if n != 1 {
		t.Fatalf("destroyed %d keys, want 1", n)
	}
	if _, err := readNote(t, v, f.db, gone); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("purged pair's note: %v, want ErrKeyDestroyed", err)
	}
	if got, err := readNote(t, v, f.db, kept); err != nil || got != "kept" {
		t.Fatalf("other pair's note: %q, %v", got, err)
	}
}

// TestEveryByteaColumnIsKnown fails when a migration adds a bytea column
// that is neither registered in Fields (so rotation re-encrypts it) nor
// listed here as not holding vault ciphertext.
func TestEveryByteaColumnIsKnown(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	notVault := map[string]bool{
		"sessions.data":                 true, // scs session data: ids and flash messages only
		"data_keys.wrapped":             true, // wrapped under the master key, not a data key
		"data_keys.master_id":           true,
		"user_tokens.token_hash":        true,
		"mfa_recovery_codes.code_hash":  true,
		"unsubscribe_tokens.token_hash": true,
	}
	known := map[string]bool{}
	for _, f := range Fields() {
		known[f.String()] = true
	}
	var cols []string
	must(t, d.Select(&cols, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type = 'bytea' ORDER BY 1`))
	sort.Strings(cols)
	for _, c := range cols {
		if !known[c] && !notVault[c] {
			t.Errorf("bytea column %s: add it to vault.Fields if it holds ciphertext, or to this test's list if not", c)
		}
	}
	for c := range known {
		found := false
		for _, have := range cols {
			found = found || have == c
		}
		if !found {
			t.Errorf("vault.Fields lists %s, which is not a bytea column", c)
		}
	}
}

func TestParseMasterKeyAndKeyFile(t *testing.T) {
	if _, err := ParseMasterKey("c2hvcnQ="); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := ParseMasterKey("not base64 at all!"); err == nil {
		t.Error("garbage was accepted")
	}
	path := filepath.Join(t.TempDir(), "dev.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	must(t, err)
	if !created {
		t.Fatal("file not created")
	}
	st, err := os.Stat(path)
	must(t, err)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	must(t, err)
	if created || k1 != k2 {
		t.Fatal("second load did not return the same key")
	}
	if _, err := ParseMasterKey(k1); err != nil {
		t.Fatal(err)
	}
}

// Every column the migrations move to ciphertext is registered for
// rotation, and every registered column but those created encrypted (the
// TOTP secrets under practice keys; the reveal exercises' answers, notes
// and replies, issue 21; the kept invitation links) is one the migrations move.
func TestSealedColumnsAreRegistered(t *testing.T) {
	known := map[string]bool{}
	for _, f := range Fields() {
		known[f.String()] = true
	}
	moved := map[string]bool{}
	for _, c := range db.SealedColumns() {
		moved[c] = true
		if !known[c] {
			t.Errorf("migration 00056 encrypts %s, which vault.Fields does not list", c)
		}
	}
	for c := range known {
		// Tables created after 00056 hold only ciphertext from the start.
		createdSealed := map[string]bool{UserMFASecret.String(): true, MeasureAnswers.String(): true,
			RevealAnswers.String(): true, RevealNote.String(): true, RevealReply.String(): true,
			InvitationLink.String(): true}
		if !moved[c] && !createdSealed[c] {
			t.Errorf("vault.Fields lists %s, which migration 00056 does not encrypt", c)
		}
	}
}
