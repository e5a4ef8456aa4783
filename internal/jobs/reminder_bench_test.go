package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// BenchmarkReminders100k measures how long MEND_BENCH_REMINDERS (default
// 100,000) check-in reminders that fall due at the same minute take from
// the scheduling task to the SMTP listener: the minute task's pass claims
// the due reminder_due rows and queues the emails (QueueMany), the relay
// moves them to asynq, the worker (concurrency MEND_BENCH_CONCURRENCY,
// default 32) delivers them. Every client must get exactly one. Run it
// alone:
//
//	go test -run '^$' -bench Reminders100k -benchtime 1x ./internal/jobs
func BenchmarkReminders100k(b *testing.B) {
	n := envInt("MEND_BENCH_REMINDERS", 100_000)
	concurrency := envInt("MEND_BENCH_CONCURRENCY", 32)
	for range b.N {
		r := runReminderBench(b, n, concurrency)
		b.ReportMetric(r.total.Seconds(), "s/batch")
		b.ReportMetric(float64(n)/r.total.Seconds(), "msgs/s")
		fmt.Printf("%d due reminders from the scheduling task to the SMTP listener in %.1f s (%.0f/s, concurrency %d); "+
			"all queued in the email log after %.1f s; load average %s at the start, %s at the end; "+
			"this process used %.1f s of CPU, PostgreSQL %.1f s, Redis %.1f s; PostgreSQL wrote %.0f MB of WAL\n",
			n, r.total.Seconds(), float64(n)/r.total.Seconds(), concurrency, r.scheduled.Seconds(), r.loadBefore, r.loadAfter,
			r.cpu.Seconds(), r.postgres.Seconds(), r.redis.Seconds(), r.walMB)
	}
}

type reminderBenchResult struct {
	total, scheduled, cpu time.Duration
	postgres, redis       time.Duration // CPU of the services, see serviceCPU
	// walMB is the write-ahead log the whole cluster wrote meanwhile: the
	// run's cost to PostgreSQL's disk (at the default max_wal_size of 1 GB,
	// a run forces a checkpoint or two).
	walMB                 float64
	loadBefore, loadAfter string
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runReminderBench(b *testing.B, n, concurrency int) reminderBenchResult {
	b.Helper()
	ctx := context.Background()
	d, dsn := dbtest.New(b)
	state, err := mail.OpenStateDB(dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer state.Close()
	redisURL, _ := mailtest.RedisDB(b)
	ropt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		b.Fatal(err)
	}
	smtp := mailtest.Start(b)

	// n clients in n/2 pairs in UTC, reminders at 18:00, each pair with
	// daily homework from today: at 18:00 every client's reminder is due.
	today := checkin.DateIn(time.Now(), time.UTC)
	setup := time.Now()
	var practice, counselor, version int64
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(d.Get(&practice, `INSERT INTO practices (name, slug) VALUES ('Bench', 'bench') RETURNING id`))
	must(d.Get(&counselor, `INSERT INTO users (practice_id, role, email, name, password_hash) VALUES ($1, 'counselor', 'c@bench.test', 'C', 'x') RETURNING id`, practice))
	var step int64
	must(d.Get(&step, `INSERT INTO steps (practice_id, key) VALUES (NULL, 'bench-step') RETURNING id`))
	must(d.Get(&version, `INSERT INTO step_versions (step_id, version, title, summary, why, instructions, questions, duration_days)
		VALUES ($1, 1, 'Step', 'S', 'W', '{"both": ["x"], "broke": ["x"], "hurt": ["x"]}', '["Q?"]', 7) RETURNING id`, step))
	_, err = d.Exec(`INSERT INTO users (practice_id, role, email, name, password_hash, timezone, reminder_minute)
		SELECT $1, 'client', 'client' || g || '@bench.test', 'Client ' || g, 'x', 'UTC', 1080 FROM generate_series(1, $2) g`, practice, n)
	must(err)
	_, err = d.Exec(`INSERT INTO pairs (practice_id, counselor_id, label, kind)
		SELECT $1, $2, 'Pair ' || g, 'romantic' FROM generate_series(1, $3) g`, practice, counselor, (n+1)/2)
	must(err)
	_, err = d.Exec(`
		WITH u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM users WHERE practice_id = $1 AND role = 'client'),
		     p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM pairs WHERE practice_id = $1)
		INSERT INTO pair_members (pair_id, user_id, position, side)
		SELECT p.id, u.id, (u.i % 2) + 1, 'mutual' FROM u JOIN p ON p.i = u.i / 2`, practice)
	must(err)
	// The triggers write a reminder_due row per client.
	_, err = d.Exec(`INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence)
		SELECT $1, id, $2, $3, $4, 'daily' FROM pairs WHERE practice_id = $1`, practice, version, today, today.AddDays(6))
	must(err)
	_, err = d.Exec(`ANALYZE`)
	must(err)

	var fake atomic.Pointer[time.Time]
	setClock := func(t time.Time) { fake.Store(&t) }
	setClock(time.Date(today.Year, today.Month, today.Day, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores, err := app.New(configFor(dsn), d)
	must(err)
	sched := jobs.NewReminders(stores, configFor(dsn))
	sched.Now = func() time.Time { return *fake.Load() }
	sched.Batch = envInt("MEND_BENCH_BATCH", 0)
	// Noon: the new homework's rows get their time (18:00); nothing is due.
	compute := time.Now()
	st, err := sched.Run(ctx)
	must(err)
	if st.Queued != 0 || st.Claimed < n {
		b.Fatalf("noon pass: %+v", st)
	}
	fmt.Printf("setup %.1f s; the noon pass gave %d new rows their due time in %.1f s\n",
		time.Since(setup).Seconds(), st.Claimed, time.Since(compute).Seconds())

	sender, err := mail.NewSMTPSender(smtp.URL(), "Mend <no-reply@mend.test>", mail.SenderOptions{PoolSize: concurrency})
	must(err)
	defer sender.Close()
	client := asynq.NewClient(ropt)
	defer client.Close()
	relay := &mail.Relay{DB: state, Client: client, Logger: log, Queue: jobs.QueueFor}
	sched.Handoff = relay.Handoff // as `mend worker` wires it
	w := &jobs.Worker{DB: d, Redis: ropt, Logger: log, Concurrency: concurrency,
		Mail:      &mail.Delivery{DB: state, Sender: sender, Logger: log},
		Relay:     relay,
		Reminders: sched,
		// Relay and sweep at the production defaults (1 s, 15 s).
	}
	defer runWorker(w)()

	res := reminderBenchResult{loadBefore: loadAverage()}
	cpu0, svc0 := cpuTime(), serviceCPU("postgres", "redis-server")
	var wal0 string
	must(d.Get(&wal0, `SELECT pg_current_wal_lsn()::text`))
	setClock(time.Date(today.Year, today.Month, today.Day, 18, 0, 0, 0, time.UTC))
	start := time.Now()
	// What the periodic scheduler enqueues at the minute.
	installation, err := db.InstallationID(context.Background(), d)
	must(err)
	_, err = client.Enqueue(jobs.ScheduleTask(installation), asynq.Queue(jobs.QueueDefault), asynq.Timeout(10*time.Minute))
	must(err)
	scheduled := make(chan time.Duration, 1)
	go func() {
		// Every reminder is queued once no reminder_due row is due any more:
		// each row moves on to its nudge time in the transaction that queues
		// its email. (Counting the email log instead scanned a table of
		// 100,000 rendered messages four times a second, on the same cores
		// as the pipeline it measures.)
		for {
			var left bool
			_ = d.Get(&left, `SELECT EXISTS (SELECT 1 FROM reminder_due WHERE due_at <= $1)`, sched.Now())
			if !left {
				scheduled <- time.Since(start)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	smtp.WaitFor(b, n, 30*time.Minute)
	res.total = time.Since(start)
	res.scheduled = <-scheduled
	res.cpu = cpuTime() - cpu0
	svc := serviceCPU("postgres", "redis-server")
	res.postgres = svc["postgres"] - svc0["postgres"]
	res.redis = svc["redis-server"] - svc0["redis-server"]
	must(d.Get(&res.walMB, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) / 1e6`, wal0))
	res.loadAfter = loadAverage()

	byTo := map[string]int{}
	for _, m := range smtp.Messages() {
		byTo[m.To[0]]++
	}
	dup := 0
	for _, c := range byTo {
		if c > 1 {
			dup++
		}
	}
	if smtp.Count() != n || len(byTo) != n || dup > 0 {
		b.Fatalf("listener got %d messages for %d clients (%d got more than one), want %d", smtp.Count(), len(byTo), dup, n)
	}
	var left int
	must(d.Get(&left, `SELECT count(*) FROM reminder_due WHERE due_at <= $1`, sched.Now()))
	if left != 0 {
		b.Fatalf("%d rows still due", left)
	}
	return res
}

// configFor is the configuration the worker would read, for the bench's
// database.
func configFor(dsn string) (cfg config.Config) {
	cfg.DatabaseURL, cfg.BaseURL, cfg.MasterKey = dsn, "http://mend.test", vaulttest.MasterKey
	return cfg
}
