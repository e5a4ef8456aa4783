package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
)

// TestMain doubles as the worker process of the fault test: started with
// MEND_FAULT_WORKER=1, the test binary runs a worker (built exactly as
// `mend worker` builds it, with short leases) until it is killed.
func TestMain(m *testing.M) {
	if os.Getenv("MEND_FAULT_WORKER") == "1" {
		if err := faultWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "fault worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// faultLease and faultSweep are the fault worker's lease and sweep
// interval (production: 20 s and 5 s).
const (
	faultLease = 3 * time.Second
	faultSweep = 500 * time.Millisecond
)

func faultWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg := config.Config{DatabaseURL: os.Getenv("DATABASE_URL"), RedisURL: os.Getenv("REDIS_URL"),
		SMTPURL: os.Getenv("SMTP_URL"), MailFrom: "Mend <no-reply@mend.test>", WorkerConcurrency: 16}
	ropt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	del, relay, closeMail, err := jobs.NewMail(ropt, cfg, log)
	if err != nil {
		return err
	}
	defer closeMail()
	// Short enough for a test to watch a dead worker's rows come back;
	// renewed every second while a row is being sent.
	del.Lease = faultLease
	relay.Stale = 2 * time.Second
	state, err := mail.OpenStateDB(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer state.Close()
	w := &jobs.Worker{DB: state, Redis: ropt, Logger: log, Concurrency: cfg.WorkerConcurrency, Mail: del, Relay: relay,
		RelayEvery: 100 * time.Millisecond, SweepEvery: faultSweep}
	return w.Run(ctx)
}

// TestKilledWorkerDeliversEveryEmail kills a worker process with SIGKILL
// in the middle of 1,000 emails, starts another, and checks at the SMTP
// listener that every email arrived. A message the killed worker had sent
// but not yet recorded as sent arrives twice, with the same Message-ID; only
// messages claimed and unfinished at the kill can be duplicated. Those are
// sent again once their lease (no longer renewed by the dead worker) runs
// out: within the lease and a sweep of the kill.
func TestKilledWorkerDeliversEveryEmail(t *testing.T) {
	// -short leaves out the worker processes on a developer's machine; CI
	// always runs the fault test.
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("starts worker processes; runs without -short or with CI=true")
	}
	d, dsn := dbtest.New(t)
	redisURL, _ := mailtest.RedisDB(t)
	smtp := mailtest.Start(t)
	smtp.SetDelay(15 * time.Millisecond) // a slow MTA: the batch takes about a second
	practiceID, outbox := mailPractice(t, d, "Fault", "fault")
	const n = 1000
	batch := make([]mail.Message, 0, n)
	for i := range n {
		batch = append(batch, mail.Message{PracticeID: practiceID, To: fmt.Sprintf("p%d@example.com", i),
			Kind: mail.KindInvitation, Template: "invitation",
			Data: map[string]any{"Name": "P", "PracticeName": "Fault", "InviterName": "D", "Link": "http://mend.test/x"}})
	}
	ids, err := outbox.QueueMany(context.Background(), d, batch)
	if err != nil {
		t.Fatal(err)
	}
	// The Message-ID each row must arrive with (derived from the row id and
	// MAIL_FROM's domain, the same on every attempt).
	rowOf := make(map[string]int64, n)
	for _, id := range ids {
		rowOf[fmt.Sprintf("<mend-email-%d@mend.test>", id)] = id
	}

	workerLog := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workers' log:\n%s", workerLog)
		}
	})
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "MEND_FAULT_WORKER=1", "DATABASE_URL="+dsn, "REDIS_URL="+redisURL, "SMTP_URL="+smtp.URL())
		// The workers' warnings are shown if the test fails.
		cmd.Stdout, cmd.Stderr = io.Discard, workerLog
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		return cmd
	}

	first := start()
	smtp.WaitFor(t, n/4, 2*time.Minute)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killed := time.Now()
	atKill := smtp.Count()
	var held []int64
	_ = d.Select(&held, `SELECT email_id FROM email_delivery WHERE status = 'sending'`)
	inFlight := len(held)
	t.Logf("killed the worker after %d of %d emails, %d claimed and unfinished", atKill, n, inFlight)
	if atKill >= n {
		t.Fatal("the batch finished before the kill; nothing was tested")
	}

	start()
	// The killed worker's rows: sent again within the lease and a sweep
	// (and a few seconds for a process to start on a loaded machine).
	bound := faultLease + faultSweep + 5*time.Second
	for {
		var open int
		_ = d.Get(&open, `SELECT count(*) FROM email_delivery WHERE email_id = ANY($1) AND status <> 'sent'`, pq.Array(held))
		if open == 0 {
			break
		}
		if time.Since(killed) > 2*time.Minute {
			var rows []struct {
				ID         int64      `db:"email_id"`
				Status     string     `db:"status"`
				Generation int        `db:"generation"`
				Lease      *time.Time `db:"lease_until"`
				Enqueued   *time.Time `db:"enqueued_at"`
			}
			_ = d.Select(&rows, `SELECT email_id, status, generation, lease_until, enqueued_at FROM email_delivery
				WHERE email_id = ANY($1) AND status <> 'sent'`, pq.Array(held))
			t.Fatalf("%d of the killed worker's %d rows still not sent: %+v", open, inFlight, rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(killed)
	t.Logf("the killed worker's %d rows were sent again %s after the kill (lease %s, sweep %s)", inFlight,
		took.Round(time.Millisecond), faultLease, faultSweep)
	if took > bound {
		t.Errorf("the killed worker's rows took %s to be sent again, want within %s", took, bound)
	}
	smtp.WaitFor(t, n, 3*time.Minute)
	end := time.Now().Add(2 * time.Minute)
	for time.Now().Before(end) {
		var open int
		_ = d.Get(&open, `SELECT count(*) FROM email_delivery WHERE status IN ('queued', 'sending')`)
		if open == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Let a sweep or two pass: anything sent again would arrive now.
	time.Sleep(2 * time.Second)
	byID := smtp.CountByMessageID()
	raw, duplicates := smtp.Count(), 0
	for mid, c := range byID {
		if _, ok := rowOf[mid]; !ok {
			t.Errorf("a message arrived with Message-ID %q, which is none of the rows'", mid)
		}
		duplicates += c - 1
	}
	t.Logf("%d messages arrived for %d emails: %d duplicates", raw, n, duplicates)
	if len(byID) != n {
		t.Errorf("%d distinct emails arrived, want all %d", len(byID), n)
	}
	if raw > n+inFlight {
		t.Errorf("%d messages arrived; only the %d claimed at the kill may arrive twice (at most %d)", raw, inFlight, n+inFlight)
	}
	var sent int
	_ = d.Get(&sent, `SELECT count(*) FROM email_delivery WHERE status = 'sent'`)
	if sent != n {
		t.Errorf("%d rows sent, want %d", sent, n)
	}
}
