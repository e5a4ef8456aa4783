package mail

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Statuses and Kinds offered as filters on the admin's mail log.
var (
	Statuses = []string{StatusQueued, StatusSending, StatusSent, StatusFailed, StatusSkipped}
	Kinds    = []string{KindInvitation, KindPasswordReset, KindReminder, KindOverdue, KindSafetyAlert, KindDigest,
		KindRevealAnswered, KindRevealed, KindRevealReady}
)

// Kinds of message sent by the reminder and alert jobs.
const (
	KindReminder    = "checkin_reminder"
	KindOverdue     = "checkin_overdue"
	KindSafetyAlert = "safety_alert"
	KindDigest      = "counselor_digest"
	// Reveal exercises: the partner has answered, both answers are shown,
	// both answers wait for the counselor's release. No words of anyone's.
	KindRevealAnswered = "reveal_answered"
	KindRevealed       = "reveal_revealed"
	KindRevealReady    = "reveal_ready"
	// Measures (issue 20): a questionnaire is due, and still open two days
	// later. They name no measure.
	KindMeasureReminder = "measure_reminder"
	KindMeasureOverdue  = "measure_overdue"
)

// LogPageSize is how many messages one page of the mail log shows.
const LogPageSize = 50

// LogFilter narrows the admin's mail log. Zero fields do not filter.
type LogFilter struct {
	Status    string
	Kind      string
	Recipient string    // part of the address, any case
	From      time.Time // queued at or after
	Until     time.Time // queued before
	Before    int64     // keyset pagination: only ids below this
}

// ParseLogFilter reads the filter form (status, kind, to, from, until as
// YYYY-MM-DD in tz, before). Bad values are field errors.
func ParseLogFilter(q url.Values, tz string) (LogFilter, error) {
	var f LogFilter
	var errs mend.FieldErrors
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	if s := q.Get("status"); s != "" {
		if !contains(Statuses, s) {
			errs.Add("status", "Choose a status from the list.")
		}
		f.Status = s
	}
	if s := q.Get("kind"); s != "" {
		if !contains(Kinds, s) {
			errs.Add("kind", "Choose a kind from the list.")
		}
		f.Kind = s
	}
	f.Recipient = strings.TrimSpace(q.Get("to"))
	if len(f.Recipient) > 200 {
		errs.Add("to", "Enter at most 200 characters.")
	}
	day := func(field string) time.Time {
		s := strings.TrimSpace(q.Get(field))
		if s == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		if err != nil {
			errs.Add(field, "Enter a date like 2026-03-31.")
		}
		return t
	}
	f.From = day("from")
	if until := day("until"); !until.IsZero() {
		f.Until = until.AddDate(0, 0, 1) // the whole last day
	}
	if !f.From.IsZero() && !f.Until.IsZero() && !f.From.Before(f.Until) {
		errs.Add("until", "The end date must not be before the start date.")
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("before", "That page does not exist.")
		}
		f.Before = n
	}
	return f, errs.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// List returns one page of the practice's mail log, newest first, and
// whether there are older messages.
func (o *Outbox) List(ctx context.Context, sc mend.Scope, f LogFilter) ([]LogEntry, bool, error) {
	// d.practice_id too: the status filter of messages not sent reads
	// email_delivery_practice_unsent_idx.
	where := []string{"e.practice_id = $1", "d.practice_id = $1"}
	args := []any{sc.PracticeID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("d.status = $%d", f.Status)
	}
	if f.Kind != "" {
		add("e.kind = $%d", f.Kind)
	}
	if f.Recipient != "" {
		add("e.to_address ILIKE $%d", "%"+escapeLike(strings.ToLower(f.Recipient))+"%")
	}
	if !f.From.IsZero() {
		add("e.created_at >= $%d", f.From)
	}
	if !f.Until.IsZero() {
		add("e.created_at < $%d", f.Until)
	}
	if f.Before > 0 {
		add("e.id < $%d", f.Before)
	}
	args = append(args, LogPageSize+1)
	var rows []LogEntry
	err := o.DB.SelectContext(ctx, &rows, `
		SELECT `+logColumns+`, '' AS body_text
		FROM email_log e JOIN email_delivery d ON d.email_id = e.id
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY e.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, false, fmt.Errorf("mail: list: %w", err)
	}
	more := len(rows) > LogPageSize
	if more {
		rows = rows[:LogPageSize]
	}
	return rows, more, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Resend puts a failed message of the caller's practice back in the queue:
// the same row, a new generation (so a task left in asynq's archive under
// the old TaskID does not block it), attempts from zero. The relay sends it
// within a second or two. The resend is audited.
func (o *Outbox) Resend(ctx context.Context, sc mend.Scope, log *audit.Log, id int64) error {
	return db.InTx(ctx, o.DB, func(tx *sqlx.Tx) error {
		var status string
		err := tx.GetContext(ctx, &status, `
			SELECT status FROM email_delivery WHERE email_id = $1 AND practice_id = $2 FOR UPDATE`, id, sc.PracticeID)
		if err == sql.ErrNoRows {
			return mend.NotFound("Message")
		}
		if err != nil {
			return err
		}
		if status != StatusFailed {
			return mend.Errorf(mend.ECONFLICT, "Only a failed message can be sent again; this one is %s.", status)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_delivery SET status = 'queued', generation = generation + 1, attempts = 0,
			    enqueued_at = NULL, lease_until = NULL, updated_at = now()
			WHERE email_id = $1`, id); err != nil {
			return err
		}
		return log.Record(ctx, tx, sc, audit.Entry{Action: "mail.resend", ObjectType: "email", ObjectID: id})
	})
}

// Pick returns the messages among ids that belong to the caller's
// practice (the queues page shows only those).
func (o *Outbox) Pick(ctx context.Context, sc mend.Scope, ids []int64) (map[int64]LogEntry, error) {
	out := map[int64]LogEntry{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []LogEntry
	err := o.DB.SelectContext(ctx, &rows, `
		SELECT `+logColumns+`, '' AS body_text
		FROM email_log e JOIN email_delivery d ON d.email_id = e.id
		WHERE e.practice_id = $1 AND e.id = ANY($2)`, sc.PracticeID, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("mail: pick: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// PracticeCounts are the caller's practice's email numbers for the admin's
// queues page: what waits, what is being sent, what failed, and what went
// out in the last day. Deployment-wide queue figures are the operator's
// (the metrics listener), never a practice admin's.
type PracticeCounts struct {
	Waiting     int `db:"waiting"`
	Sending     int `db:"sending"`
	Failed      int `db:"failed"`
	SentLastDay int `db:"sent_last_day"`
}

// Counts returns the caller's practice's email numbers.
func (o *Outbox) Counts(ctx context.Context, sc mend.Scope) (PracticeCounts, error) {
	var c PracticeCounts
	err := o.DB.GetContext(ctx, &c, `
		SELECT count(*) FILTER (WHERE status = 'queued') AS waiting,
		       count(*) FILTER (WHERE status = 'sending') AS sending,
		       count(*) FILTER (WHERE status = 'failed') AS failed,
		       count(*) FILTER (WHERE status = 'sent' AND sent_at >= now() - interval '1 day') AS sent_last_day
		FROM email_delivery
		WHERE practice_id = $1 AND (status IN ('queued', 'sending', 'failed') OR sent_at >= now() - interval '1 day')`,
		sc.PracticeID)
	if err != nil {
		return PracticeCounts{}, fmt.Errorf("mail: counts: %w", err)
	}
	return c, nil
}
