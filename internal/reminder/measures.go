package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/paths"
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
	ID           int64        `db:"id"`
	PracticeID   int64        `db:"practice_id"`
	AssignmentID int64        `db:"measure_assignment_id"`
	UserID       int64        `db:"user_id"`
	DueOn        checkin.Date `db:"due_on"`
	Stage        string       `db:"stage"`
	Wants        bool         `db:"wants"`
	Answered     bool         `db:"answered"`
	recipient
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

var claimMeasureReminders = `
	SELECT mr.id, mr.practice_id, mr.measure_assignment_id, mr.user_id, mr.due_on, mr.stage,
	       (ma.status = 'active' AND p.status = 'active' AND m.active AND u.disabled_at IS NULL
	        AND u.password_hash IS NOT NULL AND u.reminders_enabled) AS wants,
	       EXISTS (SELECT 1 FROM measure_responses r WHERE r.pair_id = mr.pair_id AND r.measure_assignment_id = mr.measure_assignment_id
	               AND r.user_id = mr.user_id AND r.answered_on >= mr.due_on) AS answered,
	       ` + recipientColumns + `
	FROM measure_reminders mr
	JOIN measure_assignments ma ON ma.id = mr.measure_assignment_id AND ma.practice_id = mr.practice_id
	JOIN measures m ON m.id = ma.measure_id
` + claimDue("mr", "mr.pair_id")

// MeasureReminders queues the reminders and nudges of measures due now.
func (s *Scheduler) MeasureReminders(ctx context.Context) (Stats, error) {
	return drainPending(ctx, s, pendingTable[measureRow]{
		Name: "measure_reminders", Claim: claimMeasureReminders, ID: func(r measureRow) int64 { return r.ID },
		Decide: func(r measureRow, now time.Time) (time.Time, *mail.Message) {
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
	link := paths.Link(s.BaseURL, "measures", r.AssignmentID)
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
