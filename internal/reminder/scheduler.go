package reminder

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paths"
)

// Scheduler queues the reminders, nudges and digests that are due. It is
// safe to run any number of passes at once, in one process or many: rows
// are claimed with FOR UPDATE SKIP LOCKED, and every email has a dedupe key
// unique in the email log (reminder:<user>:<homework>:<period start>,
// nudge:…, digest:<counselor>:<date>), so a retried or repeated pass never
// sends anything twice.
//
// It is Mend's own work across practices: each row carries its practice,
// and every join is held to that same practice.
type Scheduler struct {
	DB      *sqlx.DB
	Outbox  *mail.Outbox
	BaseURL string // links in emails start with it
	// Now is the clock (tests set it); nil is time.Now.
	mend.Clock // Now: the clock; tests set it (nil: time.Now)
	// Batch is how many rows one transaction claims (default 500);
	// Parallel how many such transactions run at once (default 2).
	Batch, Parallel int
	// Handoff, when set, enqueues each batch's emails as soon as its
	// transaction has committed (mail.Relay.Handoff) instead of leaving
	// them to the relay's next pass, which would take and update every row
	// once more. nil: the relay enqueues them.
	Handoff func(ctx context.Context, rows []mail.Queued) error
}

// Stats says what a pass did.
type Stats struct {
	Claimed int // rows looked at
	Queued  int // emails written to the email log
}

func (s *Scheduler) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 500
}

// Run queues every reminder, nudge and digest due now, until none is left
// or ctx ends. A pass that ends early leaves the rest for the next one.
func (s *Scheduler) Run(ctx context.Context) (Stats, error) {
	rs, err := s.Reminders(ctx)
	if err != nil {
		return rs, err
	}
	ds, err := s.Digests(ctx)
	if err != nil {
		return Stats{Claimed: rs.Claimed + ds.Claimed, Queued: rs.Queued + ds.Queued}, err
	}
	ns, err := s.RevealNotices(ctx)
	if err != nil {
		return Stats{Claimed: rs.Claimed + ds.Claimed + ns.Claimed, Queued: rs.Queued + ds.Queued + ns.Queued}, err
	}
	ms, err := s.MeasureReminders(ctx)
	return Stats{Claimed: rs.Claimed + ds.Claimed + ns.Claimed + ms.Claimed, Queued: rs.Queued + ds.Queued + ns.Queued + ms.Queued}, err
}

// Reminders queues the reminders and nudges due now. Several transactions
// of Batch rows run at once, each claiming its own rows.
func (s *Scheduler) Reminders(ctx context.Context) (Stats, error) {
	return s.drain(ctx, s.reminderBatch)
}

// drain runs batch in Parallel goroutines until a batch comes back short.
func (s *Scheduler) drain(ctx context.Context, batch func(context.Context, time.Time) (Stats, error)) (Stats, error) {
	par := s.Parallel
	if par <= 0 {
		par = 2
	}
	var (
		mu    sync.Mutex
		total Stats
		errs  []error
		wg    sync.WaitGroup
	)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				st, err := batch(ctx, s.Clock.Time())
				mu.Lock()
				total.Claimed += st.Claimed
				total.Queued += st.Queued
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil || st.Claimed < s.batch() {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// dueRow is a claimed reminder_due row with everything its next email
// depends on, read in the claiming statement.
type dueRow struct {
	UserID          int64            `db:"user_id"`
	AssignmentID    int64            `db:"assignment_id"`
	PracticeID      int64            `db:"practice_id"`
	RemindedThrough checkin.NullDate `db:"reminded_through"`
	NudgedThrough   checkin.NullDate `db:"nudged_through"`
	StartsOn        checkin.Date     `db:"starts_on"`
	DueOn           checkin.Date     `db:"due_on"`
	Cadence         string           `db:"cadence"`
	Weekdays        pq.Int64Array    `db:"weekdays"`
	// Target: the homework is active and for this client, who is still a
	// member of the pair. Otherwise the row goes.
	Target bool `db:"target"`
	// Wants: the pair is active, the account enabled and activated, and
	// reminders on. Otherwise the row waits (due_at NULL) for a change.
	Wants bool `db:"wants"`
	recipient
	// Reveal: the homework is a reveal exercise, answered on its own page.
	Reveal bool `db:"reveal"`
}

func (r dueRow) schedule() checkin.Schedule {
	return checkin.ScheduleOf(r.StartsOn, r.DueOn, checkin.Cadence(r.Cadence), r.Weekdays)
}

// claimReminders takes up to $2 rows due at $1. The partial index on
// due_at gives them in order; rows another pass holds are skipped.
var claimReminders = `
	SELECT r.user_id, r.assignment_id, r.practice_id, r.reminded_through, r.nudged_through,
	       a.starts_on, a.due_on, a.cadence, a.weekdays,
	       (a.status = 'active' AND p.status <> 'closed' AND m.user_id IS NOT NULL
	        AND (a.for_user_id IS NULL OR a.for_user_id = r.user_id)) AS target,
	       (p.status = 'active' AND u.reminders_enabled AND u.disabled_at IS NULL
	        AND u.password_hash IS NOT NULL) AS wants,
	       ` + recipientColumns + `,
	       (SELECT v.reveal_rule <> '' FROM step_versions v WHERE v.id = a.step_version_id) AS reveal
	FROM reminder_due r
	JOIN assignments a ON a.id = r.assignment_id AND a.practice_id = r.practice_id
	LEFT JOIN pair_members m ON m.pair_id = a.pair_id AND m.user_id = r.user_id AND m.current` + claimDue("r", "a.pair_id")

// maxPerRow bounds the emails one row yields in one pass: after an outage,
// a reminder and the nudges of the periods still in their grace window.
const maxPerRow = 2 + checkin.GraceDays

// reminderBatch claims one batch of due rows, queues their emails and
// moves each row to its next due time, in one transaction.
func (s *Scheduler) reminderBatch(ctx context.Context, now time.Time) (Stats, error) {
	var st Stats
	var queued []mail.Queued // for the hand-off, once committed
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		queued = nil
		var rows []dueRow
		if err := tx.SelectContext(ctx, &rows, claimReminders, now, s.batch()); err != nil {
			return fmt.Errorf("reminder: claim: %w", err)
		}
		st.Claimed = len(rows)
		if len(rows) == 0 {
			return nil
		}
		checked, err := checkedIn(ctx, tx, rows, now)
		if err != nil {
			return err
		}
		var (
			msgs []mail.Message
			upd  updates
			gone [2][]int64 // user ids, assignment ids
		)
		for _, r := range rows {
			if !r.Target {
				gone[0], gone[1] = append(gone[0], r.UserID), append(gone[1], r.AssignmentID)
				continue
			}
			if !r.Wants {
				upd.add(r, sql.NullTime{})
				continue
			}
			sch, prefs := r.schedule(), r.prefs()
			done := func(stage Stage, p checkin.Period) bool {
				if checked[checkKey{r.UserID, r.AssignmentID, p.Start}] {
					return true
				}
				through := r.RemindedThrough
				if stage == Nudge {
					through = r.NudgedThrough
				}
				return through.Valid && !p.Start.After(through.Date)
			}
			var next sql.NullTime // the next item's time, stored as due_at
			over := false
			for i := 0; ; i++ {
				item, ok := Next(sch, prefs, now, done)
				if !ok {
					over = true
					break
				}
				if item.At.After(now) {
					next = sql.NullTime{Time: item.At, Valid: true}
					break
				}
				if i == maxPerRow { // cannot happen; if it did, go on next pass
					next = sql.NullTime{Time: now, Valid: true}
					break
				}
				msgs = append(msgs, s.message(r, item))
				if item.Stage == Remind {
					r.RemindedThrough = checkin.NullDate{Date: item.Period.Start, Valid: true}
				} else {
					r.NudgedThrough = checkin.NullDate{Date: item.Period.Start, Valid: true}
				}
			}
			if over {
				// Nothing left to send for this homework: it is over, or
				// every remaining period is checked in. Editing the
				// homework brings the row back (trigger).
				gone[0], gone[1] = append(gone[0], r.UserID), append(gone[1], r.AssignmentID)
				continue
			}
			upd.add(r, next)
		}
		if len(msgs) > 0 {
			var err error
			if s.Handoff != nil {
				queued, err = s.Outbox.QueueManyForHandoff(ctx, tx, msgs)
			} else {
				var ids []int64
				ids, err = s.Outbox.QueueMany(ctx, tx, msgs)
				st.Queued = len(ids)
			}
			if err != nil {
				return fmt.Errorf("reminder: queue: %w", err)
			}
		}
		if err := upd.apply(ctx, tx); err != nil {
			return err
		}
		if len(gone[0]) > 0 {
			if _, err := tx.ExecContext(ctx, `
				DELETE FROM reminder_due r USING unnest($1::bigint[], $2::bigint[]) AS t(user_id, assignment_id)
				WHERE r.user_id = t.user_id AND r.assignment_id = t.assignment_id`,
				pq.Array(gone[0]), pq.Array(gone[1])); err != nil {
				return fmt.Errorf("reminder: drop rows: %w", err)
			}
		}
		return nil
	})
	if err != nil || len(queued) == 0 {
		return st, err
	}
	st.Queued = len(queued)
	if err := s.Handoff(ctx, queued); err != nil {
		// Committed: the relay's pass enqueues what could not be.
		return st, fmt.Errorf("reminder: hand off %d emails: %w", len(queued), err)
	}
	return st, nil
}

// message is the email for one item. It names no homework and says nothing
// of what the client wrote: a short nudge and a link (which needs a login).
func (s *Scheduler) message(r dueRow, it Item) mail.Message {
	link := paths.Link(s.BaseURL, "homework", r.AssignmentID, "checkins", "new") + "?period=" + it.Period.Start.String()
	if r.Reveal {
		link = paths.Link(s.BaseURL, "homework", r.AssignmentID, "reveal")
	}
	m := mail.Message{
		PracticeID: r.PracticeID, UserID: r.UserID, To: r.Email, ToName: r.Name,
		Kind: mail.KindReminder, Template: "checkin_reminder", Unsubscribe: true,
		DedupeKey: fmt.Sprintf("reminder:%d:%d:%s", r.UserID, r.AssignmentID, it.Period.Start),
		Data:      map[string]any{"Name": r.Name, "PracticeName": r.PracticeName, "Link": link},
	}
	if it.Stage == Nudge {
		m.Kind, m.Template = mail.KindOverdue, "checkin_overdue"
		m.DedupeKey = fmt.Sprintf("nudge:%d:%d:%s", r.UserID, r.AssignmentID, it.Period.Start)
		m.Data["Until"] = it.Period.LateUntil().Format("Monday 2 January")
	}
	return m
}

type checkKey struct {
	user, assignment int64
	start            checkin.Date
}

// checkedIn loads, for the claimed rows, the periods the client has checked
// in for among those that can still get an email (from the period that
// held the day before the grace window).
func checkedIn(ctx context.Context, tx *sqlx.Tx, rows []dueRow, now time.Time) (map[checkKey]bool, error) {
	var users, assignments []int64
	var since []string
	for _, r := range rows {
		if !r.Target || !r.Wants {
			continue
		}
		from := checkin.DateIn(now, r.prefs().Zone).AddDays(-checkin.GraceDays - 1)
		if p, ok := r.schedule().Current(from); ok {
			from = p.Start
		}
		users, assignments, since = append(users, r.UserID), append(assignments, r.AssignmentID), append(since, from.String())
	}
	out := map[checkKey]bool{}
	if len(users) == 0 {
		return out, nil
	}
	var found []struct {
		UserID       int64        `db:"user_id"`
		AssignmentID int64        `db:"assignment_id"`
		Start        checkin.Date `db:"period_start"`
	}
	err := tx.SelectContext(ctx, &found, `
		SELECT c.user_id, c.assignment_id, c.period_start
		FROM unnest($1::bigint[], $2::bigint[], $3::date[]) AS t(user_id, assignment_id, since)
		JOIN checkins c ON c.assignment_id = t.assignment_id AND c.user_id = t.user_id AND c.period_start >= t.since
		UNION ALL
		-- A reveal exercise's answers are its check-ins (issue 21).
		SELECT ra.user_id, ra.assignment_id, ra.period_start
		FROM unnest($1::bigint[], $2::bigint[], $3::date[]) AS t(user_id, assignment_id, since)
		JOIN reveal_answers ra ON ra.assignment_id = t.assignment_id AND ra.user_id = t.user_id AND ra.period_start >= t.since`,
		pq.Array(users), pq.Array(assignments), pq.Array(since))
	if err != nil {
		return nil, fmt.Errorf("reminder: check-ins: %w", err)
	}
	for _, f := range found {
		out[checkKey{f.UserID, f.AssignmentID, f.Start}] = true
	}
	return out, nil
}

// updates collects the rows' new state for one UPDATE … FROM unnest.
type updates struct {
	users, assignments []int64
	due, reminded      []sql.NullString
	nudged             []sql.NullString
}

func (u *updates) add(r dueRow, due sql.NullTime) {
	u.users = append(u.users, r.UserID)
	u.assignments = append(u.assignments, r.AssignmentID)
	var d sql.NullString
	if due.Valid {
		d = sql.NullString{String: due.Time.UTC().Format(time.RFC3339Nano), Valid: true}
	}
	u.due = append(u.due, d)
	u.reminded = append(u.reminded, nullText(r.RemindedThrough))
	u.nudged = append(u.nudged, nullText(r.NudgedThrough))
}

func (u *updates) apply(ctx context.Context, tx *sqlx.Tx) error {
	if len(u.users) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE reminder_due r SET due_at = t.due_at, reminded_through = t.reminded, nudged_through = t.nudged
		FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::date[], $5::date[])
		     AS t(user_id, assignment_id, due_at, reminded, nudged)
		WHERE r.user_id = t.user_id AND r.assignment_id = t.assignment_id`,
		pq.Array(u.users), pq.Array(u.assignments), pq.Array(u.due), pq.Array(u.reminded), pq.Array(u.nudged))
	if err != nil {
		return fmt.Errorf("reminder: move rows: %w", err)
	}
	return nil
}

// checkin.NullDate is a date column that may be NULL.
// nullText is a nullable date as text, for a text[] parameter.
func nullText(n checkin.NullDate) sql.NullString {
	if !n.Valid {
		return sql.NullString{}
	}
	return sql.NullString{String: n.Date.String(), Valid: true}
}
