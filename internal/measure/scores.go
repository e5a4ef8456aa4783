package measure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
)

// Scores is a pair's measures as the progress tab shows them: each measure
// given to the pair with the scores answered within a range of days, and
// the critical answers whose safety flag is still open, whenever they were
// given. Scores only: the items stay sealed (the measures tab opens them).
type Scores struct {
	Series []Series // by name; the responses are those in the range, oldest first
	Flags  []Flag   // open safety flags, oldest first
}

// Flag is a critical answer whose safety flag is not acknowledged yet.
type Flag struct {
	Response
	MeasureName string
}

// Scores reads a pair's measures over from–to in one statement (the
// progress tab runs it on every request). Staff only; a pair out of scope
// has no measures. The caller has already read the pair (and audited the
// read of its progress, which these scores are part of).
func (s *Store) Scores(ctx context.Context, sc mend.Scope, pairID int64, from, to checkin.Date) (Scores, error) {
	var out Scores
	if !staff(sc) {
		return out, mend.NotFound("Pair")
	}
	cond, args := access.StaffPairs(sc, "p", 4)
	var rows []struct {
		Response
		Name    string `db:"name"`
		Raw     []byte `db:"definition"`
		InRange bool   `db:"in_range"`
	}
	// One row per answer (or one with no answer for a measure without any
	// in the range); the current version's definition only on a measure's
	// first row.
	if err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT g.measure_id, cv.name,
		       CASE WHEN row_number() OVER (PARTITION BY g.measure_id) = 1 THEN cv.definition END AS definition,
		       coalesce(r.id, 0) AS id, coalesce(r.user_id, 0) AS user_id, coalesce(u.name, '') AS user_name,
		       coalesce(pm.position, 0) AS position, coalesce(r.answered_on, $2::date) AS answered_on,
		       coalesce(r.created_at, 'epoch') AS created_at, coalesce(r.valid, false) AS valid,
		       r.total, r.band, r.severity, coalesce(r.critical, false) AS critical,
		       coalesce(r.subscales, '[]') AS subscales,
		       r.alert_id, r.acknowledged_at IS NOT NULL AS alert_acked,
		       coalesce(r.answered_on BETWEEN $2 AND $3, false) AS in_range
		FROM (SELECT ma.measure_id FROM measure_assignments ma JOIN pairs p ON p.id = ma.pair_id
		      WHERE ma.pair_id = $1 AND `+cond+` GROUP BY ma.measure_id) g
		JOIN measures m ON m.id = g.measure_id
		JOIN measure_versions cv ON cv.measure_id = m.id AND cv.version = m.current_version
		LEFT JOIN (
			SELECT ra.measure_id, r.id, r.pair_id, r.user_id, r.answered_on, r.created_at, r.valid, r.total,
			       r.band, r.severity, r.critical, r.subscales, sa.id AS alert_id, sa.acknowledged_at
			FROM measure_responses r
			JOIN measure_assignments ra ON ra.id = r.measure_assignment_id
			LEFT JOIN safety_alerts sa ON sa.measure_response_id = r.id
			WHERE r.pair_id = $1
			  AND (r.answered_on BETWEEN $2 AND $3 OR (sa.id IS NOT NULL AND sa.acknowledged_at IS NULL))
		) r ON r.measure_id = g.measure_id
		LEFT JOIN users u ON u.id = r.user_id
		LEFT JOIN pair_members pm ON pm.pair_id = r.pair_id AND pm.user_id = r.user_id
		ORDER BY cv.name, g.measure_id, r.created_at, r.id`,
		append([]any{pairID, from, to}, args...)...); err != nil {
		return out, fmt.Errorf("measure: pair's scores: %w", err)
	}
	for _, row := range rows {
		if n := len(out.Series); n == 0 || out.Series[n-1].MeasureID != row.MeasureID {
			out.Series = append(out.Series, Series{MeasureID: row.MeasureID, Name: row.Name})
		}
		sr := &out.Series[len(out.Series)-1]
		if row.Raw != nil {
			if err := json.Unmarshal(row.Raw, &sr.Definition); err != nil {
				return out, fmt.Errorf("measure %d: %w", row.MeasureID, err)
			}
		}
		if row.ID == 0 {
			continue
		}
		r := row.Response
		if err := json.Unmarshal(r.SubsRaw, &r.Subscales); err != nil {
			return out, err
		}
		if row.InRange {
			sr.Responses = append(sr.Responses, r)
		}
		if r.AlertID.Valid && !r.AlertAcked {
			out.Flags = append(out.Flags, Flag{Response: r, MeasureName: row.Name})
		}
	}
	sort.SliceStable(out.Flags, func(i, j int) bool { return out.Flags[i].CreatedAt.Before(out.Flags[j].CreatedAt) })
	return out, nil
}
