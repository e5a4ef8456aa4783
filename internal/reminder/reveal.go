package reminder

import (
	"context"
	"fmt"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/paths"
)

// Emails about reveal exercises (internal/reveal) wait in reveal_notices
// until their recipient's quiet hours are over; each pass queues the due
// ones with a dedupe key per recipient, exercise, period and kind, so a
// recipient gets each at most once however often passes, retries and
// workers run:
//
//   - answered: the partner answered and the recipient has not (yet);
//     dropped when the recipient answers or the period is shown first;
//   - revealed: both answers of a period are shown;
//   - ready: both partners answered a counselor-releases exercise (to the
//     counselor); dropped when it was released first.
//
// The emails name no exercise and carry nothing anyone wrote.

type noticeRow struct {
	ID           int64        `db:"id"`
	PracticeID   int64        `db:"practice_id"`
	AssignmentID int64        `db:"assignment_id"`
	PeriodStart  checkin.Date `db:"period_start"`
	UserID       int64        `db:"user_id"`
	Kind         string       `db:"kind"`
	Wants        bool         `db:"wants"`
	Stale        bool         `db:"stale"`
	Role         string       `db:"role"`
	recipient
}

// claimNotices takes up to $2 notices due at $1, with their recipient and
// whether they still apply.
var claimNotices = `
	SELECT n.id, n.practice_id, n.assignment_id, n.period_start, n.user_id, n.kind,
	       (p.status = 'active' AND a.status = 'active' AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL
	        AND (u.role <> 'client' OR u.reminders_enabled)) AS wants,
	       CASE n.kind
	         WHEN 'answered' THEN EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = n.assignment_id
	                                        AND ra.period_start = n.period_start AND ra.user_id = n.user_id)
	                           OR EXISTS (SELECT 1 FROM reveals r WHERE r.assignment_id = n.assignment_id
	                                        AND r.period_start = n.period_start)
	         WHEN 'ready' THEN EXISTS (SELECT 1 FROM reveals r WHERE r.assignment_id = n.assignment_id
	                                     AND r.period_start = n.period_start)
	         ELSE false END AS stale,
	       u.role, ` + recipientColumns + `
	FROM reveal_notices n
	JOIN assignments a ON a.id = n.assignment_id AND a.practice_id = n.practice_id
` + claimDue("n", "n.pair_id")

// RevealNotices queues the reveal emails due now.
func (s *Scheduler) RevealNotices(ctx context.Context) (Stats, error) {
	return drainPending(ctx, s, pendingTable[noticeRow]{
		Name: "reveal_notices", Claim: claimNotices, ID: func(r noticeRow) int64 { return r.ID },
		Decide: func(r noticeRow, now time.Time) (time.Time, *mail.Message) {
			if !r.Wants || r.Stale {
				return time.Time{}, nil
			}
			if at := r.prefs().OutOfQuiet(now); at.After(now) {
				return at, nil
			}
			m := s.noticeMessage(r)
			return time.Time{}, &m
		},
	})
}

func (s *Scheduler) noticeMessage(r noticeRow) mail.Message {
	link := paths.Link(s.BaseURL, "homework", r.AssignmentID, "reveal")
	m := mail.Message{
		PracticeID: r.PracticeID, UserID: r.UserID, To: r.Email, ToName: r.Name,
		DedupeKey: fmt.Sprintf("reveal-%s:%d:%d:%s", r.Kind, r.UserID, r.AssignmentID, r.PeriodStart),
		Data:      map[string]any{"Name": r.Name, "PracticeName": r.PracticeName, "Link": link},
	}
	switch r.Kind {
	case "answered":
		m.Kind, m.Template, m.Unsubscribe = mail.KindRevealAnswered, "reveal_answered", true
	case "revealed":
		m.Kind, m.Template, m.Unsubscribe = mail.KindRevealed, "reveal_revealed", true
	default:
		m.Kind, m.Template = mail.KindRevealReady, "reveal_ready"
		m.Data["Link"] = paths.Link(s.BaseURL, "assignments", r.AssignmentID, "reveal")
	}
	return m
}
