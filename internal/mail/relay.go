package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

// Relay moves email_log rows to asynq. It is the only way rows reach the
// queue: a row is visible to it only once the transaction that wrote it has
// committed, so a rolled-back change never sends mail, and since PostgreSQL
// holds the truth, losing Redis loses no email — the sweep enqueues again
// whatever stays queued.
//
// Several processes may run a relay: rows are taken with SKIP LOCKED, and a
// row enqueued twice collapses into one task (TaskID) or, at worst, into
// two tasks of which only one can claim the row.
//
// A Redis that lost its data (flushed, restarted without persistence,
// failed over to an empty replica) is noticed within a pass: the relay
// keeps an epoch key in Redis, and when the key is gone every queued row
// is enqueued again at once. Messages of the urgent kinds (safety alerts)
// that wait longer than UrgentStale are enqueued again on every sweep
// whatever the reason.
type Relay struct {
	DB     *sqlx.DB
	Client *asynq.Client
	Logger *slog.Logger
	// Installation names this installation in every task (db.InstallationID).
	Installation string
	// Redis holds the epoch key (the same database as Client's); nil: a
	// Redis loss is only caught by the sweeps.
	Redis redis.UniversalClient
	// UrgentKinds are the kinds swept after UrgentStale (default 20s)
	// instead of Stale.
	UrgentKinds []string
	UrgentStale time.Duration
	// Queue picks the asynq queue for a kind of message (safety alerts go
	// to the critical queue). nil: "default".
	Queue func(kind string) string
	// Stale is how long a row may stay queued after being enqueued before
	// the sweep enqueues it again (Redis lost, task orphaned).
	Stale time.Duration
	// Batch is how many rows one statement takes.
	Batch int
	// TaskTimeout bounds one delivery; MaxRetry is asynq's retry budget
	// (the row's MaxAttempts decides first).
	TaskTimeout time.Duration
	MaxRetry    int
	// Enqueuers is how many enqueues run at once.
	Enqueuers int
}

type relayRow struct {
	ID         int64  `db:"id"`
	Kind       string `db:"kind"`
	Generation int    `db:"generation"`
	// At is when a row waiting for a retry is due (enqueued again after a
	// Redis loss); NULL: now.
	At sql.NullTime `db:"process_at"`
}

func (r *Relay) batch() int {
	if r.Batch > 0 {
		return r.Batch
	}
	return 2000
}

func (r *Relay) stale() time.Duration {
	if r.Stale > 0 {
		return r.Stale
	}
	return 5 * time.Minute
}

func (r *Relay) urgentStale() time.Duration {
	if r.UrgentStale > 0 {
		return r.UrgentStale
	}
	return 20 * time.Second
}

// Run enqueues new rows every `every` and sweeps every `sweepEvery` until
// ctx ends. Errors are logged; the next round tries again.
func (r *Relay) Run(ctx context.Context, every, sweepEvery time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	lastSweep := time.Time{}
	for {
		if lost, err := r.checkEpoch(ctx); err != nil && ctx.Err() == nil {
			r.log().Warn("mail relay: redis epoch", "err", err)
		} else if lost {
			n, err := r.RequeueAll(ctx)
			r.log().Warn("mail relay: Redis lost its queues; every queued email is enqueued again", "emails", n)
			if err != nil && ctx.Err() == nil {
				r.log().Warn("mail relay: enqueue again after a Redis loss", "err", err)
			}
		}
		if time.Since(lastSweep) >= sweepEvery {
			if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
				r.log().Warn("mail relay sweep", "err", err)
			}
			lastSweep = time.Now()
		}
		for {
			n, err := r.Pass(ctx)
			if err != nil && ctx.Err() == nil {
				r.log().Warn("mail relay", "err", err)
			}
			if err != nil || n < r.batch() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// epochKey is the Redis key whose absence says Redis lost what Mend put in
// it; one per installation.
func (r *Relay) epochKey() string { return "mend:relay:epoch:" + r.Installation }

// checkEpoch says whether Redis lost its data since the last check: the
// epoch key is gone. The relay that finds it gone writes a new one (SET
// NX: of several relays noticing at once, the one that writes it enqueues
// again).
// At the relay's start a missing key counts as a loss too: Redis may have
// been flushed while no worker ran.
func (r *Relay) checkEpoch(ctx context.Context) (lost bool, err error) {
	if r.Redis == nil {
		return false, nil
	}
	_, err = r.Redis.Get(ctx, r.epochKey()).Result()
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, redis.Nil):
		return false, err
	}
	fresh := rand.Text()
	ok, err := r.Redis.SetNX(ctx, r.epochKey(), fresh, 0).Result()
	if err != nil {
		return false, err
	}
	if !ok {
		return false, nil // another relay wrote it first, and enqueues again
	}
	return true, nil
}

// RequeueAll enqueues every queued row again under a new generation (the
// tasks Redis had for them are gone): rows due now at once, rows waiting
// for a retry at their time. It returns how many.
func (r *Relay) RequeueAll(ctx context.Context) (int, error) {
	total := 0
	var after int64
	for {
		var rows []relayRow
		err := r.DB.SelectContext(ctx, &rows, `
			WITH due AS (
				SELECT email_id FROM email_delivery
				WHERE status = 'queued' AND enqueued_at IS NOT NULL AND email_id > $2
				ORDER BY email_id LIMIT $1
				FOR UPDATE SKIP LOCKED)
			UPDATE email_delivery d SET generation = d.generation + 1,
			    enqueued_at = greatest(d.enqueued_at, now()), updated_at = now()
			FROM due WHERE d.email_id = due.email_id
			RETURNING d.email_id AS id, d.kind, d.generation,
			    CASE WHEN d.enqueued_at > now() THEN d.enqueued_at END AS process_at`, r.batch(), after)
		if err != nil {
			return total, err
		}
		total += len(rows)
		for _, row := range rows {
			after = max(after, row.ID)
		}
		if err := r.enqueue(ctx, rows); err != nil {
			return total, err
		}
		if len(rows) < r.batch() {
			return total, nil
		}
	}
}

// Pass enqueues rows that were never enqueued; it returns how many it took.
func (r *Relay) Pass(ctx context.Context) (int, error) {
	var rows []relayRow
	err := r.DB.SelectContext(ctx, &rows, `
		WITH due AS (
			SELECT email_id FROM email_delivery
			WHERE status = 'queued' AND enqueued_at IS NULL
			ORDER BY email_id LIMIT $1
			FOR UPDATE SKIP LOCKED)
		UPDATE email_delivery d SET enqueued_at = now()
		FROM due WHERE d.email_id = due.email_id
		RETURNING d.email_id AS id, d.kind, d.generation`, r.batch())
	if err != nil {
		return 0, err
	}
	return len(rows), r.enqueue(ctx, rows)
}

// Sweep takes back what was lost: rows whose worker died (lease expired)
// and rows queued too long (Redis flushed or a task orphaned): Stale for
// most, UrgentStale for the urgent kinds. A dead
// worker's row is sent again even if the worker got as far as the final
// "." (see Delivery): a possible duplicate, never a lost message.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		// A new generation: the dead worker's task may still be in Redis
		// under the old TaskID (asynq recovers it only after its own lease)
		// and must not swallow this one.
		var rows []relayRow
		err := r.DB.SelectContext(ctx, &rows, `
			WITH due AS (
				SELECT email_id FROM email_delivery
				WHERE (status = 'sending' AND lease_until < now())
				   OR (status = 'queued' AND enqueued_at < now() - make_interval(secs => $2))
				   OR (status = 'queued' AND kind = ANY($3) AND enqueued_at < now() - make_interval(secs => $4))
				ORDER BY email_id LIMIT $1
				FOR UPDATE SKIP LOCKED)
			UPDATE email_delivery d SET status = 'queued', lease_until = NULL, generation = d.generation + 1,
			    enqueued_at = now(), updated_at = now()
			FROM due WHERE d.email_id = due.email_id
			RETURNING d.email_id AS id, d.kind, d.generation`, r.batch(), r.stale().Seconds(),
			pq.Array(r.UrgentKinds), r.urgentStale().Seconds())
		if err != nil {
			return total, err
		}
		total += len(rows)
		if err := r.enqueue(ctx, rows); err != nil {
			return total, err
		}
		if len(rows) < r.batch() {
			return total, nil
		}
	}
}

// Handoff enqueues rows that Outbox.QueueManyForHandoff wrote, after the
// transaction that wrote them has committed. Rows that cannot be enqueued
// (Redis down) go back to the relay's pass.
func (r *Relay) Handoff(ctx context.Context, rows []Queued) error {
	out := make([]relayRow, len(rows))
	for i, q := range rows {
		out[i] = relayRow{ID: q.ID, Kind: q.Kind, Generation: q.Generation}
	}
	return r.enqueue(ctx, out)
}

// enqueue hands rows to asynq, several at a time. Rows that could not be
// enqueued (Redis down) are marked never-enqueued so the next pass retries
// them.
func (r *Relay) enqueue(ctx context.Context, rows []relayRow) error {
	if len(rows) == 0 {
		return nil
	}
	workers := r.Enqueuers
	if workers <= 0 {
		workers = 8
	}
	timeout := r.TaskTimeout
	if timeout <= 0 {
		timeout = DefaultTaskTimeout
	}
	maxRetry := r.MaxRetry
	if maxRetry <= 0 {
		maxRetry = DefaultMaxAttempts + 2
	}
	var (
		mu       sync.Mutex
		failed   []int64
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan relayRow)
	)
	for range min(workers, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range next {
				task, id := NewDeliverTask(r.Installation, row.ID, row.Generation)
				queue := "default"
				if r.Queue != nil {
					queue = r.Queue(row.Kind)
				}
				opts := []asynq.Option{id, asynq.Queue(queue), asynq.Timeout(timeout), asynq.MaxRetry(maxRetry)}
				if row.At.Valid {
					opts = append(opts, asynq.ProcessAt(row.At.Time))
				}
				_, err := r.Client.EnqueueContext(ctx, task, opts...)
				if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
					mu.Lock()
					failed = append(failed, row.ID)
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, row := range rows {
		next <- row
	}
	close(next)
	wg.Wait()
	if len(failed) > 0 {
		_, err := r.DB.ExecContext(context.WithoutCancel(ctx), `
			UPDATE email_delivery SET enqueued_at = NULL WHERE email_id = ANY($1) AND status = 'queued'`, pq.Array(failed))
		return errors.Join(firstErr, err)
	}
	return nil
}

func (r *Relay) log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}
