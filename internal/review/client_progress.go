package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mend-practice/mend/internal/chart"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

// ClientProgress is what a client sees of their own progress: their
// ratings over the range, their partner's only from check-ins the partner
// shared, and their check-in streak.
type ClientProgress struct {
	Progress           // Series[0] is the client, Series[1] the partner (shared check-ins only)
	Streak      int    // check-ins in a row, see checkin.Store.Streak
	PartnerName string // "" when the client has no partner in the pair
}

// NamedChart is one person's chart on the client's progress page.
type NamedChart struct {
	Name  string
	Mine  bool
	Chart chart.SVG
}

// Charts are the client's chart and, when the partner shared any check-in
// in the range, the partner's: the same chart code as the counselor's.
func (p ClientProgress) Charts() []NamedChart {
	var out []NamedChart
	for i, s := range p.Series {
		if i == 0 || len(s.Points) > 0 {
			out = append(out, NamedChart{Name: s.Member.Name, Mine: i == 0, Chart: chart.Build(p.MemberChart(i))})
		}
	}
	return out
}

// ClientProgress returns the calling client's progress over r. The SQL
// applies the check-in visibility rule: a partner's private check-ins are
// neither drawn nor counted.
func (s *Store) ClientProgress(ctx context.Context, sc mend.Scope, r Range) (ClientProgress, error) {
	if sc.Role != mend.RoleClient {
		return ClientProgress{}, mend.NotFound("Progress")
	}
	var pairID int64
	err := s.DB.GetContext(ctx, &pairID, `
		SELECT pm.pair_id FROM pair_members pm JOIN pairs p ON p.id = pm.pair_id
		WHERE pm.user_id = $1 AND p.practice_id = $2 ORDER BY pm.current DESC, pm.pair_id DESC LIMIT 1`,
		sc.UserID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return ClientProgress{}, mend.NotFound("Progress")
	}
	if err != nil {
		return ClientProgress{}, fmt.Errorf("review: client pair: %w", err)
	}
	pr, err := pair.Load(ctx, s.DB, sc, pairID)
	if err != nil {
		return ClientProgress{}, err
	}
	out := ClientProgress{Progress: Progress{Pair: pr, Range: r}}
	me := MemberSeries{Member: pair.Member{UserID: sc.UserID, Name: sc.Name}}
	var partner *pair.Member
	for i, m := range pr.Members {
		if m.UserID == sc.UserID {
			me.Member = m
		} else if partner == nil {
			partner = &pr.Members[i]
		}
	}
	out.Series = []MemberSeries{me}
	if partner != nil {
		out.Series = append(out.Series, MemberSeries{Member: *partner})
		out.PartnerName = partner.Name
	}
	var pts []Point
	if err := s.DB.SelectContext(ctx, &pts, `
		SELECT c.user_id, c.period_start, avg(c.trust_rating)::float8 AS trust,
		       avg(c.communication_rating)::float8 AS communication, avg(c.hope_rating)::float8 AS hope, count(*) AS n
		FROM checkins c
		WHERE c.pair_id = $3 AND c.period_start BETWEEN $4 AND $5 AND `+checkin.ClientVisible()+`
		GROUP BY c.user_id, c.period_start
		ORDER BY c.period_start, c.user_id`, sc.PracticeID, sc.UserID, pairID, r.From, r.To); err != nil {
		return ClientProgress{}, fmt.Errorf("review: client progress: %w", err)
	}
	for _, pt := range pts {
		for i := range out.Series {
			if out.Series[i].Member.UserID == pt.UserID {
				out.Series[i].Points = append(out.Series[i].Points, pt)
			}
		}
	}
	if out.Streak, err = s.Checkins.Streak(ctx, sc); err != nil {
		return ClientProgress{}, err
	}
	return out, nil
}
