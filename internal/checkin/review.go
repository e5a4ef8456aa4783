package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mend-practice/mend/internal/mend"
)

// ForReview returns one check-in of the caller's pairs, with its edit
// history, for the counselor's review page (area: review), and the
// partner's check-ins whose periods overlap it, to read side by side. Only
// staff reach it: a client, or a counselor asking for another counselor's
// pair, gets ENOTFOUND. Reading is audited once per author shown.
func (s *Store) ForReview(ctx context.Context, sc mend.Scope, id int64) (Checkin, []Checkin, error) {
	if sc.Role != mend.RoleAdmin && sc.Role != mend.RoleCounselor {
		return Checkin{}, nil, mend.NotFound("Check-in")
	}
	var c Checkin
	err := s.stmts.Get(ctx, s.DB, &c, `
		SELECT `+staffColumns+` FROM checkins c `+checkinJoins+`
		JOIN pairs p ON p.id = c.pair_id
		WHERE c.id = $4 AND `+staffPairs, append(staffArgs(sc), id)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkin{}, nil, mend.NotFound("Check-in")
	}
	if err != nil {
		return Checkin{}, nil, fmt.Errorf("checkin: for review: %w", err)
	}
	var partner []Checkin
	err = s.stmts.Select(ctx, s.DB, &partner, `
		SELECT `+staffColumns+` FROM checkins c `+checkinJoins+`
		JOIN pairs p ON p.id = c.pair_id
		WHERE c.pair_id = $4 AND c.user_id <> $5 AND c.period_start <= $7 AND c.period_end >= $6 AND `+staffPairs+`
		ORDER BY c.period_start, c.id`, append(staffArgs(sc), c.PairID, c.UserID, c.PeriodStart, c.PeriodEnd)...)
	if err != nil {
		return Checkin{}, nil, fmt.Errorf("checkin: partner's check-ins: %w", err)
	}
	all := append([]Checkin{c}, partner...)
	if err := s.loadHistory(ctx, sc, all); err != nil {
		return Checkin{}, nil, err
	}
	if err := s.auditRead(ctx, sc, "checkin", id, all); err != nil {
		return Checkin{}, nil, err
	}
	return all[0], all[1:], nil
}
