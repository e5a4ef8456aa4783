package measure

import (
	"fmt"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/chart"
	"github.com/mend-practice/mend/internal/checkin"
)

// Member is a partner as a series of a chart.
type Member struct {
	UserID int64
	Name   string
}

// Members are the people who answered in the series, in the pair's order.
func (s Series) Members() []Member {
	var out []Member
	seen := map[int64]bool{}
	rs := append([]Response(nil), s.Responses...)
	// Position 1 first: the same colour for the same partner on every chart.
	for pos := 0; pos <= 2; pos++ {
		for _, r := range rs {
			if r.Position == pos && !seen[r.UserID] {
				seen[r.UserID] = true
				out = append(out, Member{UserID: r.UserID, Name: r.UserName})
			}
		}
	}
	return out
}

func dayOf(d interface{ Format(string) string }) time.Time {
	t, _ := time.Parse("2006-01-02", d.Format("2006-01-02"))
	return t
}

// Charts are the series' charts: the total, then each subscale; both
// partners on each, the severity bands shaded on the total's.
func (s Series) Charts() []chart.Spec {
	from, to := time.Time{}, time.Time{}
	for _, r := range s.Responses {
		d := dayOf(r.AnsweredOn)
		if from.IsZero() || d.Before(from) {
			from = d
		}
		if d.After(to) {
			to = d
		}
	}
	if from.IsZero() {
		to = time.Now().UTC()
		from = to.AddDate(0, 0, -28)
	}
	return s.charts(from, to, "No answers yet")
}

// ChartsOver are the series' charts over the days from–to (the progress
// tab's range), so that they line up with the check-ins' charts.
func (s Series) ChartsOver(from, to checkin.Date) []chart.Spec {
	return s.charts(dayOf(from), dayOf(to), "No answers in this range")
}

func (s Series) charts(from, to time.Time, empty string) []chart.Spec {
	members := s.Members()
	lo, hi := s.Definition.Range()
	if !to.After(from) {
		from = from.AddDate(0, 0, -1)
		to = to.AddDate(0, 0, 1)
	}
	base := chart.Spec{From: from, To: to, EmptyText: empty}
	total := base
	total.ID = fmt.Sprintf("measure-%d-total", s.MeasureID)
	total.Title = fmt.Sprintf("%s: total of each partner", s.Name)
	total.YMin, total.YMax = lo, hi
	bands := s.Definition.Bands
	top := s.Definition.MostSevere()
	for i, b := range bands {
		end := hi
		if i+1 < len(bands) {
			end = bands[i+1].From
		}
		shade := 0
		if top > 0 {
			shade = b.Severity * 3 / top
		}
		total.Bands = append(total.Bands, chart.Band{From: b.From, To: end, Label: b.Label, Shade: shade})
	}
	for _, m := range members {
		sr := chart.Series{Name: m.Name}
		for _, r := range s.Responses {
			if r.UserID == m.UserID && r.Total.Valid {
				sr.Points = append(sr.Points, chart.Point{At: dayOf(r.AnsweredOn), Value: r.Total.Float64})
			}
		}
		total.Series = append(total.Series, sr)
	}
	total.Desc = describe(total)
	out := []chart.Spec{total}
	for k, sub := range s.Definition.Subscales {
		c := base
		c.ID = fmt.Sprintf("measure-%d-sub-%d", s.MeasureID, k+1)
		c.Title = fmt.Sprintf("%s: %s", s.Name, sub.Name)
		sd := Definition{Method: s.Definition.Method, Multiplier: s.Definition.Multiplier}
		for _, n := range sub.Items {
			if n >= 1 && n <= len(s.Definition.Items) {
				sd.Items = append(sd.Items, s.Definition.Items[n-1])
			}
		}
		c.YMin, c.YMax = sd.Range()
		for _, m := range members {
			sr := chart.Series{Name: m.Name}
			for _, r := range s.Responses {
				if r.UserID != m.UserID {
					continue
				}
				for _, ss := range r.Subscales {
					if ss.Key == sub.Key && ss.Valid {
						sr.Points = append(sr.Points, chart.Point{At: dayOf(r.AnsweredOn), Value: ss.Score})
					}
				}
			}
			c.Series = append(c.Series, sr)
		}
		c.Desc = describe(c)
		out = append(out, c)
	}
	return out
}

func describe(s chart.Spec) string {
	var parts []string
	for _, sr := range s.Series {
		if n := len(sr.Points); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d answers, from %s to %s", sr.Name, n,
				chart.Value(sr.Points[0].Value), chart.Value(sr.Points[n-1].Value)))
		}
	}
	if len(parts) == 0 {
		return "No answers yet."
	}
	return fmt.Sprintf("Scores on a scale of %s to %s: %s.", chart.Value(s.YMin), chart.Value(s.YMax), strings.Join(parts, "; "))
}
