package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

// DefaultRangeDays is the length of the range when only its end is chosen.
// With neither end chosen, the range runs from the pair's first record
// (see Range.FromFirst) to today.
const DefaultRangeDays = 84

// MaxRangeDays bounds a chosen range (charts stay readable; exports take
// any range up to this).
const MaxRangeDays = 3 * 366

// Range is a date range, both days included.
type Range struct {
	From, To checkin.Date
	// FromFirst means no start was chosen: the store moves From to the
	// pair's first record (its creation, first homework or first
	// check-in, whichever is earliest), at most MaxRangeDays back.
	FromFirst bool
}

// resolve fixes a range whose start was not chosen to the pair's first
// record. It also checks that the caller may see the pair.
func (s *Store) resolve(ctx context.Context, sc mend.Scope, pairID int64, r Range) (Range, error) {
	if !r.FromFirst {
		return r, nil
	}
	var first sql.NullString
	cond, args := access.StaffPairs(sc, "p", 2)
	err := s.stmts.Get(ctx, s.DB, &first, `
		SELECT least((p.created_at AT TIME ZONE pr.timezone)::date,
		             (SELECT min(a.starts_on) FROM assignments a WHERE a.pair_id = p.id),
		             (SELECT min(c.period_start) FROM checkins c WHERE c.pair_id = p.id))::text
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id
		WHERE p.id = $1 AND `+cond, append([]any{pairID}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, mend.NotFound("Pair")
	}
	if err != nil {
		return r, fmt.Errorf("review: first record: %w", err)
	}
	d, err := checkin.ParseDate(first.String)
	if err != nil {
		return r, fmt.Errorf("review: first record %q: %w", first.String, err)
	}
	switch {
	case d.After(r.To):
		d = r.To
	case d.DaysUntil(r.To) >= MaxRangeDays:
		d = r.To.AddDays(-MaxRangeDays + 1)
	}
	r.From = d
	return r, nil
}

// ParseRange reads a range as typed in the filter form (YYYY-MM-DD; empty
// means the default: the DefaultRangeDays up to today in tz). Problems are
// field errors on "from" and "to".
func ParseRange(from, to, tz string, now time.Time) (Range, error) {
	today := checkin.Today(now, tz)
	r := Range{From: today.AddDays(-DefaultRangeDays + 1), To: today, FromFirst: from == "" && to == ""}
	var fe mend.FieldErrors
	if to != "" {
		d, err := checkin.ParseDate(to)
		if err != nil {
			fe.Add("to", "Enter a date like 2026-03-31.")
		} else {
			r.To = d
			if from == "" {
				r.From = d.AddDays(-DefaultRangeDays + 1)
			}
		}
	}
	if from != "" {
		d, err := checkin.ParseDate(from)
		if err != nil {
			fe.Add("from", "Enter a date like 2026-01-01.")
		} else {
			r.From = d
		}
	}
	if len(fe) == 0 {
		switch {
		case r.To.Before(r.From):
			fe.Add("to", "The end date must not be before the start date.")
		case r.From.DaysUntil(r.To) >= MaxRangeDays:
			fe.Add("from", "Choose at most three years.")
		}
	}
	return r, fe.Err()
}

// Point is one member's ratings for one period (several check-ins on the
// same period, on different homework, are averaged).
type Point struct {
	UserID        int64        `db:"user_id"`
	Date          checkin.Date `db:"period_start"`
	Trust         float64      `db:"trust"`
	Communication float64      `db:"communication"`
	Hope          float64      `db:"hope"`
	Count         int          `db:"n"`
}

// MemberSeries is one member's ratings over the range.
type MemberSeries struct {
	Member pair.Member
	Points []Point
}

// Side is one period where both members checked in: the divergence view.
type Side struct {
	Date checkin.Date
	A, B Point
}

// Gap is the largest distance between the two members' ratings.
func (s Side) Gap() float64 {
	g := 0.0
	for _, d := range []float64{s.A.Trust - s.B.Trust, s.A.Communication - s.B.Communication, s.A.Hope - s.B.Hope} {
		if d < 0 {
			d = -d
		}
		if d > g {
			g = d
		}
	}
	return g
}

// Diverges reports whether the members are DivergeMin or more apart on
// any rating in that period.
func (s Side) Diverges() bool { return s.Gap() >= DivergeMin }

// DivergingCount is how many periods diverge.
func (p Progress) DivergingCount() int {
	n := 0
	for _, s := range p.Divergence {
		if s.Diverges() {
			n++
		}
	}
	return n
}

// HomeworkRate is one homework's check-in completion per member over the
// range: closed periods asked for against check-ins made.
type HomeworkRate struct {
	AssignmentID int64          `db:"id"`
	Title        string         `db:"title"`
	StartsOn     checkin.Date   `db:"starts_on"`
	DueOn        checkin.Date   `db:"due_on"`
	Cadence      string         `db:"cadence"`
	Status       string         `db:"status"`
	ForName      sql.NullString `db:"for_name"`
	Rates        []MemberRate   `db:"-"`
}

// MemberRate is one member's completion on one homework.
type MemberRate struct {
	UserID   int64
	Name     string
	Expected int
	Done     int
}

// Percent is the completion rate (ok false: nothing was due yet).
func (m MemberRate) Percent() (int, bool) { return percent(m.Done, m.Expected) }

// Progress is a pair's progress over a date range.
type Progress struct {
	Pair       pair.Pair
	Range      Range
	Series     []MemberSeries // one per member, in position order
	Divergence []Side
	Homework   []HomeworkRate
	Plan       *homework.PlanView
}

// A and B are the pair's two members' series (empty if missing).
func (p Progress) A() MemberSeries { return p.series(0) }

// B is the second member's series.
func (p Progress) B() MemberSeries { return p.series(1) }

func (p Progress) series(i int) MemberSeries {
	if i < len(p.Series) {
		return p.Series[i]
	}
	return MemberSeries{}
}

// Progress returns a pair's progress over r for its counselor or an admin.
// Reading is audited once per client.
func (s *Store) Progress(ctx context.Context, sc mend.Scope, pairID int64, r Range) (Progress, error) {
	p, err := s.progress(ctx, sc, pairID, r)
	if err != nil {
		return Progress{}, err
	}
	return p, s.ProgressShown(ctx, sc, pairID, p.Pair.ClientIDs())
}

// ProgressShown records that sc read the progress of the pair's clients:
// Progress does it for a fresh read, and the web layer for each showing of
// a progress tab it kept, so that every view is in the audit log. It reads
// nothing, so clients must be what a Progress read under sc gave
// (Pair.ClientIDs()): the web layer keeps them with the tab, under the
// stamp that a change of the pair's members or counselor moves.
func (s *Store) ProgressShown(ctx context.Context, sc mend.Scope, pairID int64, clients []int64) error {
	return s.auditClients(ctx, nil, sc, "progress.read", "pair", pairID, clients)
}

func (s *Store) progress(ctx context.Context, sc mend.Scope, pairID int64, r Range) (Progress, error) {
	if !staff(sc) {
		return Progress{}, mend.NotFound("Pair")
	}
	p, err := pair.LoadOn(ctx, s.stmts.On(s.DB, s.DB), sc, pairID)
	if err != nil {
		return Progress{}, err
	}
	if r, err = s.resolve(ctx, sc, pairID, r); err != nil {
		return Progress{}, err
	}
	out := Progress{Pair: p, Range: r}
	var pts []Point
	cond, args := access.StaffPairs(sc, "p", 4)
	if err := s.stmts.Select(ctx, s.DB, &pts, `
		SELECT c.user_id, c.period_start, avg(c.trust_rating)::float8 AS trust,
		       avg(c.communication_rating)::float8 AS communication, avg(c.hope_rating)::float8 AS hope, count(*) AS n
		FROM checkins c JOIN pairs p ON p.id = c.pair_id
		WHERE c.pair_id = $1 AND c.period_start BETWEEN $2 AND $3 AND `+cond+`
		GROUP BY c.user_id, c.period_start
		ORDER BY c.period_start, c.user_id`, append([]any{pairID, r.From, r.To}, args...)...); err != nil {
		return Progress{}, fmt.Errorf("review: progress ratings: %w", err)
	}
	byUser := map[int64]int{}
	for i, m := range p.Members {
		byUser[m.UserID] = i
		out.Series = append(out.Series, MemberSeries{Member: m})
	}
	for _, pt := range pts {
		if i, ok := byUser[pt.UserID]; ok {
			out.Series[i].Points = append(out.Series[i].Points, pt)
		}
	}
	if len(out.Series) == 2 {
		bDates := map[checkin.Date]Point{}
		for _, pt := range out.Series[1].Points {
			bDates[pt.Date] = pt
		}
		for _, a := range out.Series[0].Points {
			if b, ok := bDates[a.Date]; ok {
				out.Divergence = append(out.Divergence, Side{Date: a.Date, A: a, B: b})
			}
		}
	}
	if out.Homework, err = s.rates(ctx, sc, p, r); err != nil {
		return Progress{}, err
	}
	if out.Plan, err = s.Homework.Plan(ctx, sc, pairID); err != nil {
		return Progress{}, err
	}
	return out, nil
}

// rates reads the completion of each homework that overlaps the range, per
// member it is for. It counts the periods whose late window has closed in
// that member's timezone (up to the range's end), plus the periods still
// open that the member has already checked in for: a client who checked in
// this week is not shown as behind for it. Periods that ended before the
// homework was given are not counted.
func (s *Store) rates(ctx context.Context, sc mend.Scope, p pair.Pair, r Range) ([]HomeworkRate, error) {
	var rows []struct {
		HomeworkRate
		UserID   int64  `db:"user_id"`
		Name     string `db:"name"`
		Expected int    `db:"expected"`
		Done     int    `db:"done"`
	}
	cond, args := access.StaffPairs(sc, "p", 6)
	err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT a.id, v.title, a.starts_on, a.due_on, a.cadence, a.status, fu.name AS for_name,
		       m.user_id, u.name,
		       mend_period_count(a.cadence, a.weekdays, a.starts_on, e.last_day, e.from_d, least($3, e.closed)) + o.extra AS expected,
		       o.counted + o.extra AS done
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN practices pr ON pr.id = p.practice_id
		JOIN step_versions v ON v.id = a.step_version_id
		LEFT JOIN users fu ON fu.id = a.for_user_id
		JOIN pair_members m ON m.pair_id = a.pair_id AND (a.for_user_id IS NULL OR a.for_user_id = m.user_id)
		JOIN users u ON u.id = m.user_id
		CROSS JOIN LATERAL (
			SELECT ($4::timestamptz AT TIME ZONE u.timezone)::date - $5::int - 1 AS closed,
			       CASE WHEN a.status = 'active' THEN a.due_on
			            ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE pr.timezone)::date) END AS last_day,
			       greatest($2::date, (a.created_at AT TIME ZONE pr.timezone)::date) AS from_d
		) e
		-- counted: check-ins for the periods asked for (closed, since the
		-- homework was given); extra: any other check-in in the range (the
		-- current period, one still in its late window, or one before the
		-- homework was given), asked for and done at once.
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE x.asked)::int AS counted, count(*) FILTER (WHERE NOT x.asked)::int AS extra
			FROM (SELECT c.period_end BETWEEN e.from_d AND least($3, e.closed, e.last_day) AS asked
			      FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = m.user_id
			       AND c.period_end >= $2 AND c.period_start <= $3) x
		) o
		WHERE a.pair_id = $1 AND a.starts_on <= $3 AND a.due_on >= $2 AND `+cond+`
		ORDER BY a.starts_on, a.id, m.position`,
		append([]any{p.ID, r.From, r.To, s.Clock.Time(), checkin.GraceDays}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("review: completion: %w", err)
	}
	var out []HomeworkRate
	for _, row := range rows {
		if n := len(out); n == 0 || out[n-1].AssignmentID != row.AssignmentID {
			out = append(out, row.HomeworkRate)
		}
		h := &out[len(out)-1]
		h.Rates = append(h.Rates, MemberRate{UserID: row.UserID, Name: row.Name, Expected: row.Expected, Done: row.Done})
	}
	return out, nil
}

// HasCheckins reports whether any member checked in within the range.
func (p Progress) HasCheckins() bool {
	for _, s := range p.Series {
		if len(s.Points) > 0 {
			return true
		}
	}
	return false
}

// Empty reports whether there is nothing to show at all: no check-in, no
// homework in the range and no plan (a new pair).
func (p Progress) Empty() bool {
	return !p.HasCheckins() && len(p.Homework) == 0 && p.Plan == nil
}
