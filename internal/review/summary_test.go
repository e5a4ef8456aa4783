package review_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// The dashboard's pairs list is read from dashboard_pairs (migration
// 00160), kept by triggers in the writing transaction. These tests make
// each kind of change the list shows and compare what is kept with a fresh
// computation, then turn the day in the clients' timezones.

// sameAsFresh fails unless the pairs list of sc kept in dashboard_pairs is
// current as of now (kept: with nothing left for the read to compute
// again) and equal to a fresh computation, and the dashboard (which
// computes again what is out of date) shows the same.
func (f *fx) sameAsFresh(t *testing.T, what string, sc mend.Scope, kept bool) []review.PairRow {
	t.Helper()
	ctx := context.Background()
	fresh, err := f.reviews.FreshPairs(ctx, sc, f.now)
	if err != nil {
		t.Fatalf("%s: fresh: %v", what, err)
	}
	if kept {
		got, stale, err := f.reviews.KeptPairs(ctx, sc, f.now)
		if err != nil {
			t.Fatalf("%s: kept: %v", what, err)
		}
		if len(stale) > 0 {
			t.Errorf("%s: pairs %v are out of date in dashboard_pairs after the change's own transaction", what, stale)
		} else if !reflect.DeepEqual(got, fresh) {
			t.Errorf("%s: dashboard_pairs holds\n  %+v\nwant (fresh)\n  %+v", what, got, fresh)
		}
	}
	if d := f.dashboard(t, sc); !reflect.DeepEqual(d.Pairs, fresh) {
		t.Errorf("%s: the dashboard shows\n  %+v\nwant (fresh)\n  %+v", what, d.Pairs, fresh)
	}
	// Read, nothing is out of date any more.
	if _, stale, err := f.reviews.KeptPairs(ctx, sc, f.now); err != nil || len(stale) > 0 {
		t.Errorf("%s: after the read, pairs %v still out of date (%v)", what, stale, err)
	}
	return fresh
}

func TestDashboardSummaryFollowsEveryChange(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// The triggers compute as of the database's clock: so does this test.
	if err := f.DB.Get(&f.now, `SELECT now()`); err != nil {
		t.Fatal(err)
	}
	today := checkin.DateIn(f.now, time.UTC)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	other := f.Pair(t, f.A, "mutual", "mutual")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	hw := f.homework(t, p, "daily", nil, today.AddDays(-20), today.AddDays(10), 0)
	f.homework(t, other, "weekly", []int64{1, 4}, today.AddDays(-30), today.AddDays(30), 0)
	f.sameAsFresh(t, "the pairs are read a first time", f.A, false)

	var checkinID, weekly, planID, revealHW int64
	exec := f.exec
	for _, c := range []struct {
		name   string
		change func(t *testing.T)
		// look: what the change must show on the first pair
		look func(r review.PairRow) bool
		// read: the read (not a trigger) notices the change, by comparing
		// timezones
		read bool
	}{
		{name: "a client's check-in arrives", change: func(t *testing.T) {
			checkinID = f.checkin(t, hw, a, today.AddDays(-1), today.AddDays(-1), rating{7, 6, 5}, "partner")
		}, look: func(r review.PairRow) bool { return fmt.Sprint(r.Members[0].Trust) == "[7]" }},
		{name: "earlier check-ins arrive together", change: func(t *testing.T) {
			f.daily(t, hw, b, today.AddDays(-9), rating{8, 8, 8}, rating{6, 6, 6}, rating{4, 4, 4})
		}, look: func(r review.PairRow) bool {
			return fmt.Sprint(r.Members[1].Trust) == "[4 6 8]" && r.Members[1].Done == 3
		}},
		{name: "a reveal exercise is assigned", change: func(t *testing.T) {
			if err := f.DB.Get(&revealHW, `
				INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, weekdays, created_at)
				VALUES ($1, $2, (SELECT id FROM step_versions WHERE reveal_rule = 'counselor' ORDER BY id LIMIT 1), $3, $4, 'daily', '{}', $5)
				RETURNING id`, p.PracticeID, p.ID, today.AddDays(-20), today.AddDays(10), f.now.AddDate(0, 0, -21)); err != nil {
				t.Fatal(err)
			}
		}, look: func(r review.PairRow) bool { return len(r.Release) == 0 }},
		{name: "both partners answer it", change: func(t *testing.T) {
			exec(`INSERT INTO reveal_answers (practice_id, pair_id, assignment_id, user_id, period_start, period_end)
				SELECT a.practice_id, a.pair_id, a.id, u, $2, $2 FROM assignments a, unnest($3::bigint[]) u WHERE a.id = $1`,
				revealHW, today.AddDays(-5), pq.Array([]int64{a, b}))(t)
		}, look: func(r review.PairRow) bool { return len(r.Release) == 1 && r.Release[0].ID == revealHW }},
		{name: "the counselor releases the answers", change: func(t *testing.T) {
			exec(`INSERT INTO reveals (practice_id, pair_id, assignment_id, period_start, rule, revealed_by)
				SELECT practice_id, pair_id, id, $2, 'counselor', $3 FROM assignments WHERE id = $1`, revealHW, today.AddDays(-5), f.A.UserID)(t)
		}, look: func(r review.PairRow) bool { return len(r.Release) == 0 }},
		{name: "the reveal exercise is removed with its answers", change: func(t *testing.T) {
			for _, q := range []string{`DELETE FROM reveals WHERE assignment_id = $1`, `DELETE FROM reveal_answers WHERE assignment_id = $1`,
				`DELETE FROM assignments WHERE id = $1`} {
				exec(q, revealHW)(t)
			}
		}, look: func(r review.PairRow) bool { return r.Members[1].Done == 3 }},
		{name: "the check-in is edited", change: func(t *testing.T) { exec(`UPDATE checkins SET trust_rating = 3 WHERE id = $1`, checkinID)(t) },
			look: func(r review.PairRow) bool { return fmt.Sprint(r.Members[0].Trust) == "[3]" }},
		{name: "the partner changes a rating of an earlier check-in", change: exec(`
			UPDATE checkins SET hope_rating = 9 WHERE user_id = $1 AND period_start = $2`, b, today.AddDays(-8)),
			look: func(r review.PairRow) bool { return fmt.Sprint(r.Members[1].Hope) == "[4 9 8]" }},
		{name: "a check-in is reviewed and its visibility changed", change: func(t *testing.T) {
			// Nothing the summary holds: its row is not even rewritten.
			row := `SELECT xmin::text FROM dashboard_pairs WHERE pair_id = $1`
			var before, after string
			if err := f.DB.Get(&before, row, p.ID); err != nil {
				t.Fatal(err)
			}
			exec(`UPDATE checkins SET visibility = 'counselor', reviewed_at = now(), version = version + 1 WHERE id = $1`, checkinID)(t)
			if err := f.DB.Get(&after, row, p.ID); err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("the pair's summary row was written again (xmin %s, then %s) for a change it does not hold", before, after)
			}
		}, look: func(r review.PairRow) bool { return fmt.Sprint(r.Members[0].Trust) == "[3]" }},
		{name: "a check-in moves to another period", change: func(t *testing.T) {
			// Its period alone: the pair's row is computed again.
			exec(`UPDATE checkins SET period_start = $2, period_end = $2 WHERE id = $1`, checkinID, today.AddDays(-3))(t)
		},
			look: func(r review.PairRow) bool { return fmt.Sprint(r.Members[0].Trust) == "[3]" && r.Members[0].Done == 1 }},
		{name: "a check-in is deleted", change: func(t *testing.T) { exec(`DELETE FROM checkins WHERE id = $1`, checkinID)(t) },
			look: func(r review.PairRow) bool { return len(r.Members[0].Trust) == 0 }},
		{name: "homework is assigned to one client", change: func(t *testing.T) {
			weekly = f.homework(t, p, "weekly", []int64{1}, today.AddDays(-21), today.AddDays(14), b)
		}, look: func(r review.PairRow) bool { return r.Members[1].Expected > r.Members[0].Expected }},
		{name: "homework's due date moves into the past", change: func(t *testing.T) {
			exec(`UPDATE assignments SET due_on = $2 WHERE id = $1`, weekly, today.AddDays(-1))(t)
		},
			look: func(r review.PairRow) bool {
				return len(r.Members[1].Overdue) == 1 && r.Members[1].Overdue[0].ID == weekly
			}},
		{name: "homework is completed", change: func(t *testing.T) {
			exec(`UPDATE assignments SET status = 'completed', completed_at = now() WHERE id = $1`, weekly)(t)
		},
			look: func(r review.PairRow) bool { return len(r.Members[1].Overdue) == 0 }},
		{name: "homework is deleted", change: func(t *testing.T) { exec(`DELETE FROM assignments WHERE id = $1`, weekly)(t) },
			look: func(r review.PairRow) bool { return r.Members[1].Expected == r.Members[0].Expected }},
		{name: "the current homework becomes a plan step", change: func(t *testing.T) {
			if err := f.DB.Get(&planID, `INSERT INTO pair_plans (practice_id, pair_id, name, starts_on) VALUES ($1, $2, 'Plan', $3) RETURNING id`,
				p.PracticeID, p.ID, today.AddDays(-20)); err != nil {
				t.Fatal(err)
			}
			exec(`WITH s AS (INSERT INTO pair_plan_steps (practice_id, pair_plan_id, position, step_version_id, days)
				SELECT $1, $2, 1, a.step_version_id, 30 FROM assignments a WHERE a.id = $3 RETURNING id)
				UPDATE assignments SET pair_plan_step_id = (SELECT id FROM s) WHERE id = $3`, p.PracticeID, planID, hw)(t)
		}, look: func(r review.PairRow) bool { return r.PlanPosition == 1 && r.PlanSteps == 1 }},
		{name: "a plan step is added", change: func(t *testing.T) {
			exec(`
			INSERT INTO pair_plan_steps (practice_id, pair_plan_id, position, step_version_id, days)
			SELECT $1, $2, 2, a.step_version_id, 7 FROM assignments a WHERE a.id = $3`, p.PracticeID, planID, hw)(t)
		},
			look: func(r review.PairRow) bool { return r.PlanSteps == 2 }},
		{name: "the plan's steps are reordered", change: func(t *testing.T) {
			exec(`
			UPDATE pair_plan_steps SET position = CASE position WHEN 1 THEN 3 ELSE 1 END WHERE pair_plan_id = $1`, planID)(t)
		},
			look: func(r review.PairRow) bool { return r.PlanPosition == 3 }},
		// A new check-in on homework on the client's missed list: the pair's
		// row is computed again. On homework on neither list: only the
		// client's figures are read again (migration 00175).
		{name: "the partner checks in on homework they had missed", change: func(t *testing.T) {
			f.checkin(t, hw, b, today.AddDays(-4), today.AddDays(-4), rating{3, 3, 3}, "partner")
		}, look: func(r review.PairRow) bool {
			return len(r.Members[1].Missing) == 0 && fmt.Sprint(r.Members[1].Trust) == "[3 4 6]"
		}},
		{name: "the partner checks in on homework they keep up with", change: func(t *testing.T) {
			f.checkin(t, hw, b, today.AddDays(-3), today.AddDays(-3), rating{2, 2, 2}, "partner")
		}, look: func(r review.PairRow) bool {
			return fmt.Sprint(r.Members[1].Trust) == "[2 3 4]" && r.Members[1].Done == 5 &&
				r.Members[1].LastPeriod.Time.Equal(time.Date(today.AddDays(-3).Year, today.AddDays(-3).Month, today.AddDays(-3).Day, 0, 0, 0, 0, time.UTC))
		}},
		// A rating alone reads only the client's latest ratings again
		// (migration 00178): one older than the last three changes nothing
		// shown, the latest one changes the trend and nothing else.
		{name: "the partner changes a rating older than their last three", change: exec(`
			UPDATE checkins SET trust_rating = 1 WHERE user_id = $1 AND period_start = $2`, b, today.AddDays(-9)),
			look: func(r review.PairRow) bool {
				return fmt.Sprint(r.Members[1].Trust) == "[2 3 4]" && r.Members[1].Done == 5
			}},
		{name: "the partner changes a rating of their latest check-in", change: exec(`
			UPDATE checkins SET trust_rating = 9 WHERE user_id = $1 AND period_start = $2`, b, today.AddDays(-3)),
			look: func(r review.PairRow) bool {
				return fmt.Sprint(r.Members[1].Trust) == "[9 3 4]" && r.Members[1].Done == 5
			}},
		{name: "the current homework is cancelled", change: exec(`UPDATE assignments SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, hw),
			look: func(r review.PairRow) bool { return r.CurrentID == 0 }},
		{name: "a client changes their name", change: exec(`UPDATE users SET name = 'New Name' WHERE id = $1`, a),
			look: func(r review.PairRow) bool { return r.Members[0].Name == "New Name" }},
		{name: "a client changes their timezone", read: true, change: exec(`UPDATE users SET timezone = 'Pacific/Kiritimati' WHERE id = $1`, b),
			look: func(r review.PairRow) bool { return true }},
		{name: "the practice changes its timezone", read: true, change: exec(`UPDATE practices SET timezone = 'Pacific/Kiritimati' WHERE id = $1`, p.PracticeID),
			look: func(r review.PairRow) bool { return true }},
		{name: "the partner checks in from the other side of the date line", change: func(t *testing.T) {
			// Only the partner's figures are read again, for their own today.
			// The partner (UTC+14) is a calendar day ahead of the other client
			// (UTC-10) and of the practice (UTC-11) at every hour, so a today
			// taken in either of their timezones counts the check-in, on the
			// window's last day, out of the done figure.
			exec(`UPDATE users SET timezone = 'Pacific/Honolulu' WHERE id = $1`, a)(t)
			exec(`UPDATE users SET timezone = 'Pacific/Kiritimati' WHERE id = $1`, b)(t)
			exec(`UPDATE practices SET timezone = 'Pacific/Pago_Pago' WHERE id = $1`, p.PracticeID)(t)
			f.dashboard(t, f.A) // computes the row for the new timezones
			kiritimati, err := time.LoadLocation("Pacific/Kiritimati")
			if err != nil {
				t.Fatal(err)
			}
			last := checkin.DateIn(f.now, kiritimati).AddDays(-checkin.GraceDays - 1)
			mine := f.homework(t, p, "daily", nil, last, last.AddDays(10), 0)
			f.checkin(t, mine, b, last, last, rating{1, 1, 1}, "partner")
		}, look: func(r review.PairRow) bool { return strings.HasPrefix(fmt.Sprint(r.Members[1].Trust), "[1 ") }},
		{name: "a member leaves the pair", change: exec(`DELETE FROM pair_members WHERE pair_id = $1 AND user_id = $2`, p.ID, b),
			look: nil}, // a pair without both members is not listed
		{name: "a member joins the pair", change: exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 2, 'broke_trust')`, p.ID, b),
			look: func(r review.PairRow) bool { return r.Members[1].UserID == b }},
		{name: "the pair is paused", change: exec(`UPDATE pairs SET status = 'paused' WHERE id = $1`, p.ID), look: nil},
	} {
		c.change(t)
		rows := f.sameAsFresh(t, c.name, f.A, !c.read)
		var row *review.PairRow
		for i := range rows {
			if rows[i].ID == p.ID {
				row = &rows[i]
			}
		}
		switch {
		case c.look == nil && row != nil:
			t.Errorf("%s: the pair is still listed", c.name)
		case c.look != nil && row == nil:
			t.Errorf("%s: the pair is not listed", c.name)
		case c.look != nil && !c.look(*row):
			t.Errorf("%s: the pair's row does not show it: %+v", c.name, *row)
		}
		if len(rows) == 0 || rows[len(rows)-1].ID != other.ID {
			t.Errorf("%s: the other pair is not listed: %+v", c.name, rows)
		}
	}

	// The other counselor's list, read through the same rows, has none of these.
	if got := f.sameAsFresh(t, "another counselor", f.B, true); len(got) != 0 {
		t.Errorf("counselor B lists %+v", got)
	}
	// A pair moved to another counselor is on their list at once.
	if _, err := f.DB.Exec(`UPDATE pairs SET counselor_id = $2 WHERE id = $1`, other.ID, f.B.UserID); err != nil {
		t.Fatal(err)
	}
	if got := f.sameAsFresh(t, "the pair moves to another counselor", f.B, true); len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("counselor B lists %+v, want the moved pair", got)
	}
	// Only active pairs' rows are kept: a change to a paused pair drops its row.
	f.checkin(t, hw, a, today.AddDays(-2), today.AddDays(-2), rating{5, 5, 5}, "partner")
	if n := f.Count(t, `SELECT count(*) FROM dashboard_pairs WHERE pair_id = $1`, p.ID); n != 0 {
		t.Errorf("a paused pair's row is still kept after a change (%d)", n)
	}
}

// TestDashboardSummaryTurnsTheDayInEachClientsTimezone: no trigger fires
// at midnight, so a kept row holds only until the first of the practice's
// and its two clients' local midnights; the first read after it computes
// the row again. Homework due "today" becomes overdue for each client at
// their own midnight, not at UTC's or the practice's, and a kept row is
// used up to the last second before it.
func TestDashboardSummaryTurnsTheDayInEachClientsTimezone(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name           string
		practice, a, b string // timezones
		due            checkin.Date
		steps          []struct {
			at       string
			stale    bool // the row kept by the previous read no longer holds
			overdueA bool // the homework shows overdue for client A
			overdueB bool
		}
	}{
		{name: "Chicago and UTC", practice: "Europe/London", a: "America/Chicago", b: "UTC", due: checkin.D(2026, time.March, 20),
			steps: []struct {
				at                        string
				stale, overdueA, overdueB bool
			}{
				{at: "2026-03-20T23:59:59Z", stale: true},
				// Midnight in London and UTC: B's due date has passed.
				{at: "2026-03-21T00:00:00Z", stale: true, overdueB: true},
				{at: "2026-03-21T04:59:59Z", overdueB: true},
				// Midnight in Chicago (CDT, UTC-5): A's too.
				{at: "2026-03-21T05:00:00Z", stale: true, overdueA: true, overdueB: true},
				{at: "2026-03-21T23:59:59Z", overdueA: true, overdueB: true},
			}},
		{name: "São Paulo's skipped midnight", practice: "America/Sao_Paulo", a: "America/Sao_Paulo", b: "Asia/Kolkata", due: checkin.D(2018, time.November, 3),
			steps: []struct {
				at                        string
				stale, overdueA, overdueB bool
			}{
				// Midnight in Kolkata (UTC+5:30) on 3 November.
				{at: "2018-11-03T18:29:59Z", stale: true},
				{at: "2018-11-03T18:30:00Z", stale: true, overdueB: true},
				{at: "2018-11-04T02:59:59Z", overdueB: true},
				// 4 November begins in São Paulo at 01:00 local (03:00 UTC): clocks
				// skip midnight.
				{at: "2018-11-04T03:00:00Z", stale: true, overdueA: true, overdueB: true},
				{at: "2018-11-04T18:29:59Z", overdueA: true, overdueB: true},
			}},
		{name: "Havana's midnight twice", practice: "Europe/London", a: "America/Havana", b: "UTC", due: checkin.D(2024, time.November, 2),
			steps: []struct {
				at                        string
				stale, overdueA, overdueB bool
			}{
				{at: "2024-11-03T03:59:59Z", stale: true, overdueB: true},
				// 3 November begins in Havana at 00:00 daylight time (04:00
				// UTC); at 01:00 the clocks go back to 00:00 standard time
				// (05:00 UTC), a midnight that PostgreSQL reads as the later
				// instant. The day has begun at the first.
				{at: "2024-11-03T04:00:00Z", stale: true, overdueA: true, overdueB: true},
				{at: "2024-11-03T04:30:00Z", overdueA: true, overdueB: true},
				{at: "2024-11-03T05:00:00Z", overdueA: true, overdueB: true},
				{at: "2024-11-03T23:59:59Z", overdueA: true, overdueB: true},
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			p := f.Pair(t, f.A, "was_hurt", "broke_trust")
			a, b := p.Members[0].UserID, p.Members[1].UserID
			for q, args := range map[string][]any{
				`UPDATE practices SET timezone = $2 WHERE id = $1`:                                             {p.PracticeID, c.practice},
				`UPDATE users SET timezone = $2 WHERE id = $1`:                                                 {a, c.a},
				`UPDATE users SET timezone = CASE WHEN id = $1 THEN timezone ELSE $2 END WHERE id IN ($1, $3)`: {a, c.b, b},
			} {
				if _, err := f.DB.Exec(q, args...); err != nil {
					t.Fatal(err)
				}
			}
			hw := f.homework(t, p, "daily", nil, c.due.AddDays(-6), c.due, 0)
			for i, s := range c.steps {
				f.now = at(s.at)
				what := fmt.Sprintf("at %s", s.at)
				_, stale, err := f.reviews.KeptPairs(context.Background(), f.A, f.now)
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 && (len(stale) > 0) != s.stale {
					t.Errorf("%s: kept row out of date %v, want %v", what, len(stale) > 0, s.stale)
				}
				rows := f.sameAsFresh(t, what, f.A, false)
				if len(rows) != 1 {
					t.Fatalf("%s: %d pairs listed", what, len(rows))
				}
				for n, want := range []bool{s.overdueA, s.overdueB} {
					m := rows[0].Members[n]
					if got := len(m.Overdue) == 1 && m.Overdue[0].ID == hw; got != want {
						t.Errorf("%s: homework overdue for %s (%s): %v, want %v", what, m.Name, []string{c.a, c.b}[n], got, want)
					}
				}
			}
		})
	}
}

// TestManyPairsRefreshInOneStatement: a statement touching more pairs than
// PostgreSQL's lock table holds (6,400 by default) still refreshes their
// rows: the refresh locks buckets of pairs, not each pair (it failed with
// "out of shared memory" when 100,000 clients were added at once).
func TestManyPairsRefreshInOneStatement(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ids := make([]int64, 20000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if _, err := d.Exec(`SELECT dashboard_pairs_refresh($1, now(), 2, 28)`, pq.Array(ids)); err != nil {
		t.Fatalf("refreshing 20,000 pairs in one statement: %v", err)
	}
}
