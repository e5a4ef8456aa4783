package homework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// ClientView is homework as one client sees it: only homework for both
// members or for them, with the instructions for their side.
type ClientView struct {
	Assignment
	Side     string          `db:"side"`
	Content  library.Content `db:"-"`
	Sections []library.Section
}

// clientSelect adds the caller's side; $1 is now, $2 the client's user id.
func clientSelect() string {
	return `
	SELECT a.id, a.practice_id, a.pair_id, p.label AS pair_label, v.step_id, a.step_version_id,
	       v.version AS step_version, v.version AS current_version, v.title,
	       a.for_user_id, fu.name AS for_name, a.starts_on, a.due_on, a.cadence, a.weekdays, a.note,
	       a.status, a.created_at, a.completed_at, a.cancelled_at, a.pair_plan_step_id, pps.position AS plan_position,
	       (SELECT count(*) FROM checkins ci WHERE ci.assignment_id = a.id AND ci.user_id = $2) AS checkin_count,
	       ($1::timestamptz AT TIME ZONE pr.timezone)::date AS today,
	       me.side,
	       v.summary, v.why, v.instructions, v.questions, v.duration_days, v.reveal_rule
	FROM assignments a
	JOIN pairs p ON p.id = a.pair_id
	JOIN pair_members me ON ` + access.Member("me", "a.pair_id", "$2") + `
	JOIN practices pr ON pr.id = p.practice_id
	JOIN step_versions v ON v.id = a.step_version_id
	LEFT JOIN users fu ON fu.id = a.for_user_id
	LEFT JOIN pair_plan_steps pps ON pps.id = a.pair_plan_step_id
	WHERE (a.for_user_id IS NULL OR a.for_user_id = $2)`
}

type clientRow struct {
	ClientView
	Summary      string               `db:"summary"`
	Why          string               `db:"why"`
	Instructions library.Instructions `db:"instructions"`
	Questions    library.Questions    `db:"questions"`
	DurationDays int                  `db:"duration_days"`
	Reveal       string               `db:"reveal_rule"`
}

func (r clientRow) view() ClientView {
	v := r.ClientView
	v.Content = library.Content{
		Title: r.Title, Summary: r.Summary, Why: r.Why, Instructions: r.Instructions,
		Questions: r.Questions, DurationDays: r.DurationDays, Reveal: r.Reveal,
	}
	v.Sections = r.Instructions.For(v.Side)
	return v
}

// ForClient returns a page of the calling client's homework: running and
// upcoming first (soonest due first), then the rest, latest first.
// CheckinCount counts the client's own check-ins only.
func (s *Store) ForClient(ctx context.Context, sc mend.Scope, pr paging.Request) (paging.Page[ClientView], error) {
	if sc.Role != mend.RoleClient {
		return paging.Page[ClientView]{}, mend.NotFound("Homework")
	}
	cond, args := access.Pairs(sc, "p", 5)
	var rows []clientRow
	err := s.stmts.Select(ctx, s.DB, &rows, clientSelect()+` AND `+cond+`
		ORDER BY (a.status = 'active' AND a.due_on >= ($1::timestamptz AT TIME ZONE pr.timezone)::date) DESC,
		         CASE WHEN a.status = 'active' AND a.due_on >= ($1::timestamptz AT TIME ZONE pr.timezone)::date THEN a.due_on END,
		         a.due_on DESC, a.id DESC
		LIMIT $3 OFFSET $4`, append([]any{s.Clock.Time(), sc.UserID, pr.Limit(), pr.Offset()}, args...)...)
	if err != nil {
		return paging.Page[ClientView]{}, fmt.Errorf("homework: client list: %w", err)
	}
	page := paging.Of(pr, rows)
	out := paging.Page[ClientView]{Number: page.Number, HasNext: page.HasNext, Items: make([]ClientView, len(page.Items))}
	for i, r := range page.Items {
		out.Items[i] = r.view()
		if err := s.openNote(ctx, s.DB, &out.Items[i].Assignment); err != nil {
			return paging.Page[ClientView]{}, err
		}
	}
	return out, nil
}

// ClientAssignment returns one piece of the calling client's homework with
// the instructions for their side. Homework of another pair, or for the
// partner only, is ENOTFOUND.
func (s *Store) ClientAssignment(ctx context.Context, sc mend.Scope, id int64) (ClientView, error) {
	if sc.Role != mend.RoleClient {
		return ClientView{}, mend.NotFound("Homework")
	}
	cond, args := access.Pairs(sc, "p", 4)
	var r clientRow
	err := s.stmts.Get(ctx, s.DB, &r, clientSelect()+` AND a.id = $3 AND `+cond,
		append([]any{s.Clock.Time(), sc.UserID, id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return ClientView{}, mend.NotFound("Homework")
	}
	if err != nil {
		return ClientView{}, fmt.Errorf("homework: client get: %w", err)
	}
	v := r.view()
	return v, s.openNote(ctx, s.DB, &v.Assignment)
}
