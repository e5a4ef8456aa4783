package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

// A sign-in whose request goes away while it waits for a hashing slot (a
// burst of attempts, all slots busy) is still in the audit log, for a
// known account and for an unknown email alike, and still counts against
// the throttle: abandoning attempts is no way to guess unseen.
func TestAnAbandonedSignInIsAudited(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	var practice, user int64
	must(t, d.Get(&practice, `INSERT INTO practices (name, slug) VALUES ('P', 'p.example') RETURNING id`))
	hash, err := auth.HashPassword("a long enough password")
	must(t, err)
	must(t, d.Get(&user, `INSERT INTO users (practice_id, role, email, name, password_hash)
		VALUES ($1, 'client', 'kim@p.example', 'Kim', $2) RETURNING id`, practice, hash))

	slots := semaphore.NewWeighted(1)
	l := &auth.Login{DB: d, Throttle: auth.DefaultThrottle(), Audit: &audit.Log{DB: d}, Hashing: slots}
	must(t, slots.Acquire(ctx, 1)) // every slot busy
	for _, email := range []string{"kim@p.example", "nobody@p.example"} {
		waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := l.Attempt(waiting, email, "a long enough password", "198.51.100.7")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: want the request's own end, got %v", email, err)
		}
	}
	slots.Release(1)

	type row struct {
		Practice *int64 `db:"practice_id"`
		Object   *int64 `db:"object_id"`
		Outcome  string `db:"outcome"`
		IP       string `db:"ip"`
	}
	var rows []row
	must(t, d.Select(&rows, `SELECT practice_id, object_id, outcome, ip FROM audit_log
		WHERE action = 'login.abandoned' ORDER BY id`))
	if len(rows) != 2 {
		t.Fatalf("want 2 abandoned sign-ins in the audit log, got %+v", rows)
	}
	if k := rows[0]; k.Practice == nil || *k.Practice != practice || k.Object == nil || *k.Object != user || k.Outcome != audit.Failed || k.IP != "198.51.100.7" {
		t.Fatalf("the known account's abandoned sign-in: %+v", k)
	}
	if n := rows[1]; n.Practice != nil || n.Object != nil || n.IP != "198.51.100.7" {
		t.Fatalf("the unknown email's abandoned sign-in names an account: %+v", n)
	}

	// Both still count: four more wrong passwords for Kim from this
	// address reach the limit of five, and the right one is then refused.
	for range auth.DefaultThrottle().PerAccountAddress - 1 {
		if _, err := l.Attempt(ctx, "kim@p.example", "not the password", "198.51.100.7"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("a wrong password: %v", err)
		}
	}
	if _, err := l.Attempt(ctx, "kim@p.example", "a long enough password", "198.51.100.7"); err == nil {
		t.Fatal("the sixth attempt from one address was let through: the abandoned one did not count")
	}
}
