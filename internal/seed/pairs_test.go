package seed_test

import (
	"context"
	"testing"

	"github.com/mend-practice/mend/internal/app/apptest"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/seed"
)

// Every demo pair is on the built-in plan with homework in progress: step 2
// or 3 running, the earlier ones completed. Seeding again changes nothing.
func TestDemoPairsHaveHomeworkInProgress(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ctx := context.Background()
	if _, err := seed.Demo(ctx, apptest.New(t, d)); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Label     string `db:"label"`
		Current   int    `db:"current"`
		Completed int    `db:"completed"`
	}
	read := func() []row {
		var rows []row
		if err := d.Select(&rows, `
			SELECT p.label,
			       coalesce(max(s.position) FILTER (WHERE a.status = 'active'), 0) AS current,
			       count(*) FILTER (WHERE a.status = 'completed') AS completed
			FROM pairs p
			JOIN pair_plans pp ON pp.pair_id = p.id AND pp.status = 'active'
			JOIN pair_plan_steps s ON s.pair_plan_id = pp.id
			JOIN assignments a ON a.pair_plan_step_id = s.id
			GROUP BY p.id, p.label ORDER BY p.id`); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	first := read()
	var pairs int
	if err := d.Get(&pairs, `SELECT count(*) FROM pairs`); err != nil {
		t.Fatal(err)
	}
	if len(first) != pairs || pairs != 5 {
		t.Fatalf("%d of %d demo pairs are on a plan", len(first), pairs)
	}
	for _, r := range first {
		if r.Current < 2 || r.Current > 3 || r.Completed != r.Current-1 {
			t.Errorf("%s: step %d current, %d completed", r.Label, r.Current, r.Completed)
		}
	}
	var before, after int
	if err := d.Get(&before, `SELECT count(*) FROM assignments`); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Demo(ctx, apptest.New(t, d)); err != nil {
		t.Fatal(err)
	}
	if err := d.Get(&after, `SELECT count(*) FROM assignments`); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("seeding again: %d → %d assignments", before, after)
	}
}
