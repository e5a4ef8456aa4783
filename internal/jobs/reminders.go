package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/reminder"
	"github.com/mend-practice/mend/templates"
)

// TypeScheduleReminders queues the check-in reminders, overdue nudges and
// counselor digests that are due. Its payload is the installation id.
const TypeScheduleReminders = "reminders:schedule"

// ScheduleTask is the task the periodic scheduler enqueues each minute
// (and that a test or benchmark may enqueue to run a pass at once).
func ScheduleTask(installation string) *asynq.Task {
	return asynq.NewTask(TypeScheduleReminders, []byte(installation))
}

// scheduleTimeout bounds one pass; a pass that has more to do than fits
// leaves it to the next one (and passes may overlap: they split the due
// rows between them).
const scheduleTimeout = 5 * time.Minute

// NewReminders builds the reminder scheduler from the configuration. It
// writes the email log with the main pool (full durability: a queued email
// is never lost), not the delivery's state pool. It needs the master key
// (config.ErrNoMasterKey without one) to sign the reminders' unsubscribe
// links.
func NewReminders(d *sqlx.DB, cfg config.Config) (*reminder.Scheduler, error) {
	current, old, err := cfg.MasterKeys()
	if err != nil {
		return nil, err
	}
	outbox, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		return nil, err
	}
	outbox.BaseURL = cfg.BaseURL
	if outbox.Links, err = mail.NewUnsubscribeLinks(current, old...); err != nil {
		return nil, err
	}
	return &reminder.Scheduler{DB: d, Outbox: outbox, BaseURL: strings.TrimRight(cfg.BaseURL, "/")}, nil
}

// registerReminders runs a pass every minute. asynq's scheduler enqueues
// the task in every worker process (asynq #371); Unique collapses most of
// the copies, and the rest are harmless: passes claim rows with SKIP LOCKED
// and each email has a unique dedupe key.
func (w *Worker) registerReminders(mux *asynq.ServeMux, sched *asynq.Scheduler) error {
	if w.Reminders == nil {
		return nil
	}
	mux.HandleFunc(TypeScheduleReminders, w.scheduleReminders)
	// MaxRetry leaves room for a hand-back from another installation's
	// worker (see ownTasksOnly); a failed pass is caught up by the next.
	if _, err := sched.Register("@every 1m", ScheduleTask(w.Installation), asynq.Queue(QueueDefault),
		asynq.Unique(55*time.Second), asynq.Timeout(scheduleTimeout), asynq.MaxRetry(3)); err != nil {
		return fmt.Errorf("jobs: schedule %s: %w", TypeScheduleReminders, err)
	}
	return nil
}

func (w *Worker) scheduleReminders(ctx context.Context, _ *asynq.Task) error {
	st, err := w.Reminders.Run(ctx)
	if st.Queued > 0 || err != nil {
		w.Logger.Info("reminders scheduled", "rows", st.Claimed, "emails", st.Queued, "err", err)
	}
	return err
}
