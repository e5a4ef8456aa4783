package auth_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
)

// A client's pages are kept under one stamp for all their pairs'
// counselors (a former pair's too). Each counselor's version moves in the
// transaction of every change a page shows, so the stamp must differ from
// the one a page was kept under whatever order those transactions commit
// in. Here the change for counselor A draws its version first and commits
// last: the newest of the versions (what the stamp was) did not move, and
// the client's kept home page would have gone on without A's change.
func TestAClientsStampMovesWithEachOfTheirCounselors(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	var practice, a, b, client, former, current int64
	must(t, d.Get(&practice, `INSERT INTO practices (name, slug) VALUES ('P', 'p.example') RETURNING id`))
	for _, u := range []struct {
		id          *int64
		role, email string
	}{{&a, "counselor", "a@p.example"}, {&b, "counselor", "b@p.example"}, {&client, "client", "kim@p.example"}} {
		must(t, d.Get(u.id, `INSERT INTO users (practice_id, role, email, name) VALUES ($1, $2, $3, $3) RETURNING id`,
			practice, u.role, u.email))
	}
	for _, p := range []struct {
		id        *int64
		counselor int64
		current   bool
	}{{&former, a, false}, {&current, b, true}} {
		must(t, d.Get(p.id, `INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, 'Kim', 'romantic') RETURNING id`,
			practice, p.counselor))
		d.MustExec(`INSERT INTO pair_members (pair_id, user_id, position, side, current) VALUES ($1, $2, 1, 'was_hurt', $3)`,
			*p.id, client, p.current)
	}

	s := &auth.Sessions{DB: d}
	const token = "a client's session token"
	must(t, s.Start(ctx, token, mend.Scope{PracticeID: practice, UserID: client, IP: "198.51.100.7"}, "test"))
	stamp := func() int64 {
		t.Helper()
		st, err := s.Check(ctx, token, client, "198.51.100.7")
		must(t, err)
		if !st.Found {
			t.Fatal("the session is not found")
		}
		return st.Scope.DashboardVersion
	}

	forA, err := d.Beginx()
	must(t, err)
	defer forA.Rollback()                                                         //nolint:errcheck
	forA.MustExec(`UPDATE pairs SET label = 'Kim and Lee' WHERE id = $1`, former) // A's version drawn
	d.MustExec(`UPDATE pairs SET label = 'Kim and Sam' WHERE id = $1`, current)   // B's, later, committed
	kept := stamp()                                                               // a page kept now has B's change, not A's
	must(t, forA.Commit())
	if now := stamp(); now == kept {
		t.Errorf("the client's stamp is still %d after their former counselor's change committed", now)
	}

	// An earlier pair with the same counselor: B's versions are hashed twice
	// (the stamp joins pairs to marks without a DISTINCT), and a change of
	// either pair still moves the stamp.
	var second int64
	must(t, d.Get(&second, `INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, 'Kim', 'family') RETURNING id`,
		practice, b))
	d.MustExec(`INSERT INTO pair_members (pair_id, user_id, position, side, current) VALUES ($1, $2, 1, 'was_hurt', false)`, second, client)
	for _, pair := range []int64{second, current} {
		before := stamp()
		d.MustExec(`UPDATE pairs SET label = label || '.' WHERE id = $1`, pair)
		if now := stamp(); now == before {
			t.Errorf("the client's stamp is still %d after a change of pair %d, one of two with the same counselor", now, pair)
		}
	}
}
