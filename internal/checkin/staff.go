package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// staffRead is the one way a counselor or an admin reads check-ins: every
// staff method of this store (and through them the review page, the
// check-ins tab, the exports and the archive) comes through here, so no
// staff page can get a check-in whose answers, reflection or safety note
// are still sealed, or miss its earlier versions. cond restricts the rows
// further (its arguments are $1 on; the access scope's come after them); tail orders and
// limits them. A client gets ENOTFOUND for what.
func (s *Store) staffRead(ctx context.Context, sc mend.Scope, what, cond, tail string, args ...any) ([]Checkin, error) {
	if !isStaff(sc) {
		return nil, mend.NotFound(what)
	}
	var out []Checkin
	scope, scopeArgs := access.StaffPairs(sc, "p", len(args)+1)
	if err := s.stmts.Select(ctx, s.DB, &out, `
		SELECT `+staffColumns+` FROM checkins c `+checkinJoins+`
		JOIN pairs p ON p.id = c.pair_id
		WHERE `+scope+` AND (`+cond+`)
		`+tail, append(args, scopeArgs...)...); err != nil {
		return nil, fmt.Errorf("checkin: staff read (%s): %w", what, err)
	}
	if err := s.openAll(ctx, s.DB, out); err != nil {
		return nil, err
	}
	if err := s.loadHistory(ctx, sc, out); err != nil {
		return nil, err
	}
	return out, nil
}

// isStaff reports whether sc is a counselor or an admin.
func isStaff(sc mend.Scope) bool { return sc.Role == mend.RoleAdmin || sc.Role == mend.RoleCounselor }

// PairCheckins is one page of a pair's check-ins for the counselor: both
// members, private and shared, with safety answers and edit history.
type PairCheckins struct {
	PairID   int64
	Label    string
	Members  []Member
	Homework []HomeworkChoice // the pair's homework, for the filter
	Filter   PairFilter
	paging.Page[Checkin]
}

// Member is a client of the pair.
type Member struct {
	UserID   int64  `db:"user_id"`
	Name     string `db:"name"`
	Side     string `db:"side"`
	Position int    `db:"position"`
}

// HomeworkChoice is a homework of the pair as the check-ins filter offers it.
type HomeworkChoice struct {
	ID       int64  `db:"id"`
	Title    string `db:"title"`
	StartsOn Date   `db:"starts_on"`
	Status   string `db:"status"`
}

// Review states the check-ins tab filters on.
const (
	ReviewWaiting  = "waiting"
	ReviewReviewed = "reviewed"
)

// PairFilter narrows a pair's check-ins: one client's, one homework's,
// waiting for review or reviewed. Zero values mean "all".
type PairFilter struct {
	ClientID   int64
	HomeworkID int64
	Review     string // "", ReviewWaiting or ReviewReviewed
}

// Any reports whether the filter narrows anything.
func (f PairFilter) Any() bool { return f.ClientID != 0 || f.HomeworkID != 0 || f.Review != "" }

// ForPair lists a pair's check-ins for its counselor (or an admin of the
// practice), newest period first, one page at a time, narrowed by f. A
// client, or a counselor asking for another counselor's pair, gets
// ENOTFOUND. Reading is audited once per client of the pair.
func (s *Store) ForPair(ctx context.Context, sc mend.Scope, pairID int64, f PairFilter, pr paging.Request) (PairCheckins, error) {
	if !isStaff(sc) {
		return PairCheckins{}, mend.NotFound("Pair")
	}
	out := PairCheckins{PairID: pairID, Filter: f}
	cond, args := access.StaffPairs(sc, "p", 2)
	err := s.stmts.Get(ctx, s.DB, &out.Label, `
		SELECT p.label FROM pairs p WHERE p.id = $1 AND `+cond, append([]any{pairID}, args...)...)
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
	if err := s.stmts.Select(ctx, s.DB, &out.Homework, `
		SELECT a.id, v.title, a.starts_on, a.status FROM assignments a JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.pair_id = $1 ORDER BY a.starts_on DESC, a.id DESC`, pairID); err != nil {
		return PairCheckins{}, fmt.Errorf("checkin: pair homework: %w", err)
	}
	// Each filter is a condition that is true when it is not set, so the
	// statement is always the same.
	rows, err := s.staffRead(ctx, sc, "Pair", `c.pair_id = $1
		AND ($2::bigint = 0 OR c.user_id = $2) AND ($3::bigint = 0 OR c.assignment_id = $3)
		AND ($4::text = '' OR ($4 = 'waiting') = (c.reviewed_at IS NULL))`,
		`ORDER BY c.period_start DESC, c.created_at DESC, c.id DESC LIMIT $5 OFFSET $6`,
		pairID, f.ClientID, f.HomeworkID, f.Review, pr.Limit(), pr.Offset())
	if err != nil {
		return PairCheckins{}, err
	}
	out.Page = paging.Of(pr, rows)
	for _, m := range out.Members {
		if err := s.Audit.Record(ctx, nil, sc, audit.Entry{
			Action: "checkin.read", ObjectType: "pair", ObjectID: pairID, ClientID: m.UserID,
		}); err != nil {
			return PairCheckins{}, err
		}
	}
	return out, nil
}

// ForExport returns a pair's check-ins whose periods start within [from,
// to], oldest first and the pair's first member first, for the pair's
// exports (which audit the export themselves).
func (s *Store) ForExport(ctx context.Context, sc mend.Scope, pairID int64, from, to Date) ([]Checkin, error) {
	return s.staffRead(ctx, sc, "Pair", `c.pair_id = $1 AND c.period_start BETWEEN $2 AND $3`,
		`ORDER BY c.period_start,
		          (SELECT m.position FROM pair_members m WHERE m.pair_id = c.pair_id AND m.user_id = c.user_id), c.id`,
		pairID, from, to)
}

// ForArchive returns every check-in of a pair, oldest first, with its
// earlier versions, for the closed pair's archive (which audits itself).
func (s *Store) ForArchive(ctx context.Context, sc mend.Scope, pairID int64) ([]Checkin, error) {
	return s.staffRead(ctx, sc, "Pair", `c.pair_id = $1`, `ORDER BY c.period_start, c.created_at, c.id`, pairID)
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
	cond, args := access.StaffPairs(sc, "p", 2)
	err := s.stmts.Select(ctx, s.DB, &vs, `
		SELECT h.id, h.checkin_id, h.version, h.status, h.trust_rating, h.communication_rating, h.hope_rating,
		       h.answers, h.reflection, h.visibility, h.safety_flag, h.safety_note, h.saved_at, h.replaced_at
		FROM checkin_history h
		JOIN checkins c ON c.id = h.checkin_id
		JOIN pairs p ON p.id = c.pair_id
		WHERE h.checkin_id = ANY($1) AND `+cond+`
		ORDER BY h.checkin_id, h.version DESC`, append([]any{pq.Array(ids)}, args...)...)
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
