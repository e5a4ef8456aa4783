package chart

import (
	"fmt"
	"slices"
	"time"

	"github.com/go-analyze/charts"
)

// PNG draws the chart as a PNG image of w×h pixels (for PDF reports, which
// cannot take SVG). The x axis lists the days that have data; days on which
// a series has no value are left empty.
func PNG(s Spec, w, h int) ([]byte, error) {
	var days []time.Time
	seen := map[time.Time]bool{}
	for _, sr := range s.Series {
		for _, p := range sr.Points {
			if d := day(p.At); !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("chart: %s: no data", s.ID)
	}
	sortDays(days)
	index := make(map[time.Time]int, len(days))
	labels := make([]string, len(days))
	for i, d := range days {
		index[d] = i
		labels[i] = d.Format("2 Jan")
	}
	values := make([][]float64, len(s.Series))
	for i, sr := range s.Series {
		values[i] = make([]float64, len(days))
		for j := range values[i] {
			values[i][j] = charts.GetNullValue()
		}
		for _, p := range sr.Points {
			values[i][index[day(p.At)]] = p.Value
		}
	}
	colors := make([]charts.Color, len(s.Series))
	for i := range s.Series {
		colors[i] = charts.ParseColor(StyleOf(i).Color)
	}
	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = charts.GetDefaultTheme().WithSeriesColors(colors)
	opt.Title.Text = s.Title
	opt.Title.FontStyle.FontSize = 13
	opt.XAxis.Labels = labels
	// About one date label ("12 Mar") per 110 pixels: more overlap.
	opt.XAxis.LabelCount = max(2, min(8, w/110))
	opt.Legend.SeriesNames = names(s.Series)
	opt.Legend.Offset = charts.OffsetRight
	if w < 600 {
		// A narrow chart has no room for the legend beside its title.
		opt.Legend.Offset = charts.OffsetCenter.WithTop(charts.PositionBottom)
	}
	opt.YAxis = []charts.YAxisOption{{Min: charts.Ptr(s.YMin), Max: charts.Ptr(s.YMax), LabelCount: int(s.YMax-s.YMin) + 1}}
	opt.ValueFormatter = func(v float64) string { return Value(v) }
	opt.Symbol.Shape = charts.SymbolCircle
	opt.LineStrokeWidth = 2
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputPNG, Width: w, Height: h})
	if err := p.LineChart(opt); err != nil {
		return nil, fmt.Errorf("chart: %s: %w", s.ID, err)
	}
	return p.Bytes()
}

func sortDays(ts []time.Time) {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
}
