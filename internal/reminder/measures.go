package reminder

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mail"
)

// Reminders of measures (issue 20) wait in measure_reminders, written by
// the measure store when a measure is given or answered: a reminder on the
// day a measure is due and a nudge MeasureNudgeDays later, each at the
// client's reminder time in their timezone and out of their quiet hours,
// and only while the measure is still unanswered, the pair active and the
// client's reminders on. Dedupe keys per client, assignment, due date and
// stage keep it to one of each. The emails name no measure.

// MeasureNudgeDays is how long after its due date the nudge goes.
const MeasureNudgeDays = 2

type measureRow struct {
	ID           int64         `db:"id"`
	PracticeID   int64         `db:"practice_id"`
	AssignmentID int64         `db:"measure_assignment_id"`
	UserID       int64         `db:"user_id"`
	DueOn        checkin.Date  `db:"due_on"`
	Stage        string        `db:"stage"`
	Wants        bool          `db:"wants"`
	Answered     bool          `db:"answered"`
	Email        string        `db:"email"`
	Name         string        `db:"name"`
	Timezone     string        `db:"timezone"`
	Minute       int           `db:"reminder_minute"`
	QuietStart   sql.NullInt64 `db:"quiet_start"`
	QuietEnd     sql.NullInt64 `db:"quiet_end"`
	PracticeName string        `db:"practice_name"`
}

func (r measureRow) prefs() Prefs {
	p := Prefs{Zone: checkin.LoadZone(r.Timezone), Minute: r.Minute}
	if r.QuietStart.Valid && r.QuietEnd.Valid {
		p.Quiet, p.QuietStart, p.QuietEnd = true, int(r.QuietStart.Int64), int(r.QuietEnd.Int64)
	}
	return p
}

// sendAt is when the row's email goes.
func (r measureRow) sendAt() time.Time {
	day := r.DueOn
	if r.Stage == "nudge" {
		day = day.AddDays(MeasureNudgeDays)
	}
	p := r.prefs()
	return p.OutOfQuiet(p.timeOn(day))
}

const claimMeasureReminders = `
	SELECT mr.id, mr.practice_id, mr.measure_assignment_id, mr.user_id, mr.due_on, mr.stage,
	       (ma.status = 'active' AND p.status = 'active' AND m.active AND u.disabled_at IS NULL
	        AND u.password_hash IS NOT NULL AND u.reminders_enabled) AS wants,
	       EXISTS (SELECT 1 FROM measure_responses r WHERE r.measure_assignment_id = mr.measure_assignment_id
	               AND r.user_id = mr.user_id AND r.answered_on >= mr.due_on) AS answered,
	       u.email, u.name, u.timezone, u.reminder_minute, u.quiet_start, u.quiet_end, pr.name AS practice_name
	FROM measure_reminders mr
	JOIN measure_assignments ma ON ma.id = mr.measure_assignment_id AND ma.practice_id = mr.practice_id
	JOIN measures m ON m.id = ma.measure_id
	JOIN pairs p ON p.id = mr.pair_id AND p.practice_id = mr.practice_id
	JOIN users u ON u.id = mr.user_id AND u.practice_id = mr.practice_id
	JOIN practices pr ON pr.id = mr.practice_id
	WHERE mr.due_at <= $1
	ORDER BY mr.due_at
	LIMIT $2
	FOR UPDATE OF mr SKIP LOCKED`

// MeasureReminders queues the reminders and nudges of measures due now.
func (s *Scheduler) MeasureReminders(ctx context.Context) (Stats, error) {
	return s.drain(ctx, s.measureBatch)
}

func (s *Scheduler) measureBatch(ctx context.Context, now time.Time) (Stats, error) {
	return sendPending(ctx, s, now, pendingTable[measureRow]{
		Name: "measure_reminders", Claim: claimMeasureReminders, ID: func(r measureRow) int64 { return r.ID },
		Decide: func(r measureRow) (time.Time, *mail.Message) {
			if !r.Wants || r.Answered {
				return time.Time{}, nil
			}
			// A reminder whose time passed days ago (workers down) is
			// dropped rather than sent at an odd hour; the nudge follows.
			at := r.sendAt()
			if at.After(now) || now.Sub(at) >= 24*time.Hour {
				return at, nil
			}
			m := s.measureMessage(r)
			return time.Time{}, &m
		},
	})
}

func (s *Scheduler) measureMessage(r measureRow) mail.Message {
	link := fmt.Sprintf("%s/measures/%d", strings.TrimRight(s.BaseURL, "/"), r.AssignmentID)
	m := mail.Message{
		PracticeID: r.PracticeID, UserID: r.UserID, To: r.Email, ToName: r.Name, Unsubscribe: true,
		Kind: mail.KindMeasureReminder, Template: "measure_reminder",
		DedupeKey: fmt.Sprintf("measure:%d:%d:%s", r.UserID, r.AssignmentID, r.DueOn),
		Data:      map[string]any{"Name": r.Name, "PracticeName": r.PracticeName, "Link": link},
	}
	if r.Stage == "nudge" {
		m.Kind, m.Template = mail.KindMeasureOverdue, "measure_overdue"
		m.DedupeKey = fmt.Sprintf("measure-nudge:%d:%d:%s", r.UserID, r.AssignmentID, r.DueOn)
	}
	return m
}
