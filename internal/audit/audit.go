// Package audit appends to and reads the audit log: who read which client's
// records, and every refused access. The table refuses updates and deletes.
package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// Outcomes.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Entry is one audited event. It never carries clinical text: only what kind
// of thing was touched and its id.
type Entry struct {
	Action     string // e.g. "pair.read", "checkin.read", "route.denied"
	ObjectType string // e.g. "pair", "checkin", "route"
	ObjectID   int64
	ClientID   int64 // the client whose records were involved, if any
	Outcome    string
}

// Log writes audit entries.
type Log struct {
	DB *sqlx.DB

	stmts db.Statements // the inserts, prepared: many pages make one
	group writeGroup    // entries written on the pool by concurrent requests
}

// Record appends e for the caller in s. q may be a transaction so that the
// entry commits with the read or change it describes; nil uses the pool,
// where the entries of concurrent requests are written together (see
// writeGroup) and Record returns once e is committed.
func (l *Log) Record(ctx context.Context, q sqlx.ExecerContext, s mend.Scope, e Entry) error {
	if q == nil && l.DB != nil {
		return l.writePooled(ctx, s, e, []int64{e.ClientID})
	}
	q, role := l.defaults(q, s, &e)
	_, err := l.stmts.On(l.DB, q).Exec(ctx, `
		INSERT INTO audit_log (practice_id, user_id, role, action, object_type, object_id, client_id, outcome, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		nullID(s.PracticeID), nullID(s.UserID), role, e.Action, e.ObjectType, nullID(e.ObjectID), nullID(e.ClientID), e.Outcome, s.IP)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// RecordClients appends e once for each distinct client in clients (a read
// of several clients' records), in one statement; no clients, no entry.
func (l *Log) RecordClients(ctx context.Context, q sqlx.ExecerContext, s mend.Scope, e Entry, clients []int64) error {
	var ids []int64
	for _, id := range clients {
		if id != 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if q == nil && l.DB != nil {
		return l.writePooled(ctx, s, e, ids)
	}
	if len(ids) == 1 {
		e.ClientID = ids[0]
		return l.Record(ctx, q, s, e)
	}
	q, role := l.defaults(q, s, &e)
	_, err := l.stmts.On(l.DB, q).Exec(ctx, `
		INSERT INTO audit_log (practice_id, user_id, role, action, object_type, object_id, client_id, outcome, ip)
		SELECT $1, $2, $3, $4, $5, $6, c, $8, $9 FROM unnest($7::bigint[]) WITH ORDINALITY u(c, n) ORDER BY n`,
		nullID(s.PracticeID), nullID(s.UserID), role, e.Action, e.ObjectType, nullID(e.ObjectID), pq.Array(ids), e.Outcome, s.IP)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// writePooled appends e once per client (0: about no client) through the
// write group.
func (l *Log) writePooled(ctx context.Context, s mend.Scope, e Entry, clients []int64) error {
	_, role := l.defaults(nil, s, &e)
	rows := make([]row, len(clients))
	for i, c := range clients {
		rows[i] = row{practice: s.PracticeID, user: s.UserID, role: role, action: e.Action, objectType: e.ObjectType,
			objectID: e.ObjectID, client: c, outcome: e.Outcome, ip: s.IP}
	}
	if err := l.group.write(ctx, l, rows); err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// defaults fills in what an entry leaves out: the pool, the outcome OK and
// the anonymous role.
func (l *Log) defaults(q sqlx.ExecerContext, s mend.Scope, e *Entry) (sqlx.ExecerContext, string) {
	if q == nil {
		q = l.DB
	}
	if e.Outcome == "" {
		e.Outcome = OK
	}
	role := string(s.Role)
	if role == "" {
		role = string(mend.RoleAnonymous)
	}
	return q, role
}

// Append writes e for the caller in s with tx: a store passes the
// transaction of the change it describes, so that the change and its entry
// commit together or not at all.
func Append(ctx context.Context, tx sqlx.ExecerContext, s mend.Scope, e Entry) error {
	return (&Log{}).Record(ctx, tx, s, e)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// Row is one audit entry as read back.
type Row struct {
	ID         int64          `db:"id"`
	At         time.Time      `db:"at"`
	UserID     sql.NullInt64  `db:"user_id"`
	UserName   sql.NullString `db:"user_name"`
	Role       string         `db:"role"`
	Action     string         `db:"action"`
	ObjectType string         `db:"object_type"`
	ObjectID   sql.NullInt64  `db:"object_id"`
	ClientID   sql.NullInt64  `db:"client_id"`
	Outcome    string         `db:"outcome"`
	IP         string         `db:"ip"`
}

// Recent returns the latest entries of the caller's practice (admins only:
// the web layer's policy decides who reaches this).
func (l *Log) Recent(ctx context.Context, s mend.Scope, limit int) ([]Row, error) {
	var rows []Row
	err := l.DB.SelectContext(ctx, &rows, `
		SELECT a.id, a.at, a.user_id, u.name AS user_name, a.role, a.action, a.object_type,
		       a.object_id, a.client_id, a.outcome, a.ip
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE a.practice_id = $1
		ORDER BY a.at DESC, a.id DESC
		LIMIT $2`, s.PracticeID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: recent: %w", err)
	}
	return rows, nil
}
