package review_test

import (
	"context"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/review"
)

// TestProgressStartsAtTheFirstRecordAndCountsThisWeek: with no range
// chosen, the progress tab starts on the day the pair was created, not a
// fixed twelve weeks back; a client who checked in for the current week is
// counted as having done it.
func TestProgressStartsAtTheFirstRecordAndCountsThisWeek(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	created := day0.AddDays(-40)
	if _, err := f.DB.Exec(`UPDATE pairs SET created_at = $2 WHERE id = $1`, p.ID, time.Date(created.Year, created.Month, created.Day, 18, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	a, b := p.Members[0].UserID, p.Members[1].UserID
	// Weekly from Saturday 28 February: weeks to 6 March and to 13 March
	// are closed on 20 March; the week of 14–20 March is the current one.
	hw := f.homework(t, p, "weekly", []int64{5}, day0.AddDays(-20), day0.AddDays(20), 0)
	f.checkin(t, hw, a, day0.AddDays(-13), day0.AddDays(-7), rating{6, 6, 6}, "partner")
	f.checkin(t, hw, a, day0.AddDays(-6), day0, rating{7, 7, 7}, "partner")

	rg, err := review.ParseRange("", "", "UTC", f.now)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := f.reviews.Progress(ctx, f.A, p.ID, rg)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Range.From != created || pr.Range.To != day0 {
		t.Errorf("default range %s – %s, want from the pair's creation %s to today %s", pr.Range.From, pr.Range.To, created, day0)
	}
	if len(pr.Homework) != 1 || len(pr.Homework[0].Rates) != 2 {
		t.Fatalf("completion rows %+v", pr.Homework)
	}
	for _, r := range pr.Homework[0].Rates {
		want := map[int64]string{a: "67% (2 of 3 periods)", b: "0% (0 of 2 periods)"}[r.UserID]
		if got := r.Text(); got != want {
			t.Errorf("%s: completion %q, want %q", r.Name, got, want)
		}
	}
	// A chosen start is kept.
	rg, _ = review.ParseRange(day0.AddDays(-10).String(), day0.String(), "UTC", f.now)
	if pr, err = f.reviews.Progress(ctx, f.A, p.ID, rg); err != nil || pr.Range.From != day0.AddDays(-10) {
		t.Errorf("chosen range: from %s (%v), want %s", pr.Range.From, err, day0.AddDays(-10))
	}
	if pr.Empty() || !pr.HasCheckins() {
		t.Errorf("a pair with homework and check-ins reads as empty")
	}
}

// TestProgressOfANewPairIsEmpty: a pair created today has nothing to chart.
func TestProgressOfANewPairIsEmpty(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	if _, err := f.DB.Exec(`UPDATE pairs SET created_at = $2 WHERE id = $1`, p.ID, f.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	rg, _ := review.ParseRange("", "", "UTC", f.now)
	pr, err := f.reviews.Progress(context.Background(), f.A, p.ID, rg)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Empty() || pr.HasCheckins() || pr.Range.From != day0 {
		t.Errorf("new pair: empty %v, check-ins %v, from %s; want empty, none, from today", pr.Empty(), pr.HasCheckins(), pr.Range.From)
	}
}
