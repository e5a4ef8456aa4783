package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/time/rate"

	"github.com/mend-practice/mend/internal/db"
)

// Health is the state of delivery as a whole (table mail_health): whether
// the SMTP server is refusing or unreachable, since when, and its last
// reply. Workers record into it; the admin's mail page and /metrics read
// it. Every method is a no-op on a nil *Health.
type Health struct {
	DB     *sqlx.DB
	Logger *slog.Logger
	// LogEvery bounds the failure log to one line per period (default
	// 10s); the line says how many failures it stands for.
	LogEvery time.Duration
	// Resume runs the retries that wait in asynq now, once the server
	// answers again (see recovered).
	Resume func(ctx context.Context) error

	mu         sync.Mutex
	failing    bool            // this process saw a failure and no success since
	lines      *rate.Sometimes // the failure log's limit; nil: the next failure is logged
	suppressed atomic.Int64    // failures since the last line
	// stmts: Status runs on every showing of the pages that say whether
	// email goes out (the pair page, the invitations shown).
	stmts db.Statements
}

// HealthStatus is what the admin's mail page shows.
type HealthStatus struct {
	FailingSince sql.NullTime `db:"failing_since"`
	// LastReply says how the server refused (outageSummary): no address,
	// no text of the server's.
	LastReply string `db:"last_reply"`
}

// Status reads the state of delivery.
func (h *Health) Status(ctx context.Context) (HealthStatus, error) {
	var st HealthStatus
	err := h.stmts.Get(ctx, h.DB, &st, `SELECT failing_since, last_reply FROM mail_health`)
	if errors.Is(err, sql.ErrNoRows) {
		return HealthStatus{}, nil
	}
	return st, err
}

// outage says whether a failure is the server's (refusing, unreachable)
// rather than one message's (a recipient refused, a bad address).
func outage(err error) bool {
	var se *SendError
	if errors.As(err, &se) && se.Permanent && (se.Stage == "rcpt" || se.Stage == "compose") {
		return false
	}
	return true
}

// outageSummary is an outage as every practice's admin may read it: the
// server's reply code, never its words (which may quote an address).
func outageSummary(err error) string {
	var se *SendError
	switch {
	case errors.As(err, &se) && se.Code != 0:
		return fmt.Sprintf("the mail server answered %d to %s", se.Code, strings.ToUpper(se.Stage))
	case errors.Is(err, ErrUnconfirmed):
		return "the mail server did not confirm a message it was sent"
	}
	return "the mail server could not be reached"
}

// failed records one failed attempt of email id: counted, logged (at most
// once per LogEvery, with the server's reply and never the message), and,
// when it is the server's failure, the start of an outage. retry says the
// row waits for another attempt.
func (h *Health) failed(ctx context.Context, id int64, err error, retry bool) {
	if h == nil {
		return
	}
	var se *SendError
	if errors.As(err, &se) && se.Stage == "compose" {
		return // not the SMTP server's doing
	}
	down := outage(err)
	retries := 0
	if retry {
		retries = 1
	}
	if _, uerr := h.DB.ExecContext(ctx, `
		UPDATE mail_health SET smtp_failures = smtp_failures + 1, retries = retries + $1,
		    last_failure_at = now(),
		    last_reply = CASE WHEN $3 THEN $2 ELSE last_reply END,
		    failing_since = CASE WHEN $3 THEN coalesce(failing_since, now()) ELSE failing_since END`,
		retries, outageSummary(err), down); uerr != nil {
		h.log().Warn("could not record an email delivery failure", "err", uerr)
	}
	h.mu.Lock()
	if down {
		h.failing = true
	}
	if h.lines == nil {
		every := h.LogEvery
		if every <= 0 {
			every = 10 * time.Second
		}
		h.lines = &rate.Sometimes{Interval: every}
	}
	lines := h.lines
	h.mu.Unlock()
	h.suppressed.Add(1)
	lines.Do(func() {
		h.log().Warn("email delivery failed", "email_id", id, "smtp_reply", reason(err), "will_retry", retry,
			"failures_since_last_line", h.suppressed.Swap(0)-1)
	})
}

// succeeded notes a message the server accepted: if this process had
// seen delivery failing, it has recovered.
func (h *Health) succeeded(ctx context.Context) {
	if h == nil {
		return
	}
	h.mu.Lock()
	was := h.failing
	h.failing = false
	h.mu.Unlock()
	if was {
		h.recovered(ctx)
	}
}

// recovered ends an outage: the state is cleared, the next failure is
// logged at once, and the messages waiting for a retry go now instead of
// at the end of their backoff (up to an hour).
func (h *Health) recovered(ctx context.Context) {
	h.mu.Lock()
	h.failing, h.lines = false, nil
	h.mu.Unlock()
	var since sql.NullTime
	err := h.DB.GetContext(ctx, &since, `
		WITH old AS (SELECT failing_since FROM mail_health FOR UPDATE)
		UPDATE mail_health SET failing_since = NULL FROM old
		RETURNING old.failing_since`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		h.log().Warn("could not record that email delivery recovered", "err", err)
		return
	}
	if !since.Valid {
		return // another worker saw it first, or there was no outage
	}
	res, err := h.DB.ExecContext(ctx, `
		UPDATE email_delivery SET enqueued_at = now(), updated_at = now()
		WHERE status = 'queued' AND enqueued_at > now()`)
	var waiting int64
	if err == nil {
		waiting, _ = res.RowsAffected()
	}
	if err == nil && h.Resume != nil {
		err = h.Resume(ctx)
	}
	if err != nil {
		h.log().Warn("email delivery recovered; the waiting retries keep their backoff", "err", err)
	}
	h.log().Info("email delivery recovered", "failing_for", time.Since(since.Time).Round(time.Second).String(),
		"retries_resumed", waiting)
}

func (h *Health) failingNow(ctx context.Context) (bool, error) {
	var failing bool
	err := h.DB.GetContext(ctx, &failing, `SELECT failing_since IS NOT NULL FROM mail_health`)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return failing, err
}

func (h *Health) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// Stats are the figures /metrics exports about email.
type Stats struct {
	ByStatus map[string]int64
	// OldestUnsent is the age of the oldest message queued or being sent
	// (0: none).
	OldestUnsent time.Duration
	SMTPFailures int64
	Retries      int64
	Failing      bool
}

// Stats reads the figures for /metrics.
func (h *Health) Stats(ctx context.Context) (Stats, error) {
	st := Stats{ByStatus: map[string]int64{}}
	for _, s := range Statuses {
		st.ByStatus[s] = 0
	}
	var rows []struct {
		Status string `db:"status"`
		N      int64  `db:"n"`
	}
	if err := h.DB.SelectContext(ctx, &rows, `SELECT status, count(*) AS n FROM email_delivery GROUP BY status`); err != nil {
		return st, fmt.Errorf("mail: stats: %w", err)
	}
	for _, r := range rows {
		st.ByStatus[r.Status] = r.N
	}
	var oldest sql.NullFloat64
	if err := h.DB.GetContext(ctx, &oldest, `
		SELECT extract(epoch FROM now() - e.created_at) FROM email_log e
		WHERE e.id = (SELECT min(email_id) FROM email_delivery WHERE status IN ('queued', 'sending'))`); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("mail: stats: %w", err)
	}
	st.OldestUnsent = time.Duration(oldest.Float64 * float64(time.Second))
	err := h.DB.QueryRowxContext(ctx, `SELECT smtp_failures, retries, failing_since IS NOT NULL FROM mail_health`).
		Scan(&st.SMTPFailures, &st.Retries, &st.Failing)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("mail: stats: %w", err)
	}
	return st, nil
}
