package mail

import (
	"context"
	"database/sql"
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
// is the installation's id and the row id ("<installation>:<id>") and
// nothing else: no address, no text.
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

// NewDeliverTask is the task for row id of the installation; generation
// (see the migration) makes the TaskID, so enqueueing the same row twice
// collapses into one task while it is in Redis. The installation is in the
// TaskID too: row 7 of one installation must not swallow row 7 of another
// that shares the Redis database.
func NewDeliverTask(installation string, id int64, generation int) (*asynq.Task, asynq.Option) {
	return asynq.NewTask(TypeDeliver, []byte(installation+":"+strconv.FormatInt(id, 10))),
		asynq.TaskID(fmt.Sprintf("email:%s:%d:%d", installation, id, generation))
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
	// abandoned; the worker renews it every RenewEvery (default a third of
	// it) while it still has the row, so a dead worker's rows are sent
	// again within about a lease, however long a send may take.
	Lease      time.Duration
	RenewEvery time.Duration
	// MaxAttempts counts claims of a row; a temporary failure on the last
	// one marks the row failed.
	MaxAttempts int
	// RetryDelay is the backoff after the n-th failed attempt; the asynq
	// server uses the same function (see RetryDelayFunc).
	RetryDelay func(attempt int) time.Duration
	// SentLinger is how long a sent row may wait to be marked sent
	// (default DefaultSentLinger).
	SentLinger time.Duration
	// Health records failures and recoveries of delivery as a whole
	// (mail_health) and logs them; nil: neither.
	Health *Health

	once   sync.Once
	claims *group[claimed]
	sent   *sentMarks
	held   heldRows
	stop   chan struct{}
	closed sync.Once
}

// Defaults for Delivery and Relay.
const (
	DefaultLease       = 20 * time.Second
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

func (d *Delivery) renewEvery() time.Duration {
	if d.RenewEvery > 0 {
		return d.RenewEvery
	}
	return d.lease() / 3
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

// HandleTask is the asynq handler for TypeDeliver. Whose task it is (the
// installation) the worker has checked before.
func (d *Delivery) HandleTask(ctx context.Context, t *asynq.Task) error {
	_, row, _ := strings.Cut(string(t.Payload()), ":")
	id, err := strconv.ParseInt(row, 10, 64)
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

func (m claimed) outgoing() Outgoing {
	return Outgoing{
		ID: m.ID, FromName: m.FromName, ReplyTo: m.ReplyTo, To: m.To, ToName: m.ToName,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Unsubscribe: m.Unsubscribe,
	}
}

// Deliver claims row id and sends it. It returns nil when there is nothing
// (more) to do, an error wrapping asynq.SkipRetry for permanent failures,
// and another error for a temporary failure to be retried.
func (d *Delivery) Deliver(ctx context.Context, id int64) error {
	_, err := d.deliver(ctx, id)
	return err
}

// deliver is Deliver; sent says the SMTP server accepted the message.
func (d *Delivery) deliver(ctx context.Context, id int64) (sent bool, err error) {
	d.once.Do(d.init)
	m, ok, err := d.claims.do(ctx, id)
	if err != nil {
		return false, fmt.Errorf("mail: claim %d: %w", id, err)
	}
	if !ok {
		// Sent, failed, skipped, or another worker holds it.
		return false, nil
	}
	// Held (its lease renewed) until its state leaves 'sending': by the
	// sent mark, or below.
	d.held.add(id)
	done := false
	defer func() {
		if !done {
			d.held.remove(id)
		}
	}()
	// From here on the row must leave 'sending' even if the task's context
	// ends (timeout, shutdown): record with a context of our own.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if d.Sender == nil {
		return false, d.finish(rec, id, StatusSkipped, ReasonNoSMTP)
	}
	err = d.Sender.Send(ctx, m.outgoing())
	var se *SendError
	switch {
	case err == nil:
		// The server has confirmed. If the mark is lost (worker killed,
		// database unreachable until the lease runs out), the message is
		// sent again: a duplicate, never a loss.
		done = true
		d.sent.add(id)
		d.Health.succeeded(rec)
		return true, nil
	case errors.Is(err, ErrUnconfirmed):
		// Treated as temporary below: the row is sent again.
		d.log().Warn("email's final reply lost; sending again, it may arrive twice", "email_id", id)
	case errors.As(err, &se) && se.Permanent:
		d.Health.failed(rec, id, err, false)
		if ferr := d.finish(rec, id, StatusFailed, reason(err)); ferr != nil {
			return false, ferr
		}
		return false, fmt.Errorf("email %d: permanent failure (%d): %w", id, se.Code, asynq.SkipRetry)
	}
	// Temporary: back to queued for asynq's retry, or failed for good.
	last := m.Attempts >= d.maxAttempts()
	d.Health.failed(rec, id, err, !last)
	if last {
		if ferr := d.finish(rec, id, StatusFailed, fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, reason(err))); ferr != nil {
			return false, ferr
		}
		return false, fmt.Errorf("email %d: gave up after %d attempts: %w", id, m.Attempts, asynq.SkipRetry)
	}
	delay := d.retryDelay(m.Attempts)
	if _, rerr := d.DB.ExecContext(rec, `
		UPDATE email_delivery SET status = 'queued', lease_until = NULL, last_error = $2,
		    enqueued_at = now() + make_interval(secs => $3), updated_at = now()
		WHERE email_id = $1 AND status = 'sending'`, id, reason(err), delay.Seconds()); rerr != nil {
		// The lease runs out and the relay takes the row back.
		return false, fmt.Errorf("mail: release %d: %w", id, rerr)
	}
	// The error asynq keeps (and shows on the queues page) names the row
	// and the kind of failure only; the server's words may quote addresses.
	code := 0
	if se != nil {
		code = se.Code
	}
	return false, fmt.Errorf("email %d: temporary failure (attempt %d, code %d)", id, m.Attempts, code)
}

// claimedColumns are a claimed row's columns, from email_delivery d,
// email_log e and practices p.
const claimedColumns = `e.id, e.to_address, e.to_name, e.subject, e.body_text, e.body_html, e.list_unsubscribe, d.attempts,
	coalesce(nullif(p.mail_from_name, ''), p.name, 'Mend') AS from_name,
	coalesce(p.reply_to, '') AS reply_to`

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
			RETURNING `+claimedColumns,
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
		if err == nil {
			d.held.remove(ids...)
		}
		return err
	}}
	d.stop = make(chan struct{})
	go d.renew(d.stop)
}

// renew extends the lease of every row this worker still has, until stop
// is closed. A worker that dies stops renewing, and its rows come back to
// the relay's sweep within a lease.
func (d *Delivery) renew(stop <-chan struct{}) {
	tick := time.NewTicker(d.renewEvery())
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ids := d.held.list()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), d.renewEvery())
		_, err := d.DB.ExecContext(ctx, `
			UPDATE email_delivery SET lease_until = now() + make_interval(secs => $2)
			WHERE email_id = ANY($1) AND status = 'sending'`, pq.Array(ids), d.lease().Seconds())
		cancel()
		if err != nil {
			d.log().Warn("could not renew the lease of emails being sent; they may be sent twice", "emails", len(ids), "err", err)
		}
	}
}

// Close marks the rows sent that wait to be marked and stops renewing
// leases; the worker calls it once its handlers have returned.
func (d *Delivery) Close(ctx context.Context) error {
	d.once.Do(d.init)
	err := d.sent.flush(ctx)
	d.closed.Do(func() { close(d.stop) })
	if err != nil {
		return fmt.Errorf("mail: mark sent emails: %w", err)
	}
	return nil
}

// heldRows are the rows a worker has claimed and not yet left.
type heldRows struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (h *heldRows) add(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ids == nil {
		h.ids = map[int64]struct{}{}
	}
	h.ids[id] = struct{}{}
}

func (h *heldRows) remove(ids ...int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		delete(h.ids, id)
	}
}

func (h *heldRows) list() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int64, 0, len(h.ids))
	for id := range h.ids {
		out = append(out, id)
	}
	return out
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

// WatchOutage ends an outage quickly: while delivery is failing it sends
// one waiting message every `every` as a probe, and once the server
// accepts it (or answers about that message only), the other messages
// waiting for a retry go at once rather than at the end of their backoff.
// It returns when ctx ends.
func (d *Delivery) WatchOutage(ctx context.Context, every time.Duration) {
	if d.Sender == nil || d.Health == nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if failing, err := d.Health.failingNow(ctx); err != nil || !failing {
			continue
		}
		answered, err := d.probe(ctx)
		if err != nil && ctx.Err() == nil {
			d.log().Warn("email delivery probe", "err", err)
		}
		if answered {
			d.Health.recovered(context.WithoutCancel(ctx))
		}
	}
}

// probe sends the message whose retry is due first, ahead of its time. A
// probe costs the row none of its attempts: on failure it goes back to
// waiting as it was.
func (d *Delivery) probe(ctx context.Context) (answered bool, err error) {
	d.once.Do(d.init)
	var m claimed
	err = d.DB.GetContext(ctx, &m, `
		UPDATE email_delivery d SET status = 'sending', lease_until = now() + make_interval(secs => $1), updated_at = now()
		FROM email_log e LEFT JOIN practices p ON p.id = e.practice_id
		WHERE d.email_id = (SELECT email_id FROM email_delivery WHERE status = 'queued' AND enqueued_at > now()
		                    ORDER BY enqueued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		  AND d.status = 'queued' AND e.id = d.email_id
		RETURNING `+claimedColumns, d.lease().Seconds())
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // nothing waits for a retry: the next message tells
	}
	if err != nil {
		return false, fmt.Errorf("mail: probe: %w", err)
	}
	d.held.add(m.ID)
	err = d.Sender.Send(ctx, m.outgoing())
	if err == nil {
		d.sent.add(m.ID)
		return true, nil
	}
	d.held.remove(m.ID)
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	d.Health.failed(rec, m.ID, err, true)
	if _, rerr := d.DB.ExecContext(rec, `
		UPDATE email_delivery SET status = 'queued', lease_until = NULL, last_error = $2, updated_at = now()
		WHERE email_id = $1 AND status = 'sending'`, m.ID, reason(err)); rerr != nil {
		return false, fmt.Errorf("mail: release probe %d: %w", m.ID, rerr)
	}
	return !outage(err), nil
}
