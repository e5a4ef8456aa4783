package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/vault"
)

func newKey(t *testing.T) (string, []byte) {
	t.Helper()
	s, err := vault.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := vault.ParseMasterKey(s)
	return s, b
}

// TestKeysRotateCommand rotates the master key of a database that holds a
// TOTP secret and a client's check-in, through the command a person runs,
// and checks that both still work under the new key alone.
func TestKeysRotateCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, dsn := dbtest.New(t)
	oldS, oldB := newKey(t)
	newS, newB := newKey(t)

	var practice, user int64
	if err := d.Get(&practice, `INSERT INTO practices (name, slug) VALUES ('P', 'p.example') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&user, `INSERT INTO users (practice_id, role, email, name) VALUES ($1, 'counselor', 'c@p.example', 'C') RETURNING id`, practice); err != nil {
		t.Fatal(err)
	}
	sc := mend.Scope{PracticeID: practice, UserID: user, Role: mend.RoleCounselor, Email: "c@p.example"}
	v1, _ := vault.New(d, oldB)
	now := time.Now()
	m1 := &auth.MFA{DB: d, Vault: v1, Throttle: auth.DefaultThrottle()}
	en, err := m1.BeginEnrolment(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := auth.CodeAt(en.Secret, now)
	if _, err := m1.ConfirmEnrolment(ctx, sc, code); err != nil {
		t.Fatal(err)
	}
	pairID, checkinID := rotationCheckin(t, d, v1, sc)

	environ := map[string]string{"DATABASE_URL": dsn, "MEND_MASTER_KEY": newS, "MEND_OLD_MASTER_KEYS": oldS, "LOG_LEVEL": "error"}
	var out, progress bytes.Buffer
	if err := run(ctx, []string{"keys", "status"}, environ, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "keys under an old master key:   2") {
		t.Fatalf("status:\n%s", out.String())
	}
	out.Reset()
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	if err := keysCmd(ctx, cfg, &out, &progress, []string{"rotate", "--batch", "1"}); err != nil {
		t.Fatal(err)
	}
	// Two data keys (the practice's, the pair's), three values (the TOTP
	// secret, the check-in's answers and reflection).
	if !strings.Contains(out.String(), "Rewrapped 2 data keys under the current master key; 2 new data keys; 3 of 3 values re-encrypted; 2 old keys destroyed.") {
		t.Fatalf("rotate said:\n%s", out.String())
	}
	if !strings.Contains(progress.String(), "re-encrypting") {
		t.Fatalf("no progress bar:\n%q", progress.String())
	}
	// Only the new master key from now on: the secret still verifies codes.
	v2, _ := vault.New(d, newB)
	m2 := &auth.MFA{DB: d, Vault: v2, Throttle: auth.DefaultThrottle()}
	next, _ := auth.CodeAt(en.Secret, now.Add(30*time.Second))
	if err := m2.Verify(ctx, sc, next); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	store := checkin.NewStore(d, v2, &audit.Log{DB: d}, nil, "")
	page, err := store.ForPair(ctx, sc, pairID, checkin.PairFilter{}, paging.First())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != checkinID || page.Items[0].Reflection != "Rotated but readable." ||
		page.Items[0].Answers[0].Answer != "We talked" {
		t.Fatalf("check-in after rotation: %+v", page.Items)
	}
	// Every value is under a key made by the rotation.
	var old int
	if err := d.Get(&old, `SELECT count(*) FROM checkins c WHERE substring(c.reflection from 2 for 8) NOT IN
		(SELECT int8send(id) FROM data_keys WHERE active)`); err != nil || old != 0 {
		t.Fatalf("%d check-ins under an old key (%v)", old, err)
	}
}

// rotationCheckin gives the counselor a pair with homework and a client's
// check-in on it, written through the check-in store under v, and returns
// the pair and check-in ids.
func rotationCheckin(t *testing.T, d *sqlx.DB, v *vault.Vault, counselor mend.Scope) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	id := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := d.Get(&id, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	a := id(`INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'a@p.example', 'A', 'UTC') RETURNING id`, counselor.PracticeID)
	b := id(`INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'b@p.example', 'B', 'UTC') RETURNING id`, counselor.PracticeID)
	pairID := id(`INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, 'P', 'romantic') RETURNING id`, counselor.PracticeID, counselor.UserID)
	if _, err := d.Exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, 'was_hurt'), ($1, $3, 2, 'broke_trust')`, pairID, a, b); err != nil {
		t.Fatal(err)
	}
	step := id(`INSERT INTO steps (practice_id, key) VALUES (NULL, 'rotation-step') RETURNING id`)
	version := id(`INSERT INTO step_versions (step_id, version, title, questions, duration_days) VALUES ($1, 1, 'Listen', '["What went well?"]', 7) RETURNING id`, step)
	today := checkin.Today(time.Now(), "UTC")
	hw := id(`INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence) VALUES ($1, $2, $3, $4, $5, 'daily') RETURNING id`,
		counselor.PracticeID, pairID, version, today.AddDays(-2), today.AddDays(2))
	client := mend.Scope{PracticeID: counselor.PracticeID, UserID: a, Role: mend.RoleClient, Timezone: "UTC"}
	store := checkin.NewStore(d, v, &audit.Log{DB: d}, nil, "")
	checkinID, err := store.Create(ctx, client, hw, checkin.Input{Period: today.String(), Status: "done", Trust: "5",
		Communication: "5", Hope: "5", Answers: []string{"We talked"}, Reflection: "Rotated but readable.", Visibility: "counselor"})
	if err != nil {
		t.Fatal(err)
	}
	return pairID, checkinID
}

func TestWebRefusesToStartWithoutMasterKey(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"web", "worker", "serve"} {
		err := run(context.Background(), []string{cmd}, map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}, &bytes.Buffer{})
		if !errors.Is(err, config.ErrNoMasterKey) {
			t.Fatalf("%s without MEND_MASTER_KEY: %v", cmd, err)
		}
	}
	if _, err := config.LoadFrom(map[string]string{"MEND_MASTER_KEY": "dG9vIHNob3J0"}); err == nil || !strings.Contains(err.Error(), "MEND_MASTER_KEY") {
		t.Fatalf("a short key: %v", err)
	}
}
