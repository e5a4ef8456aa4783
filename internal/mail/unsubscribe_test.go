package mail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/templates"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// An unsubscribe link turns reminders off for its own user only: changing
// the ids it carries, or signing it with any other key, gives a link that
// does nothing.
func TestUnsubscribeLinkCannotBeForged(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	var practice, other, ann, bob, carol int64
	for _, q := range []struct {
		id  *int64
		sql string
	}{
		{&practice, `INSERT INTO practices (name, slug) VALUES ('Northside', 'northside') RETURNING id`},
		{&other, `INSERT INTO practices (name, slug) VALUES ('Riverbank', 'riverbank') RETURNING id`},
	} {
		if err := d.Get(q.id, q.sql); err != nil {
			t.Fatal(err)
		}
	}
	client := func(practice int64, email string) int64 {
		var id int64
		if err := d.Get(&id, `INSERT INTO users (practice_id, role, email, name) VALUES ($1, 'client', $2, 'Client') RETURNING id`, practice, email); err != nil {
			t.Fatal(err)
		}
		return id
	}
	ann, bob, carol = client(practice, "ann@example.com"), client(practice, "bob@example.com"), client(other, "carol@example.com")

	master, retired := randomKey(t), randomKey(t)
	signer, err := mail.NewUnsubscribeLinks(master)
	if err != nil {
		t.Fatal(err)
	}
	u := &mail.Unsubscribes{DB: d, Audit: &audit.Log{DB: d}, Links: signer}
	ctx := context.Background()
	resolves := func(u *mail.Unsubscribes, token string) (int64, bool) {
		t.Helper()
		info, err := u.Check(ctx, token)
		if mend.ErrorCode(err) == mend.ENOTFOUND {
			return 0, false
		}
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		return info.UserID, true
	}

	token := signer.Token(practice, ann)
	if id, ok := resolves(u, token); !ok || id != ann {
		t.Fatalf("Ann's link → %d, %v", id, ok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	// The link does not show whose it is: Ann's and Bob's share nothing,
	// though their practice is the same and their ids are neighbours.
	bobs, _ := base64.RawURLEncoding.DecodeString(signer.Token(practice, bob))
	if bytes.Equal(raw[:8], bobs[:8]) || bytes.Contains(raw, binary.BigEndian.AppendUint64(nil, uint64(ann))) {
		t.Errorf("the ids can be read off the links: %x, %x", raw, bobs)
	}
	forged := func(edit func(b []byte)) string {
		b := append([]byte(nil), raw...)
		edit(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, tok := range map[string]string{
		"a changed id block":         forged(func(b []byte) { b[15] ^= 1 }),
		"another changed id block":   forged(func(b []byte) { b[0] ^= 0x80 }),
		"a changed signature":        forged(func(b []byte) { b[len(b)-1] ^= 1 }),
		"Ann's link cut short":       token[:len(token)-2],
		"signed with another key":    mustLinks(t, randomKey(t)).Token(practice, ann),
		"Carol under Ann's practice": signer.Token(practice, carol),
		"not base64":                 "!!!!" + token[4:],
	} {
		if id, ok := resolves(u, tok); ok {
			t.Errorf("%s resolves to user %d", name, id)
		}
	}

	// Rotation: a link signed under the previous master key works while that
	// key is listed as old, and not once it is gone.
	old := mustLinks(t, retired).Token(practice, bob)
	rotated := &mail.Unsubscribes{DB: d, Links: mustLinks(t, master, retired)}
	if id, ok := resolves(rotated, old); !ok || id != bob {
		t.Errorf("a link under the old key, during rotation → %d, %v", id, ok)
	}
	if _, ok := resolves(u, old); ok {
		t.Error("a link under a retired key still works")
	}

	// Links sent before signed links (a stored SHA-256) still work.
	legacy := "a-random-token-from-before-signed-links"
	if _, err := d.Exec(`INSERT INTO unsubscribe_tokens (practice_id, user_id, token_hash)
		VALUES ($1, $2, sha256(convert_to($3, 'UTF8')))`, practice, bob, legacy); err != nil {
		t.Fatal(err)
	}
	if id, ok := resolves(u, legacy); !ok || id != bob {
		t.Errorf("a stored link → %d, %v", id, ok)
	}

	// A link leads nowhere once its account is disabled or anonymised
	// (the purge disables it), signed or stored.
	if _, err := d.Exec(`UPDATE users SET disabled_at = now() WHERE id = $1`, bob); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"signed": signer.Token(practice, bob), "stored": legacy} {
		if id, ok := resolves(u, tok); ok {
			t.Errorf("a disabled account's %s link resolves to user %d", name, id)
		}
	}

	// The outbox will not sign a link for a user outside the message's
	// practice.
	o, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	o.Links = signer
	if _, err := o.Queue(ctx, d, mail.Message{PracticeID: practice, UserID: carol, To: "carol@example.com",
		Kind: mail.KindReminder, Template: "checkin_reminder", Unsubscribe: true,
		Data: map[string]any{"Name": "Carol", "PracticeName": "Northside", "Link": "http://mend.test/homework"}}); err == nil {
		t.Error("queued a reminder whose unsubscribe link names a user of another practice")
	}

	// Applying Ann's link turns off Ann's reminders, nobody else's.
	if _, err := u.Apply(ctx, token, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	var off []int64
	if err := d.Select(&off, `SELECT id FROM users WHERE NOT reminders_enabled ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(off) != 1 || off[0] != ann {
		t.Errorf("reminders off for %v, want only Ann (%d)", off, ann)
	}
}

func mustLinks(t *testing.T, master []byte, old ...[]byte) *mail.UnsubscribeLinks {
	t.Helper()
	l, err := mail.NewUnsubscribeLinks(master, old...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
