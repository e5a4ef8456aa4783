// Package report renders a pair's progress report as a PDF (with
// github.com/johnfercher/maroto/v2) that a counselor can take to
// supervision: the pair, the plan and its steps, each partner's ratings as
// charts, check-in completion per homework, and the counselor's feedback.
// It holds no client's own words: no answers, reflections or safety notes.
//
// Text is set in DejaVu Sans, embedded here (fonts/LICENSE: the Bitstream
// Vera licence), because PDF's built-in fonts only cover Latin-1 and names
// like "Zoë Łukasiewicz" or "小林" must print.
package report

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"

	"github.com/mend-practice/mend/internal/chart"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/review"
)

//go:embed fonts/DejaVuSans.ttf
var regular []byte

//go:embed fonts/DejaVuSans-Bold.ttf
var bold []byte

const family = "dejavu"

var (
	ink   = &props.Color{Red: 31, Green: 42, Blue: 46}
	muted = &props.Color{Red: 86, Green: 99, Blue: 107}
	brand = &props.Color{Red: 47, Green: 111, Blue: 98}
	rule  = &props.Color{Red: 217, Green: 222, Blue: 219}
	shade = &props.Color{Red: 242, Green: 244, Blue: 243}
)

// PDF renders the report.
func PDF(d review.ReportData) ([]byte, error) { return PDFWithMeasures(d, nil) }

// PDFWithMeasures is PDF with the pair's measures (issue 20) after the
// ratings: each measure's chart of both partners' totals and every total
// with its band (no item answers: the report is for supervision).
func PDFWithMeasures(d review.ReportData, measures []measure.Series) ([]byte, error) {
	fonts, err := repository.New().
		AddUTF8FontFromBytes(family, fontstyle.Normal, regular).
		AddUTF8FontFromBytes(family, fontstyle.Bold, bold).
		Load()
	if err != nil {
		return nil, fmt.Errorf("report: fonts: %w", err)
	}
	tz := checkin.LoadZone(d.Timezone)
	cfg := config.NewBuilder().
		WithCustomFonts(fonts).
		WithDefaultFont(&props.Font{Family: family, Size: 10, Color: ink}).
		WithLeftMargin(15).WithRightMargin(15).WithTopMargin(15).
		WithPageNumber(props.PageNumber{Pattern: "Page {current} of {total}", Place: props.RightBottom, Family: family, Size: 8, Color: muted}).
		WithTitle("Progress report: "+d.Pair.Label, true).
		WithAuthor(d.MadeBy, true).
		WithCreator("Mend", false).
		WithCreationDate(d.MadeAt).
		Build()
	m := maroto.New(cfg)

	// Heading.
	m.AddRows(
		text.NewRow(6, d.PracticeName, props.Text{Size: 9, Color: muted}),
		text.NewRow(11, "Progress report: "+d.Pair.Label, props.Text{Size: 18, Style: fontstyle.Bold, Color: brand}),
		text.NewRow(6, fmt.Sprintf("%s to %s · prepared by %s on %s", d.Range.From.Format("2 January 2006"),
			d.Range.To.Format("2 January 2006"), d.MadeBy, d.MadeAt.In(tz).Format("2 January 2006, 15:04 MST")),
			props.Text{Size: 9, Color: muted}),
		line.NewRow(4, props.Line{Color: rule, Thickness: 0.4}),
	)
	pairRows(m, d)
	planRows(m, d)
	chartRows(m, d)
	measureRows(m, measures)
	completionRows(m, d)
	feedbackRows(m, d, tz)
	m.AddRows(text.NewRow(12, "Confidential: contains information about clients. Keep it as your practice keeps client records.",
		props.Text{Size: 8, Color: muted, Top: 6}))

	doc, err := m.Generate()
	if err != nil {
		return nil, fmt.Errorf("report: generate: %w", err)
	}
	return doc.GetBytes(), nil
}

// headingHeight is the height of a section heading's row (mm).
const headingHeight = 11

// heading starts a section. next is the height of what must follow it on
// the same page (its first rows), so that a heading is never left alone at
// the foot of a page.
func heading(m core.Maroto, s string, next float64) {
	keepTogether(m, headingHeight+next)
	m.AddRows(text.NewRow(headingHeight, s, props.Text{Size: 13, Style: fontstyle.Bold, Top: 4, Color: ink}))
}

// keepTogether moves to a new page unless height more millimetres fit on
// the current one. maroto only tells whether a height fits, so the space
// left is found by halving, then filled with an empty row: the next row
// then starts the new page.
func keepTogether(m core.Maroto, height float64) {
	if m.FitlnCurrentPage(height) {
		return
	}
	lo, hi := 0.0, height
	for range 24 {
		mid := (lo + hi) / 2
		if m.FitlnCurrentPage(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo > 0 {
		m.AddRows(row.New(lo))
	}
}

func note(m core.Maroto, s string) {
	m.AddAutoRow(text.NewCol(12, s, props.Text{Size: 9, Color: muted, Bottom: 2}))
}

func pairRows(m core.Maroto, d review.ReportData) {
	heading(m, "Pair", 12)
	counselor := "No counselor"
	if d.Pair.CounselorName.Valid {
		counselor = d.Pair.CounselorName.String
	}
	kv := [][2]string{
		{"Pair", d.Pair.Label},
		{"Relationship", pair.KindLabel(d.Pair.Kind)},
		{"Counselor", counselor},
		{"Status", strings.ToUpper(d.Pair.Status[:1]) + d.Pair.Status[1:]},
	}
	for _, mb := range d.Pair.Members {
		kv = append(kv, [2]string{"Client", mb.Name + " (" + strings.ToLower(mb.SideLabel()) + ")"})
	}
	for _, r := range kv {
		m.AddAutoRow(
			text.NewCol(3, r[0], props.Text{Size: 9, Color: muted, Bottom: 1}),
			text.NewCol(9, r[1], props.Text{Size: 10, Bottom: 1}),
		)
	}
}

func planRows(m core.Maroto, d review.ReportData) {
	heading(m, "Plan and steps", 16)
	if d.Plan == nil {
		note(m, "This pair is not on a repair plan.")
		return
	}
	note(m, fmt.Sprintf("%s · %s · %s", d.Plan.Name, titleCase(d.Plan.Status), d.Plan.CadenceText()))
	cur := d.Plan.Current()
	for _, st := range d.Plan.Steps {
		state := "Later"
		switch {
		case cur != nil && st.Position == cur.Position:
			state = "Current"
		case st.AssignmentID.Valid:
			state = "Done"
		case cur == nil && st.Position == 1, cur != nil && st.Position == cur.Position+1:
			state = "Next"
		}
		dates := ""
		if st.StartsOn.Valid && st.DueOn.Valid {
			dates = st.StartsOn.Date.Format("2 Jan") + " – " + st.DueOn.Date.Format("2 Jan 2006")
			if st.Expected {
				dates += " (expected)"
			}
		}
		style := props.Text{Size: 10, Bottom: 1}
		if state == "Current" {
			style.Style = fontstyle.Bold
		}
		m.AddAutoRow(
			text.NewCol(1, fmt.Sprint(st.Position), props.Text{Size: 9, Color: muted, Bottom: 1}),
			text.NewCol(6, st.Title, style),
			text.NewCol(2, state, props.Text{Size: 9, Color: muted, Bottom: 1}),
			text.NewCol(3, dates, props.Text{Size: 9, Color: muted, Bottom: 1, Align: align.Right}),
		)
	}
}

// Chart sizes in the PDF: a member's chart across the page, and the three
// ratings side by side, each a third of it. Heights are in mm on an A4 page
// with 15 mm margins (180 mm wide).
const (
	wideChartHeight  = 72
	thirdChartHeight = 58
	noteHeight       = 10
)

func chartRows(m core.Maroto, d review.ReportData) {
	if !d.HasCheckins() {
		heading(m, "Ratings over time", noteHeight)
		note(m, fmt.Sprintf("No check-ins between %s and %s.", d.Range.From.Format("2 January 2006"), d.Range.To.Format("2 January 2006")))
		return
	}
	heading(m, "Ratings over time", wideChartHeight+noteHeight)
	for i := range d.Series {
		spec := d.MemberChart(i)
		png, err := chart.PNG(spec, 900, 360)
		if err != nil { // no data for this member in the range
			note(m, spec.Desc)
			continue
		}
		keepTogether(m, wideChartHeight+noteHeight)
		m.AddRows(row.New(wideChartHeight).Add(image.NewFromBytesCol(12, png, extension.Png, props.Rect{Center: true, Percent: 100})))
		note(m, spec.Desc)
	}
	if len(d.Divergence) == 0 {
		return
	}
	// Trust, communication and hope of both, side by side: three narrow
	// charts in one row.
	heading(m, "Side by side", 5+thirdChartHeight+5*noteHeight)
	var titles, cols []core.Col
	var descs []string
	for r, name := range review.RatingNames {
		spec := d.DivergenceChart(r)
		spec.Title = "" // set as text above it: a narrow chart has no room, and text can be searched
		png, err := chart.PNG(spec, 440, 380)
		if err != nil {
			return
		}
		titles = append(titles, text.NewCol(4, name+", side by side", props.Text{Size: 9, Style: fontstyle.Bold, Align: align.Center}))
		cols = append(cols, image.NewFromBytesCol(4, png, extension.Png, props.Rect{Center: true, Percent: 96}))
		descs = append(descs, spec.Desc)
	}
	m.AddRows(row.New(5).Add(titles...), row.New(thirdChartHeight).Add(cols...))
	note(m, fmt.Sprintf("Periods in which both %s and %s checked in. In %d of %d, their ratings were %d or more apart.",
		d.A().Member.Name, d.B().Member.Name, d.DivergingCount(), len(d.Divergence), review.DivergeMin))
	for _, s := range descs {
		note(m, s)
	}
}

func completionRows(m core.Maroto, d review.ReportData) {
	heading(m, "Check-in completion", 3*noteHeight)
	if len(d.Homework) == 0 {
		note(m, "No homework in this period.")
		return
	}
	note(m, review.CompletionCounts)
	head := props.Text{Size: 9, Style: fontstyle.Bold, Color: muted, Top: 1, Bottom: 1}
	m.AddAutoRow(
		text.NewCol(4, "Homework", head), text.NewCol(3, "Dates", head),
		text.NewCol(2, "Client", head), text.NewCol(3, "Completion", props.Text{Size: 9, Style: fontstyle.Bold, Color: muted, Top: 1, Bottom: 1, Align: align.Right}),
	).WithStyle(&props.Cell{BackgroundColor: shade})
	for _, h := range d.Homework {
		for i, r := range h.Rates {
			title, dates := "", ""
			if i == 0 {
				title = h.Title
				dates = h.StartsOn.Format("2 Jan") + " – " + h.DueOn.Format("2 Jan 2006")
			}
			rate := r.Text()
			m.AddAutoRow(
				text.NewCol(4, title, props.Text{Size: 9, Bottom: 1}),
				text.NewCol(3, dates, props.Text{Size: 9, Color: muted, Bottom: 1}),
				text.NewCol(2, r.Name, props.Text{Size: 9, Bottom: 1}),
				text.NewCol(3, rate, props.Text{Size: 9, Bottom: 1, Align: align.Right}),
			).WithStyle(&props.Cell{BorderType: border.Bottom, BorderColor: rule, BorderThickness: 0.2})
		}
	}
}

func feedbackRows(m core.Maroto, d review.ReportData, tz *time.Location) {
	heading(m, "Feedback given", 2*noteHeight)
	if len(d.Feedback) == 0 {
		note(m, "No feedback on check-ins from this period.")
		return
	}
	toBoth := 0
	for _, f := range d.Feedback {
		if f.Audience == review.ToBoth {
			toBoth++
		}
	}
	note(m, fmt.Sprintf("%d piece%s of feedback: %d to both clients, %d to one client.",
		len(d.Feedback), plural(len(d.Feedback)), toBoth, len(d.Feedback)-toBoth))
	for _, f := range d.Feedback {
		to := "To both"
		if f.RecipientName.Valid {
			to = "To " + f.RecipientName.String
		}
		m.AddAutoRow(col.New(12).Add(
			text.New(fmt.Sprintf("%s · %s · %s", f.CreatedAt.In(tz).Format("2 Jan 2006"), to, f.CounselorName),
				props.Text{Size: 8, Color: muted, Top: 1}),
		))
		m.AddAutoRow(text.NewCol(12, f.Body, props.Text{Size: 10, Bottom: 2}))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// measureRows adds each measure: both partners' totals on one chart and
// the totals with their bands.
func measureRows(m core.Maroto, series []measure.Series) {
	for _, s := range series {
		if len(s.Responses) == 0 {
			continue
		}
		heading(m, "Measure: "+s.Name, wideChartHeight+noteHeight)
		spec := s.Charts()[0]
		if png, err := chart.PNG(spec, 900, 360); err == nil {
			keepTogether(m, wideChartHeight+noteHeight)
			m.AddRows(row.New(wideChartHeight).Add(image.NewFromBytesCol(12, png, extension.Png, props.Rect{Center: true, Percent: 100})))
		}
		note(m, spec.Desc)
		for _, r := range s.Responses {
			band := ""
			if r.Band.Valid {
				band = " (" + r.Band.String + ")"
			}
			note(m, fmt.Sprintf("%s · %s · %s%s", r.AnsweredOn.Format("2 January 2006"), r.UserName, r.TotalText(), band))
		}
	}
}
