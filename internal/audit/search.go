package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/csvout"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// The admin's view of the audit log: filters, pages and a
// CSV export. Only admins read it, and only their own practice.

// Filter is the audit log filter as typed in the form.
type Filter struct {
	User   string // a user id of the practice ("" any)
	Client string // a client's email ("" any)
	Action string // an exact action ("" any)
	From   string // YYYY-MM-DD, in the admin's timezone ("" open)
	To     string // YYYY-MM-DD, included ("" open)
}

// Empty reports whether nothing is filtered.
func (f Filter) Empty() bool { return f == Filter{} }

// where is a parsed filter as SQL, with its arguments after $1 (practice).
type where struct {
	sql  string
	args []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.sql += fmt.Sprintf(" AND "+cond, len(w.args)+1)
}

// parse checks the filter and turns it into SQL. A client email that is
// not a client of the practice, or a bad date, is a field error.
func (l *Log) parse(ctx context.Context, s mend.Scope, f Filter) (where, error) {
	var w where
	var fe mend.FieldErrors
	if f.User != "" {
		id, err := strconv.ParseInt(f.User, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("user", "Choose a person from the list.")
		} else {
			w.add("a.user_id = $%d", id)
		}
	}
	if email := strings.ToLower(strings.TrimSpace(f.Client)); email != "" {
		var id int64
		err := l.DB.GetContext(ctx, &id, `SELECT id FROM users WHERE email = $1 AND practice_id = $2 AND role = 'client'`, email, s.PracticeID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			fe.Add("client", "No client of your practice has this email address.")
		case err != nil:
			return w, fmt.Errorf("audit: find client: %w", err)
		default:
			w.add("a.client_id = $%d", id)
		}
	}
	if a := strings.TrimSpace(f.Action); a != "" {
		w.add("a.action = $%d", a)
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" {
		loc = time.UTC
	}
	var from, to time.Time
	if f.From != "" {
		if from, err = time.ParseInLocation("2006-01-02", f.From, loc); err != nil {
			fe.Add("from", "Enter a date like 2026-01-31.")
		}
	}
	if f.To != "" {
		if to, err = time.ParseInLocation("2006-01-02", f.To, loc); err != nil {
			fe.Add("to", "Enter a date like 2026-01-31.")
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		fe.Add("to", "The end date must not be before the start date.")
	}
	if err := fe.Err(); err != nil {
		return w, err
	}
	if !from.IsZero() {
		w.add("a.at >= $%d", from)
	}
	if !to.IsZero() {
		w.add("a.at < $%d", to.AddDate(0, 0, 1))
	}
	return w, nil
}

// SearchRow is one audit entry with names.
type SearchRow struct {
	Row
	ClientName sql.NullString `db:"client_name"`
	ObjectName sql.NullString `db:"object_name"`
}

var searchColumns = `a.id, a.at, a.user_id, u.name AS user_name, a.role, a.action, a.object_type,
	a.object_id, a.client_id, cl.name AS client_name, a.outcome, a.ip, ` + objectNameSQL + ` AS object_name`

const searchFrom = ` FROM audit_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN users cl ON cl.id = a.client_id`

// Search returns a page of the practice's audit log, newest first. Any
// date range may be chosen; the indexes on (practice, user / client /
// action, time) keep each filter a range scan.
func (l *Log) Search(ctx context.Context, s mend.Scope, f Filter, pr paging.Request) (paging.Page[SearchRow], error) {
	if s.Role != mend.RoleAdmin {
		return paging.Page[SearchRow]{}, mend.NotFound("Audit log")
	}
	w, err := l.parse(ctx, s, f)
	if err != nil {
		return paging.Page[SearchRow]{}, err
	}
	n := len(w.args) + 2
	var rows []SearchRow
	err = l.DB.SelectContext(ctx, &rows, `SELECT `+searchColumns+searchFrom+`
		WHERE a.practice_id = $1`+w.sql+fmt.Sprintf(`
		ORDER BY a.at DESC, a.id DESC LIMIT $%d OFFSET $%d`, n, n+1),
		append(append([]any{s.PracticeID}, w.args...), pr.Limit(), pr.Offset())...)
	if err != nil {
		return paging.Page[SearchRow]{}, fmt.Errorf("audit: search: %w", err)
	}
	return paging.Of(pr, rows), nil
}

// Actions lists the actions that occur in the practice's log, for the
// filter's choices. It skips through the (practice, action) index one
// action at a time, so it costs a few index probes however long the log.
func (l *Log) Actions(ctx context.Context, s mend.Scope) ([]string, error) {
	if s.Role != mend.RoleAdmin {
		return nil, mend.NotFound("Audit log")
	}
	var out []string
	err := l.DB.SelectContext(ctx, &out, `
		WITH RECURSIVE act AS (
			(SELECT action FROM audit_log WHERE practice_id = $1 ORDER BY action LIMIT 1)
			UNION ALL
			SELECT (SELECT a.action FROM audit_log a WHERE a.practice_id = $1 AND a.action > act.action
			        ORDER BY a.action LIMIT 1)
			FROM act WHERE act.action IS NOT NULL
		)
		SELECT action FROM act WHERE action IS NOT NULL`, s.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	return out, nil
}

// ExportColumns are the CSV export's columns.
var ExportColumns = []string{"at", "user_id", "user", "role", "action", "object_type", "object_id", "client_id", "client", "outcome", "ip"}

// Export writes every entry matching the filter as CSV, newest first,
// streaming rows as they come, and records the export itself first.
func (l *Log) Export(ctx context.Context, s mend.Scope, f Filter, w io.Writer) error {
	if s.Role != mend.RoleAdmin {
		return mend.NotFound("Audit log")
	}
	wh, err := l.parse(ctx, s, f)
	if err != nil {
		return err
	}
	if err := l.Record(ctx, nil, s, Entry{Action: "audit.export", ObjectType: "audit_log"}); err != nil {
		return err
	}
	rows, err := l.DB.QueryxContext(ctx, `SELECT `+searchColumns+searchFrom+`
		WHERE a.practice_id = $1`+wh.sql+` ORDER BY a.at DESC, a.id DESC`,
		append([]any{s.PracticeID}, wh.args...)...)
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	defer rows.Close()
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil || s.Timezone == "" {
		loc = time.UTC
	}
	cw := csvout.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return err
	}
	id := func(n sql.NullInt64) string {
		if n.Valid {
			return strconv.FormatInt(n.Int64, 10)
		}
		return ""
	}
	for rows.Next() {
		var r SearchRow
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("audit: export row: %w", err)
		}
		if err := cw.Write([]string{r.At.In(loc).Format(time.RFC3339), id(r.UserID), r.UserName.String, r.Role,
			r.Action, r.ObjectType, id(r.ObjectID), id(r.ClientID), r.ClientName.String, r.Outcome, r.IP}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: export rows: %w", err)
	}
	return cw.Flush()
}
