package retention

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// A purgeStep deletes one table's rows of the pair ($1). The steps run in
// this order (children before the rows they reference); the preview counts
// the same rows. Every table holding rows of a pair is here: a test fails
// when a table with a pair_id, assignment_id or checkin_id column is not.
type purgeStep struct {
	Table string
	Label string // what the confirmation page calls its rows
	Where string
}

const pairCheckins = `(SELECT id FROM checkins WHERE pair_id = $1)`

func purgeSteps() []purgeStep {
	return []purgeStep{
		{"safety_alerts", "Safety alerts", `pair_id = $1`},
		{"measure_reminders", "Scheduled reminders of measures", `pair_id = $1`},
		{"measure_responses", "Answers to measures", `pair_id = $1`},
		{"measure_assignments", "Measures given to the pair", `pair_id = $1`},
		{"feedback", "Counselor feedback", `pair_id = $1`},
		{"checkin_history", "Earlier versions of check-ins", `checkin_id IN ` + pairCheckins},
		{"shared_reads", "Marks of shared check-ins read by the partner", `checkin_id IN ` + pairCheckins},
		{"checkins", "Check-ins", `pair_id = $1`},
		{"reveal_notices", "Pending emails about reveal exercises", `pair_id = $1`},
		{"reveal_replies", "Replies to revealed answers", `pair_id = $1`},
		{"reveals", "Reveals of answers", `pair_id = $1`},
		{"reveal_answers", "Answers to reveal exercises", `pair_id = $1`},
		{"reminder_due", "Scheduled reminders", `assignment_id IN (SELECT id FROM assignments WHERE pair_id = $1)`},
		{"assignments", "Homework", `pair_id = $1`},
		{"pair_plan_steps", "Steps of repair plans", `pair_plan_id IN (SELECT id FROM pair_plans WHERE pair_id = $1)`},
		{"pair_plans", "Repair plans", `pair_id = $1`},
		{"pair_events", "Entries of the pair's history", `pair_id = $1`},
		{"pair_members", "Memberships", `pair_id = $1`},
		{"data_keys", "Encryption keys (destroyed)", `pair_id = $1`},
		// After the tables whose triggers compute it again.
		{"dashboard_pairs", "The dashboard's figures for the pair", `pair_id = $1`},
		{"pairs", "The pair itself", `id = $1`},
	}
}

// PurgedTables names the tables a purge deletes from (for tests).
func PurgedTables() []string {
	var out []string
	for _, st := range purgeSteps() {
		out = append(out, st.Table)
	}
	return out
}

// Count is how many rows of one kind a purge deletes.
type Count struct {
	Table string
	Label string
	N     int64
}

// MemberFate says what happens to a member's account.
type MemberFate struct {
	UserID int64  `db:"user_id"`
	Name   string `db:"name"`
	// Anonymised: the client is in no other pair, so their account is
	// disabled and stripped of name and email address.
	Anonymised bool `db:"anonymised"`
}

// Preview is the confirmation page: what a purge would delete, and when it
// becomes possible.
type Preview struct {
	PairID        int64
	Label         string
	CounselorName string
	ClosedAt      time.Time
	RetentionDays int
	PurgeableFrom time.Time
	Due           bool
	Counts        []Count
	Members       []MemberFate
	// EmailsRedacted: email log entries that keep their kind, status and
	// dates but lose their bodies (and, for anonymised clients, address).
	EmailsRedacted int64
}

// Total is the number of rows the purge deletes.
func (p Preview) Total() int64 {
	var n int64
	for _, c := range p.Counts {
		n += c.N
	}
	return n
}

// NotDueMessage says why a purge is refused before the retention period
// has passed.
func (p Preview) NotDueMessage() string {
	return fmt.Sprintf("This pair's records must be kept until %s: the practice keeps records for %d days after a pair is closed, and it was closed on %s.",
		p.PurgeableFrom.Format("2 January 2006"), p.RetentionDays, p.ClosedAt.Format("2 January 2006"))
}

// redactedEmails are the email log entries a purge redacts: those to the
// pair's members, and safety alerts about its check-ins (their dedupe keys
// are "safety:<checkin id>[:<recipient>]").
const redactedEmails = `(user_id IN (SELECT user_id FROM pair_members WHERE pair_id = $1)
	OR (dedupe_key LIKE 'safety:%' AND split_part(dedupe_key, ':', 2) IN (SELECT id::text FROM checkins WHERE pair_id = $1)))`

// PurgePreview shows an admin what purging a closed pair would delete.
func (s *Store) PurgePreview(ctx context.Context, sc mend.Scope, pairID int64) (Preview, error) {
	if err := adminOnly(sc); err != nil {
		return Preview{}, err
	}
	return s.preview(ctx, s.DB, sc, pairID, false)
}

func (s *Store) preview(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, pairID int64, lock bool) (Preview, error) {
	p, err := loadPair(ctx, q, sc, pairID, lock)
	if err != nil {
		return Preview{}, err
	}
	if p.Status != "closed" || !p.ClosedAt.Valid {
		return Preview{}, mend.Errorf(mend.ECONFLICT, "Only a closed pair can be purged. Close the pair first; it can be purged once the retention period has passed.")
	}
	out := Preview{
		PairID: p.ID, Label: p.Label, CounselorName: p.CounselorName.String, ClosedAt: p.ClosedAt.Time,
		RetentionDays: p.RetentionDays, PurgeableFrom: p.purgeableFrom(),
	}
	out.Due = !s.Clock.Time().Before(out.PurgeableFrom)
	for _, st := range purgeSteps() {
		c := Count{Table: st.Table, Label: st.Label}
		if err := sqlx.GetContext(ctx, q, &c.N, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, pq.QuoteIdentifier(st.Table), st.Where), pairID); err != nil {
			return Preview{}, fmt.Errorf("retention: count %s: %w", st.Table, err)
		}
		out.Counts = append(out.Counts, c)
	}
	if err := sqlx.SelectContext(ctx, q, &out.Members, `
		SELECT m.user_id, u.name,
		       NOT EXISTS (SELECT 1 FROM pair_members o WHERE o.user_id = m.user_id AND o.pair_id <> m.pair_id) AS anonymised
		FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE m.pair_id = $1 ORDER BY m.position`, pairID); err != nil {
		return Preview{}, fmt.Errorf("retention: members: %w", err)
	}
	if err := sqlx.GetContext(ctx, q, &out.EmailsRedacted, `SELECT count(*) FROM email_log WHERE `+redactedEmails, pairID); err != nil {
		return Preview{}, fmt.Errorf("retention: emails: %w", err)
	}
	return out, nil
}

// Purge deletes a closed pair whose retention period has passed, after the
// admin typed its label: every row of the pair in every table, its data
// keys (so that its ciphertext in any backup is unreadable), the bodies of
// the email log entries about it, and the accounts of its clients who are
// in no other pair (disabled, signed out everywhere, stripped of name and
// email address). All in one transaction, with one audit entry per client
// that names no clinical text. It returns what was deleted.
func (s *Store) Purge(ctx context.Context, sc mend.Scope, pairID int64, typedLabel string) (Preview, error) {
	if err := adminOnly(sc); err != nil {
		return Preview{}, err
	}
	var out Preview
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if out, err = s.preview(ctx, tx, sc, pairID, true); err != nil {
			return err
		}
		if !out.Due {
			return mend.Errorf(mend.ECONFLICT, "%s", out.NotDueMessage())
		}
		if strings.TrimSpace(typedLabel) != out.Label {
			return mend.FieldErrors{"label": "Type the pair's label exactly as shown above to confirm."}.Err()
		}
		// Email bodies first: the members and check-ins that find them
		// are about to go.
		if _, err := tx.ExecContext(ctx, `UPDATE email_log SET body_text = '', body_html = '' WHERE `+redactedEmails, pairID); err != nil {
			return fmt.Errorf("retention: redact emails: %w", err)
		}
		for _, st := range purgeSteps() {
			if st.Table == "data_keys" {
				if _, err := s.Vault.DestroyPairKeys(ctx, tx, sc.PracticeID, pairID); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s`, pq.QuoteIdentifier(st.Table), st.Where), pairID); err != nil {
				return fmt.Errorf("retention: purge %s: %w", st.Table, err)
			}
		}
		for _, m := range out.Members {
			if m.Anonymised {
				if err := s.anonymise(ctx, tx, m.UserID); err != nil {
					return err
				}
			}
			if err := s.Audit.Record(ctx, tx, sc, audit.Entry{Action: "pair.purged", ObjectType: "pair", ObjectID: pairID, ClientID: m.UserID}); err != nil {
				return err
			}
		}
		if len(out.Members) == 0 {
			return s.Audit.Record(ctx, tx, sc, audit.Entry{Action: "pair.purged", ObjectType: "pair", ObjectID: pairID})
		}
		return nil
	})
	return out, err
}

// anonymise closes the account of a client whose last pair was purged: no
// name, no email address, no password, no way in (tokens, second factor and
// sessions gone), no reminders; their email log entries keep only kind,
// status and dates. The row stays so that the audit log's references to
// the person still resolve to "a former client".
func (s *Store) anonymise(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	anon := fmt.Sprintf("purged-%d@purged.invalid", userID)
	steps := []struct {
		query string
		args  []any
	}{
		{`UPDATE users SET name = 'Former client', email = $2, password_hash = NULL,
			disabled_at = coalesce(disabled_at, now()), reminders_enabled = false, quiet_start = NULL, quiet_end = NULL
			WHERE id = $1 AND role = 'client'`, []any{userID, anon}},
		{`UPDATE email_log SET to_address = $2, to_name = '', body_text = '', body_html = '', list_unsubscribe = ''
			WHERE user_id = $1`, []any{userID, anon}},
		{`DELETE FROM user_tokens WHERE user_id = $1`, []any{userID}},
		{`DELETE FROM unsubscribe_tokens WHERE user_id = $1`, []any{userID}},
		{`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, []any{userID}},
		{`DELETE FROM user_mfa WHERE user_id = $1`, []any{userID}},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return fmt.Errorf("retention: anonymise client: %w", err)
		}
	}
	if _, err := s.Sessions.EndAll(ctx, tx, userID); err != nil {
		return err
	}
	return nil
}
