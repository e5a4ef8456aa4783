package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
)

// BenchmarkMailDelivery100k measures how long MEND_BENCH_MESSAGES
// (default 100,000) messages take from being queued in the email log to
// arriving at an SMTP listener, through the real relay, asynq and worker.
// Run it alone:
//
//	go test -run '^$' -bench MailDelivery -benchtime 1x ./internal/jobs
func BenchmarkMailDelivery100k(b *testing.B) {
	n := envInt("MEND_BENCH_MESSAGES", 100_000)
	concurrency := envInt("MEND_BENCH_CONCURRENCY", 32)
	for range b.N {
		elapsed := runDeliveryBench(b, n, concurrency)
		b.ReportMetric(elapsed.Seconds(), "s/batch")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		fmt.Printf("%d messages from queueing to the SMTP listener in %.1f s (%.0f/s, concurrency %d)\n",
			n, elapsed.Seconds(), float64(n)/elapsed.Seconds(), concurrency)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func runDeliveryBench(b *testing.B, n, concurrency int) time.Duration {
	b.Helper()
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
	practiceID, outbox := mailPractice(b, d, "Bench", "bench")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender, err := mail.NewSMTPSender(smtp.URL(), "Mend <no-reply@mend.test>", mail.SenderOptions{PoolSize: concurrency})
	if err != nil {
		b.Fatal(err)
	}
	defer sender.Close()
	client := asynq.NewClient(ropt)
	defer client.Close()
	w := &jobs.Worker{DB: d, Redis: ropt, Logger: log, Concurrency: concurrency,
		Mail:  &mail.Delivery{DB: state, Sender: sender, Logger: log},
		Relay: &mail.Relay{DB: state, Client: client, Logger: log, Queue: jobs.QueueFor},
		// The production defaults (1 s, 15 s): nothing tuned for the figure.
	}
	defer runWorker(w)()
	ctx := context.Background()

	start := time.Now()
	const perTx = 1000
	for i := 0; i < n; i += perTx {
		batch := make([]mail.Message, 0, perTx)
		for j := i; j < min(i+perTx, n); j++ {
			batch = append(batch, mail.Message{
				PracticeID: practiceID, To: fmt.Sprintf("p%d@example.com", j), ToName: "Person",
				Kind: mail.KindInvitation, Template: "invitation",
				Data: map[string]any{"Name": "Person", "PracticeName": "Bench", "InviterName": "Dana",
					"Link": fmt.Sprintf("http://mend.test/invite/t%d", j)},
			})
		}
		if _, err := outbox.QueueMany(ctx, d, batch); err != nil {
			b.Fatal(err)
		}
	}
	queued := time.Since(start)
	smtp.WaitFor(b, n, 30*time.Minute)
	elapsed := time.Since(start)
	fmt.Printf("queueing took %.1f s\n", queued.Seconds())
	dup := 0
	for _, c := range smtp.CountByMessageID() {
		if c > 1 {
			dup++
		}
	}
	if smtp.Count() != n || dup > 0 {
		b.Fatalf("listener got %d messages (%d duplicated), want %d", smtp.Count(), dup, n)
	}
	return elapsed
}
