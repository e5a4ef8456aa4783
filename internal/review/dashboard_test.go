package review_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// Each attention rule, with real data: homework and check-ins in
// PostgreSQL, read back through the dashboard's queries. Today is 20 March
// (UTC clients); periods up to 17 March are closed.

func TestDashboardFallingTrust(t *testing.T) {
	t.Parallel()
	f := setup(t)
	falling := f.Pair(t, f.A, "was_hurt", "broke_trust")
	dip := f.Pair(t, f.A, "was_hurt", "broke_trust")
	rose := f.Pair(t, f.A, "was_hurt", "broke_trust")
	for _, p := range []struct {
		id   int64
		a, b []rating
	}{
		// Trust 8, 7, 6, 5 for the first client: falling over the last three.
		{falling.ID, []rating{{8, 5, 5}, {7, 5, 5}, {6, 5, 5}, {5, 5, 5}}, []rating{{6, 6, 6}, {6, 6, 6}, {6, 6, 6}, {6, 6, 6}}},
		// 7, 6, 6: one point is noise, not a trend.
		{dip.ID, []rating{{7, 5, 5}, {7, 5, 5}, {6, 5, 5}, {6, 5, 5}}, []rating{{6, 6, 6}, {6, 6, 6}, {6, 6, 6}, {6, 6, 6}}},
		// 8, 5, 6: it fell, then rose again.
		{rose.ID, []rating{{9, 5, 5}, {8, 5, 5}, {5, 5, 5}, {6, 5, 5}}, []rating{{6, 6, 6}, {6, 6, 6}, {6, 6, 6}, {6, 6, 6}}},
	} {
		pp, err := f.Pairs.Get(context.Background(), f.A, p.id)
		if err != nil {
			t.Fatal(err)
		}
		hw := f.homework(t, pp, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)
		f.daily(t, hw, pp.Members[0].UserID, day0.AddDays(-6), p.a...)
		f.daily(t, hw, pp.Members[1].UserID, day0.AddDays(-6), p.b...)
	}
	d := f.dashboard(t, f.A)
	a := falling.Members[0].Name
	if got := reasons(d, falling.ID); !has(got, "falling:"+a) || len(got) != 1 {
		t.Errorf("trust 7 → 6 → 5: reasons %v, want only falling for %s", got, a)
	}
	if got := reasons(d, dip.ID); len(got) != 0 {
		t.Errorf("trust 7 → 6 → 6: reasons %v, want none", got)
	}
	if got := reasons(d, rose.ID); len(got) != 0 {
		t.Errorf("trust 8 → 5 → 6: reasons %v, want none", got)
	}
	// The reason says whose trust, and how it went.
	if len(d.Attention) == 0 || !strings.Contains(d.Attention[0].Reasons[0].Text, "7 → 6 → 5") {
		t.Errorf("falling reason text: %+v", d.Attention)
	}
	// Another counselor's dashboard does not show these pairs.
	if d := f.dashboard(t, f.B); len(d.Pairs) != 0 || len(d.Attention) != 0 {
		t.Errorf("counselor B sees counselor A's pairs: %+v", d)
	}
}

func TestDashboardDiverging(t *testing.T) {
	t.Parallel()
	f := setup(t)
	apart := f.Pair(t, f.A, "was_hurt", "broke_trust")
	close := f.Pair(t, f.A, "mutual", "mutual")
	for _, p := range []struct {
		id   int64
		a, b []rating
	}{
		// Latest: hope 8 against 5 (gap 3); earlier gaps do not count.
		{apart.ID, []rating{{5, 5, 5}, {6, 6, 8}}, []rating{{9, 5, 5}, {6, 6, 5}}},
		// Latest gap of 2 on every rating.
		{close.ID, []rating{{2, 2, 2}, {7, 7, 7}}, []rating{{9, 9, 9}, {5, 5, 5}}},
	} {
		pp, err := f.Pairs.Get(context.Background(), f.A, p.id)
		if err != nil {
			t.Fatal(err)
		}
		hw := f.homework(t, pp, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)
		f.daily(t, hw, pp.Members[0].UserID, day0.AddDays(-4), p.a...)
		f.daily(t, hw, pp.Members[1].UserID, day0.AddDays(-4), p.b...)
	}
	d := f.dashboard(t, f.A)
	if got := reasons(d, apart.ID); len(got) != 1 || got[0] != "diverging:" {
		t.Fatalf("latest hope 8 vs 5: reasons %v, want diverging", got)
	}
	for _, a := range d.Attention {
		if a.Pair.ID == apart.ID && !strings.Contains(a.Reasons[0].Text, "hope 8 and 5") {
			t.Errorf("diverging reason %q does not name the rating and values", a.Reasons[0].Text)
		}
	}
	if got := reasons(d, close.ID); len(got) != 0 {
		t.Errorf("latest gap of 2: reasons %v, want none", got)
	}
}

func TestDashboardMissingTwoPeriods(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	ok := rating{6, 6, 6}
	// Daily homework: the closed periods are the days up to 17 March.
	daily := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(10), 0)
	// A last checked in on 15 March: missed 16 and 17.
	f.daily(t, daily, a, day0.AddDays(-8), ok, ok, ok, ok)
	// B missed 16 March only.
	f.daily(t, daily, b, day0.AddDays(-8), ok, ok, ok, ok)
	f.checkin(t, daily, b, day0.AddDays(-3), day0.AddDays(-3), ok, "partner")
	// Weekly homework from Friday 20 February: weeks end on Thursdays; the
	// last two closed weeks are 27 Feb–5 Mar and 6–12 Mar.
	weekly := f.homework(t, p, "weekly", []int64{4}, day0.AddDays(-28), day0.AddDays(14), 0)
	f.checkin(t, weekly, a, day0.AddDays(-14), day0.AddDays(-8), ok, "partner")  // 6–12 Mar
	f.checkin(t, weekly, b, day0.AddDays(-28), day0.AddDays(-22), ok, "partner") // 20–26 Feb only
	// Daily on Mondays and Wednesdays only: the last two closed are Mon 16
	// and Wed 11 March; A checked in on Mon 9 and Wed 11 (so missed only Mon 16).
	weekdays := f.homework(t, p, "daily", []int64{1, 3}, day0.AddDays(-14), day0.AddDays(10), a)
	f.checkin(t, weekdays, a, day0.AddDays(-11), day0.AddDays(-11), ok, "partner")
	f.checkin(t, weekdays, a, day0.AddDays(-9), day0.AddDays(-9), ok, "partner")

	got := reasons(f.dashboard(t, f.A), p.ID)
	an, bn := p.Members[0].Name, p.Members[1].Name
	want := []string{"missing:" + an, "missing:" + bn}
	if len(got) != len(want) || !has(got, want[0]) || !has(got, want[1]) {
		t.Fatalf("reasons %v, want %v (A: daily; B: weekly)", got, want)
	}
	d := f.dashboard(t, f.A)
	for _, m := range d.Pairs[0].Members {
		if len(m.Missing) != 1 {
			t.Errorf("%s missing on %d homework, want 1: %+v", m.Name, len(m.Missing), m.Missing)
		}
	}
	if d.Pairs[0].Members[0].Missing[0].ID != daily || d.Pairs[0].Members[1].Missing[0].ID != weekly {
		t.Errorf("missing homework: A %+v (want daily %d), B %+v (want weekly %d)",
			d.Pairs[0].Members[0].Missing, daily, d.Pairs[0].Members[1].Missing, weekly)
	}

	// Once A checks in for 17 March (late, within the grace window), A is
	// no longer missing.
	f.checkin(t, daily, a, day0.AddDays(-3), day0.AddDays(-3), ok, "partner")
	if got := reasons(f.dashboard(t, f.A), p.ID); has(got, "missing:"+an) {
		t.Errorf("after A's check-in on 17 March: reasons %v, want A not missing", got)
	}
}

func TestDashboardOverdueHomework(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	ok := rating{6, 6, 6}
	// A letter for A, due 16 March, never checked in on: overdue.
	letter := f.homework(t, p, "once", nil, day0.AddDays(-10), day0.AddDays(-4), a)
	// For both, due yesterday: B checked in, A did not.
	both := f.homework(t, p, "once", nil, day0.AddDays(-7), day0.AddDays(-1), 0)
	f.checkin(t, both, b, day0.AddDays(-7), day0.AddDays(-1), ok, "partner")
	// Due tomorrow, no check-in yet: not overdue.
	f.homework(t, p, "once", nil, day0.AddDays(-3), day0.AddDays(1), 0)
	// Past due but completed by the counselor: not overdue.
	done := f.homework(t, p, "once", nil, day0.AddDays(-10), day0.AddDays(-5), 0)
	if _, err := f.DB.Exec(`UPDATE assignments SET status = 'completed', completed_at = $2 WHERE id = $1`, done, f.now); err != nil {
		t.Fatal(err)
	}
	// Daily homework that ended on 18 March; A checked in on its last day.
	ended := f.homework(t, p, "daily", nil, day0.AddDays(-4), day0.AddDays(-2), a)
	f.daily(t, ended, a, day0.AddDays(-4), ok, ok, ok)

	d := f.dashboard(t, f.A)
	var overdue []int64
	for _, m := range d.Pairs[0].Members {
		for _, h := range m.Overdue {
			if m.UserID != a {
				t.Errorf("%s has overdue homework %+v; only A should", m.Name, h)
			}
			overdue = append(overdue, h.ID)
		}
	}
	if len(overdue) != 2 || overdue[0] != letter || overdue[1] != both {
		t.Fatalf("overdue for A: %v, want [%d %d] (the letter, then the homework for both)", overdue, letter, both)
	}
	got := reasons(d, p.ID)
	if len(got) != 2 || got[0] != "overdue:"+p.Members[0].Name {
		t.Errorf("reasons %v, want two overdue reasons for A and nothing missing (once homework has one period)", got)
	}
}

func TestDashboardQueuePairsAndCompletion(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	ok := rating{6, 6, 6}
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-9), day0.AddDays(10), 0)
	// A: all seven closed days (11–17 March); B: none.
	f.daily(t, hw, a, day0.AddDays(-9), ok, ok, ok, ok, ok, ok, ok)
	flagged := f.checkin(t, hw, b, day0.AddDays(-2), day0.AddDays(-2), ok, "counselor")
	if _, err := f.DB.Exec(`UPDATE checkins SET safety_flag = true WHERE id = $1`, flagged); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.Exec(`INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id) VALUES ($1, $2, $3, $4)`,
		p.PracticeID, p.ID, flagged, f.A.UserID); err != nil {
		t.Fatal(err)
	}
	d := f.dashboard(t, f.A)
	if d.Counts.Review != 8 || len(d.Queue) != 8 {
		t.Errorf("queue: count %d, listed %d, want 8", d.Counts.Review, len(d.Queue))
	}
	if d.Queue[0].CheckinID != flagged || !d.Queue[1].CreatedAt.Before(d.Queue[2].CreatedAt) {
		t.Errorf("queue order: flagged check-in %d first, then the oldest: got %+v", flagged, d.Queue[:3])
	}
	if d.Counts.Flags != 1 || len(d.Alerts) != 1 || d.Alerts[0].CheckinID != flagged {
		t.Errorf("alerts: %+v (count %d), want the flagged check-in", d.Alerts, d.Counts.Flags)
	}
	if len(d.Pairs) != 1 || d.Pairs[0].CurrentID != hw || d.Pairs[0].StepText() == "" {
		t.Fatalf("active pairs: %+v", d.Pairs)
	}
	// 7 of 14 asked-for check-ins in closed periods.
	if got := d.Pairs[0].CompletionText(); got != "50%" {
		t.Errorf("completion %s, want 50%% (7 of 14)", got)
	}
	// Reviewing empties the queue; acknowledging empties the flags.
	for _, q := range d.Queue {
		if err := f.reviews.MarkReviewed(context.Background(), f.A, q.CheckinID, 0); err != nil {
			t.Fatal(err)
		}
	}
	var alertID int64
	if err := f.DB.Get(&alertID, `SELECT id FROM safety_alerts WHERE checkin_id = $1`, flagged); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.Acknowledge(context.Background(), f.A, alertID, "Called B; safe at a friend's."); err != nil {
		t.Fatal(err)
	}
	n, err := f.reviews.Counts(context.Background(), f.A)
	if err != nil || n != (review.Counts{}) {
		t.Errorf("counts after reviewing and acknowledging: %+v, %v; want zero", n, err)
	}
	// Only counselors have a dashboard.
	for _, sc := range []mend.Scope{f.Admin, f.ClientScope(p, 1)} {
		if _, err := f.reviews.Dashboard(context.Background(), sc); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("dashboard for %s: %v, want not found", sc.Role, err)
		}
	}
}

// TestDashboardIgnoresPeriodsBeforeAssigned: homework given today with a
// start date two weeks back raises neither "missing" nor "overdue" for the
// periods that were over before it existed; the same homework given on its
// start date does.
func TestDashboardIgnoresPeriodsBeforeAssigned(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	an := p.Members[0].Name
	a := p.Members[0].UserID
	daily := f.homework(t, p, "daily", nil, day0.AddDays(-14), day0.AddDays(10), a)
	letter := f.homework(t, p, "once", nil, day0.AddDays(-14), day0.AddDays(-5), a)
	// Both were assigned only today (backdated by the counselor).
	if _, err := f.DB.Exec(`UPDATE assignments SET created_at = $2 WHERE id = ANY($1)`, pq.Array([]int64{daily, letter}), f.now); err != nil {
		t.Fatal(err)
	}
	d := f.dashboard(t, f.A)
	if got := reasons(d, p.ID); len(got) != 0 {
		t.Fatalf("reasons %v for homework assigned today: periods before it was given must not count", got)
	}
	if m := d.Pairs[0].Members[0]; m.Expected != 0 {
		t.Errorf("completion expects %d check-ins for periods before the homework was given", m.Expected)
	}
	// Assigned four days ago: the daily homework's closed periods since
	// then (16 and 17 March) are missed; the letter was due before it was
	// given, still not overdue.
	if _, err := f.DB.Exec(`UPDATE assignments SET created_at = $2 WHERE id = ANY($1)`, pq.Array([]int64{daily, letter}), f.now.AddDate(0, 0, -4)); err != nil {
		t.Fatal(err)
	}
	got := reasons(f.dashboard(t, f.A), p.ID)
	if len(got) != 1 || got[0] != "missing:"+an {
		t.Fatalf("reasons %v, want only missing:%s", got, an)
	}
}
