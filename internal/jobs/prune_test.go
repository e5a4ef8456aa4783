package jobs

import (
	"context"
	"testing"

	"github.com/mend-practice/mend/internal/db/dbtest"
)

func TestPruneDropsExpiredSessionsAndOldLoginFailures(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	d.MustExec(`INSERT INTO sessions (token, data, expiry) VALUES ('old', '', now() - interval '1 minute'), ('live', '', now() + interval '10 minutes')`)
	d.MustExec(`INSERT INTO login_failures (key, failed_at) VALUES ('email:a', now() - interval '2 days'), ('email:b', now())`)
	left := pruned(t, &Worker{DB: d}, `SELECT token FROM sessions UNION ALL SELECT key FROM login_failures ORDER BY 1`)
	if len(left) != 2 || left[0] != "email:b" || left[1] != "live" {
		t.Errorf("after prune: %v, want the live session and the recent failure", left)
	}
}

// pruned runs w's prune and returns what query lists afterwards.
func pruned(t *testing.T, w *Worker, query string) []string {
	t.Helper()
	if err := w.prune(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := w.DB.Select(&left, query); err != nil {
		t.Fatal(err)
	}
	return left
}
