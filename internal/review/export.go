package review

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/csvout"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/vault"
)

// ExportRow is one check-in in a pair's export.
type ExportRow struct {
	ID            int64              `db:"id"`
	PairID        int64              `db:"pair_id"`
	PairLabel     string             `db:"pair_label"`
	ClientName    string             `db:"client_name"`
	ClientSide    string             `db:"client_side"`
	Homework      string             `db:"homework"`
	PeriodStart   checkin.Date       `db:"period_start"`
	PeriodEnd     checkin.Date       `db:"period_end"`
	Status        checkin.Status     `db:"status"`
	Late          bool               `db:"late"`
	Trust         int                `db:"trust_rating"`
	Communication int                `db:"communication_rating"`
	Hope          int                `db:"hope_rating"`
	Visibility    checkin.Visibility `db:"visibility"`
	CreatedAt     time.Time          `db:"created_at"`
	UpdatedAt     time.Time          `db:"updated_at"`
	Version       int                `db:"version"`
	ReviewedAt    sql.NullTime       `db:"reviewed_at"`
	Feedback      int                `db:"feedback"`
	Answers       checkin.Answers    `db:"-"`
	Reflection    string             `db:"-"`
	SafetyFlag    bool               `db:"safety_flag"`
	SafetyNote    string             `db:"-"`
	// As read: the encrypted columns, opened into the three above (only
	// for the exports that show them).
	SealedAnswers    []byte `db:"answers"`
	SealedReflection []byte `db:"reflection"`
	SealedSafetyNote []byte `db:"safety_note"`
}

// open decrypts a row's text.
func (r *ExportRow) open(ctx context.Context, v *vault.Vault, q sqlx.QueryerContext) error {
	var err error
	r.Answers = checkin.Answers{}
	if r.SealedAnswers != nil {
		raw, err := v.OpenText(ctx, q, vault.CheckinAnswers, r.ID, r.SealedAnswers)
		if err == nil {
			err = r.Answers.Scan(raw)
		}
		if err != nil {
			return fmt.Errorf("review: answers of check-in %d: %w", r.ID, err)
		}
	}
	if r.Reflection, err = v.OpenText(ctx, q, vault.CheckinReflection, r.ID, r.SealedReflection); err != nil {
		return fmt.Errorf("review: reflection of check-in %d: %w", r.ID, err)
	}
	if r.SafetyNote, err = v.OpenText(ctx, q, vault.CheckinSafetyNote, r.ID, r.SealedSafetyNote); err != nil {
		return fmt.Errorf("review: safety note of check-in %d: %w", r.ID, err)
	}
	return nil
}

// Column is one column of the CSV export. CounselorOnly columns hold what
// clients wrote (answers, reflection, safety answer): they go only to the
// pair's own counselor, not to an admin exporting for the practice.
type Column struct {
	Header        string
	CounselorOnly bool
	value         func(r ExportRow, tz *time.Location) string
}

func stamp(t time.Time, tz *time.Location) string { return t.In(tz).Format(time.RFC3339) }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Columns is the export's column set, in order.
var Columns = []Column{
	{"checkin_id", false, func(r ExportRow, _ *time.Location) string { return strconv.FormatInt(r.ID, 10) }},
	{"pair", false, func(r ExportRow, _ *time.Location) string { return r.PairLabel }},
	{"client", false, func(r ExportRow, _ *time.Location) string { return r.ClientName }},
	{"client_side", false, func(r ExportRow, _ *time.Location) string { return pair.SideLabel(r.ClientSide) }},
	{"homework", false, func(r ExportRow, _ *time.Location) string { return r.Homework }},
	{"period_start", false, func(r ExportRow, _ *time.Location) string { return r.PeriodStart.String() }},
	{"period_end", false, func(r ExportRow, _ *time.Location) string { return r.PeriodEnd.String() }},
	{"status", false, func(r ExportRow, _ *time.Location) string { return string(r.Status) }},
	{"late", false, func(r ExportRow, _ *time.Location) string { return yes(r.Late) }},
	{"trust", false, func(r ExportRow, _ *time.Location) string { return strconv.Itoa(r.Trust) }},
	{"communication", false, func(r ExportRow, _ *time.Location) string { return strconv.Itoa(r.Communication) }},
	{"hope", false, func(r ExportRow, _ *time.Location) string { return strconv.Itoa(r.Hope) }},
	{"shared_with_partner", false, func(r ExportRow, _ *time.Location) string { return yes(r.Visibility == checkin.ToPartner) }},
	{"sent_at", false, func(r ExportRow, tz *time.Location) string { return stamp(r.CreatedAt, tz) }},
	{"changed_at", false, func(r ExportRow, tz *time.Location) string {
		if r.Version > 1 {
			return stamp(r.UpdatedAt, tz)
		}
		return ""
	}},
	{"reviewed_at", false, func(r ExportRow, tz *time.Location) string {
		if r.ReviewedAt.Valid {
			return stamp(r.ReviewedAt.Time, tz)
		}
		return ""
	}},
	{"feedback_count", false, func(r ExportRow, _ *time.Location) string { return strconv.Itoa(r.Feedback) }},
	{"answers", true, func(r ExportRow, _ *time.Location) string {
		parts := make([]string, 0, len(r.Answers))
		for _, a := range r.Answers {
			if a.Answer != "" {
				parts = append(parts, a.Question+": "+a.Answer)
			}
		}
		return strings.Join(parts, "\n")
	}},
	{"reflection", true, func(r ExportRow, _ *time.Location) string { return r.Reflection }},
	{"safety_flag", true, func(r ExportRow, _ *time.Location) string { return yes(r.SafetyFlag) }},
	{"safety_note", true, func(r ExportRow, _ *time.Location) string { return r.SafetyNote }},
}

// ColumnsFor is the column set the caller gets for a pair: everything for
// the pair's counselor, the columns without client text for an admin.
func ColumnsFor(sc mend.Scope, p pair.Pair) []Column {
	own := sc.Role == mend.RoleCounselor && p.CounselorID.Valid && p.CounselorID.Int64 == sc.UserID
	out := make([]Column, 0, len(Columns))
	for _, c := range Columns {
		if !c.CounselorOnly || own {
			out = append(out, c)
		}
	}
	return out
}

// ExportCSV writes a pair's check-ins in the range as CSV, one row per
// check-in, oldest period first, and audits the export once per client.
// Timestamps are in the caller's timezone.
func (s *Store) ExportCSV(ctx context.Context, sc mend.Scope, pairID int64, r Range, w io.Writer) error {
	if !staff(sc) {
		return mend.NotFound("Pair")
	}
	p, err := pair.Load(ctx, s.DB, sc, pairID)
	if err != nil {
		return err
	}
	var rows []ExportRow
	if err := s.DB.SelectContext(ctx, &rows, `
		SELECT c.id, c.pair_id, p.label AS pair_label, u.name AS client_name, m.side AS client_side, v.title AS homework,
		       c.period_start, c.period_end, c.status, c.late, c.trust_rating, c.communication_rating, c.hope_rating,
		       c.visibility, c.created_at, c.updated_at, c.version, c.reviewed_at,
		       (SELECT count(*) FROM feedback f WHERE f.checkin_id = c.id) AS feedback,
		       c.answers, c.reflection, c.safety_flag, c.safety_note
		FROM checkins c
		JOIN pairs p ON p.id = c.pair_id
		JOIN users u ON u.id = c.user_id
		JOIN pair_members m ON m.pair_id = c.pair_id AND m.user_id = c.user_id
		JOIN assignments a ON a.id = c.assignment_id
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE c.pair_id = $4 AND c.period_start BETWEEN $5 AND $6 AND `+staffPairs+`
		ORDER BY c.period_start, m.position, c.id`, staffArgs(sc, pairID, r.From, r.To)...); err != nil {
		return fmt.Errorf("review: export rows: %w", err)
	}
	if err := s.auditClients(ctx, nil, sc, "export.csv", "pair", pairID, p.ClientIDs()); err != nil {
		return err
	}
	cols := ColumnsFor(sc, p)
	for _, c := range cols {
		if c.CounselorOnly { // the client's words are in this export: decrypt them
			for i := range rows {
				if err := rows[i].open(ctx, s.Vault, s.DB); err != nil {
					return err
				}
			}
			break
		}
	}
	tz := checkin.LoadZone(sc.Timezone)
	cw := csvout.NewWriter(w)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = c.Header
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, row := range rows {
		for i, c := range cols {
			rec[i] = c.value(row, tz)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// ReportData is what the PDF report holds: the progress, the counselor's
// feedback in the range, and who made it when.
type ReportData struct {
	Progress
	PracticeName string
	Feedback     []Feedback
	MadeBy       string
	MadeAt       time.Time
	Timezone     string
}

// Report gathers a pair's PDF report and audits the export once per client.
// The report is for supervision: ratings, plan, completion and the
// counselor's own feedback; no client's words.
func (s *Store) Report(ctx context.Context, sc mend.Scope, pairID int64, r Range) (ReportData, error) {
	p, err := s.progress(ctx, sc, pairID, r)
	if err != nil {
		return ReportData{}, err
	}
	d := ReportData{Progress: p, MadeBy: sc.Name, MadeAt: s.now(), Timezone: sc.Timezone}
	if err := s.DB.GetContext(ctx, &d.PracticeName, `SELECT name FROM practices WHERE id = $1`, sc.PracticeID); err != nil {
		return ReportData{}, fmt.Errorf("review: practice: %w", err)
	}
	if err := s.DB.SelectContext(ctx, &d.Feedback, `
		SELECT f.id, f.checkin_id, f.audience, r.name AS recipient_name, u.name AS counselor_name, f.body, f.created_at
		FROM feedback f
		JOIN pairs p ON p.id = f.pair_id
		JOIN checkins c ON c.id = f.checkin_id
		JOIN users u ON u.id = f.counselor_id
		LEFT JOIN users r ON r.id = f.recipient_id
		WHERE f.pair_id = $4 AND c.period_start BETWEEN $5 AND $6 AND `+staffPairs+`
		ORDER BY f.created_at, f.id`, staffArgs(sc, pairID, r.From, r.To)...); err != nil {
		return ReportData{}, fmt.Errorf("review: report feedback: %w", err)
	}
	if err := s.openFeedback(ctx, d.Feedback); err != nil {
		return ReportData{}, err
	}
	return d, s.auditClients(ctx, nil, sc, "export.pdf", "pair", pairID, p.Pair.ClientIDs())
}
