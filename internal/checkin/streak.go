package checkin

import (
	"context"
	"fmt"
	"sort"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/mend"
)

// Streak is how many check-ins in a row the client has made on their
// homework, counting back from the newest period: a period whose late
// window has closed without a check-in ends the streak; a period still
// open (on time or late) neither ends nor adds to it until it is checked
// in. Homework that was completed or cancelled asks for no check-ins after
// that day.
func (s *Store) Streak(ctx context.Context, sc mend.Scope) (int, error) {
	if sc.Role != mend.RoleClient {
		return 0, mend.NotFound("Homework")
	}
	today := s.today(sc)
	var rows []struct {
		assignment
		LastDay *Date `db:"last_day"`
	}
	err := s.DB.SelectContext(ctx, &rows, `
		SELECT `+assignmentColumns+`,
		       CASE WHEN a.status = 'active' THEN NULL
		            ELSE (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE pr.timezone)::date END AS last_day
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN practices pr ON pr.id = p.practice_id
		JOIN pair_members m ON `+access.Member("m", "a.pair_id", "$2")+`
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.practice_id = $1 AND (a.for_user_id IS NULL OR a.for_user_id = $2) AND a.starts_on <= $3`,
		sc.PracticeID, sc.UserID, today)
	if err != nil {
		return 0, fmt.Errorf("checkin: streak homework: %w", err)
	}
	var own []struct {
		AssignmentID int64 `db:"assignment_id"`
		Start        Date  `db:"period_start"`
	}
	if err := s.DB.SelectContext(ctx, &own, `
		SELECT c.assignment_id, c.period_start FROM checkins c
		WHERE c.practice_id = $1 AND c.user_id = $2`, sc.PracticeID, sc.UserID); err != nil {
		return 0, fmt.Errorf("checkin: streak check-ins: %w", err)
	}
	type key struct {
		a int64
		d Date
	}
	done := make(map[key]bool, len(own))
	for _, o := range own {
		done[key{o.AssignmentID, o.Start}] = true
	}
	type asked struct {
		end     Date
		checked bool
	}
	var all []asked
	for _, r := range rows {
		for _, p := range r.schedule().Periods() {
			if p.Start.After(today) || (r.LastDay != nil && p.Start.After(*r.LastDay)) {
				break
			}
			checked := done[key{r.ID, p.Start}]
			if !checked && !today.After(p.LateUntil()) {
				continue // still open: it may yet be checked in
			}
			all = append(all, asked{end: p.End, checked: checked})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[j].end.Before(all[i].end) })
	n := 0
	for _, a := range all {
		if !a.checked {
			break
		}
		n++
	}
	return n, nil
}
