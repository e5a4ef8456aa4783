package jobs_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/templates"
)

// runWorker runs w in the background; stop cancels it and waits until its
// running tasks have finished.
func runWorker(w *jobs.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		<-done
	}
}

// mailPractice creates a practice (name, slug) and the outbox that writes
// its email.
func mailPractice(tb testing.TB, d *sqlx.DB, name, slug string) (int64, *mail.Outbox) {
	tb.Helper()
	var id int64
	if err := d.Get(&id, `INSERT INTO practices (name, slug) VALUES ($1, $2) RETURNING id`, name, slug); err != nil {
		tb.Fatal(err)
	}
	outbox, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		tb.Fatal(err)
	}
	return id, outbox
}
