package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
)

// TypeDeliver is the asynq task that delivers one email_log row. Its payload
// is the row id in decimal and nothing else: no address, no text.
const TypeDeliver = "email:deliver"

// Statuses of an email_log row.
const (
	StatusQueued  = "queued"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// ReasonNoSMTP is recorded on messages rendered while no SMTP_URL is set.
const ReasonNoSMTP = "no SMTP configured"

// NewDeliverTask is the task for row id; generation (see the migration)
// makes the TaskID, so enqueueing the same row twice collapses into one
// task while it is in Redis.
func NewDeliverTask(id int64, generation int) (*asynq.Task, asynq.Option) {
	return asynq.NewTask(TypeDeliver, []byte(strconv.FormatInt(id, 10))),
		asynq.TaskID(fmt.Sprintf("email:%d:%d", id, generation))
}

// Delivery sends email_log rows: exactly once per row in normal operation,
// at least once across a worker crash.
//
// Exactly one worker sends a row: the claim (queued → sending, with a
// lease) is the guard, not asynq, which delivers a task at least once; two
// workers, or the same task handled twice at once, find the row claimed and
// do nothing. The order of one delivery is: claim, write the whole message
// and the final ".", read the server's 250, mark the row sent (within
// SentLinger, together with the other messages sent meanwhile, see
// sentMarks). A worker killed anywhere before that last commit leaves the
// row in 'sending'; when its lease runs out the relay queues it again and
// it is sent again, so a message is never lost (safety alerts go this
// way). The price is a duplicate when the worker died after the "." was
// written but before `sent` was committed (or the server's reply was lost
// on the way): that message arrives twice, with the same Message-ID
// (mend-email-<row id>@…, see SMTPSender), so the receiving system can
// tell it is one message. Close marks what is waiting when a worker stops.
type Delivery struct {
	DB     *sqlx.DB
	Sender Sender // nil: no SMTP configured; rows are marked skipped
	Logger *slog.Logger
	// Lease is how long a claim holds before the row is presumed
	// abandoned. It must exceed the task timeout.
	Lease time.Duration
	// MaxAttempts counts claims of a row; a temporary failure on the last
	// one marks the row failed.
	MaxAttempts int
	// RetryDelay is the backoff after the n-th failed attempt; the asynq
	// server uses the same function (see RetryDelayFunc).
	RetryDelay func(attempt int) time.Duration
	// SentLinger is how long a sent row may wait to be marked sent
	// (default DefaultSentLinger).
	SentLinger time.Duration

	once   sync.Once
	claims *group[claimed]
	sent   *sentMarks
}

// Defaults for Delivery and Relay.
const (
	DefaultLease       = 2 * time.Minute
	DefaultMaxAttempts = 8
	DefaultTaskTimeout = time.Minute
	DefaultSendTimeout = 20 * time.Second
)

// DefaultRetryDelay backs off from half a minute to an hour: 30s, 1m, 2m,
// 4m, … 60m.
func DefaultRetryDelay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := 30 * time.Second << min(attempt-1, 7)
	return min(d, time.Hour)
}

func (d *Delivery) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return DefaultLease
}

func (d *Delivery) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (d *Delivery) retryDelay(attempt int) time.Duration {
	if d.RetryDelay != nil {
		return d.RetryDelay(attempt)
	}
	return DefaultRetryDelay(attempt)
}

// RetryDelayFunc is the asynq server's backoff: the same as the row's.
func (d *Delivery) RetryDelayFunc(n int, _ error, t *asynq.Task) time.Duration {
	if t.Type() == TypeDeliver {
		return d.retryDelay(n + 1)
	}
	return asynq.DefaultRetryDelayFunc(n, nil, t)
}

// HandleTask is the asynq handler for TypeDeliver.
func (d *Delivery) HandleTask(ctx context.Context, t *asynq.Task) error {
	id, err := strconv.ParseInt(string(t.Payload()), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("mail: bad task payload: %w", asynq.SkipRetry)
	}
	return d.Deliver(ctx, id)
}

type claimed struct {
	ID          int64  `db:"id"`
	To          string `db:"to_address"`
	ToName      string `db:"to_name"`
	Subject     string `db:"subject"`
	Text        string `db:"body_text"`
	HTML        string `db:"body_html"`
	Unsubscribe string `db:"list_unsubscribe"`
	Attempts    int    `db:"attempts"`
	FromName    string `db:"from_name"`
	ReplyTo     string `db:"reply_to"`
}

// Deliver claims row id and sends it. It returns nil when there is nothing
// (more) to do, an error wrapping asynq.SkipRetry for permanent failures,
// and another error for a temporary failure to be retried.
func (d *Delivery) Deliver(ctx context.Context, id int64) error {
	d.once.Do(d.init)
	m, ok, err := d.claims.do(ctx, id)
	if err != nil {
		return fmt.Errorf("mail: claim %d: %w", id, err)
	}
	if !ok {
		// Sent, failed, skipped, or another worker holds it.
		return nil
	}
	// From here on the row must leave 'sending' even if the task's context
	// ends (timeout, shutdown): record with a context of our own.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if d.Sender == nil {
		return d.finish(rec, id, StatusSkipped, ReasonNoSMTP)
	}
	err = d.Sender.Send(ctx, Outgoing{
		ID: m.ID, FromName: m.FromName, ReplyTo: m.ReplyTo, To: m.To, ToName: m.ToName,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Unsubscribe: m.Unsubscribe,
	})
	var se *SendError
	switch {
	case err == nil:
		// The server has confirmed. If the mark is lost (worker killed,
		// database unreachable until the lease runs out), the message is
		// sent again: a duplicate, never a loss.
		d.sent.add(id)
		return nil
	case errors.Is(err, ErrUnconfirmed):
		// Treated as temporary below: the row is sent again.
		d.log().Warn("email's final reply lost; sending again, it may arrive twice", "email_id", id)
	case errors.As(err, &se) && se.Permanent:
		if ferr := d.finish(rec, id, StatusFailed, reason(err)); ferr != nil {
			return ferr
		}
		return fmt.Errorf("email %d: permanent failure (%d): %w", id, se.Code, asynq.SkipRetry)
	}
	// Temporary: back to queued for asynq's retry, or failed for good.
	if m.Attempts >= d.maxAttempts() {
		if ferr := d.finish(rec, id, StatusFailed, fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, reason(err))); ferr != nil {
			return ferr
		}
		return fmt.Errorf("email %d: gave up after %d attempts: %w", id, m.Attempts, asynq.SkipRetry)
	}
	delay := d.retryDelay(m.Attempts)
	if _, rerr := d.DB.ExecContext(rec, `
		UPDATE email_delivery SET status = 'queued', lease_until = NULL, last_error = $2,
		    enqueued_at = now() + make_interval(secs => $3), updated_at = now()
		WHERE email_id = $1 AND status = 'sending'`, id, reason(err), delay.Seconds()); rerr != nil {
		// The lease runs out and the relay takes the row back.
		return fmt.Errorf("mail: release %d: %w", id, rerr)
	}
	// The error asynq keeps (and shows on the queues page) names the row
	// and the kind of failure only; the server's words may quote addresses.
	code := 0
	if se != nil {
		code = se.Code
	}
	return fmt.Errorf("email %d: temporary failure (attempt %d, code %d)", id, m.Attempts, code)
}

// groupMax bounds one group statement.
const groupMax = 200

// init prepares the statements for the two commits every message takes:
// claim (group commit) and sent (written behind).
func (d *Delivery) init() {
	d.claims = &group[claimed]{max: groupMax, run: func(ctx context.Context, ids []int64) (map[int64]claimed, error) {
		var rows []claimed
		err := d.DB.SelectContext(ctx, &rows, `
			UPDATE email_delivery d
			SET status = 'sending', attempts = d.attempts + 1,
			    lease_until = now() + make_interval(secs => $2), updated_at = now()
			FROM email_log e LEFT JOIN practices p ON p.id = e.practice_id
			WHERE d.email_id = ANY($1) AND d.status = 'queued' AND e.id = d.email_id
			RETURNING e.id, e.to_address, e.to_name, e.subject, e.body_text, e.body_html, e.list_unsubscribe, d.attempts,
			    coalesce(nullif(p.mail_from_name, ''), p.name, 'Mend') AS from_name,
			    coalesce(p.reply_to, '') AS reply_to`,
			pq.Array(ids), d.lease().Seconds())
		out := make(map[int64]claimed, len(rows))
		for _, r := range rows {
			out[r.ID] = r
		}
		return out, err
	}}
	linger := d.SentLinger
	if linger <= 0 {
		linger = DefaultSentLinger
	}
	d.sent = &sentMarks{linger: linger, log: d.log(), run: func(ctx context.Context, ids []int64) error {
		_, err := d.DB.ExecContext(ctx, `
			UPDATE email_delivery SET status = 'sent', sent_at = now(), lease_until = NULL,
			    last_error = '', updated_at = now()
			WHERE email_id = ANY($1) AND status = 'sending'`, pq.Array(ids))
		return err
	}}
}

// Close marks the rows sent that wait to be marked; the worker calls it
// once its handlers have returned.
func (d *Delivery) Close(ctx context.Context) error {
	d.once.Do(d.init)
	if err := d.sent.flush(ctx); err != nil {
		return fmt.Errorf("mail: mark sent emails: %w", err)
	}
	return nil
}

func (d *Delivery) finish(ctx context.Context, id int64, status, why string) error {
	_, err := d.DB.ExecContext(ctx, `
		UPDATE email_delivery SET status = $2, last_error = $3, lease_until = NULL, updated_at = now(),
		    sent_at = CASE WHEN $2 = 'sent' THEN now() END
		WHERE email_id = $1 AND status = 'sending'`, id, status, why)
	if err != nil {
		return fmt.Errorf("mail: mark %d %s: %w", id, status, err)
	}
	return nil
}

func (d *Delivery) log() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// reason is an error as the admin's mail log shows it: one line, bounded.
func reason(err error) string {
	s := oneLine(err.Error())
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// OpenStateDB opens the pool the delivery and the relay record state with:
// the same database, with synchronous_commit off. Each message moves
// through two small commits (claim, sent); waiting for the WAL
// flush on each made the disk's fsync latency the ceiling on throughput.
// A worker crash loses nothing this way (PostgreSQL has the commit); only
// a crash of PostgreSQL itself can forget the last fraction of a second of
// state changes, and the rows then go back a step (sending → queued), so a
// message sent in that instant may be sent again. The rows themselves are
// written by the Outbox in the caller's transaction, with full durability:
// a queued message is never lost.
func OpenStateDB(dsn string) (*sqlx.DB, error) {
	u, err := url.Parse(db.ConnString(dsn))
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return nil, errors.New("mail: DATABASE_URL must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("synchronous_commit", "off") // lib/pq sends it as a run-time parameter
	u.RawQuery = q.Encode()
	d, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(40)
	d.SetMaxIdleConns(40)
	d.SetConnMaxIdleTime(5 * time.Minute)
	return d, nil
}
