package review

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/mend"
)

// CounselorLoad is one counselor's caseload on the admin overview.
type CounselorLoad struct {
	ID           int64        `db:"id"`
	Name         string       `db:"name"`
	Email        string       `db:"email"`
	Disabled     bool         `db:"disabled"`
	Pairs        int          `db:"pairs"`      // active and paused
	Unreviewed   int          `db:"unreviewed"` // check-ins waiting for review
	OpenFlags    int          `db:"open_flags"` // safety flags not acknowledged
	LastActivity sql.NullTime `db:"last_activity"`
}

// Unassigned is an open pair without a counselor.
type Unassigned struct {
	ID        int64          `db:"id"`
	Label     string         `db:"label"`
	Status    string         `db:"status"`
	CreatedAt time.Time      `db:"created_at"`
	Members   sql.NullString `db:"members"`
	OpenFlags int            `db:"open_flags"`
	// FlagCheckin is the check-in of the oldest open flag (to acknowledge);
	// NULL when that flag is on a measure's critical answer (the measures tab).
	FlagCheckin sql.NullInt64 `db:"flag_checkin"`
}

// Overview is the admin's view of the practice's counselors and pairs.
type Overview struct {
	Counselors []CounselorLoad
	Unassigned []Unassigned
}

// unassignedShown bounds the list of pairs without a counselor.
const unassignedShown = 200

// Overview returns the practice's counselors with their caseload and the
// open pairs without a counselor, for an admin, in two queries.
func (s *Store) Overview(ctx context.Context, sc mend.Scope) (Overview, error) {
	var o Overview
	if sc.Role != mend.RoleAdmin {
		return o, mend.NotFound("Overview")
	}
	if err := s.DB.SelectContext(ctx, &o.Counselors, `
		SELECT u.id, u.name, u.email, u.disabled_at IS NOT NULL AS disabled,
		       (SELECT count(*) FROM pairs p WHERE `+access.CounselorPairs("p", "$1", "u.id")+` AND p.status <> 'closed') AS pairs,
		       (SELECT count(*) FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
		         WHERE `+access.CounselorPairs("p", "$1", "u.id")+` AND p.status <> 'closed') AS unreviewed,
		       (SELECT count(*) FROM pairs p JOIN safety_alerts sa ON sa.pair_id = p.id AND sa.acknowledged_at IS NULL
		         WHERE `+access.CounselorPairs("p", "$1", "u.id")+`) AS open_flags,
		       greatest(u.last_login_at,
		                (SELECT a.at FROM audit_log a WHERE a.practice_id = $1 AND a.user_id = u.id
		                 ORDER BY a.at DESC LIMIT 1)) AS last_activity
		FROM users u
		WHERE u.practice_id = $1 AND u.role = 'counselor'
		ORDER BY u.disabled_at IS NOT NULL, lower(u.name), u.id`, sc.PracticeID); err != nil {
		return o, fmt.Errorf("review: caseloads: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &o.Unassigned, `
		SELECT p.id, p.label, p.status, p.created_at,
		       (SELECT string_agg(u.name, ' & ' ORDER BY m.position) FROM pair_members m JOIN users u ON u.id = m.user_id
		         WHERE m.pair_id = p.id) AS members,
		       (SELECT count(*) FROM safety_alerts sa WHERE sa.pair_id = p.id AND sa.acknowledged_at IS NULL) AS open_flags,
		       (SELECT sa.checkin_id FROM safety_alerts sa WHERE sa.pair_id = p.id AND sa.acknowledged_at IS NULL
		         ORDER BY sa.created_at LIMIT 1) AS flag_checkin
		FROM pairs p
		WHERE p.practice_id = $1 AND p.counselor_id IS NULL AND p.status <> 'closed'
		ORDER BY p.created_at, p.id LIMIT $2`, sc.PracticeID, unassignedShown); err != nil {
		return o, fmt.Errorf("review: unassigned pairs: %w", err)
	}
	return o, nil
}
