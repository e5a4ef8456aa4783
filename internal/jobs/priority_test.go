package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
)

// heldSender holds every reminder in the SMTP exchange until release is
// closed, as a slow mail server would, and sends everything else at once.
type heldSender struct {
	mail.Sender
	release chan struct{}
	holding atomic.Int32
}

func (h *heldSender) Send(ctx context.Context, m mail.Outgoing) error {
	if strings.HasPrefix(m.To, "client") {
		h.holding.Add(1)
		defer h.holding.Add(-1)
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Sender.Send(ctx, m)
}

// TestSafetyAlertIsNotHeldUpByReminders: with every reminder worker busy
// and more reminders waiting, a safety alert queued after them still
// reaches the counselor at once.
func TestSafetyAlertIsNotHeldUpByReminders(t *testing.T) {
	t.Parallel()
	d, dsn := dbtest.New(t)
	state, err := mail.OpenStateDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { state.Close() })
	redisURL, _ := mailtest.RedisDB(t)
	ropt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	smtp := mailtest.Start(t)
	sender, err := mail.NewSMTPSender(smtp.URL(), "Mend <no-reply@mend.test>", mail.SenderOptions{PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	held := &heldSender{Sender: sender, release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(held.release)
		}
	}
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { client.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const workers = 2
	w := &jobs.Worker{DB: d, Redis: ropt, Logger: log, Concurrency: workers,
		Mail:       &mail.Delivery{DB: state, Sender: held, Logger: log},
		Relay:      &mail.Relay{DB: state, Client: client, Logger: log, Queue: jobs.QueueFor},
		RelayEvery: 100 * time.Millisecond,
	}
	t.Cleanup(runWorker(w))
	t.Cleanup(release) // first: the worker's stop waits for the held reminders

	ctx := context.Background()
	practice, outbox := mailPractice(t, d, "Northside", "northside")
	message := func(to, kind string) mail.Message {
		return mail.Message{PracticeID: practice, To: to, ToName: "Someone", Kind: kind, Template: "invitation",
			Data: map[string]any{"Name": "Someone", "PracticeName": "Northside", "InviterName": "Dana", "Link": "http://mend.test/x"}}
	}
	var reminders []mail.Message
	for i := range 10 {
		reminders = append(reminders, message(fmt.Sprintf("client%d@northside.test", i), mail.KindReminder))
	}
	if _, err := outbox.QueueMany(ctx, d, reminders); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); held.holding.Load() < workers; {
		if time.Now().After(deadline) {
			t.Fatalf("%d reminders in the SMTP exchange, want %d", held.holding.Load(), workers)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, err := outbox.QueueMany(ctx, d, []mail.Message{message("counselor@northside.test", mail.KindSafetyAlert)}); err != nil {
		t.Fatal(err)
	}
	got := smtp.WaitFor(t, 1, 15*time.Second)
	if len(got[0].To) != 1 || got[0].To[0] != "counselor@northside.test" {
		t.Fatalf("first message to %v, want the counselor's alert", got[0].To)
	}
	release()
	smtp.WaitFor(t, 11, time.Minute)
}
