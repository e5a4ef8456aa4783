package reminder

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
)

// recipient is who a claimed row's email goes to, with what decides when
// it may go; every claim selects it as recipientColumns.
type recipient struct {
	Email        string        `db:"email"`
	Name         string        `db:"name"`
	Timezone     string        `db:"timezone"`
	Minute       int           `db:"reminder_minute"`
	QuietStart   sql.NullInt64 `db:"quiet_start"`
	QuietEnd     sql.NullInt64 `db:"quiet_end"`
	PracticeName string        `db:"practice_name"`
}

// recipientColumns selects a recipient from the users u and practices pr
// that claimDue joins.
const recipientColumns = `u.email, u.name, u.timezone, u.reminder_minute, u.quiet_start, u.quiet_end, pr.name AS practice_name`

func (r recipient) prefs() Prefs {
	p := Prefs{Zone: checkin.LoadZone(r.Timezone), Minute: r.Minute}
	if r.QuietStart.Valid && r.QuietEnd.Valid {
		p.Quiet, p.QuietStart, p.QuietEnd = true, int(r.QuietStart.Int64), int(r.QuietEnd.Int64)
	}
	return p
}

// claimDue ends a claim of the rows (as alias) due at $1: it joins the
// pair (pairColumn holds its id), the recipient (alias.user_id) and the
// practice, and takes up to $2 rows in order of due_at, FOR UPDATE and
// skipping those another pass holds. Both arguments are constants, never
// input.
func claimDue(alias, pairColumn string) string {
	return `
	JOIN pairs p ON p.id = ` + pairColumn + ` AND p.practice_id = ` + alias + `.practice_id
	JOIN users u ON u.id = ` + alias + `.user_id AND u.practice_id = ` + alias + `.practice_id
	JOIN practices pr ON pr.id = ` + alias + `.practice_id
	WHERE ` + alias + `.due_at <= $1
	ORDER BY ` + alias + `.due_at
	LIMIT $2
	FOR UPDATE OF ` + alias + ` SKIP LOCKED`
}

// pendingTable is a table of emails waiting for their time (measures'
// reminders, reveal notices): Claim selects the due rows (ending with
// claimDue), and Decide says, for one row, when to try again (a time after
// now: the row waits, e.g. for quiet hours to end) or what to send (nil:
// nothing, the row is dropped).
type pendingTable[R any] struct {
	Name   string // the table; a constant, never input
	Claim  string
	ID     func(R) int64
	Decide func(r R, now time.Time) (time.Time, *mail.Message)
}

// drainPending queues the emails of t due now, batch after batch.
func drainPending[R any](ctx context.Context, s *Scheduler, t pendingTable[R]) (Stats, error) {
	return s.drain(ctx, func(ctx context.Context, now time.Time) (Stats, error) {
		return sendPending(ctx, s, now, t)
	})
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
			at, msg := t.Decide(r, now)
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
