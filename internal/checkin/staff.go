package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
)

// PairCheckins is one page of a pair's check-ins for the counselor: both
// members, private and shared, with safety answers and edit history.
type PairCheckins struct {
	PairID   int64
	Label    string
	Members  []Member
	Checkins []Checkin
	Page     int
	HasMore  bool
}

// Prev is the previous (newer) page number.
func (p PairCheckins) Prev() int { return p.Page - 1 }

// Next is the next (older) page number.
func (p PairCheckins) Next() int { return p.Page + 1 }

// Member is a client of the pair.
type Member struct {
	UserID   int64  `db:"user_id"`
	Name     string `db:"name"`
	Side     string `db:"side"`
	Position int    `db:"position"`
}

// pairPageSize is how many check-ins one page of the counselor's list shows.
const pairPageSize = 50

// ForPair lists a pair's check-ins for its counselor (or an admin of the
// practice), newest period first, page by page (page 1 first). A client,
// or a counselor asking for another counselor's pair, gets ENOTFOUND.
// Reading is audited once per client of the pair.
func (s *Store) ForPair(ctx context.Context, sc mend.Scope, pairID int64, page int) (PairCheckins, error) {
	if sc.Role != mend.RoleAdmin && sc.Role != mend.RoleCounselor {
		return PairCheckins{}, mend.NotFound("Pair")
	}
	if page < 1 {
		page = 1
	}
	out := PairCheckins{PairID: pairID, Page: page}
	err := s.stmts.Get(ctx, s.DB, &out.Label, `
		SELECT p.label FROM pairs p WHERE p.id = $4 AND `+staffPairs, append(staffArgs(sc), pairID)...)
	if errors.Is(err, sql.ErrNoRows) {
		return PairCheckins{}, mend.NotFound("Pair")
	}
	if err != nil {
		return PairCheckins{}, fmt.Errorf("checkin: pair: %w", err)
	}
	if err := s.stmts.Select(ctx, s.DB, &out.Members, `
		SELECT m.user_id, u.name, m.side, m.position FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE m.pair_id = $1 ORDER BY m.position`, pairID); err != nil {
		return PairCheckins{}, fmt.Errorf("checkin: pair members: %w", err)
	}
	err = s.stmts.Select(ctx, s.DB, &out.Checkins, `
		SELECT `+staffColumns+` FROM checkins c `+checkinJoins+`
		JOIN pairs p ON p.id = c.pair_id
		WHERE c.pair_id = $4 AND `+staffPairs+`
		ORDER BY c.period_start DESC, c.created_at DESC, c.id DESC
		LIMIT $5 OFFSET $6`, append(staffArgs(sc), pairID, pairPageSize+1, (page-1)*pairPageSize)...)
	if err != nil {
		return PairCheckins{}, fmt.Errorf("checkin: pair check-ins: %w", err)
	}
	if len(out.Checkins) > pairPageSize {
		out.Checkins, out.HasMore = out.Checkins[:pairPageSize], true
	}
	if err := s.openAll(ctx, s.DB, out.Checkins); err != nil {
		return PairCheckins{}, err
	}
	if err := s.loadHistory(ctx, sc, out.Checkins); err != nil {
		return PairCheckins{}, err
	}
	for _, m := range out.Members {
		if err := s.Audit.Record(ctx, nil, sc, audit.Entry{
			Action: "checkin.read", ObjectType: "pair", ObjectID: pairID, ClientID: m.UserID,
		}); err != nil {
			return PairCheckins{}, err
		}
	}
	return out, nil
}

// loadHistory attaches the earlier versions of edited check-ins (staff only;
// the SQL joins the caller's pairs again rather than trusting the ids).
func (s *Store) loadHistory(ctx context.Context, sc mend.Scope, cs []Checkin) error {
	var ids []int64
	at := map[int64]int{}
	for i, c := range cs {
		if c.Edits > 0 {
			ids = append(ids, c.ID)
			at[c.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var vs []Version
	err := s.stmts.Select(ctx, s.DB, &vs, `
		SELECT h.id, h.checkin_id, h.version, h.status, h.trust_rating, h.communication_rating, h.hope_rating,
		       h.answers, h.reflection, h.visibility, h.safety_flag, h.safety_note, h.saved_at, h.replaced_at
		FROM checkin_history h
		JOIN checkins c ON c.id = h.checkin_id
		JOIN pairs p ON p.id = c.pair_id
		WHERE h.checkin_id = ANY($4) AND `+staffPairs+`
		ORDER BY h.checkin_id, h.version DESC`, append(staffArgs(sc), pq.Array(ids))...)
	if err != nil {
		return fmt.Errorf("checkin: history: %w", err)
	}
	for _, v := range vs {
		if err := v.open(ctx, s.Vault, s.DB, historyText, v.ID, &v.Answers, &v.Reflection, &v.SafetyNote); err != nil {
			return err
		}
		i := at[v.CheckinID]
		cs[i].History = append(cs[i].History, v)
	}
	return nil
}
