package review

import (
	"context"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
)

// Hooks for the summary tests (package review_test).

// freshSQL is summarySQL with the kept rows replaced by a fresh computation
// of each pair (dashboard_pair_rows), reading and writing nothing kept.
var freshSQL = strings.Replace(summarySQL(), "LEFT JOIN LATERAL (SELECT * FROM dashboard_pairs s WHERE s.pair_id = p.id OFFSET 0) s ON TRUE",
	"LEFT JOIN LATERAL dashboard_pair_rows(ARRAY[p.id], $3::timestamptz, $4::int, $5::int) s ON TRUE", 1)

// FreshPairs is the dashboard's pairs list as of now computed afresh.
func (s *Store) FreshPairs(ctx context.Context, sc mend.Scope, now time.Time) ([]PairRow, error) {
	if !strings.Contains(freshSQL, "dashboard_pair_rows") {
		panic("freshSQL did not replace the kept rows")
	}
	var recs []pairRecord
	if err := s.DB.SelectContext(ctx, &recs, freshSQL, sc.PracticeID, sc.UserID, now, checkin.GraceDays, CompletionDays); err != nil {
		return nil, err
	}
	var shown []pairRecord
	for _, r := range recs {
		if r.M1.UserID.Valid && r.M2.UserID.Valid {
			shown = append(shown, r)
		}
	}
	return pairRows(shown, checkin.LoadZone(sc.Timezone)), nil
}

// KeptPairs is the pairs list as dashboard_pairs holds it, without
// computing anything again, and the pairs whose rows a read as of now
// would find out of date (or missing).
func (s *Store) KeptPairs(ctx context.Context, sc mend.Scope, now time.Time) ([]PairRow, []int64, error) {
	var recs []pairRecord
	if err := s.DB.SelectContext(ctx, &recs, summarySQL(), sc.PracticeID, sc.UserID, now); err != nil {
		return nil, nil, err
	}
	var stale []int64
	var shown []pairRecord
	for _, r := range recs {
		if r.Stale {
			stale = append(stale, r.PairID)
		}
		if r.M1.UserID.Valid && r.M2.UserID.Valid {
			shown = append(shown, r)
		}
	}
	return pairRows(shown, checkin.LoadZone(sc.Timezone)), stale, nil
}
