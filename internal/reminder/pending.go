package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
)

// pendingTable is a table of emails waiting for their time (measures'
// reminders, reveal notices): Claim selects the due rows FOR UPDATE SKIP
// LOCKED with the limit as $2 and the time as $1, and Decide says, for one
// row, when to try again (a time after now: the row waits, e.g. for quiet
// hours to end) or what to send (nil: nothing, the row is dropped).
type pendingTable[R any] struct {
	Name   string // the table; a constant, never input
	Claim  string
	ID     func(R) int64
	Decide func(R) (time.Time, *mail.Message)
}

// sendPending runs one batch of a pendingTable in one transaction: the
// messages are queued and the rows they came from deleted together, so a
// crash sends each once; the hand-off follows the commit.
func sendPending[R any](ctx context.Context, s *Scheduler, now time.Time, t pendingTable[R]) (Stats, error) {
	var st Stats
	var queued []mail.Queued
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		st, queued = Stats{}, nil
		var rows []R
		if err := tx.SelectContext(ctx, &rows, t.Claim, now, s.batch()); err != nil {
			return fmt.Errorf("reminder: claim %s: %w", t.Name, err)
		}
		st.Claimed = len(rows)
		var done []int64
		var msgs []mail.Message
		for _, r := range rows {
			at, msg := t.Decide(r)
			if msg == nil && at.After(now) {
				if _, err := tx.ExecContext(ctx, `UPDATE `+t.Name+` SET due_at = $2 WHERE id = $1`, t.ID(r), at); err != nil {
					return fmt.Errorf("reminder: delay %s: %w", t.Name, err)
				}
				continue
			}
			if msg != nil {
				msgs = append(msgs, *msg)
			}
			done = append(done, t.ID(r))
		}
		if len(msgs) > 0 {
			var err error
			if queued, err = s.queueAll(ctx, tx, msgs); err != nil {
				return err
			}
			st.Queued = len(queued)
		}
		if len(done) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.Name+` WHERE id = ANY($1)`, pq.Array(done)); err != nil {
				return fmt.Errorf("reminder: drop %s: %w", t.Name, err)
			}
		}
		return nil
	})
	if err == nil && s.Handoff != nil && len(queued) > 0 {
		err = s.Handoff(ctx, queued)
	}
	return st, err
}

// queueAll queues msgs in tx, for the hand-off when there is one (sent as
// soon as tx commits) and otherwise for the relay's next pass, and returns
// them as queued.
func (s *Scheduler) queueAll(ctx context.Context, tx *sqlx.Tx, msgs []mail.Message) ([]mail.Queued, error) {
	if s.Handoff != nil {
		return s.Outbox.QueueManyForHandoff(ctx, tx, msgs)
	}
	ids, err := s.Outbox.QueueMany(ctx, tx, msgs)
	queued := make([]mail.Queued, len(ids))
	for i, id := range ids {
		queued[i] = mail.Queued{ID: id}
	}
	return queued, err
}
