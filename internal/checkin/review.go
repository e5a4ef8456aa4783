package checkin

import (
	"context"

	"github.com/mend-practice/mend/internal/mend"
)

// ForReview returns one check-in of the caller's pairs, with its edit
// history, for the counselor's review page, and the
// partner's check-ins whose periods overlap it, to read side by side. Only
// staff reach it: a client, or a counselor asking for another counselor's
// pair, gets ENOTFOUND. Reading is audited once per author shown.
func (s *Store) ForReview(ctx context.Context, sc mend.Scope, id int64) (Checkin, []Checkin, error) {
	// The check-in and the partner's check-ins of the same pair whose
	// periods overlap it, in one statement; the check-in itself first.
	all, err := s.staffRead(ctx, sc, "Check-in", `c.pair_id = (SELECT k.pair_id FROM checkins k WHERE k.id = $1)
		AND (c.id = $1 OR EXISTS (SELECT 1 FROM checkins k WHERE k.id = $1 AND k.user_id <> c.user_id
		     AND c.period_start <= k.period_end AND c.period_end >= k.period_start))`,
		`ORDER BY c.id <> $1, c.period_start, c.id`, id)
	if err != nil {
		return Checkin{}, nil, err
	}
	if len(all) == 0 || all[0].ID != id {
		return Checkin{}, nil, mend.NotFound("Check-in")
	}
	if err := s.auditRead(ctx, sc, "checkin", id, all); err != nil {
		return Checkin{}, nil, err
	}
	return all[0], all[1:], nil
}
