package pair

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// Kinds of pair event.
const (
	EventCreated      = "created"
	EventPaused       = "paused"
	EventResumed      = "resumed"
	EventClosed       = "closed"
	EventReassigned   = "reassigned"
	EventPlanApplied  = "plan_applied"
	EventPlanStopped  = "plan_stopped"
	EventPlanFinished = "plan_finished"
)

// Event is one entry of a pair's history. Detail is a plan's name at most:
// never clinical text.
type Event struct {
	ID              int64          `db:"id"`
	PracticeID      int64          `db:"practice_id"`
	PairID          int64          `db:"pair_id"`
	Kind            string         `db:"kind"`
	ActorID         int64          `db:"-"`
	ActorName       sql.NullString `db:"actor_name"`
	FromCounselorID int64          `db:"-"`
	FromName        sql.NullString `db:"from_name"`
	ToCounselorID   int64          `db:"-"`
	ToName          sql.NullString `db:"to_name"`
	Detail          string         `db:"detail"`
	At              time.Time      `db:"at"`
}

// Text describes the event in a sentence fragment (the actor is shown
// apart).
func (e Event) Text() string {
	switch e.Kind {
	case EventCreated:
		return "Pair created"
	case EventPaused:
		return "Paused"
	case EventResumed:
		return "Resumed"
	case EventClosed:
		return "Closed"
	case EventReassigned:
		from := "no one"
		if e.FromName.Valid {
			from = e.FromName.String
		}
		return fmt.Sprintf("Reassigned from %s to %s", from, e.ToName.String)
	case EventPlanApplied:
		return "Plan applied: " + e.Detail
	case EventPlanStopped:
		return "Plan stopped: " + e.Detail
	case EventPlanFinished:
		return "Plan finished: " + e.Detail
	}
	return e.Kind
}

// RecordEvent appends to a pair's history in tx (the change it describes
// commits with it).
func RecordEvent(ctx context.Context, q sqlx.ExecerContext, e Event) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO pair_events (practice_id, pair_id, kind, actor_id, from_counselor_id, to_counselor_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.PracticeID, e.PairID, e.Kind, nullID(e.ActorID), nullID(e.FromCounselorID), nullID(e.ToCounselorID), e.Detail)
	if err != nil {
		return fmt.Errorf("pair: record %s: %w", e.Kind, err)
	}
	return nil
}

// Events returns a page of a pair's history, newest first.
func (s *Store) Events(ctx context.Context, sc mend.Scope, pairID int64, pr paging.Request) (paging.Page[Event], error) {
	cond, args := ScopeSQL(sc, "p", 4)
	var rows []Event
	err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT e.id, e.practice_id, e.pair_id, e.kind, a.name AS actor_name, f.name AS from_name, t.name AS to_name, e.detail, e.at
		FROM pair_events e
		JOIN pairs p ON p.id = e.pair_id
		LEFT JOIN users a ON a.id = e.actor_id
		LEFT JOIN users f ON f.id = e.from_counselor_id
		LEFT JOIN users t ON t.id = e.to_counselor_id
		WHERE e.pair_id = $1 AND `+cond+`
		ORDER BY e.at DESC, e.id DESC LIMIT $2 OFFSET $3`,
		append([]any{pairID, pr.Limit(), pr.Offset()}, args...)...)
	if err != nil {
		return paging.Page[Event]{}, fmt.Errorf("pair: events: %w", err)
	}
	return paging.Of(pr, rows), nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
