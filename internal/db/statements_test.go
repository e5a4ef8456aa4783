package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

// periodsSQL calls the period functions with the date as a parameter, as
// the dashboard and progress queries do.
const periodsSQL = `
	SELECT id, mend_period_count(cadence, weekdays, starts_on, due_on, $1::date - 28, $1::date - 3) AS expected,
	       mend_closed_period_start(cadence, weekdays, starts_on, due_on, $1::date - 3, 2) AS second_closed
	FROM plan_cache_probe WHERE id BETWEEN $2 AND $2 + 9 ORDER BY id`

type periodRow struct {
	ID           int64      `db:"id"`
	Expected     int        `db:"expected"`
	SecondClosed *time.Time `db:"second_closed"`
}

// TestStatementsPlanCache runs a period query prepared through Statements
// more than five times (past PostgreSQL's switch to a generic plan) with
// dates moving on, and compares every answer with the same query sent as
// plain text; then shows with EXPLAIN that the generic plan keeps the date
// as a parameter evaluated at run time and reads the same index as a
// custom plan.
func TestStatementsPlanCache(t *testing.T) {
	t.Parallel()
	d, dsn := dbtest.New(t)
	ctx := context.Background()
	d.MustExec(`CREATE TABLE plan_cache_probe (id bigint PRIMARY KEY, cadence text NOT NULL, weekdays smallint[] NOT NULL,
		starts_on date NOT NULL, due_on date NOT NULL)`)
	d.MustExec(`INSERT INTO plan_cache_probe
		SELECT g, (ARRAY['daily','weekly','once'])[g % 3 + 1], CASE WHEN g % 7 = 0 THEN '{1,3}'::smallint[] ELSE '{}' END,
		       date '2026-01-01' + (g % 90), date '2026-01-01' + (g % 90) + 5 + g % 40
		FROM generate_series(1, 20000) g`)
	d.MustExec(`ANALYZE plan_cache_probe`)

	var stmts db.Statements
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		at, from := day.AddDate(0, 0, 3*i), int64(1+i*997)
		var prepared, plain []periodRow
		if err := stmts.Select(ctx, d, &prepared, periodsSQL, at, from); err != nil {
			t.Fatal(err)
		}
		if err := d.SelectContext(ctx, &plain, periodsSQL, at, from); err != nil {
			t.Fatal(err)
		}
		if len(prepared) != 10 || fmt.Sprint(prepared) != fmt.Sprint(plain) {
			t.Fatalf("run %d: prepared %v, plain %v", i+1, prepared, plain)
		}
	}

	// Concurrent first uses of one query prepare it once and all succeed.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			errs <- stmts.Get(ctx, d, &n, `SELECT count(*)::int FROM plan_cache_probe WHERE id < $1`, 100)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	conn, err := d.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	explain := func(mode string) string {
		t.Helper()
		var lines []string
		if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.SelectContext(ctx, &lines, `EXPLAIN (VERBOSE) EXECUTE probe('2026-03-10', 5000)`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	if _, err := conn.ExecContext(ctx, `PREPARE probe(date, bigint) AS `+periodsSQL); err != nil {
		t.Fatal(err)
	}
	generic, custom := explain("force_generic_plan"), explain("force_custom_plan")
	t.Logf("generic plan:\n%s\ncustom plan:\n%s", generic, custom)
	for name, plan := range map[string]string{"generic": generic, "custom": custom} {
		if !strings.Contains(plan, "Index Scan using plan_cache_probe_pkey") {
			t.Errorf("%s plan does not read the primary key:\n%s", name, plan)
		}
	}
	if !strings.Contains(generic, "$1 - 28") || strings.Contains(custom, "$1") {
		t.Errorf("the generic plan should compute the dates from the parameter at run time, the custom one from the value:\ngeneric:\n%s\ncustom:\n%s", generic, custom)
	}

	// Under plan_cache_mode = auto: a lookup by key settles on the generic
	// plan after five custom ones; the range query keeps planning, because
	// its generic plan guesses 100 rows for an unknown range, dearer than
	// the custom plans' 10.
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = auto`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `PREPARE by_key(date, bigint) AS `+strings.Replace(periodsSQL, "id BETWEEN $2 AND $2 + 9", "id = $2", 1)); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		for _, name := range []string{"probe", "by_key"} {
			if _, err := conn.ExecContext(ctx, fmt.Sprintf(`EXECUTE %s('2026-03-10', %d)`, name, 100+i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	plans := func(name string) (generic, custom int64) {
		t.Helper()
		if err := conn.QueryRowxContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1`, name).Scan(&generic, &custom); err != nil {
			t.Fatal(err)
		}
		return generic, custom
	}
	if g, c := plans("by_key"); g < 3 || c != 5 {
		t.Errorf("lookup by key: %d generic and %d custom plans, want the generic plan after 5 custom ones", g, c)
	}
	g, c := plans("probe")
	t.Logf("range query under auto: %d generic, %d custom plans", g, c)

	// Mend's own connections (db.ConnString) plan each prepared statement
	// once, the range query too.
	mend, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer mend.Close()
	var mode string
	if err := mend.GetContext(ctx, &mode, `SHOW plan_cache_mode`); err != nil || mode != "force_generic_plan" {
		t.Errorf("plan_cache_mode on Mend's connections: %q (%v), want force_generic_plan", mode, err)
	}
}
