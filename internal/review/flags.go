package review

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/vault"
)

// PastFlag is one safety flag of the flags history, acknowledged or not:
// the dashboard's Alert with its acknowledgement. It says who raised it and
// where it is read, never what the client wrote or answered.
type PastFlag struct {
	Alert
	AcknowledgedAt sql.NullTime   `db:"acknowledged_at"`
	AckByName      sql.NullString `db:"ack_by_name"`
	SealedNote     []byte         `db:"ack_note"`
	ClientID       int64          `db:"client_id"` // whose answer raised it
	AckNote        string         `db:"-"`
	AckWhen        string         `db:"-"` // AcknowledgedAt as the caller reads it
}

// Acknowledged reports whether the flag was acknowledged.
func (f PastFlag) Acknowledged() bool { return f.AcknowledgedAt.Valid }

// flagsSQL lists the safety flags of the caller's pairs, newest first: $1
// and $2 are the page's limit and offset, the scope's arguments follow.
func flagsSQL(cond string) string {
	return `
	SELECT sa.id, sa.pair_id, p.label AS pair_label, coalesce(sa.checkin_id, 0) AS checkin_id,
	       coalesce(sa.measure_response_id, 0) AS measure_response_id, u.id AS client_id, u.name AS client_name,
	       coalesce(c.period_start, mr.answered_on) AS period_start, coalesce(c.period_end, mr.answered_on) AS period_end,
	       sa.created_at, sa.acknowledged_at, ab.name AS ack_by_name, sa.ack_note
	FROM safety_alerts sa
	JOIN pairs p ON p.id = sa.pair_id
	LEFT JOIN checkins c ON c.id = sa.checkin_id
	-- A critical answer to a measure (issue 20) raises the same alert.
	LEFT JOIN measure_responses mr ON mr.id = sa.measure_response_id
	JOIN users u ON u.id = coalesce(c.user_id, mr.user_id)
	LEFT JOIN users ab ON ab.id = sa.acknowledged_by
	WHERE ` + cond + `
	ORDER BY sa.created_at DESC, sa.id DESC
	LIMIT $1 OFFSET $2`
}

// Flags returns a page of the safety flags of the caller's pairs (a
// counselor's own, an admin's practice's), newest first, with their
// acknowledgements. Clients have none: ENOTFOUND.
func (s *Store) Flags(ctx context.Context, sc mend.Scope, pr paging.Request) (paging.Page[PastFlag], error) {
	if !staff(sc) {
		return paging.Page[PastFlag]{}, mend.NotFound("Safety flags")
	}
	cond, args := access.StaffPairs(sc, "p", 3)
	var rows []PastFlag
	if err := s.stmts.Select(ctx, s.DB, &rows, flagsSQL(cond), append([]any{pr.Limit(), pr.Offset()}, args...)...); err != nil {
		return paging.Page[PastFlag]{}, fmt.Errorf("review: flags: %w", err)
	}
	pg := paging.Of(pr, rows)
	loc := checkin.LoadZone(sc.Timezone)
	for i := range pg.Items {
		f := &pg.Items[i]
		f.at = f.CreatedAt.In(loc).Format("Mon 2 Jan 2006, 15:04")
		if !f.AcknowledgedAt.Valid {
			continue
		}
		f.AckWhen = f.AcknowledgedAt.Time.In(loc).Format("Mon 2 Jan 2006, 15:04")
		note, err := s.Vault.OpenText(ctx, s.DB, vault.AlertAckNote, f.ID, f.SealedNote)
		if err != nil {
			return paging.Page[PastFlag]{}, fmt.Errorf("review: acknowledgement note %d: %w", f.ID, err)
		}
		f.AckNote, f.SealedNote = note, nil
	}
	// Reading the flags is a read of each flagged client's safety record.
	clients := make([]int64, len(pg.Items))
	for i, f := range pg.Items {
		clients[i] = f.ClientID
	}
	if err := s.Audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "safety_alert.read", ObjectType: "safety_flags"}, clients); err != nil {
		return paging.Page[PastFlag]{}, err
	}
	return pg, nil
}
