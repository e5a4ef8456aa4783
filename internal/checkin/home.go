package checkin

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/mend"
)

// Homework is one homework on a client's home page.
type Homework struct {
	ID       int64
	Title    string
	Summary  string
	ForBoth  bool // false: for this client alone
	Status   string
	Schedule Schedule
	Mine     int // the client's own check-ins on it (answers, for a reveal exercise)
	Shared   int // check-ins the partner shared on it
	// Reveal: a reveal exercise (issue 21), answered on its own page.
	Reveal bool
}

// CadenceText says how often to check in, e.g. "Every week, on Mon and Thu".
func (h Homework) CadenceText() string { return cadenceText(h.Schedule) }

var weekdayShort = [...]string{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

func cadenceText(s Schedule) string {
	days := func() string {
		names := make([]string, 0, len(s.Weekdays))
		for _, w := range s.Weekdays {
			if w >= 1 && w <= 7 {
				names = append(names, weekdayShort[w])
			}
		}
		if len(names) <= 1 {
			return strings.Join(names, "")
		}
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	switch s.Cadence {
	case Daily:
		if len(s.Weekdays) > 0 && len(s.Weekdays) < 7 {
			return "Check in on " + days()
		}
		return "Check in every day"
	case Weekly:
		if len(s.Weekdays) > 0 {
			return "Check in every week, on " + days()
		}
		return "Check in every week"
	}
	return "Check in once"
}

// Item is a homework with the period it is listed for.
type Item struct {
	Homework
	Period    Period
	CheckinID int64 // the client's check-in for Period; 0: none yet
	Late      bool  // Period has ended; a late check-in is still possible
	Open      bool  // Period takes a check-in today (on time or late)
	Today     Date  // the client's today
}

// When says when the item's check-in is due, in the client's terms.
func (i Item) When() string {
	switch {
	case i.Late:
		return "Missed. You can still check in until " + i.Period.LateUntil().Format("Monday 2 January") + "."
	case !i.Period.Started(i.Today):
		return "Starts " + i.Period.Start.Format("Monday 2 January")
	case i.Period.End == i.Today:
		return "Due today"
	}
	return "Due by " + i.Period.End.Format("Monday 2 January")
}

// CheckedIn reports whether the client has checked in for the item's period.
func (i Item) CheckedIn() bool { return i.CheckinID != 0 }

// Home is the client's home page: what to do today, what is due this week,
// late check-ins still possible, what comes later, and past homework.
type Home struct {
	Today    Date
	DueToday []Item
	CatchUp  []CatchUp
	ThisWeek []Item
	Later    []Item
	Past     []Homework
}

// CatchUp is a homework with missed periods that still take a late
// check-in, newest first.
type CatchUp struct {
	Homework
	Missed []Item
}

// Empty reports whether the client has no homework at all.
func (h Home) Empty() bool {
	return len(h.DueToday)+len(h.CatchUp)+len(h.ThisWeek)+len(h.Later)+len(h.Past) == 0
}

type homeRow struct {
	assignment
	Mine   int `db:"mine"`
	Shared int `db:"shared"`
}

// pastLimit caps the past homework listed on the home page.
const pastLimit = 20

// Home builds the client's home page in the client's timezone. Counts of
// check-ins follow the visibility rule in SQL: a partner's private
// check-ins are not counted.
func (s *Store) Home(ctx context.Context, sc mend.Scope) (Home, error) {
	if sc.Role != mend.RoleClient {
		return Home{}, mend.NotFound("Homework")
	}
	today := s.today(sc)
	h := Home{Today: today}
	// Current homework: active, and not over beyond the grace window.
	var rows []homeRow
	err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT `+assignmentColumns+`,
		       (SELECT count(*) FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = $2)
		       + (SELECT count(*) FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = $2) AS mine,
		       (SELECT count(*) FROM checkins c WHERE c.assignment_id = a.id AND c.user_id <> $2
		          AND `+clientVisible()+`) AS shared
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN pair_members m ON `+access.Member("m", "a.pair_id", "$2")+`
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.practice_id = $1 AND (a.for_user_id IS NULL OR a.for_user_id = $2)
		  AND a.status = 'active' AND a.due_on >= $3
		ORDER BY a.due_on, a.id`, sc.PracticeID, sc.UserID, today.AddDays(-GraceDays))
	if err != nil {
		return Home{}, fmt.Errorf("checkin: home: %w", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	// The client's own check-ins on recent periods (a weekly period and its
	// grace window reach back at most nine days).
	var own []struct {
		AssignmentID int64 `db:"assignment_id"`
		Start        Date  `db:"period_start"`
		ID           int64 `db:"id"`
	}
	if len(ids) > 0 {
		err = s.stmts.Select(ctx, s.DB, &own, `
			SELECT c.assignment_id, c.period_start, c.id FROM checkins c
			WHERE c.practice_id = $1 AND c.user_id = $2 AND c.assignment_id = ANY($3) AND c.period_start >= $4
			UNION ALL -- a reveal exercise's own answers stand for its check-ins
			SELECT ra.assignment_id, ra.period_start, ra.id FROM reveal_answers ra
			WHERE ra.practice_id = $1 AND ra.user_id = $2 AND ra.assignment_id = ANY($3) AND ra.period_start >= $4`,
			sc.PracticeID, sc.UserID, pq.Array(ids), today.AddDays(-7-GraceDays))
		if err != nil {
			return Home{}, fmt.Errorf("checkin: home check-ins: %w", err)
		}
	}
	type key struct {
		a int64
		d Date
	}
	mine := map[key]int64{}
	for _, o := range own {
		mine[key{o.AssignmentID, o.Start}] = o.ID
	}
	weekEnd := today.AddDays(6)
	for _, r := range rows {
		hw := homeworkOf(r.assignment, sc.UserID, r.Mine, r.Shared)
		sch := hw.Schedule
		missed := CatchUp{Homework: hw}
		for _, p := range sch.LatePeriods(today) {
			if mine[key{r.ID, p.Start}] == 0 {
				missed.Missed = append(missed.Missed, Item{Homework: hw, Period: p, Late: true, Open: true, Today: today})
			}
		}
		if len(missed.Missed) > 0 {
			h.CatchUp = append(h.CatchUp, missed)
		}
		p, ok := sch.Current(today)
		if !ok {
			continue // over; only a late check-in was left, listed above
		}
		it := Item{Homework: hw, Period: p, CheckinID: mine[key{r.ID, p.Start}], Open: p.Started(today), Today: today}
		switch {
		case p.Started(today) && !it.CheckedIn() && (p.End == today || sch.ExpectedOn(today)):
			h.DueToday = append(h.DueToday, it)
		case !p.Start.After(weekEnd):
			h.ThisWeek = append(h.ThisWeek, it)
		default:
			h.Later = append(h.Later, it)
		}
	}
	// Past homework: completed, cancelled, or over.
	var past []homeRow
	err = s.stmts.Select(ctx, s.DB, &past, `
		SELECT `+assignmentColumns+`,
		       (SELECT count(*) FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = $2)
		       + (SELECT count(*) FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = $2) AS mine,
		       (SELECT count(*) FROM checkins c WHERE c.assignment_id = a.id AND c.user_id <> $2
		          AND `+clientVisible()+`) AS shared
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN pair_members m ON `+access.Member("m", "a.pair_id", "$2")+`
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.practice_id = $1 AND (a.for_user_id IS NULL OR a.for_user_id = $2)
		  AND (a.status <> 'active' OR a.due_on < $3)
		ORDER BY a.due_on DESC, a.id DESC
		LIMIT $4`, sc.PracticeID, sc.UserID, today.AddDays(-GraceDays), pastLimit)
	if err != nil {
		return Home{}, fmt.Errorf("checkin: past homework: %w", err)
	}
	for _, r := range past {
		h.Past = append(h.Past, homeworkOf(r.assignment, sc.UserID, r.Mine, r.Shared))
	}
	return h, nil
}

func homeworkOf(a assignment, me int64, mine, shared int) Homework {
	return Homework{
		ID: a.ID, Title: a.Title, Summary: a.Summary, Status: a.Status,
		ForBoth:  !a.ForUserID.Valid,
		Schedule: a.schedule(), Mine: mine, Shared: shared, Reveal: a.Reveal != "",
	}
}

// Counts is how many check-ins a homework has, as the caller may know it.
type Counts struct {
	Mine   int `db:"mine"`
	Shared int `db:"shared"` // by the partner, shared with the caller
}

// CountFor counts the check-ins on a homework that the client may read: a
// partner's private check-ins are not counted, so the number never hints
// at them.
func (s *Store) CountFor(ctx context.Context, sc mend.Scope, assignmentID int64) (Counts, error) {
	if sc.Role != mend.RoleClient {
		return Counts{}, mend.NotFound("Homework")
	}
	if _, err := s.clientAssignment(ctx, s.DB, sc, assignmentID); err != nil {
		return Counts{}, err
	}
	return s.countVisible(ctx, sc, assignmentID)
}

// countVisible is CountFor once the homework is known to be the client's.
func (s *Store) countVisible(ctx context.Context, sc mend.Scope, assignmentID int64) (Counts, error) {
	var n Counts
	err := s.stmts.Get(ctx, s.DB, &n, `
		SELECT count(*) FILTER (WHERE c.user_id = $2) AS mine,
		       count(*) FILTER (WHERE c.user_id <> $2) AS shared
		FROM checkins c
		WHERE c.assignment_id = $3 AND `+clientVisible(), sc.PracticeID, sc.UserID, assignmentID)
	if err != nil {
		return Counts{}, fmt.Errorf("checkin: count: %w", err)
	}
	return n, nil
}
