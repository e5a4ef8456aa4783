package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/paths"
)

// DigestMinute is when a counselor's daily digest goes out in their own
// timezone: 07:30, before the working day. A digest that could not go out
// by DigestLateMinute (noon; the workers were down all morning) is dropped
// for that day rather than arriving in the evening.
const (
	DigestMinute     = 7*60 + 30
	DigestLateMinute = 12 * 60
)

// Counts are what a digest says: numbers only, no client names.
type Counts struct {
	Review  int // check-ins not yet reviewed (pairs not closed)
	Flags   int // safety answers not yet acknowledged
	Overdue int // homework past its due date still missing a check-in for its last period
}

// Zero reports whether nothing is waiting.
func (c Counts) Zero() bool { return c.Review == 0 && c.Flags == 0 && c.Overdue == 0 }

type digestRow struct {
	UserID       int64            `db:"user_id"`
	PracticeID   int64            `db:"practice_id"`
	LastOn       checkin.NullDate `db:"last_on"`
	Email        string           `db:"email"`
	Name         string           `db:"name"`
	Timezone     string           `db:"timezone"`
	Active       bool             `db:"active"`
	PracticeName string           `db:"practice_name"`
}

const claimDigests = `
	SELECT d.user_id, d.practice_id, d.last_on, u.email, u.name, u.timezone,
	       (u.role = 'counselor' AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL) AS active,
	       pr.name AS practice_name
	FROM digest_due d
	JOIN users u ON u.id = d.user_id AND u.practice_id = d.practice_id
	JOIN practices pr ON pr.id = d.practice_id
	WHERE d.due_at <= $1
	ORDER BY d.due_at
	LIMIT $2
	FOR UPDATE OF d SKIP LOCKED`

// Digests queues the counselors' daily digests that are due now.
func (s *Scheduler) Digests(ctx context.Context) (Stats, error) {
	return s.drain(ctx, s.digestBatch)
}

func (s *Scheduler) digestBatch(ctx context.Context, now time.Time) (Stats, error) {
	var st Stats
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var rows []digestRow
		if err := tx.SelectContext(ctx, &rows, claimDigests, now, s.batch()); err != nil {
			return fmt.Errorf("reminder: claim digests: %w", err)
		}
		st.Claimed = len(rows)
		if len(rows) == 0 {
			return nil
		}
		var (
			users       []int64
			due, lastOn []string
			sendIdx     []int
		)
		for i, r := range rows {
			zone := checkin.LoadZone(r.Timezone)
			today := checkin.DateIn(now, zone)
			at := func(d checkin.Date, minute int) time.Time { return WallTime(d, minute, zone) }
			next := at(today.AddDays(1), DigestMinute)
			last := r.LastOn
			switch {
			case !r.Active:
				// Enabling or activating the account wakes the row (trigger).
				users, due, lastOn = append(users, r.UserID), append(due, "infinity"), append(lastOn, nullText(last).String)
				continue
			case last.Valid && !last.Date.Before(today):
				// Decided already today.
			case now.Before(at(today, DigestMinute)):
				next = at(today, DigestMinute)
			case now.Before(at(today, DigestLateMinute)):
				sendIdx = append(sendIdx, i)
				last = checkin.NullDate{Date: today, Valid: true}
			default:
				// Too late in the day; tomorrow morning.
			}
			users = append(users, r.UserID)
			due = append(due, next.UTC().Format(time.RFC3339Nano))
			lastOn = append(lastOn, nullText(last).String)
		}
		if len(sendIdx) > 0 {
			counts, err := digestCounts(ctx, tx, rows, sendIdx, now)
			if err != nil {
				return err
			}
			var msgs []mail.Message
			for _, i := range sendIdx {
				r, c := rows[i], counts[rows[i].UserID]
				if c.Zero() {
					continue
				}
				today := checkin.DateIn(now, checkin.LoadZone(r.Timezone))
				msgs = append(msgs, mail.Message{
					PracticeID: r.PracticeID, UserID: r.UserID, To: r.Email, ToName: r.Name,
					Kind: mail.KindDigest, Template: "counselor_digest",
					DedupeKey: fmt.Sprintf("digest:%d:%s", r.UserID, today),
					Data: map[string]any{"Name": r.Name, "PracticeName": r.PracticeName, "Link": paths.Link(s.BaseURL, "dashboard"),
						"Review": c.Review, "Flags": c.Flags, "Overdue": c.Overdue},
				})
			}
			ids, err := s.Outbox.QueueMany(ctx, tx, msgs)
			if err != nil {
				return fmt.Errorf("reminder: queue digests: %w", err)
			}
			st.Queued = len(ids)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE digest_due d SET due_at = t.due_at, last_on = nullif(t.last_on, '')::date
			FROM unnest($1::bigint[], $2::timestamptz[], $3::text[]) AS t(user_id, due_at, last_on)
			WHERE d.user_id = t.user_id`, pq.Array(users), pq.Array(due), pq.Array(lastOn))
		if err != nil {
			return fmt.Errorf("reminder: move digests: %w", err)
		}
		return nil
	})
	return st, err
}

// digestCounts counts what waits for each counselor in rows[idx]: their
// pairs' unreviewed check-ins (pairs not closed), unacknowledged safety
// alerts, and active homework of active pairs whose due date has passed in
// the client's timezone while the client has not checked in for its last
// period.
func digestCounts(ctx context.Context, tx *sqlx.Tx, rows []digestRow, idx []int, now time.Time) (map[int64]Counts, error) {
	ids, practices := make([]int64, 0, len(idx)), make([]int64, 0, len(idx))
	for _, i := range idx {
		ids, practices = append(ids, rows[i].UserID), append(practices, rows[i].PracticeID)
	}
	var flat []struct {
		UserID int64 `db:"user_id"`
		Review int   `db:"review"`
		Flags  int   `db:"flags"`
	}
	err := tx.SelectContext(ctx, &flat, `
		SELECT t.user_id,
		       (SELECT count(*) FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
		         WHERE `+access.CounselorPairs("p", "t.practice_id", "t.user_id")+` AND p.status <> 'closed') AS review,
		       (SELECT count(*) FROM pairs p JOIN safety_alerts sa ON sa.pair_id = p.id AND sa.acknowledged_at IS NULL
		         WHERE `+access.CounselorPairs("p", "t.practice_id", "t.user_id")+`) AS flags
		FROM unnest($1::bigint[], $2::bigint[]) AS t(user_id, practice_id)`, pq.Array(ids), pq.Array(practices))
	if err != nil {
		return nil, fmt.Errorf("reminder: digest counts: %w", err)
	}
	out := make(map[int64]Counts, len(flat))
	for _, f := range flat {
		out[f.UserID] = Counts{Review: f.Review, Flags: f.Flags}
	}
	// Overdue homework: few rows (active homework already past its due
	// date), judged in Go with the check-in periods' own rules.
	var hw []struct {
		CounselorID  int64            `db:"counselor_id"`
		AssignmentID int64            `db:"assignment_id"`
		StartsOn     checkin.Date     `db:"starts_on"`
		DueOn        checkin.Date     `db:"due_on"`
		Cadence      string           `db:"cadence"`
		Weekdays     pq.Int64Array    `db:"weekdays"`
		Timezone     string           `db:"timezone"`
		LastStart    checkin.NullDate `db:"last_start"`
	}
	err = tx.SelectContext(ctx, &hw, `
		SELECT p.counselor_id, a.id AS assignment_id, a.starts_on, a.due_on, a.cadence, a.weekdays, u.timezone,
		       greatest((SELECT max(c.period_start) FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = m.user_id),
		                (SELECT max(ra.period_start) FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = m.user_id)) AS last_start
		FROM unnest($1::bigint[], $2::bigint[]) AS t(user_id, practice_id)
		JOIN pairs p ON `+access.CounselorPairs("p", "t.practice_id", "t.user_id")+` AND p.status = 'active'
		JOIN assignments a ON a.pair_id = p.id AND a.practice_id = p.practice_id AND a.status = 'active'
		     AND a.due_on < ($3::timestamptz AT TIME ZONE 'UTC')::date + 1
		JOIN pair_members m ON m.pair_id = p.id AND m.current AND (a.for_user_id IS NULL OR a.for_user_id = m.user_id)
		JOIN users u ON u.id = m.user_id
		-- Homework given after its due date was never overdue.
		WHERE a.due_on >= (a.created_at AT TIME ZONE u.timezone)::date`, pq.Array(ids), pq.Array(practices), now)
	if err != nil {
		return nil, fmt.Errorf("reminder: digest overdue homework: %w", err)
	}
	seen := map[int64]bool{}
	for _, h := range hw {
		if seen[h.AssignmentID] {
			continue
		}
		last, ok := LastPeriod(checkin.ScheduleOf(h.StartsOn, h.DueOn, checkin.Cadence(h.Cadence), h.Weekdays))
		if !ok || !h.DueOn.Before(checkin.DateIn(now, checkin.LoadZone(h.Timezone))) {
			continue
		}
		if h.LastStart.Valid && !h.LastStart.Date.Before(last.Start) {
			continue
		}
		seen[h.AssignmentID] = true
		c := out[h.CounselorID]
		c.Overdue++
		out[h.CounselorID] = c
	}
	return out, nil
}
