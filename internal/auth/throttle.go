package auth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// limit is one throttle: at most Max attempts under Key within Window.
type limit struct {
	Key    string
	Max    int
	Window time.Duration
}

// attempts reserves throttled attempts in login_failures. The table is the
// throttle's state only: what happened is evidence, kept in the audit log,
// which no success or reset ever deletes from.
type attempts struct {
	DB *sqlx.DB
}

// reservation is an attempt that the throttle let through. Until it is
// released it counts as a failure under each of its limits, so that
// concurrent attempts see it while its password or code is being checked.
type reservation struct {
	ids []int64
}

// reserve checks every limit and, when none is reached, records one attempt
// under each key, as one atomic step: transaction-scoped advisory locks on
// the keys (taken in sorted order, so two reservations never wait on each
// other in a cycle) make concurrent reservations for the same key take
// turns, and the count is read after the lock, in a statement of its own so
// that its snapshot includes every reservation committed before. ok is
// false when a limit is reached; nothing is recorded then.
func (a *attempts) reserve(ctx context.Context, limits []limit) (r reservation, ok bool, err error) {
	keys := make([]string, 0, len(limits))
	maxes := make([]int64, 0, len(limits))
	secs := make([]float64, 0, len(limits))
	for _, l := range limits {
		keys = append(keys, l.Key)
		maxes = append(maxes, int64(l.Max))
		secs = append(secs, l.Window.Seconds())
	}
	locks := slices.Clone(keys)
	slices.Sort(locks)
	locks = slices.Compact(locks)
	tx, err := a.DB.BeginTxx(ctx, nil)
	if err != nil {
		return reservation{}, false, fmt.Errorf("auth: throttle: %w", err)
	}
	defer tx.Rollback()
	// unnest yields the keys in array order and a volatile function in the
	// select list runs row by row in that order.
	if _, err := tx.ExecContext(ctx, `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest($1::text[]) k`,
		pq.Array(locks)); err != nil {
		return reservation{}, false, fmt.Errorf("auth: throttle lock: %w", err)
	}
	var ids []int64
	err = tx.SelectContext(ctx, &ids, `
		WITH lim AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[]) AS l(key, max, secs))
		INSERT INTO login_failures (key)
		SELECT key FROM lim
		WHERE NOT EXISTS (
			SELECT 1 FROM lim l
			WHERE (SELECT count(*) FROM login_failures f
			       WHERE f.key = l.key AND f.failed_at > now() - make_interval(secs => l.secs)) >= l.max)
		RETURNING id`, pq.Array(keys), pq.Array(maxes), pq.Array(secs))
	if err != nil {
		return reservation{}, false, fmt.Errorf("auth: throttle reserve: %w", err)
	}
	if len(ids) == 0 {
		return reservation{}, false, nil
	}
	if err := tx.Commit(); err != nil {
		return reservation{}, false, fmt.Errorf("auth: throttle reserve: %w", err)
	}
	return reservation{ids: ids}, true, nil
}

// release takes back a reservation whose attempt succeeded (it was no
// failure), and forgets the earlier failures under clear: a success resets
// those counts.
func (a *attempts) release(ctx context.Context, q sqlx.ExecerContext, r reservation, clear ...string) error {
	if q == nil {
		q = a.DB
	}
	_, err := q.ExecContext(ctx, `DELETE FROM login_failures WHERE id = ANY($1) OR key = ANY($2)`,
		pq.Array(r.ids), pq.Array(clear))
	if err != nil {
		return fmt.Errorf("auth: throttle release: %w", err)
	}
	return nil
}
