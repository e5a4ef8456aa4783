package review

import (
	"fmt"
	"math"
	"strconv"

	"github.com/mend-practice/mend/internal/checkin"
)

// Attention reasons from measures (issue 20).
const (
	ReasonMeasureSevere  = "measure_severe"
	ReasonMeasureChange  = "measure_change"
	ReasonMeasureGap     = "measure_gap"
	ReasonMeasureOverdue = "measure_overdue"
)

func init() {
	reasonRank[ReasonMeasureSevere] = reasonRank[ReasonFalling]
	reasonRank[ReasonMeasureGap] = reasonRank[ReasonDiverging]
	reasonRank[ReasonMeasureChange] = reasonRank[ReasonDiverging]
	reasonRank[ReasonMeasureOverdue] = reasonRank[ReasonOverdue]
}

// MeasureOverdueDays is how long after its due date an unanswered measure
// needs attention (measure.OverdueDays; review does not import measure).
const MeasureOverdueDays = 3

// MeasureFact is one member's latest answers to one of the pair's active
// measures, as the dashboard's query reads them (JSON, in the same
// statement as the pair: no query per pair).
type MeasureFact struct {
	Measure int64      `json:"measure"`
	Name    string     `json:"name"`
	Change  float64    `json:"change"` // the definition's change rule (0: off)
	Gap     float64    `json:"gap"`    // the definition's gap rule (0: off)
	User    int64      `json:"user"`
	Every   *int       `json:"every"`
	Starts  string     `json:"starts"`
	Totals  []*float64 `json:"totals"` // latest first, at most two
	LastOn  *string    `json:"last_on"`
	Severe  *bool      `json:"severe"`
	Band    *string    `json:"band"`
}

// measureRulesCTE reads the rules of the active measures given to the
// counselor's pairs once per statement ($1 practice, $2 counselor): a
// definition is compressed JSON, and reading its two rules for every
// member of 150 pairs cost more than the rest of the statement.
func measureRulesCTE() string {
	return `measure_rules AS MATERIALIZED (
	SELECT m.id AS measure_id, cv.name,
	       coalesce((cv.definition->>'change_points')::numeric, 0) AS change,
	       coalesce((cv.definition->>'gap_points')::numeric, 0) AS gap
	FROM (SELECT DISTINCT ma.measure_id FROM pairs p JOIN measure_assignments ma ON ma.pair_id = p.id
	      WHERE ` + ownPairs() + ` AND ma.status = 'active') g
	JOIN measures m ON m.id = g.measure_id AND m.active
	JOIN measure_versions cv ON cv.measure_id = m.id AND cv.version = m.current_version)`
}

// measureFactsJoin reads, per active pair (p, with its kept row s), each active measure's
// latest two totals per member it is for, with the definition's rules
// (measure_rules).
const measureFactsJoin = `LEFT JOIN LATERAL (
	SELECT json_agg(json_build_object(
	         'measure', ma.measure_id, 'name', mr.name, 'change', mr.change, 'gap', mr.gap,
	         'user', u.uid, 'every', ma.every_days, 'starts', ma.starts_on,
	         'totals', lr.totals, 'last_on', lr.last_on, 'severe', lr.severe, 'band', lr.band) ORDER BY ma.id, u.pos) AS facts
	FROM measure_assignments ma
	JOIN measure_rules mr ON mr.measure_id = ma.measure_id
	CROSS JOIN LATERAL (VALUES (1, s.u1), (2, s.u2)) u(pos, uid)
	LEFT JOIN LATERAL (
		SELECT array_agg(x.total ORDER BY x.created_at DESC) AS totals, max(x.answered_on) AS last_on,
		       (array_agg(x.most_severe ORDER BY x.created_at DESC))[1] AS severe,
		       (array_agg(x.band ORDER BY x.created_at DESC))[1] AS band
		-- r.pair_id: the index (pair_id, measure_assignment_id, user_id,
		-- created_at DESC) then finds the two latest directly; without it
		-- the whole index was scanned for each member.
		FROM (SELECT r.total, r.created_at, r.answered_on, r.most_severe, r.band FROM measure_responses r
		      WHERE r.pair_id = ma.pair_id AND r.measure_assignment_id = ma.id AND r.user_id = u.uid
		      ORDER BY r.created_at DESC LIMIT 2) x
	) lr ON TRUE
	WHERE ma.pair_id = p.id AND ma.status = 'active'
	  AND (ma.for_user_id IS NULL OR ma.for_user_id = u.uid)
) mf ON TRUE`

func points(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// measureReasons applies the measure rules to a pair: a member's latest
// answer in the measure's most severe band; a change of at least the
// definition's points since the member's previous answer; the partners'
// latest totals at least the definition's gap apart; an answer overdue.
func measureReasons(p PairRow) []Reason {
	name := map[int64]string{}
	for _, m := range p.Members {
		name[m.UserID] = m.Name
	}
	var rs []Reason
	latest := map[int64][]MeasureFact{}
	var order []int64
	for _, f := range p.Measures {
		who := name[f.User]
		if _, ok := latest[f.Measure]; !ok {
			order = append(order, f.Measure)
		}
		latest[f.Measure] = append(latest[f.Measure], f)
		if f.Severe != nil && *f.Severe {
			band := ""
			if f.Band != nil {
				band = " (" + *f.Band + ")"
			}
			rs = append(rs, Reason{Kind: ReasonMeasureSevere, Member: who,
				Text: fmt.Sprintf("%s's latest %s is in its most severe band%s", who, f.Name, band)})
		}
		if len(f.Totals) >= 2 && f.Totals[0] != nil && f.Totals[1] != nil && f.Change > 0 {
			if d := *f.Totals[0] - *f.Totals[1]; math.Abs(d) >= f.Change {
				rs = append(rs, Reason{Kind: ReasonMeasureChange, Member: who,
					Text: fmt.Sprintf("%s's %s changed by %s points since the previous answer (%s → %s)",
						who, f.Name, points(math.Abs(d)), points(*f.Totals[1]), points(*f.Totals[0]))})
			}
		}
		start, err := checkin.ParseDate(f.Starts)
		if err != nil {
			continue
		}
		due, ok := start, true
		if f.LastOn != nil {
			last, err := checkin.ParseDate(*f.LastOn)
			if err != nil {
				continue
			}
			if f.Every == nil {
				ok = false
			} else {
				due = last.AddDays(*f.Every)
			}
		}
		if ok && p.Today.After(due.AddDays(MeasureOverdueDays)) {
			rs = append(rs, Reason{Kind: ReasonMeasureOverdue, Member: who,
				Text: fmt.Sprintf("%s is waiting for %s's answer since %s", f.Name, who, due.Format("Mon 2 Jan"))})
		}
	}
	for _, id := range order {
		fs := latest[id]
		if len(fs) != 2 || fs[0].Gap <= 0 || len(fs[0].Totals) == 0 || len(fs[1].Totals) == 0 ||
			fs[0].Totals[0] == nil || fs[1].Totals[0] == nil {
			continue
		}
		a, b := *fs[0].Totals[0], *fs[1].Totals[0]
		if math.Abs(a-b) >= fs[0].Gap {
			rs = append(rs, Reason{Kind: ReasonMeasureGap,
				Text: fmt.Sprintf("Latest %s totals far apart: %s %s, %s %s", fs[0].Name, name[fs[0].User], points(a), name[fs[1].User], points(b))})
		}
	}
	return rs
}
