package jobs_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair/pairtest"
)

// The scheduled task advances due plans in every practice, one practice at
// a time.
func TestAdvancePlansCoversEveryPractice(t *testing.T) {
	f := pairtest.New(t)
	ctx := context.Background()
	now := time.Now()
	hw := homework.NewStore(f.DB, nil)
	hw.Now = func() time.Time { return now }
	plan := strconv.Itoa(f.Count(t, `SELECT id FROM plans WHERE key = 'core-path'`))
	for _, sc := range []mend.Scope{f.A, f.OtherCounselor} {
		p := f.Pair(t, sc, "mutual", "mutual")
		if _, err := hw.ApplyPlan(ctx, sc, p.ID, homework.PlanInput{PlanID: plan, Cadence: "daily"}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.AddDate(0, 0, 8) // the first step (7 days) has ended everywhere
	if err := jobs.AdvancePlans(ctx, hw); err != nil {
		t.Fatal(err)
	}
	if n := f.Count(t, `SELECT count(DISTINCT practice_id) FROM assignments WHERE status = 'active'
		AND pair_plan_step_id IN (SELECT id FROM pair_plan_steps WHERE position = 2)`); n != 2 {
		t.Fatalf("step 2 started in %d practices, want 2", n)
	}
}
