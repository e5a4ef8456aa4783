package review

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
)

// The dashboard is read in a fixed number of queries whatever the number
// of pairs (counts, alerts, queue, pairs with their members), each backed
// by the indexes of migration 00040; nothing is read per pair.

// QueueShown is how many check-ins waiting for review the dashboard lists
// (the count says how many there are; "Review next" walks all of them).
const QueueShown = 20

// CompletionDays is the window of the completion rate: check-in periods
// that closed in the last four weeks.
const CompletionDays = 28

// Counts are the numbers in the counselor's navigation.
type Counts struct {
	Review int `db:"review"` // check-ins waiting for review
	Flags  int `db:"flags"`  // safety flags not yet acknowledged
}

// countsSQL counts, for a counselor, unreviewed check-ins of their open
// pairs and open safety alerts of all their pairs, from the two partial
// indexes alone.
func countsSQL() string {
	return `
	SELECT (SELECT count(*) FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
	         WHERE ` + ownPairs() + ` AND p.status <> 'closed') AS review,
	       (SELECT count(*) FROM pairs p JOIN safety_alerts sa ON sa.pair_id = p.id AND sa.acknowledged_at IS NULL
	         WHERE ` + ownPairs() + `) AS flags`
}

// Counts returns the navigation counts of a counselor, in one query. Other
// roles have none.
func (s *Store) Counts(ctx context.Context, sc mend.Scope) (Counts, error) {
	var n Counts
	if sc.Role != mend.RoleCounselor {
		return n, nil
	}
	if err := s.stmts.Get(ctx, s.DB, &n, countsSQL(), sc.PracticeID, sc.UserID); err != nil {
		return n, fmt.Errorf("review: counts: %w", err)
	}
	return n, nil
}

// ownPairs restricts pairs (alias p) to the counselor's own: $1 is the
// practice and $2 the counselor (the dashboard is a counselor's only).
func ownPairs() string { return access.CounselorPairs("p", "$1", "$2") }

// Alert is a safety flag not yet acknowledged.
type Alert struct {
	ID          int64        `db:"id"`
	PairID      int64        `db:"pair_id"`
	PairLabel   string       `db:"pair_label"`
	CheckinID   int64        `db:"checkin_id"`
	ClientName  string       `db:"client_name"`
	PeriodStart checkin.Date `db:"period_start"`
	PeriodEnd   checkin.Date `db:"period_end"`
	CreatedAt   time.Time    `db:"created_at"`
	at          string       // CreatedAt as the counselor reads it
}

// Period is the flagged check-in's period.
func (a Alert) Period() checkin.Period { return checkin.Period{Start: a.PeriodStart, End: a.PeriodEnd} }

// When is when the flag was raised, in the counselor's timezone.
func (a Alert) When() string { return a.at }

// QueueItem is a check-in waiting for review.
type QueueItem struct {
	CheckinID     int64              `db:"id"`
	PairID        int64              `db:"pair_id"`
	PairLabel     string             `db:"pair_label"`
	ClientName    string             `db:"client_name"`
	HomeworkTitle string             `db:"homework_title"`
	PeriodStart   checkin.Date       `db:"period_start"`
	PeriodEnd     checkin.Date       `db:"period_end"`
	CreatedAt     time.Time          `db:"created_at"`
	SafetyFlag    bool               `db:"safety_flag"`
	Late          bool               `db:"late"`
	Visibility    checkin.Visibility `db:"visibility"`
	// Shown as is (worked out once, not per template call).
	PeriodLabel string `db:"-"`
	SentText    string `db:"-"`
}

// Period is the check-in's period.
func (q QueueItem) Period() checkin.Period {
	return checkin.Period{Start: q.PeriodStart, End: q.PeriodEnd}
}

// queueOrder is the review queue's order, most urgent first: safety flags,
// then the longest waiting. "Review next" walks the same order.
const queueOrder = `c.safety_flag DESC, c.created_at, c.id`

// alertsSQL lists a counselor's open safety flags, oldest first.
func alertsSQL() string {
	return `
	SELECT sa.id, sa.pair_id, p.label AS pair_label, sa.checkin_id, u.name AS client_name,
	       c.period_start, c.period_end, sa.created_at
	FROM pairs p
	JOIN safety_alerts sa ON sa.pair_id = p.id AND sa.acknowledged_at IS NULL
	JOIN checkins c ON c.id = sa.checkin_id
	JOIN users u ON u.id = c.user_id
	WHERE ` + ownPairs() + `
	ORDER BY sa.created_at, sa.id`
}

// queueSQL lists the first $3 check-ins waiting for a counselor's review.
// They come from the partial index alone; only they are then joined to
// names and titles.
func queueSQL() string {
	return `
	SELECT q.id, q.pair_id, q.label AS pair_label, u.name AS client_name, v.title AS homework_title,
	       c.period_start, c.period_end, c.created_at, c.safety_flag, c.late, c.visibility
	FROM (SELECT c.id, c.pair_id, p.label
	      FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
	      WHERE ` + ownPairs() + ` AND p.status <> 'closed'
	      ORDER BY ` + queueOrder + ` LIMIT $3) q
	JOIN checkins c ON c.id = q.id
	JOIN users u ON u.id = c.user_id
	JOIN assignments a ON a.id = c.assignment_id
	JOIN step_versions v ON v.id = a.step_version_id
	ORDER BY ` + queueOrder
}

// HomeworkRef names a homework in an attention reason.
type HomeworkRef struct {
	ID    int64
	Title string
}

// MemberRow is one client of a pair on the dashboard.
type MemberRow struct {
	UserID   int64
	Name     string
	Position int
	// Latest check-ins' ratings, latest first (at most FallWindow).
	Trust, Communication, Hope []int
	LastSent                   sql.NullTime // when their latest check-in was sent
	LastPeriod                 sql.NullTime // the period it was for
	Expected, Done             int          // completion over CompletionDays
	Missing, Overdue           []HomeworkRef
	LastText                   string // LastSent as shown ("" if none)
}

// Latest is the member's latest ratings (ok false: no check-in yet).
func (m MemberRow) Latest() (Ratings, bool) {
	if len(m.Trust) == 0 {
		return Ratings{}, false
	}
	return Ratings{Trust: m.Trust[0], Communication: m.Communication[0], Hope: m.Hope[0]}, true
}

// PairRow is one active pair on the dashboard.
type PairRow struct {
	ID           int64
	Label        string
	CurrentID    int64  // the current homework (0: none)
	CurrentTitle string // its step's title
	PlanPosition int    // its position in the plan (0: not a plan step)
	PlanSteps    int
	Members      []MemberRow
	// Release are the reveal exercises whose answers wait for the
	// counselor's release.
	Release []HomeworkRef
	// As shown (worked out once per row when the dashboard is read: a
	// template calling methods for 150 rows costs more than the query).
	Step    string // e.g. "Step 3 of 15: Active listening"
	Rate    string // completion, e.g. "83%" or "—"
	RateLow bool   // under two thirds
}

// Completion is the pair's check-in rate in percent over CompletionDays
// (ok false when no check-in was due in that time).
func (p PairRow) Completion() (int, bool) {
	exp, done := 0, 0
	for _, m := range p.Members {
		exp += m.Expected
		done += m.Done
	}
	return percent(done, exp)
}

func percent(done, expected int) (int, bool) {
	if expected <= 0 {
		return 0, false
	}
	if done > expected {
		done = expected
	}
	return (done*100 + expected/2) / expected, true
}

// Reason kinds, most urgent first.
const (
	ReasonFalling   = "falling"
	ReasonDiverging = "diverging"
	ReasonMissing   = "missing"
	ReasonOverdue   = "overdue"
	// ReasonRelease: both partners answered a reveal exercise that waits
	// for the counselor to read and release the answers.
	ReasonRelease = "release"
)

var reasonRank = map[string]int{ReasonFalling: 0, ReasonDiverging: 1, ReasonRelease: 2, ReasonMissing: 3, ReasonOverdue: 4}

// Reason is why a pair needs attention.
type Reason struct {
	Kind       string
	Member     string // whose (empty: the pair's)
	Text       string
	HomeworkID int64 // the homework concerned, if any
}

// Attention is a pair that needs the counselor's attention, with why.
type Attention struct {
	Pair    PairRow
	Reasons []Reason
}

// Dashboard is the counselor's working queue.
type Dashboard struct {
	Counts    Counts
	Alerts    []Alert
	Queue     []QueueItem
	Attention []Attention
	Pairs     []PairRow
}

// pairsSQL reads every active pair of the counselor, one row per pair
// with its two members side by side (a pair always has members at
// positions 1 and 2), in one pass over each pair's homework:
//
//   - the current homework (the active one running today, soonest due);
//   - per member: the ratings of their latest check-ins, the completion
//     over the window, and the homework on which they missed the last two
//     closed periods or whose last period passed without their check-in.
//
// A closed period is one whose late window (checkin.GraceDays) has passed
// in the member's own timezone: a check-in for it can no longer arrive.
// The period arithmetic is in SQL functions of migration 00040, which
// PostgreSQL inlines.
//
// $1 practice, $2 counselor, $3 now, $4 grace days, $5 window days.
func pairsSQL() string {
	// Per member n: {n} is 1 or 2; t{n} their today.
	member := func(frag string) string {
		return strings.ReplaceAll(frag, "{n}", "1") + ",\n" + strings.ReplaceAll(frag, "{n}", "2")
	}
	lastDay := `CASE WHEN a.status = 'active' THEN a.due_on
		            ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE my.ptz)::date) END`
	forMember := `(a.for_user_id IS NULL OR a.for_user_id = my.u{n})`
	closed := `my.t{n} - $4::int - 1`
	winFrom := `my.t{n} - $4::int - $5::int`
	// assigned is the day the homework was given: periods that ended
	// before it were never the clients' to miss.
	assigned := `(a.created_at AT TIME ZONE my.ptz)::date`
	secondClosed := `mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, ` + closed + `, 2)`
	lastStart := `mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1)`
	titles := func(ids string) string {
		return `CASE WHEN ` + ids + ` IS NOT NULL THEN
		  (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(` + ids + `) WITH ORDINALITY o(id, n)
		     JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END`
	}
	return `
WITH my AS MATERIALIZED (
	SELECT p.id, p.label, pr.timezone AS ptz, ($3::timestamptz AT TIME ZONE pr.timezone)::date AS today,
	       m1.user_id AS u1, m1.name AS n1, ($3::timestamptz AT TIME ZONE m1.timezone)::date AS t1,
	       m2.user_id AS u2, m2.name AS n2, ($3::timestamptz AT TIME ZONE m2.timezone)::date AS t2
	FROM pairs p
	JOIN practices pr ON pr.id = p.practice_id
	-- Members pair by pair through the (pair_id, position) key: OFFSET 0
	-- keeps the planner from scanning every member of every pair instead.
	CROSS JOIN LATERAL (SELECT m.user_id, u.name, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
	                    WHERE m.pair_id = p.id AND m.position = 1 OFFSET 0) m1
	CROSS JOIN LATERAL (SELECT m.user_id, u.name, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
	                    WHERE m.pair_id = p.id AND m.position = 2 OFFSET 0) m2
	WHERE ` + ownPairs() + ` AND p.status = 'active'
)
SELECT my.id AS pair_id, my.label, hw.cur_id AS current_id, cv.title AS current_title, cps.position AS plan_position,
       CASE WHEN cps.id IS NOT NULL THEN (SELECT count(*) FROM pair_plan_steps s WHERE s.pair_plan_id = cps.pair_plan_id) END AS plan_steps,
       hw.rel AS release_ids, ` + titles("hw.rel") + ` AS release_titles,
       ` + member(`my.u{n} AS "m{n}.user_id", my.n{n} AS "m{n}.name", {n} AS "m{n}.position",
       r{n}.trust AS "m{n}.trust", r{n}.communication AS "m{n}.communication", r{n}.hope AS "m{n}.hope",
       r{n}.last_sent AS "m{n}.last_sent", r{n}.last_period AS "m{n}.last_period",
       coalesce(hw.e{n}, 0) AS "m{n}.expected",
       (SELECT count(*) FROM checkins c
         WHERE c.pair_id = my.id AND c.user_id = my.u{n} AND c.period_end BETWEEN `+winFrom+` AND `+closed+`)
       + (SELECT count(*) FROM reveal_answers ra
         WHERE ra.pair_id = my.id AND ra.user_id = my.u{n} AND ra.period_end BETWEEN `+winFrom+` AND `+closed+`) AS "m{n}.done",
       hw.miss{n} AS "m{n}.missing_ids", `+titles("hw.miss{n}")+` AS "m{n}.missing_titles",
       hw.over{n} AS "m{n}.overdue_ids", `+titles("hw.over{n}")+` AS "m{n}.overdue_titles"`) + `
FROM my
LEFT JOIN LATERAL (
	SELECT (array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.cur))[1] AS cur_id,
	       array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.rel) AS rel,
	       ` + member(`sum(y.e{n})::int AS e{n},
	       array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.miss{n}) AS miss{n},
	       array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.over{n}) AS over{n}`) + `
	FROM (
		SELECT a.id, a.due_on,
		       a.status = 'active' AND a.starts_on <= my.today AND a.due_on >= my.today AS cur,
		       ` + member(`CASE WHEN `+forMember+` THEN mend_period_count(a.cadence, a.weekdays, a.starts_on, `+lastDay+`,
		           greatest(`+winFrom+`, `+assigned+`), `+closed+`) END AS e{n},
		       `+forMember+` AND a.status = 'active' AND a.cadence <> 'once' AND `+secondClosed+` IS NOT NULL
		         AND mend_period_count(a.cadence, a.weekdays, a.starts_on, a.due_on, `+assigned+`, `+closed+`) >= 2
		         AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u{n}
		                         AND c.period_start >= `+secondClosed+`)
		         AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u{n}
		                         AND ra.period_start >= `+secondClosed+`) AS miss{n},
		       `+forMember+` AND a.status = 'active' AND a.due_on < my.t{n} AND a.due_on >= `+assigned+` AND `+lastStart+` IS NOT NULL
		         AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u{n}
		                         AND c.period_start >= `+lastStart+`)
		         AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u{n}
		                         AND ra.period_start >= `+lastStart+`) AS over{n}`) + `,
		       v.reveal_rule = 'counselor' AND EXISTS (
		         SELECT 1 FROM reveal_answers r1 JOIN reveal_answers r2 ON r2.assignment_id = r1.assignment_id
		           AND r2.period_start = r1.period_start AND r2.user_id > r1.user_id
		         WHERE r1.assignment_id = a.id AND NOT EXISTS (SELECT 1 FROM reveals x
		           WHERE x.assignment_id = a.id AND x.period_start = r1.period_start)) AS rel
		FROM assignments a
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.pair_id = my.id AND a.starts_on <= my.today
		  AND (a.status = 'active' OR a.due_on >= least(my.t1, my.t2) - $4::int - $5::int)
		OFFSET 0
	) y
) hw ON TRUE
LEFT JOIN assignments ca ON ca.id = hw.cur_id
LEFT JOIN step_versions cv ON cv.id = ca.step_version_id
LEFT JOIN pair_plan_steps cps ON cps.id = ca.pair_plan_step_id
` + strings.ReplaceAll(`LEFT JOIN LATERAL (
	SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
	       array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
	FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
	      FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u{n}
	      ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x -- FallWindow; latest first
) r{n} ON TRUE
`, "{n}", "1") + strings.ReplaceAll(`LEFT JOIN LATERAL (
	SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
	       array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
	FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
	      FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u{n}
	      ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x
) r{n} ON TRUE
`, "{n}", "2") + `ORDER BY lower(my.label), my.id`
}

// dashboardPairsSQL is pairsSQL, built once.
var dashboardPairsSQL = pairsSQL()

// DashboardSQL is the dashboard's main query, for tools that show its plan
// (bench/pages -explain). Its parameters: practice, counselor, now,
// grace days, window days.
func DashboardSQL() string { return dashboardPairsSQL }

// memberColumns are one member's columns of pairsSQL.
type memberColumns struct {
	UserID        int64          `db:"user_id"`
	Position      int            `db:"position"`
	Name          string         `db:"name"`
	Trust         pq.Int64Array  `db:"trust"`
	Communication pq.Int64Array  `db:"communication"`
	Hope          pq.Int64Array  `db:"hope"`
	LastSent      sql.NullTime   `db:"last_sent"`
	LastPeriod    sql.NullTime   `db:"last_period"`
	Expected      int            `db:"expected"`
	Done          int            `db:"done"`
	MissingIDs    pq.Int64Array  `db:"missing_ids"`
	MissingTitles pq.StringArray `db:"missing_titles"`
	OverdueIDs    pq.Int64Array  `db:"overdue_ids"`
	OverdueTitles pq.StringArray `db:"overdue_titles"`
}

// pairRecord is one row of pairsSQL.
type pairRecord struct {
	PairID        int64          `db:"pair_id"`
	Label         string         `db:"label"`
	CurrentID     sql.NullInt64  `db:"current_id"`
	CurrentTitle  sql.NullString `db:"current_title"`
	PlanPosition  sql.NullInt64  `db:"plan_position"`
	PlanSteps     sql.NullInt64  `db:"plan_steps"`
	ReleaseIDs    pq.Int64Array  `db:"release_ids"`
	ReleaseTitles pq.StringArray `db:"release_titles"`
	M1            memberColumns  `db:"m1"`
	M2            memberColumns  `db:"m2"`
}

func ints(a pq.Int64Array) []int {
	out := make([]int, len(a))
	for i, v := range a {
		out[i] = int(v)
	}
	return out
}

func refs(ids pq.Int64Array, titles pq.StringArray) []HomeworkRef {
	out := make([]HomeworkRef, 0, len(ids))
	for i, id := range ids {
		if i < len(titles) {
			out = append(out, HomeworkRef{ID: id, Title: titles[i]})
		}
	}
	return out
}

// Dashboard returns the counselor's working queue. Only counselors have
// one. It is an index of the counselor's own pairs (names, dates, flags),
// not a client's record, so viewing it is not audited; opening a check-in,
// a pair's progress or an export is.
func (s *Store) Dashboard(ctx context.Context, sc mend.Scope) (Dashboard, error) {
	var d Dashboard
	if sc.Role != mend.RoleCounselor {
		return d, mend.NotFound("Dashboard")
	}
	var err error
	if d.Counts, err = s.Counts(ctx, sc); err != nil {
		return d, err
	}
	if err := s.stmts.Select(ctx, s.DB, &d.Alerts, alertsSQL(), sc.PracticeID, sc.UserID); err != nil {
		return d, fmt.Errorf("review: alerts: %w", err)
	}
	if err := s.stmts.Select(ctx, s.DB, &d.Queue, queueSQL(), sc.PracticeID, sc.UserID, QueueShown); err != nil {
		return d, fmt.Errorf("review: queue: %w", err)
	}
	loc := checkin.LoadZone(sc.Timezone)
	var recs []pairRecord
	if err := s.stmts.Select(ctx, s.DB, &recs, dashboardPairsSQL, sc.PracticeID, sc.UserID, s.now(), checkin.GraceDays, CompletionDays); err != nil {
		return d, fmt.Errorf("review: pairs: %w", err)
	}
	for _, r := range recs {
		p := PairRow{
			ID: r.PairID, Label: r.Label, CurrentID: r.CurrentID.Int64, CurrentTitle: r.CurrentTitle.String,
			PlanPosition: int(r.PlanPosition.Int64), PlanSteps: int(r.PlanSteps.Int64),
			Release: refs(r.ReleaseIDs, r.ReleaseTitles),
		}
		for _, mc := range []memberColumns{r.M1, r.M2} {
			m := MemberRow{
				UserID: mc.UserID, Name: mc.Name, Position: mc.Position,
				Trust: ints(mc.Trust), Communication: ints(mc.Communication), Hope: ints(mc.Hope),
				LastSent: mc.LastSent, LastPeriod: mc.LastPeriod, Expected: mc.Expected, Done: mc.Done,
				Missing: refs(mc.MissingIDs, mc.MissingTitles), Overdue: refs(mc.OverdueIDs, mc.OverdueTitles),
			}
			if m.LastSent.Valid {
				m.LastText = m.LastSent.Time.In(loc).Format("Mon 2 Jan")
			}
			p.Members = append(p.Members, m)
		}
		d.Pairs = append(d.Pairs, p)
	}
	for i := range d.Pairs {
		p := &d.Pairs[i]
		p.Step = p.StepText()
		p.Rate = p.CompletionText()
		p.RateLow = p.CompletionLow()
	}
	for i := range d.Queue {
		q := &d.Queue[i]
		q.PeriodLabel = q.Period().Label()
		q.SentText = q.CreatedAt.In(loc).Format("Mon 2 Jan, 15:04")
	}
	for i := range d.Alerts {
		d.Alerts[i].at = d.Alerts[i].CreatedAt.In(loc).Format("Mon 2 Jan, 15:04")
	}
	d.Attention = attention(d.Pairs)
	return d, nil
}

// StampSlot is how long a dashboard can stay right without any write:
// what it shows depends on the date in the practice's and each client's
// timezone, and every timezone's offset is a multiple of 15 minutes, so no
// date changes inside a 15-minute slot of UTC.
const StampSlot = 15 * time.Minute

// Stamp names the state of a counselor's data a dashboard was read at: the
// version in dashboard_marks, which triggers move forward in the same
// transaction as any change the dashboard would show (migration 00060),
// and the time slot. Two reads with equal stamps give the same dashboard.
type Stamp struct {
	Version int64
	Slot    time.Time
}

// DashboardStamp returns the counselor's stamp: the version the session
// check read into the scope (auth.Sessions.Check), and the current slot.
// The version is read before the dashboard: a change committed in between
// is then in the dashboard and moves the version on, so a dashboard kept
// under the earlier stamp is read again at the next request, never shown
// stale.
func (s *Store) DashboardStamp(sc mend.Scope) (Stamp, error) {
	if sc.Role != mend.RoleCounselor {
		return Stamp{}, mend.NotFound("Dashboard")
	}
	return Stamp{Version: sc.DashboardVersion, Slot: s.now().UTC().Truncate(StampSlot)}, nil
}

// attention applies the rules to each pair and orders the pairs that need
// attention: the most urgent reason first, then the most reasons, then by
// label.
func attention(pairs []PairRow) []Attention {
	var out []Attention
	for _, p := range pairs {
		var rs []Reason
		for _, m := range p.Members {
			if Falling(m.Trust) {
				rs = append(rs, Reason{Kind: ReasonFalling, Member: m.Name,
					Text: fmt.Sprintf("%s's trust fell over the last %d check-ins (%s)", m.Name, FallWindow, trend(m.Trust[:FallWindow]))})
			}
		}
		if len(p.Members) == 2 {
			a, aok := p.Members[0].Latest()
			b, bok := p.Members[1].Latest()
			if aok && bok {
				if gaps := Diverging(a, b); len(gaps) > 0 {
					rs = append(rs, Reason{Kind: ReasonDiverging,
						Text: fmt.Sprintf("Latest ratings far apart: %s (%s vs %s)", gapText(gaps), p.Members[0].Name, p.Members[1].Name)})
				}
			}
		}
		for _, h := range p.Release {
			rs = append(rs, Reason{Kind: ReasonRelease, HomeworkID: h.ID,
				Text: fmt.Sprintf("Both answered “%s”; the answers wait for you to read and release them", h.Title)})
		}
		for _, m := range p.Members {
			overdue := map[int64]bool{}
			for _, h := range m.Overdue {
				overdue[h.ID] = true
			}
			for _, h := range m.Missing {
				if !overdue[h.ID] { // an overdue homework says it already
					rs = append(rs, Reason{Kind: ReasonMissing, Member: m.Name, HomeworkID: h.ID,
						Text: fmt.Sprintf("No check-in from %s for the last two periods of “%s”", m.Name, h.Title)})
				}
			}
			for _, h := range m.Overdue {
				rs = append(rs, Reason{Kind: ReasonOverdue, Member: m.Name, HomeworkID: h.ID,
					Text: fmt.Sprintf("“%s” is past its due date without %s's check-in", h.Title, m.Name)})
			}
		}
		if len(rs) > 0 {
			sort.SliceStable(rs, func(i, j int) bool { return reasonRank[rs[i].Kind] < reasonRank[rs[j].Kind] })
			out = append(out, Attention{Pair: p, Reasons: rs})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := reasonRank[out[i].Reasons[0].Kind], reasonRank[out[j].Reasons[0].Kind]
		if ri != rj {
			return ri < rj
		}
		return len(out[i].Reasons) > len(out[j].Reasons)
	})
	return out
}

// trend writes ratings oldest first: "7 → 6 → 4".
func trend(latestFirst []int) string {
	s := ""
	for i := len(latestFirst) - 1; i >= 0; i-- {
		if s != "" {
			s += " → "
		}
		s += fmt.Sprint(latestFirst[i])
	}
	return s
}

func gapText(gaps []Gap) string {
	s := ""
	for i, g := range gaps {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d and %d", g.Rating, g.A, g.B)
	}
	return s
}
