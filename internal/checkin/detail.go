package checkin

import (
	"context"
	"database/sql"

	"github.com/mend-practice/mend/internal/mend"
)

// Detail is where a client stands with check-ins on one homework today:
// the periods open for a check-in (with the client's own check-in for each,
// if any), the next period when none is open, and how many check-ins the
// client may see. The step's wording and instructions come from the
// homework package.
type Detail struct {
	Homework
	PartnerName string
	Today       Date
	// Open periods that take a check-in today, newest first, each with the
	// client's check-in id (0: none yet).
	Open []Item
	// Next is the next period when none is open now (zero if the homework
	// is over).
	Next Period
}

// Detail returns the check-in state of a homework of the client's pair that
// is for both members or for the client alone; anything else is ENOTFOUND.
func (s *Store) Detail(ctx context.Context, sc mend.Scope, id int64) (Detail, error) {
	if sc.Role != mend.RoleClient {
		return Detail{}, mend.NotFound("Homework")
	}
	var row struct {
		assignment
		PartnerName sql.NullString `db:"partner_name"`
	}
	err := s.stmts.Get(ctx, s.DB, &row, `
		SELECT `+assignmentColumns+`,
		       (SELECT u.name FROM pair_members o JOIN users u ON u.id = o.user_id
		         WHERE o.pair_id = a.pair_id AND o.user_id <> $2 ORDER BY o.position LIMIT 1) AS partner_name`+
		clientAssignmentFrom, sc.PracticeID, sc.UserID, id)
	if err := assignmentErr(err, "homework detail"); err != nil {
		return Detail{}, err
	}
	counts, err := s.countVisible(ctx, sc, id) // the row above is the client's homework
	if err != nil {
		return Detail{}, err
	}
	d := Detail{
		Homework:    homeworkOf(row.assignment, sc.UserID, counts.Mine, counts.Shared),
		PartnerName: row.PartnerName.String,
		Today:       s.today(sc),
	}
	if d.Status != "active" {
		return d, nil
	}
	sch := d.Schedule
	var open []Period
	if p, ok := sch.PeriodOn(d.Today); ok {
		open = append(open, p)
	}
	open = append(open, sch.LatePeriods(d.Today)...)
	mine, err := s.ownPeriods(ctx, sc, id, d.Today.AddDays(-7-GraceDays))
	if err != nil {
		return Detail{}, err
	}
	for _, p := range open {
		d.Open = append(d.Open, Item{Homework: d.Homework, Period: p, CheckinID: mine[p.Start],
			Late: p.Ended(d.Today), Open: true, Today: d.Today})
	}
	if len(open) == 0 {
		d.Next, _ = sch.Current(d.Today)
	}
	return d, nil
}
