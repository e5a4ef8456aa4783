// Package pairtest builds the people and pairs that store tests need on a
// fresh test database: two practices, counselors, an admin, and pairs
// created through the real pair store (accounts, invitations, emails).
package pairtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/practice"
	"github.com/mend-practice/mend/templates"
)

// Fixture is a test database with two practices.
type Fixture struct {
	DB    *sqlx.DB
	Pairs *pair.Store
	// Notify queues invitation emails as the web layer does.
	Notify practice.Notify
	// Practice 1 (America/Chicago): an admin and counselors A and B.
	Admin, A, B mend.Scope
	// Practice 2 (Europe/London): its admin and counselor.
	OtherAdmin, OtherCounselor mend.Scope
	seq                        atomic.Int64
}

// New makes a fixture on a fresh database.
func New(t testing.TB) *Fixture {
	t.Helper()
	d, _ := dbtest.New(t)
	out, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	f := &Fixture{DB: d, Pairs: pair.NewStore(d, &auth.Links{DB: d})}
	f.Notify = func(tx *sqlx.Tx, inv practice.Invitation) error {
		_, err := out.Queue(context.Background(), tx, mail.Message{
			UserID: inv.UserID, To: inv.Email, ToName: inv.Name, Kind: mail.KindInvitation, Template: "invitation",
			Data: map[string]any{"Name": inv.Name, "PracticeName": "Test practice", "InviterName": "Counselor",
				"Link": "http://mend.test/invite/" + inv.Token},
		})
		return err
	}
	p1 := f.practice(t, "one.example", "America/Chicago")
	p2 := f.practice(t, "two.example", "Europe/London")
	f.Admin = f.User(t, p1, mend.RoleAdmin, "admin@one.example", "Ada Admin")
	f.A = f.User(t, p1, mend.RoleCounselor, "a@one.example", "Counselor A")
	f.B = f.User(t, p1, mend.RoleCounselor, "b@one.example", "Counselor B")
	f.OtherAdmin = f.User(t, p2, mend.RoleAdmin, "admin@two.example", "Otto Admin")
	f.OtherCounselor = f.User(t, p2, mend.RoleCounselor, "c@two.example", "Counselor C")
	return f
}

func (f *Fixture) practice(t testing.TB, slug, tz string) int64 {
	t.Helper()
	var id int64
	if err := f.DB.Get(&id, `INSERT INTO practices (name, slug, timezone) VALUES ($1, $1, $2) RETURNING id`, slug, tz); err != nil {
		t.Fatal(err)
	}
	return id
}

// User creates an account with a password and returns its scope.
func (f *Fixture) User(t testing.TB, practiceID int64, role mend.Role, email, name string) mend.Scope {
	t.Helper()
	var id int64
	if err := f.DB.Get(&id, `
		INSERT INTO users (practice_id, role, email, name, password_hash) VALUES ($1, $2, $3, $4, 'x') RETURNING id`,
		practiceID, string(role), email, name); err != nil {
		t.Fatal(err)
	}
	return mend.Scope{PracticeID: practiceID, UserID: id, Role: role, Name: name, Email: email, Timezone: "UTC"}
}

// NewPair is a valid new pair with unique client emails and the given
// sides.
func (f *Fixture) NewPair(sideA, sideB string) pair.NewPair {
	n := f.seq.Add(1)
	return pair.NewPair{
		Label: fmt.Sprintf("Pair %d", n), Kind: "romantic",
		A: pair.NewClient{NewPerson: practice.NewPerson{Name: fmt.Sprintf("Client %dA", n), Email: fmt.Sprintf("c%da@example.com", n), Timezone: "UTC"}, Side: sideA},
		B: pair.NewClient{NewPerson: practice.NewPerson{Name: fmt.Sprintf("Client %dB", n), Email: fmt.Sprintf("c%db@example.com", n), Timezone: "UTC"}, Side: sideB},
	}
}

// Pair creates a pair for the counselor in sc and returns it.
func (f *Fixture) Pair(t testing.TB, sc mend.Scope, sideA, sideB string) pair.Pair {
	t.Helper()
	ctx := context.Background()
	c, err := f.Pairs.Create(ctx, sc, f.NewPair(sideA, sideB), f.Notify)
	if err != nil {
		t.Fatalf("create pair: %v", err)
	}
	p, err := f.Pairs.Get(ctx, sc, c.PairID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ClientScope is the scope of a pair member.
func (f *Fixture) ClientScope(p pair.Pair, position int) mend.Scope {
	m := p.Members[position-1]
	return mend.Scope{PracticeID: p.PracticeID, UserID: m.UserID, Role: mend.RoleClient, Name: m.Name, Email: m.Email}
}

// Count runs a count query.
func (f *Fixture) Count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.DB.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Code is the domain error code of err ("" for nil).
func Code(err error) string { return mend.ErrorCode(err) }
