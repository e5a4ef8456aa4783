package review_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// The web layer shows a counselor's kept dashboard while their stamp is
// unchanged, so every change the dashboard shows must move the stamp, in
// the writing transaction. These tests make each kind of change and look.

// stamp is the counselor's stamp as a request would see it: the version
// read as the session check reads it (auth.Sessions.Check; the web tests
// go through the check itself).
func (f *fx) stamp(t *testing.T, sc mend.Scope) review.Stamp {
	t.Helper()
	if err := f.DB.Get(&sc.DashboardVersion, `
		SELECT coalesce((SELECT dm.version FROM dashboard_marks dm WHERE dm.counselor_id = $1), 0)`, sc.UserID); err != nil {
		t.Fatalf("version: %v", err)
	}
	st, err := f.reviews.Stamp(sc)
	if err != nil {
		t.Fatalf("stamp: %v", err)
	}
	return st
}

func TestEveryChangeTheDashboardShowsMovesTheStamp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	f.Pair(t, f.OtherCounselor, "was_hurt", "broke_trust") // their stamp is a real one
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)
	a, b := p.Members[0].UserID, p.Members[1].UserID
	var checkinID int64

	exec := f.exec
	for _, c := range []struct {
		name   string
		change func(t *testing.T)
		// also: the counselor the pair moves to, whose stamp moves too
		also mend.Scope
	}{
		{name: "a client's check-in arrives", change: func(t *testing.T) {
			checkinID = f.checkin(t, hw, a, day0.AddDays(-1), day0.AddDays(-1), rating{7, 6, 5}, "partner")
		}},
		{name: "the check-in is edited", change: func(t *testing.T) {
			exec(`UPDATE checkins SET trust_rating = 3 WHERE id = $1`, checkinID)(t)
		}},
		{name: "the counselor reviews it", change: func(t *testing.T) {
			exec(`UPDATE checkins SET reviewed_at = now(), reviewed_by = $2 WHERE id = $1`, checkinID, f.A.UserID)(t)
		}},
		{name: "a safety flag is raised", change: func(t *testing.T) {
			exec(`INSERT INTO safety_alerts (practice_id, pair_id, checkin_id) SELECT practice_id, pair_id, id FROM checkins WHERE id = $1`, checkinID)(t)
		}},
		{name: "the flag is acknowledged", change: func(t *testing.T) {
			exec(`UPDATE safety_alerts SET acknowledged_at = now(), acknowledged_by = $2 WHERE checkin_id = $1`, checkinID, f.A.UserID)(t)
		}},
		{name: "homework is assigned", change: func(t *testing.T) {
			f.homework(t, p, "weekly", []int64{1}, day0, day0.AddDays(14), b)
		}},
		{name: "homework is cancelled", change: exec(`UPDATE assignments SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, hw)},
		{name: "a plan step is added", change: exec(`
			WITH pp AS (INSERT INTO pair_plans (practice_id, pair_id, name, starts_on) VALUES ($1, $2, 'Plan', $3) RETURNING id)
			INSERT INTO pair_plan_steps (practice_id, pair_plan_id, position, step_version_id, days)
			SELECT $1, pp.id, 1, a.step_version_id, 7 FROM pp, assignments a WHERE a.id = $4`, p.PracticeID, p.ID, day0, hw)},
		{name: "the pair is renamed", change: exec(`UPDATE pairs SET label = 'Renamed' WHERE id = $1`, p.ID)},
		{name: "a client changes their name", change: exec(`UPDATE users SET name = 'New Name' WHERE id = $1`, a)},
		{name: "a client changes their timezone", change: exec(`UPDATE users SET timezone = 'Asia/Kolkata' WHERE id = $1`, b)},
		{name: "the practice changes its timezone", change: exec(`UPDATE practices SET timezone = 'America/Denver' WHERE id = $1`, p.PracticeID)},
		{name: "a member leaves the pair", change: exec(`UPDATE pair_members SET current = false WHERE pair_id = $1 AND user_id = $2`, p.ID, b)},
		{name: "the pair moves to another counselor", also: f.B, change: exec(`UPDATE pairs SET counselor_id = $2 WHERE id = $1`, p.ID, f.B.UserID)},
	} {
		before, beforeAlso, beforeOther := f.stamp(t, f.A), review.Stamp{}, f.stamp(t, f.OtherCounselor)
		if c.also.UserID != 0 {
			beforeAlso = f.stamp(t, c.also)
		}
		c.change(t)
		if f.stamp(t, f.A) == before {
			t.Errorf("%s: the counselor's stamp did not move", c.name)
		}
		if c.also.UserID != 0 && f.stamp(t, c.also) == beforeAlso {
			t.Errorf("%s: the new counselor's stamp did not move", c.name)
		}
		if f.stamp(t, f.OtherCounselor) != beforeOther {
			t.Errorf("%s: another practice's counselor's stamp moved", c.name)
		}
	}

	// What the dashboard does not show leaves it alone: a password change.
	before := f.stamp(t, f.B)
	exec(`UPDATE users SET password_hash = 'changed' WHERE id = $1`, a)(t)
	if f.stamp(t, f.B) != before {
		t.Error("a client's password change moved the stamp")
	}

	// Time: the stamp moves at each 15-minute slot, and not within one.
	f.now = time.Date(2026, time.March, 20, 12, 1, 0, 0, time.UTC)
	st := f.stamp(t, f.B)
	f.now = time.Date(2026, time.March, 20, 12, 14, 59, 0, time.UTC)
	if f.stamp(t, f.B) != st {
		t.Error("the stamp moved inside a 15-minute slot")
	}
	f.now = time.Date(2026, time.March, 20, 12, 15, 0, 0, time.UTC)
	if f.stamp(t, f.B) == st {
		t.Error("the stamp did not move at the next slot")
	}

	// Admins keep no page (only counselors have a dashboard).
	if _, err := f.reviews.Stamp(f.Admin); mend.ErrorCode(err) != mend.ENOTFOUND {
		t.Errorf("admin's stamp: %v, want not found", err)
	}
}

// TestEveryTableTheDashboardReadsHasStampTriggers: a table the dashboard's
// queries read without a trigger that moves the stamp would let a kept
// dashboard go stale.
func TestEveryTableTheDashboardReadsHasStampTriggers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var triggered []string
	if err := f.DB.Select(&triggered, `
		SELECT DISTINCT c.relname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		WHERE NOT tg.tgisinternal AND tg.tgname LIKE '%\_dashboard\_%' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, n := range triggered {
		has[n] = true
	}
	// step_versions rows never change: a new version of a step is a new row.
	immutable := map[string]bool{"step_versions": true}
	// measure_versions rows never change either: an edit of a measure is a
	// new version (and moves measures.current_version, which has a trigger).
	immutable["measure_versions"] = true
	// dashboard_pairs is derived: its rows are written by triggers on the
	// tables it is computed from (each of which moves the stamp) and by a
	// read at a day's turn, which the stamp's slot covers.
	immutable["dashboard_pairs"] = true
	// measure_rules is the statement's own CTE, read from measures and
	// measure_versions (both above).
	immutable["measure_rules"] = true
	read := map[string]bool{}
	// The pairs list reads dashboard_pairs and, through it, what the SQL
	// function dashboard_pair_rows reads.
	var rowsSrc string
	if err := f.DB.Get(&rowsSrc, `SELECT prosrc FROM pg_proc WHERE proname = 'dashboard_pair_rows'`); err != nil {
		t.Fatal(err)
	}
	query := regexp.MustCompile(`--[^\n]*`).ReplaceAllString(review.DashboardSQL()+"\n"+rowsSrc, "")
	query = regexp.MustCompile(`(?i)DISTINCT\s+FROM`).ReplaceAllString(query, "")
	for _, m := range regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([a-z_]+)\b`).FindAllStringSubmatch(query, -1) {
		read[m[1]] = true
	}
	// The alerts, queue and counts queries read these too.
	for _, n := range []string{"pairs", "checkins", "safety_alerts", "users", "assignments", "step_versions"} {
		read[n] = true
	}
	var missing []string
	for n := range read {
		if n == "unnest" || n == "my" || strings.EqualFold(n, "lateral") || immutable[n] {
			continue
		}
		if !has[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard reads %v, which have no dashboard stamp trigger (have %v)", missing, triggered)
	}
}

// TestCheckinDuringReassignmentMovesTheNewCounselorsStamp: a check-in
// written while its pair is being moved to another counselor (the move not
// yet committed) waits for the move and marks the new counselor, so the new
// counselor cannot keep a dashboard without it.
func TestCheckinDuringReassignmentMovesTheNewCounselorsStamp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)

	move, err := f.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer move.Rollback() //nolint:errcheck
	if _, err := move.Exec(`UPDATE pairs SET counselor_id = $2 WHERE id = $1`, p.ID, f.B.UserID); err != nil {
		t.Fatal(err)
	}
	var atMove int64
	if err := move.Get(&atMove, `SELECT version FROM dashboard_marks WHERE counselor_id = $1`, f.B.UserID); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// One statement, as the check-in store's insert (no later writes
		// that would mark the new counselor anyway).
		if _, err := f.DB.Exec(`
			INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
				trust_rating, communication_rating, hope_rating, visibility)
			SELECT a.practice_id, a.pair_id, a.id, $2, $3, $3, 'done', 5, 5, 5, 'partner'
			FROM assignments a WHERE a.id = $1`, hw, p.Members[0].UserID, day0.AddDays(-1)); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(300 * time.Millisecond) // the check-in's statement is running and waits
	if err := move.Commit(); err != nil {
		t.Fatal(err)
	}
	<-done
	if st := f.stamp(t, f.B); st.Version <= atMove {
		t.Errorf("the new counselor's version is still %d after a check-in that committed after the move", st.Version)
	}
}

// A transaction's changes become visible together, so it moves each
// counselor's version once, at its first change (migration 00178): an
// edit, which also writes a history row, must not pay for two. A mark
// undone with a rolled-back savepoint is not counted as made.
func TestATransactionMovesAStampOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)
	checkinID := f.checkin(t, hw, p.Members[0].UserID, day0.AddDays(-1), day0.AddDays(-1), rating{7, 6, 5}, "partner")
	before := f.stamp(t, f.A).Version

	tx, err := f.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	version := func() (v int64) {
		t.Helper()
		if err := tx.Get(&v, `SELECT version FROM dashboard_marks WHERE counselor_id = $1`, f.A.UserID); err != nil {
			t.Fatal(err)
		}
		return v
	}
	run := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run(`SAVEPOINT s`)
	run(`UPDATE checkins SET trust_rating = 2 WHERE id = $1`, checkinID)
	run(`ROLLBACK TO SAVEPOINT s`)
	run(`RELEASE SAVEPOINT s`)
	if v := version(); v != before {
		t.Fatalf("a rolled-back savepoint left version %d, want %d", v, before)
	}
	run(`UPDATE checkins SET trust_rating = 3 WHERE id = $1`, checkinID)
	first := version()
	if first == before {
		t.Fatalf("the edit did not move the version (%d)", first)
	}
	run(`UPDATE checkins SET hope_rating = 3 WHERE id = $1`, checkinID)
	run(`UPDATE pairs SET label = label || ' and co.' WHERE id = $1`, p.ID)
	if v := version(); v != first {
		t.Errorf("the transaction's later changes moved the version again: %d, then %d", first, v)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v := f.stamp(t, f.A).Version; v != first {
		t.Errorf("after the commit the version is %d, want %d", v, first)
	}
}
