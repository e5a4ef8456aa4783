package review_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

// The dashboard works out periods in SQL (migration 00040) so that it needs
// no query per pair; these functions must agree with the check-in rules in
// Go (internal/checkin) on every cadence, weekday choice and date.
func TestSQLPeriodsAgreeWithGo(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	rng := rand.New(rand.NewPCG(6, 40))
	base := checkin.D(2026, time.January, 1)
	for i := 0; i < 400; i++ {
		sch := checkin.Schedule{StartsOn: base.AddDays(rng.IntN(365))}
		sch.DueOn = sch.StartsOn.AddDays(rng.IntN(60))
		switch rng.IntN(3) {
		case 0:
			sch.Cadence = checkin.Once
		case 1:
			sch.Cadence = checkin.Daily
		default:
			sch.Cadence = checkin.Weekly
		}
		if sch.Cadence == checkin.Weekly || rng.IntN(3) == 0 {
			for w := 1; w <= 7; w++ {
				if rng.IntN(3) == 0 {
					sch.Weekdays = append(sch.Weekdays, w)
				}
			}
			if len(sch.Weekdays) == 0 {
				sch.Weekdays = []int{1 + rng.IntN(7)}
			}
		}
		weekdays := make([]int64, len(sch.Weekdays))
		for j, w := range sch.Weekdays {
			weekdays[j] = int64(w)
		}
		periods := sch.Periods()
		upto := sch.StartsOn.AddDays(rng.IntN(75) - 5)
		for n := 1; n <= 2; n++ {
			var closed []checkin.Period
			for _, p := range periods {
				if !p.End.After(upto) {
					closed = append(closed, p)
				}
			}
			var want *checkin.Date
			if len(closed) >= n {
				want = &closed[len(closed)-n].Start
			}
			var got *checkin.Date
			if err := d.Get(&got, `SELECT mend_closed_period_start($1, $2, $3, $4, $5, $6)`,
				string(sch.Cadence), pq.Array(weekdays), sch.StartsOn, sch.DueOn, upto, n); err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Fatalf("%+v: %d-th latest period closed by %s: SQL %v, Go %v", sch, n, upto, got, want)
			}
		}
		from := sch.StartsOn.AddDays(rng.IntN(70) - 10)
		to := from.AddDays(rng.IntN(40))
		want := 0
		for _, p := range periods {
			if !p.End.Before(from) && !p.End.After(to) {
				want++
			}
		}
		var got int
		if err := d.Get(&got, `SELECT mend_period_count($1, $2, $3, $4, $5, $6)`,
			string(sch.Cadence), pq.Array(weekdays), sch.StartsOn, sch.DueOn, from, to); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%+v: periods ending %s to %s: SQL %d, Go %d", sch, from, to, got, want)
		}
	}
}
