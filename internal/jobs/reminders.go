package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/reminder"
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

// NewReminders builds the reminder scheduler over the stores' database and
// outbox. It writes the email log with the main pool (full durability: a
// queued email is never lost), not the delivery's state pool.
func NewReminders(st *app.Stores, cfg config.Config) *reminder.Scheduler {
	return &reminder.Scheduler{DB: st.DB, Outbox: st.Outbox, BaseURL: strings.TrimRight(cfg.BaseURL, "/")}
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
