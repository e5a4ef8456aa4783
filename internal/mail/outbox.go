// Package mail renders Mend's emails and records them in the email log (the
// outbox). A message is first a row, written in the same transaction as the
// change that caused it; delivery works from the rows.
package mail

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paths"
)

// Kinds of message.
const (
	KindInvitation    = "invitation"
	KindPasswordReset = "password_reset"
	// KindSecurityNotice tells a person that their password or second
	// factor changed (never what it changed to).
	KindSecurityNotice = "security_notice"
)

// Message is one email to queue. Data feeds templates/email/<Template>.txt
// and .html; it must never hold clinical text.
type Message struct {
	PracticeID int64
	UserID     int64
	To         string
	ToName     string
	Kind       string
	DedupeKey  string // empty: no deduplication
	Template   string
	Data       map[string]any
	// Unsubscribe adds a one-click unsubscribe link for UserID (reminders):
	// in the footer (.UnsubscribeURL) and as the List-Unsubscribe header.
	Unsubscribe bool
}

// Outbox renders messages and writes them to the email log. Delivery picks
// the rows up after the writing transaction commits (see Relay).
type Outbox struct {
	DB *sqlx.DB
	// BaseURL starts the unsubscribe links (config BASE_URL).
	BaseURL string
	// Links signs the unsubscribe links; nil: a message that needs one is
	// refused.
	Links *UnsubscribeLinks
	text  map[string]*texttemplate.Template
	html  map[string]*htmltemplate.Template
}

// NewOutbox parses every email template in fsys (templates.FS).
func NewOutbox(d *sqlx.DB, fsys fs.FS) (*Outbox, error) {
	o := &Outbox{DB: d, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	names, err := fs.Glob(fsys, "email/*.txt")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "email/"), ".txt")
		t, err := texttemplate.ParseFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("mail: %s: %w", n, err)
		}
		h, err := htmltemplate.ParseFS(fsys, "email/layout.html", "email/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: %s.html: %w", name, err)
		}
		o.text[name], o.html[name] = t, h
	}
	return o, nil
}

// Rendered is a message's subject and bodies.
type Rendered struct {
	Subject, Text, HTML string
}

// Render renders a message without recording it.
func (o *Outbox) Render(m Message) (Rendered, error) {
	t, h := o.text[m.Template], o.html[m.Template]
	if t == nil || h == nil {
		return Rendered{}, fmt.Errorf("mail: no template %q", m.Template)
	}
	var subj, text, html bytes.Buffer
	if err := t.ExecuteTemplate(&subj, "subject", m.Data); err != nil {
		return Rendered{}, err
	}
	if err := t.ExecuteTemplate(&text, "body", m.Data); err != nil {
		return Rendered{}, err
	}
	if err := h.ExecuteTemplate(&html, "layout", m.Data); err != nil {
		return Rendered{}, err
	}
	// A subject is one line: CR/LF from a name can never start a header.
	subject := strings.Join(strings.Fields(subj.String()), " ")
	return Rendered{Subject: subject, Text: text.String(), HTML: html.String()}, nil
}

// Queue renders m and records it as queued, in q (a transaction when the
// message belongs to a larger change). It returns the row id, or 0 when a
// message with the same dedupe key exists already.
func (o *Outbox) Queue(ctx context.Context, q sqlx.QueryerContext, m Message) (int64, error) {
	rows, err := o.queueMany(ctx, q, []Message{m}, false)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[0].ID, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// LogEntry is an email log row as the admin sees it.
type LogEntry struct {
	ID        int64        `db:"id"`
	To        string       `db:"to_address"`
	ToName    string       `db:"to_name"`
	Kind      string       `db:"kind"`
	Subject   string       `db:"subject"`
	Status    string       `db:"status"`
	Attempts  int          `db:"attempts"`
	LastError string       `db:"last_error"`
	CreatedAt time.Time    `db:"created_at"`
	SentAt    sql.NullTime `db:"sent_at"`
	BodyText  string       `db:"body_text"`
}

// logColumns are a LogEntry's columns but the body, from email_log e and
// its email_delivery d.
const logColumns = `e.id, e.to_address, e.to_name, e.kind, e.subject, d.status, d.attempts, d.last_error, e.created_at, d.sent_at`

// Recent lists the practice's latest messages (admin page).
func (o *Outbox) Recent(ctx context.Context, sc mend.Scope, limit int) ([]LogEntry, error) {
	var rows []LogEntry
	err := o.DB.SelectContext(ctx, &rows, `
		SELECT `+logColumns+`, '' AS body_text
		FROM email_log e JOIN email_delivery d ON d.email_id = e.id
		WHERE e.practice_id = $1
		ORDER BY e.created_at DESC, e.id DESC LIMIT $2`, sc.PracticeID, limit)
	return rows, err
}

// Get returns one message of the caller's practice, with its text body.
func (o *Outbox) Get(ctx context.Context, sc mend.Scope, id int64) (LogEntry, error) {
	var e LogEntry
	err := o.DB.GetContext(ctx, &e, `
		SELECT `+logColumns+`, e.body_text
		FROM email_log e JOIN email_delivery d ON d.email_id = e.id
		WHERE e.id = $1 AND e.practice_id = $2`, id, sc.PracticeID)
	if err == sql.ErrNoRows {
		return LogEntry{}, mend.NotFound("Message")
	}
	return e, err
}

// QueueMany renders and records several messages with one statement (the
// reminder scheduler queues thousands at a time), in q. It returns the ids
// of the rows written; messages whose dedupe key exists already are left
// out.
func (o *Outbox) QueueMany(ctx context.Context, q sqlx.QueryerContext, msgs []Message) ([]int64, error) {
	rows, err := o.queueMany(ctx, q, msgs, false)
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, err
}

// Queued is a row QueueManyForHandoff wrote: what the relay needs to
// enqueue it.
type Queued struct {
	ID         int64  `db:"id"`
	Kind       string `db:"kind"`
	Generation int    `db:"generation"`
}

// QueueManyForHandoff is QueueMany for a caller that hands the rows to
// asynq itself once its transaction has committed (Relay.Handoff), as the
// reminder scheduler does with thousands of rows a minute: the rows are
// written as already enqueued, so the relay's pass does not take and
// update each of them again. If the caller dies between its commit and the
// hand-off, the relay's sweep enqueues the rows after Relay.Stale.
func (o *Outbox) QueueManyForHandoff(ctx context.Context, q sqlx.QueryerContext, msgs []Message) ([]Queued, error) {
	return o.queueMany(ctx, q, msgs, true)
}

func (o *Outbox) queueMany(ctx context.Context, q sqlx.QueryerContext, msgs []Message, handoff bool) ([]Queued, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	n := len(msgs)
	var (
		practice, user            = make([]sql.NullInt64, n), make([]sql.NullInt64, n)
		to, toName, kind          = make([]string, n), make([]string, n), make([]string, n)
		dedupe                    = make([]sql.NullString, n)
		subject, text, html, unsb = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		linkPractice, linkUser    []int64 // whose unsubscribe links were signed
	)
	for i, m := range msgs {
		if m.Unsubscribe {
			if m.UserID == 0 || m.PracticeID == 0 {
				return nil, fmt.Errorf("mail: queue %s: an unsubscribe link needs a user and a practice", m.Kind)
			}
			if o.Links == nil {
				return nil, fmt.Errorf("mail: queue %s: no key to sign its unsubscribe link", m.Kind)
			}
			unsb[i] = paths.Link(o.BaseURL, "unsubscribe", o.Links.Token(m.PracticeID, m.UserID))
			linkPractice, linkUser = append(linkPractice, m.PracticeID), append(linkUser, m.UserID)
			data := make(map[string]any, len(m.Data)+1)
			for k, v := range m.Data {
				data[k] = v
			}
			data["UnsubscribeURL"] = unsb[i]
			m.Data = data
		}
		r, err := o.Render(m)
		if err != nil {
			return nil, err
		}
		practice[i], user[i] = nullID(m.PracticeID), nullID(m.UserID)
		to[i], toName[i], kind[i] = m.To, m.ToName, m.Kind
		if m.DedupeKey != "" {
			dedupe[i] = sql.NullString{String: m.DedupeKey, Valid: true}
		}
		subject[i], text[i], html[i] = r.Subject, r.Text, r.HTML
	}
	if len(linkUser) > 0 {
		// A link for a user outside the message's practice would lead
		// nowhere: refuse the batch rather than send it.
		var members int
		if err := sqlx.GetContext(ctx, q, &members, `
			SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS t(practice_id, user_id)
			JOIN users u ON u.id = t.user_id AND u.practice_id = t.practice_id`,
			pq.Array(linkPractice), pq.Array(linkUser)); err != nil {
			return nil, fmt.Errorf("mail: unsubscribe links: %w", err)
		}
		if members != len(linkUser) {
			return nil, fmt.Errorf("mail: unsubscribe link for a user outside the message's practice")
		}
	}
	var rows []Queued
	err := sqlx.SelectContext(ctx, q, &rows, `
		WITH ins AS (
			INSERT INTO email_log (practice_id, user_id, to_address, to_name, kind, dedupe_key, subject, body_text, body_html, list_unsubscribe)
			SELECT t.*
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) AS t
			ON CONFLICT (dedupe_key) DO NOTHING
			RETURNING id, practice_id, kind)
		INSERT INTO email_delivery (email_id, practice_id, kind, enqueued_at)
		SELECT id, practice_id, kind, CASE WHEN $11 THEN now() END FROM ins
		RETURNING email_id AS id, kind, generation`,
		pq.Array(practice), pq.Array(user), pq.Array(to), pq.Array(toName), pq.Array(kind), pq.Array(dedupe),
		pq.Array(subject), pq.Array(text), pq.Array(html), pq.Array(unsb), handoff)
	if err != nil {
		return nil, fmt.Errorf("mail: queue %d messages: %w", n, err)
	}
	return rows, nil
}
