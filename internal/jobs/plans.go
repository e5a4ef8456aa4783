package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
)

// TypeAdvancePlans starts the next step of every repair plan whose current
// step has ended by its date.
const TypeAdvancePlans = "homework:advance_plans"

// registerPlans schedules plan advancement. Several schedulers may enqueue
// it at once (asynq #371) and several workers may run it at once: it is
// idempotent, each plan is advanced under its pair's row lock taken with
// SKIP LOCKED, and a unique index allows one homework per plan step.
func (w *Worker) registerPlans(mux *asynq.ServeMux, sched *asynq.Scheduler) error {
	if w.Homework == nil {
		return nil
	}
	mux.HandleFunc(TypeAdvancePlans, w.advancePlans)
	if _, err := sched.Register("@every 5m", w.task(TypeAdvancePlans),
		asynq.Queue(QueueDefault), asynq.Unique(4*time.Minute), asynq.Timeout(4*time.Minute)); err != nil {
		return fmt.Errorf("jobs: schedule %s: %w", TypeAdvancePlans, err)
	}
	return nil
}

// advancePlans works one practice at a time with that practice's system
// scope (mend.SystemScope), so that even Mend's own work is bounded by a
// practice in every query. The payload is the installation id: nothing
// clinical, no ids of rows.
func (w *Worker) advancePlans(ctx context.Context, _ *asynq.Task) error {
	return AdvancePlans(ctx, w.Homework)
}

// AdvancePlans advances the due plans of every practice.
func AdvancePlans(ctx context.Context, hw *homework.Store) error {
	ids, err := homework.PracticeIDs(ctx, hw.DB)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := hw.AdvanceDue(ctx, mend.SystemScope(id)); err != nil {
			return fmt.Errorf("jobs: advance plans of practice %d: %w", id, err)
		}
	}
	return nil
}
