package review

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/csvout"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

// ExportRow is one check-in in a pair's export, read (and decrypted) the
// one way staff read check-ins, checkin.Store's.
type ExportRow struct {
	checkin.Checkin
	PairLabel  string
	ClientSide string
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
	{"client", false, func(r ExportRow, _ *time.Location) string { return r.UserName }},
	{"client_side", false, func(r ExportRow, _ *time.Location) string { return pair.SideLabel(r.ClientSide) }},
	{"homework", false, func(r ExportRow, _ *time.Location) string { return r.HomeworkTitle }},
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
	{"feedback_count", false, func(r ExportRow, _ *time.Location) string { return strconv.Itoa(r.FeedbackCount) }},
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
	if r, err = s.resolve(ctx, sc, pairID, r); err != nil {
		return err
	}
	cs, err := s.Checkins.ForExport(ctx, sc, pairID, r.From, r.To)
	if err != nil {
		return err
	}
	rows := make([]ExportRow, len(cs))
	for i, c := range cs {
		m, _ := p.Member(c.UserID)
		rows[i] = ExportRow{Checkin: c, PairLabel: p.Label, ClientSide: m.Side}
	}
	if err := s.auditClients(ctx, nil, sc, "export.csv", "pair", pairID, p.ClientIDs()); err != nil {
		return err
	}
	cols := ColumnsFor(sc, p)
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
	d := ReportData{Progress: p, MadeBy: sc.Name, MadeAt: s.Clock.Time(), Timezone: sc.Timezone}
	if err := s.DB.GetContext(ctx, &d.PracticeName, `SELECT name FROM practices WHERE id = $1`, sc.PracticeID); err != nil {
		return ReportData{}, fmt.Errorf("review: practice: %w", err)
	}
	cond, args := access.StaffPairs(sc, "p", 4)
	if err := s.DB.SelectContext(ctx, &d.Feedback, `
		SELECT f.id, f.checkin_id, f.audience, r.name AS recipient_name, u.name AS counselor_name, f.body, f.created_at
		FROM feedback f
		JOIN pairs p ON p.id = f.pair_id
		JOIN checkins c ON c.id = f.checkin_id
		JOIN users u ON u.id = f.counselor_id
		LEFT JOIN users r ON r.id = f.recipient_id
		WHERE f.pair_id = $1 AND c.period_start BETWEEN $2 AND $3 AND `+cond+`
		ORDER BY f.created_at, f.id`, append([]any{pairID, p.Range.From, p.Range.To}, args...)...); err != nil {
		return ReportData{}, fmt.Errorf("review: report feedback: %w", err)
	}
	if err := s.openFeedback(ctx, d.Feedback); err != nil {
		return ReportData{}, err
	}
	return d, s.auditClients(ctx, nil, sc, "export.pdf", "pair", pairID, p.Pair.ClientIDs())
}
