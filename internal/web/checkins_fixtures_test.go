package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Test homework and check-ins for the check-in pages. They are made here
// rather than taken from the demo seed, so the tests know exactly which
// periods are open. Demo clients live in their practice's timezone.

// clientToday is a demo client's today.
func clientToday(t testing.TB, env *webtest.Env, email string) checkin.Date {
	t.Helper()
	var tz string
	if err := env.DB.Get(&tz, `SELECT timezone FROM users WHERE email = $1`, email); err != nil {
		t.Fatal(err)
	}
	return checkin.Today(time.Now(), tz)
}

// giveHomework gives the pair of the client with email a daily homework on
// the built-in step "open-honest-communication", from three days ago to a
// week ahead (in that client's zone), for both members or, if forEmail is
// set, for that member alone. It returns the homework id.
func giveHomework(t testing.TB, env *webtest.Env, email, forEmail string) int64 {
	t.Helper()
	today := clientToday(t, env, email)
	var forID any
	if forEmail != "" {
		forID = env.UserID(t, forEmail)
	}
	id := env.ID(t, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence)
		SELECT p.practice_id, p.id, (SELECT s.current_version_id FROM steps s WHERE s.key = 'open-honest-communication'),
		       $2, $3, $4, 'daily'
		FROM pairs p WHERE p.id = $1 RETURNING id`,
		env.PairOf(t, email), forID, today.AddDays(-3), today.AddDays(7))
	sealInto(t, env, vault.AssignmentNote, id, "Ten quiet minutes each evening.")
	return id
}

// sealInto stores text encrypted in field f of row id, as the stores do
// (under the row's pair key, bound to the row).
func sealInto(t testing.TB, env *webtest.Env, f vault.Field, id int64, text string) {
	t.Helper()
	var scope struct {
		PracticeID int64 `db:"practice_id"`
		PairID     int64 `db:"pair_id"`
	}
	if err := env.DB.Get(&scope, `SELECT practice_id, pair_id FROM `+f.Table+` WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	ct, err := vaulttest.New(t, env.DB).SealText(context.Background(), env.DB, vault.PairScope(scope.PracticeID, scope.PairID), f, id, text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Exec(`UPDATE `+f.Table+` SET `+f.Column+` = $2 WHERE id = $1`, id, ct); err != nil {
		t.Fatal(err)
	}
}

// openedText reads field f of row id and decrypts it.
func openedText(t testing.TB, env *webtest.Env, f vault.Field, id int64) string {
	t.Helper()
	var ct []byte
	if err := env.DB.Get(&ct, `SELECT `+f.Column+` FROM `+f.Table+` WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	text, err := vaulttest.New(t, env.DB).OpenText(context.Background(), env.DB, f, id, ct)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// giveCheckin stores a check-in by the client with email on homework for
// the period starting on day, with the given visibility and reflection.
func giveCheckin(t testing.TB, env *webtest.Env, email string, homework int64, day checkin.Date, visibility, reflection string) int64 {
	t.Helper()
	id := env.ID(t, `
		INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
			trust_rating, communication_rating, hope_rating, visibility)
		SELECT a.practice_id, a.pair_id, a.id, u.id, $3, $3, 'done', 5, 5, 5, $4
		FROM assignments a, users u WHERE a.id = $1 AND u.email = $2 RETURNING id`,
		homework, email, day, visibility)
	sealInto(t, env, vault.CheckinReflection, id, reflection)
	return id
}
