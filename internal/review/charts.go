package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/chart"
	"github.com/mend-practice/mend/internal/checkin"
)

// RatingNames are the three ratings in the order charts draw them.
var RatingNames = []string{"Trust", "Communication", "Hope"}

func dayOf(d checkin.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Text is rating i (0 trust, 1 communication, 2 hope) as shown: whole
// numbers as such, averages with one decimal.
func (pt Point) Text(i int) string { return chart.Value(pt.rating(i)) }

func (pt Point) rating(i int) float64 {
	switch i {
	case 0:
		return pt.Trust
	case 1:
		return pt.Communication
	}
	return pt.Hope
}

// span is the days the charts cover: the range, starting at the pair's
// first check-in in it when that is later (a pair that began three weeks
// ago should not get charts that are mostly empty).
func (p Progress) span() (time.Time, time.Time) {
	from, to := dayOf(p.Range.From), dayOf(p.Range.To)
	var first time.Time
	for _, s := range p.Series {
		if len(s.Points) > 0 {
			if d := dayOf(s.Points[0].Date); first.IsZero() || d.Before(first) {
				first = d
			}
		}
	}
	if !first.IsZero() && first.After(from) {
		from = first.AddDate(0, 0, -1)
	}
	return from, to
}

// MemberChart is member i's trust, communication and hope over the range.
func (p Progress) MemberChart(i int) chart.Spec {
	ms := p.series(i)
	from, to := p.span()
	spec := chart.Spec{
		ID:    fmt.Sprintf("chart-member-%d", i+1),
		Title: fmt.Sprintf("%s: ratings over time", ms.Member.Name),
		From:  from, To: to, YMin: 1, YMax: 10,
	}
	for r, name := range RatingNames {
		sr := chart.Series{Name: name}
		for _, pt := range ms.Points {
			sr.Points = append(sr.Points, chart.Point{At: dayOf(pt.Date), Value: pt.rating(r)})
		}
		spec.Series = append(spec.Series, sr)
	}
	spec.Desc = describe(ms.Member.Name, spec)
	return spec
}

// DivergenceChart is one rating of both members over the periods in which
// both checked in (rating: 0 trust, 1 communication, 2 hope).
func (p Progress) DivergenceChart(rating int) chart.Spec {
	a, b := p.A().Member.Name, p.B().Member.Name
	from, to := p.span()
	spec := chart.Spec{
		ID:    fmt.Sprintf("chart-divergence-%d", rating+1),
		Title: fmt.Sprintf("%s: %s and %s side by side", RatingNames[rating], a, b),
		From:  from, To: to, YMin: 1, YMax: 10,
	}
	sa, sb := chart.Series{Name: a}, chart.Series{Name: b}
	for _, s := range p.Divergence {
		sa.Points = append(sa.Points, chart.Point{At: dayOf(s.Date), Value: s.A.rating(rating)})
		sb.Points = append(sb.Points, chart.Point{At: dayOf(s.Date), Value: s.B.rating(rating)})
	}
	spec.Series = []chart.Series{sa, sb}
	spec.Desc = describe(RatingNames[rating], spec)
	return spec
}

// describe sums a chart up in a sentence for screen readers: how many
// days, and where each line went from and to.
func describe(subject string, s chart.Spec) string {
	n := 0
	var parts []string
	for _, sr := range s.Series {
		if len(sr.Points) > n {
			n = len(sr.Points)
		}
		if len(sr.Points) > 0 {
			first, last := sr.Points[0].Value, sr.Points[len(sr.Points)-1].Value
			parts = append(parts, fmt.Sprintf("%s from %s to %s", sr.Name, chart.Value(first), chart.Value(last)))
		}
	}
	if n == 0 {
		return fmt.Sprintf("No check-ins for %s up to %s.", subject, s.To.Format("2 Jan 2006"))
	}
	return fmt.Sprintf("%d check-in periods between %s and %s, on a scale of 1 to 10: %s.",
		n, s.From.Format("2 Jan 2006"), s.To.Format("2 Jan 2006"), strings.Join(parts, "; "))
}
