package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/mend"
)

// What a partner shared reaches the other partner wherever it was written:
// also on homework assigned to the author alone, which the partner cannot
// open. Such a check-in is shown with the step's title and the author's
// name and never the homework's instructions or the counselor's note (those
// stay on the homework page, which is the author's). See docs/privacy.md.

// SharedItem is a check-in the partner shared, as its reader sees it in the
// "Shared with you" list.
type SharedItem struct {
	Checkin
	New bool `db:"is_new"` // the reader has not opened it yet
	// Unread is how many of all the partner's shared check-ins (not only
	// those listed) the reader has not opened: the same on every item.
	Unread int `db:"unread"`
}

// sharedWithMe restricts check-ins (alias c) to those the partner of client
// $2 in practice $1 shared with them: never the client's own, never private.
var sharedWithMe = `c.practice_id = $1 AND c.user_id <> $2 AND c.visibility = 'partner'
	AND EXISTS (SELECT 1 FROM pair_members pm WHERE ` + access.Member("pm", "c.pair_id", "$2") + `)`

const sharedNew = `NOT EXISTS (SELECT 1 FROM shared_reads r WHERE r.user_id = $2 AND r.checkin_id = c.id)`

// SharedPageSize is how many shared check-ins a page of the list shows.
const SharedPageSize = 20

// SharedWithMe lists what the client's partner shared with them, newest
// first, each marked new until the client opens it: limit items from
// offset. Reading it is audited like any other read of check-ins.
func (s *Store) SharedWithMe(ctx context.Context, sc mend.Scope, limit, offset int) ([]SharedItem, error) {
	if sc.Role != mend.RoleClient {
		return nil, mend.NotFound("Check-in")
	}
	if offset < 0 {
		offset = 0
	}
	var out []SharedItem
	err := s.stmts.Select(ctx, s.DB, &out, `
		SELECT `+clientColumns+`, `+sharedNew+` AS is_new,
		       count(*) FILTER (WHERE `+sharedNew+`) OVER () AS unread
		FROM checkins c `+checkinJoins+`
		WHERE `+sharedWithMe+`
		ORDER BY c.created_at DESC, c.id DESC
		LIMIT $3 OFFSET $4`, sc.PracticeID, sc.UserID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("checkin: shared with me: %w", err)
	}
	cs := make([]Checkin, len(out))
	for i := range out {
		cs[i] = out[i].Checkin
	}
	if err := s.openAll(ctx, s.DB, cs); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Checkin = cs[i]
	}
	return out, s.auditRead(ctx, sc, "shared", 0, cs)
}

// UnreadShared counts the partner's shared check-ins the client has not
// opened yet (the number in the navigation).
func (s *Store) UnreadShared(ctx context.Context, sc mend.Scope) (int, error) {
	if sc.Role != mend.RoleClient {
		return 0, nil
	}
	var n int
	err := s.stmts.Get(ctx, s.DB, &n, `
		SELECT count(*) FROM checkins c WHERE `+sharedWithMe+` AND `+sharedNew, sc.PracticeID, sc.UserID)
	if err != nil {
		return 0, fmt.Errorf("checkin: unread shared: %w", err)
	}
	return n, nil
}

// ReadShared returns one check-in the partner shared with the client and
// records that the client has read it. Anything else is ENOTFOUND.
func (s *Store) ReadShared(ctx context.Context, sc mend.Scope, id int64) (Checkin, error) {
	if sc.Role != mend.RoleClient {
		return Checkin{}, mend.NotFound("Check-in")
	}
	var c Checkin
	err := s.DB.GetContext(ctx, &c, `
		SELECT `+clientColumns+` FROM checkins c `+checkinJoins+`
		WHERE c.id = $3 AND `+sharedWithMe, sc.PracticeID, sc.UserID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkin{}, mend.NotFound("Check-in")
	}
	if err != nil {
		return Checkin{}, fmt.Errorf("checkin: read shared: %w", err)
	}
	cs := []Checkin{c}
	if err := s.openAll(ctx, s.DB, cs); err != nil {
		return Checkin{}, err
	}
	if _, err := s.DB.ExecContext(ctx, `
		INSERT INTO shared_reads (user_id, checkin_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, sc.UserID, id); err != nil {
		return Checkin{}, fmt.Errorf("checkin: mark read: %w", err)
	}
	return cs[0], s.auditRead(ctx, sc, "checkin", id, cs)
}

// MarkSharedRead records that the client has read the given check-ins where
// they are ones the partner shared with them (the homework page shows them
// too); other ids are ignored.
func (s *Store) MarkSharedRead(ctx context.Context, sc mend.Scope, ids []int64) error {
	if sc.Role != mend.RoleClient || len(ids) == 0 {
		return nil
	}
	if _, err := s.DB.ExecContext(ctx, `
		INSERT INTO shared_reads (user_id, checkin_id)
		SELECT $2, c.id FROM checkins c WHERE c.id = ANY($3) AND `+sharedWithMe+`
		ON CONFLICT DO NOTHING`, sc.PracticeID, sc.UserID, pq.Array(ids)); err != nil {
		return fmt.Errorf("checkin: mark read: %w", err)
	}
	return nil
}
