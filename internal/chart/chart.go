// Package chart draws Mend's rating charts: the geometry of an inline SVG
// line chart for the web pages (a template renders it, with presentation
// attributes only, because the CSP forbids style attributes) and the same
// chart as a PNG for PDF reports (through github.com/go-analyze/charts).
// Every chart comes with the data table it was drawn from, for screen
// readers and anyone who prefers numbers.
package chart

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Point is one value on a day.
type Point struct {
	At    time.Time
	Value float64
}

// Series is one line.
type Series struct {
	Name   string
	Points []Point // in date order
}

// Spec is what to draw: lines over a date range on a fixed value scale.
type Spec struct {
	ID          string // unique on the page; element ids derive from it
	Title, Desc string
	From, To    time.Time
	YMin, YMax  float64
	Series      []Series
	// Bands shade ranges of the value scale (a measure's severity bands);
	// EmptyText replaces "No check-ins in this range".
	Bands     []Band
	EmptyText string
}

// Band is a shaded range of values, from From up to To, with its label.
type Band struct {
	From, To float64
	Label    string
	Shade    int // 0 lightest … 3 darkest
}

// BandRect is a band laid out.
type BandRect struct {
	Y, Height, Width, Label, LabelY, LabelX, Fill string
}

// bandFills are the band shades, light enough that lines and labels keep
// their contrast over them.
var bandFills = []string{"#f4f8f6", "#fbf3e4", "#fbe9e0", "#f6dcdc"}

// Style is how a series is told apart: a colour and, for people who do not
// see the colour, a dash pattern and a marker shape.
type Style struct {
	Color  string
	Dash   string // stroke-dasharray ("" for solid)
	Marker string // "circle", "square" or "diamond"
}

// Styles are the series styles in order (trust, communication, hope; or
// partner A, partner B). The colours keep 4.5:1 contrast on white.
var Styles = []Style{
	{Color: "#2f6f62", Marker: "circle"},
	{Color: "#a34e00", Dash: "6 4", Marker: "square"},
	{Color: "#5b4a9e", Dash: "2 3", Marker: "diamond"},
}

// StyleOf is series i's style.
func StyleOf(i int) Style { return Styles[i%len(Styles)] }

// Geometry of the SVG, in viewBox units.
const (
	width   = 640.0
	height  = 280.0
	padL    = 40.0
	padR    = 16.0
	padT    = 40.0 // room for the legend
	padB    = 34.0
	markerR = 3.5
)

// SVG is a chart ready for the template: every number is formatted, so the
// template only places them.
type SVG struct {
	ID, Title, Desc string
	ViewBox         string
	Empty           bool // no data in the range
	YTicks          []Tick
	XTicks          []Tick
	PlotLeft        string
	PlotRight       string
	PlotTop         string
	PlotBottom      string
	YLabelX         string // where y labels end (right-aligned)
	XLabelY         string // baseline of x labels
	MidX, MidY      string // centre of the plot (the "no data" message)
	Lines           []Line
	Legend          []LegendItem
	Table           Table
	Bands           []BandRect
	EmptyText       string
}

// Tick is a grid line with its label.
type Tick struct {
	Pos    string // y for YTicks, x for XTicks
	Label  string
	Anchor string // text-anchor of an x label: the last one ends at its tick
}

// Line is one series drawn.
type Line struct {
	Name    string
	Style   Style
	Path    string // "M x y L x y …"; several "M" where days are missing
	Markers []Marker
}

// Marker is a point of a line with what it says.
type Marker struct {
	X, Y   string
	Points string // polygon points for square and diamond markers
	Label  string // e.g. "Trust on 3 Mar: 7"
}

// LegendItem places one series' name above the plot.
type LegendItem struct {
	Name       string
	Style      Style
	X1, X2, Y  string
	TextX      string
	TextY      string
	MarkerX    string
	MarkerPath string
}

// Table is the data behind the chart: one row per day, one column per
// series.
type Table struct {
	Caption string
	Columns []string
	Rows    [][]string
}

func f(x float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", x), "0"), ".")
}

// day truncates to the calendar day (charts are by day).
func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// Value formats a rating for a person: whole numbers as such, averages with
// one decimal.
func Value(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// Build lays out a line chart.
func Build(s Spec) SVG {
	out := SVG{
		ID: s.ID, Title: s.Title, Desc: s.Desc,
		ViewBox:  fmt.Sprintf("0 0 %s %s", f(width), f(height)),
		PlotLeft: f(padL), PlotRight: f(width - padR), PlotTop: f(padT), PlotBottom: f(height - padB),
		YLabelX: f(padL - 8), XLabelY: f(height - padB + 20),
		MidX: f((padL + width - padR) / 2), MidY: f((padT + height - padB) / 2),
	}
	from, to := day(s.From), day(s.To)
	days := to.Sub(from).Hours() / 24
	if days < 1 {
		days = 1
	}
	x := func(t time.Time) float64 { return padL + (day(t).Sub(from).Hours()/24)/days*(width-padL-padR) }
	yspan := s.YMax - s.YMin
	if yspan <= 0 {
		yspan = 1
	}
	y := func(v float64) float64 { return height - padB - (v-s.YMin)/yspan*(height-padT-padB) }
	out.EmptyText = s.EmptyText
	if out.EmptyText == "" {
		out.EmptyText = "No check-ins in this range"
	}
	for _, b := range s.Bands {
		lo, hi := math.Max(b.From, s.YMin), math.Min(b.To, s.YMax)
		if hi <= lo {
			continue
		}
		shade := min(max(b.Shade, 0), len(bandFills)-1)
		out.Bands = append(out.Bands, BandRect{Y: f(y(hi)), Height: f(y(lo) - y(hi)), Width: f(width - padL - padR), Label: b.Label,
			LabelY: f(y(hi) + 14), LabelX: f(width - padR - 4), Fill: bandFills[shade]})
	}

	step := 1.0
	if yspan > 10 {
		step = math.Ceil(yspan / 10)
	}
	for v := s.YMin; v <= s.YMax+1e-9; v += step {
		out.YTicks = append(out.YTicks, Tick{Pos: f(y(v)), Label: Value(v)})
	}
	// About six date labels, on whole days.
	every := int(math.Ceil(days / 6))
	if every < 1 {
		every = 1
	}
	for d := from; !d.After(to); d = d.AddDate(0, 0, every) {
		anchor := "middle"
		if d.AddDate(0, 0, every).After(to) && x(d) > width-padR-30 {
			anchor = "end"
		}
		out.XTicks = append(out.XTicks, Tick{Pos: f(x(d)), Label: d.Format("2 Jan"), Anchor: anchor})
	}

	// Legend across the top.
	lx := padL
	for i, sr := range s.Series {
		st := StyleOf(i)
		out.Legend = append(out.Legend, LegendItem{
			Name: sr.Name, Style: st, X1: f(lx), X2: f(lx + 22), Y: f(16), TextX: f(lx + 28), TextY: f(20),
			MarkerX: f(lx + 11), MarkerPath: markerPoints(st.Marker, lx+11, 16),
		})
		lx += 28 + float64(len([]rune(sr.Name)))*8 + 18
	}

	// Lines: consecutive points are joined unless a gap of more than a
	// week separates them (a paused pair should not look continuous).
	dates := map[time.Time][]string{}
	var order []time.Time
	for i, sr := range s.Series {
		st := StyleOf(i)
		ln := Line{Name: sr.Name, Style: st}
		var b strings.Builder
		var prev time.Time
		for j, p := range sr.Points {
			px, py := x(p.At), y(p.Value)
			if j == 0 || day(p.At).Sub(prev) > 8*24*time.Hour {
				fmt.Fprintf(&b, "M%s %s", f(px), f(py))
			} else {
				fmt.Fprintf(&b, " L%s %s", f(px), f(py))
			}
			prev = day(p.At)
			ln.Markers = append(ln.Markers, Marker{X: f(px), Y: f(py), Points: markerPoints(st.Marker, px, py),
				Label: fmt.Sprintf("%s on %s: %s", sr.Name, p.At.Format("2 Jan 2006"), Value(p.Value))})
			k := day(p.At)
			if _, ok := dates[k]; !ok {
				dates[k] = make([]string, len(s.Series))
				order = append(order, k)
			}
			dates[k][i] = Value(p.Value)
		}
		ln.Path = b.String()
		out.Lines = append(out.Lines, ln)
	}
	out.Empty = len(order) == 0
	slices.SortFunc(order, func(a, b time.Time) int { return a.Compare(b) })
	out.Table = Table{Caption: s.Title, Columns: append([]string{"Date"}, names(s.Series)...)}
	for _, d := range order {
		row := []string{d.Format("Mon 2 Jan 2006")}
		for _, v := range dates[d] {
			if v == "" {
				v = "—"
			}
			row = append(row, v)
		}
		out.Table.Rows = append(out.Table.Rows, row)
	}
	return out
}

// markerPoints is the polygon of a square or diamond marker ("" for a
// circle, which the template draws as <circle>).
func markerPoints(shape string, x, y float64) string {
	r := markerR
	switch shape {
	case "square":
		return fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", f(x-r), f(y-r), f(x+r), f(y-r), f(x+r), f(y+r), f(x-r), f(y+r))
	case "diamond":
		r += 1
		return fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", f(x), f(y-r), f(x+r), f(y), f(x), f(y+r), f(x-r), f(y))
	}
	return ""
}

func names(ss []Series) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}
