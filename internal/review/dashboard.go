package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
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
// by the indexes of migrations 00040 and 00160; nothing is read per pair.

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
	ID        int64  `db:"id"`
	PairID    int64  `db:"pair_id"`
	PairLabel string `db:"pair_label"`
	CheckinID int64  `db:"checkin_id"`
	// MeasureResponseID is the critical answer to a measure that raised
	// the alert (0: a check-in's).
	MeasureResponseID int64        `db:"measure_response_id"`
	ClientName        string       `db:"client_name"`
	PeriodStart       checkin.Date `db:"period_start"`
	PeriodEnd         checkin.Date `db:"period_end"`
	CreatedAt         time.Time    `db:"created_at"`
	at                string       // CreatedAt as the counselor reads it
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
	SELECT sa.id, sa.pair_id, p.label AS pair_label, coalesce(sa.checkin_id, 0) AS checkin_id,
	       coalesce(sa.measure_response_id, 0) AS measure_response_id, u.name AS client_name,
	       coalesce(c.period_start, mr.answered_on) AS period_start, coalesce(c.period_end, mr.answered_on) AS period_end, sa.created_at
	FROM pairs p
	JOIN safety_alerts sa ON sa.pair_id = p.id AND sa.acknowledged_at IS NULL
	LEFT JOIN checkins c ON c.id = sa.checkin_id
	-- A critical answer to a measure (issue 20) raises the same alert.
	LEFT JOIN measure_responses mr ON mr.id = sa.measure_response_id
	JOIN users u ON u.id = coalesce(c.user_id, mr.user_id)
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
	// Measures are the latest answers to the pair's measures (issue 20),
	// one per measure and member it is for; Today is the practice's date.
	Measures []MeasureFact
	Today    checkin.Date
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

// The pairs list comes from dashboard_pairs (migration 00160): per active
// pair, the current homework and, per member, the latest ratings, the
// completion over the window and the homework they missed or let pass,
// computed by the SQL function dashboard_pair_rows and kept current by
// triggers in the transactions that change what it is computed from.
// Each row holds only between two local midnights (valid_from,
// valid_until) and for the timezones it was computed in; the read checks
// both against its own "now" and the current timezones, and has the rows
// that no longer hold computed again (dashboard_pairs_refresh) before it
// uses any. So the read is the counselor's pairs by index joined to their
// rows by key, and a day's turn costs one computation per pair, by the
// first read after it.

// summarySQL reads a counselor's active pairs with their kept rows, names
// and whether each row still holds. $1 practice, $2 counselor, $3 now.
func summarySQL() string {
	member := func(n string) string {
		return strings.ReplaceAll(`s.u{n} AS "m{n}.user_id", u{n}.name AS "m{n}.name", {n} AS "m{n}.position",
	       s.trust{n} AS "m{n}.trust", s.communication{n} AS "m{n}.communication", s.hope{n} AS "m{n}.hope",
	       s.last_sent{n} AS "m{n}.last_sent", s.last_period{n} AS "m{n}.last_period",
	       s.expected{n} AS "m{n}.expected", s.done{n} AS "m{n}.done",
	       s.missing_ids{n} AS "m{n}.missing_ids", s.missing_titles{n} AS "m{n}.missing_titles",
	       s.overdue_ids{n} AS "m{n}.overdue_ids", s.overdue_titles{n} AS "m{n}.overdue_titles"`, "{n}", n)
	}
	return `
	WITH ` + measureRulesCTE() + `
	SELECT p.id AS pair_id, p.label, s.current_id, s.current_title, s.plan_position, s.plan_steps,
	       s.release_ids, s.release_titles,
	       ($3::timestamptz AT TIME ZONE pr.timezone)::date AS today, mf.facts::text AS measure_facts,
	       ` + member("1") + `,
	       ` + member("2") + `,
	       (s.pair_id IS NULL OR NOT ($3::timestamptz >= s.valid_from AND $3::timestamptz < s.valid_until)
	        OR s.ptz IS DISTINCT FROM pr.timezone
	        OR s.tz1 IS DISTINCT FROM u1.timezone OR s.tz2 IS DISTINCT FROM u2.timezone) AS stale
	FROM pairs p
	JOIN practices pr ON pr.id = p.practice_id
	-- Pair by pair through the key (OFFSET 0): the work follows the
	-- counselor's pairs, not the size of the table.
	LEFT JOIN LATERAL (SELECT * FROM dashboard_pairs s WHERE s.pair_id = p.id OFFSET 0) s ON TRUE
	LEFT JOIN users u1 ON u1.id = s.u1
	LEFT JOIN users u2 ON u2.id = s.u2
	` + measureFactsJoin + `
	WHERE ` + ownPairs() + ` AND p.status = 'active'
	ORDER BY lower(p.label), p.id`
}

// dashboardSummarySQL is summarySQL, built once.
var dashboardSummarySQL = summarySQL()

// refreshSQL computes and stores the rows of the pairs $1 as of $2.
const refreshSQL = `SELECT dashboard_pairs_refresh($1::bigint[], $2::timestamptz, $3::int, $4::int)`

// DashboardSQL is the dashboard's main query, for tools that show its plan
// (bench/pages -explain). Its parameters: practice, counselor, now.
func DashboardSQL() string { return dashboardSummarySQL }

// FreshPairsSQL computes the rows dashboard_pairs keeps for the pairs $1
// as of $2 with grace days $3 and window days $4 (for tests and tools: the
// figures as a fresh computation gives them).
const FreshPairsSQL = `SELECT * FROM dashboard_pair_rows($1::bigint[], $2::timestamptz, $3::int, $4::int)`

// memberColumns are one member's columns of summarySQL.
type memberColumns struct {
	UserID        sql.NullInt64  `db:"user_id"`
	Position      int            `db:"position"`
	Name          sql.NullString `db:"name"`
	Trust         pq.Int64Array  `db:"trust"`
	Communication pq.Int64Array  `db:"communication"`
	Hope          pq.Int64Array  `db:"hope"`
	LastSent      sql.NullTime   `db:"last_sent"`
	LastPeriod    sql.NullTime   `db:"last_period"`
	Expected      sql.NullInt64  `db:"expected"`
	Done          sql.NullInt64  `db:"done"`
	MissingIDs    pq.Int64Array  `db:"missing_ids"`
	MissingTitles pq.StringArray `db:"missing_titles"`
	OverdueIDs    pq.Int64Array  `db:"overdue_ids"`
	OverdueTitles pq.StringArray `db:"overdue_titles"`
}

// pairRecord is one row of summarySQL.
type pairRecord struct {
	PairID        int64          `db:"pair_id"`
	Label         string         `db:"label"`
	CurrentID     sql.NullInt64  `db:"current_id"`
	CurrentTitle  sql.NullString `db:"current_title"`
	PlanPosition  sql.NullInt64  `db:"plan_position"`
	PlanSteps     sql.NullInt64  `db:"plan_steps"`
	ReleaseIDs    pq.Int64Array  `db:"release_ids"`
	ReleaseTitles pq.StringArray `db:"release_titles"`
	Today         checkin.Date   `db:"today"`
	MeasureFacts  sql.NullString `db:"measure_facts"`
	M1            memberColumns  `db:"m1"`
	M2            memberColumns  `db:"m2"`
	Stale         bool           `db:"stale"`
}

// summaryTries bounds the reads of pairsOf: a row found stale is computed
// again and read once more; only a timezone changed in between makes a
// third read necessary.
const summaryTries = 3

// pairsOf reads the counselor's active pairs from dashboard_pairs as of
// now, after having any row that no longer holds computed again. Pairs
// without both members are left out.
func (s *Store) pairsOf(ctx context.Context, sc mend.Scope, now time.Time) ([]pairRecord, error) {
	for try := 1; ; try++ {
		var recs []pairRecord
		if err := s.stmts.Select(ctx, s.DB, &recs, dashboardSummarySQL, sc.PracticeID, sc.UserID, now); err != nil {
			return nil, fmt.Errorf("review: pairs: %w", err)
		}
		var stale []int64
		for _, r := range recs {
			if r.Stale {
				stale = append(stale, r.PairID)
			}
		}
		if len(stale) == 0 {
			return slices.DeleteFunc(recs, func(r pairRecord) bool { return !r.M1.UserID.Valid || !r.M2.UserID.Valid }), nil
		}
		if try == summaryTries {
			return nil, fmt.Errorf("review: pairs: %d rows still out of date after %d reads", len(stale), try)
		}
		if _, err := s.stmts.Exec(ctx, s.DB, refreshSQL, pq.Array(stale), now, checkin.GraceDays, CompletionDays); err != nil {
			return nil, fmt.Errorf("review: pairs: refresh: %w", err)
		}
	}
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
	recs, err := s.pairsOf(ctx, sc, s.Clock.Time())
	if err != nil {
		return d, err
	}
	d.Pairs = pairRows(recs, loc)
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

// pairRows turns rows of summarySQL into the dashboard's pairs, with what
// they show worked out once (dates in loc, the counselor's timezone).
func pairRows(recs []pairRecord, loc *time.Location) []PairRow {
	out := make([]PairRow, 0, len(recs))
	for _, r := range recs {
		p := PairRow{
			ID: r.PairID, Label: r.Label, CurrentID: r.CurrentID.Int64, CurrentTitle: r.CurrentTitle.String,
			PlanPosition: int(r.PlanPosition.Int64), PlanSteps: int(r.PlanSteps.Int64),
			Release: refs(r.ReleaseIDs, r.ReleaseTitles), Today: r.Today,
		}
		if r.MeasureFacts.Valid {
			// Written by the query's json_agg: a fault here is a bug.
			_ = json.Unmarshal([]byte(r.MeasureFacts.String), &p.Measures)
		}
		for _, mc := range []memberColumns{r.M1, r.M2} {
			m := MemberRow{
				UserID: mc.UserID.Int64, Name: mc.Name.String, Position: mc.Position,
				Trust: ints(mc.Trust), Communication: ints(mc.Communication), Hope: ints(mc.Hope),
				LastSent: mc.LastSent, LastPeriod: mc.LastPeriod, Expected: int(mc.Expected.Int64), Done: int(mc.Done.Int64),
				Missing: refs(mc.MissingIDs, mc.MissingTitles), Overdue: refs(mc.OverdueIDs, mc.OverdueTitles),
			}
			if m.LastSent.Valid {
				m.LastText = m.LastSent.Time.In(loc).Format("Mon 2 Jan")
			}
			p.Members = append(p.Members, m)
		}
		out = append(out, p)
	}
	for i := range out {
		p := &out[i]
		p.Step = p.StepText()
		p.Rate = p.CompletionText()
		p.RateLow = p.CompletionLow()
	}
	return out
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

// Stamp returns the stamp of the caller's kept pages: the version the
// session check read into the scope (auth.Sessions.Check), a counselor's
// own or, for a client, a hash of all their pairs' counselors' (every
// change a client's home and homework pages show moves it too, migrations
// 00060 to 00173), and the current slot, in which anyone's day turns at
// the latest. The version is read before the page: a change committed in
// between is then in the page and moves the version on, so a page kept
// under the earlier stamp is read again at the next request, never shown
// stale. Admins keep no page: ENOTFOUND.
func (s *Store) Stamp(sc mend.Scope) (Stamp, error) {
	if sc.Role != mend.RoleCounselor && sc.Role != mend.RoleClient {
		return Stamp{}, mend.NotFound("Page")
	}
	return Stamp{Version: sc.DashboardVersion, Slot: s.Clock.Time().UTC().Truncate(StampSlot)}, nil
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
		rs = append(rs, measureReasons(p)...)
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
