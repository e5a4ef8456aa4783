package measure

import (
	"fmt"
	"math"
)

// Answers are a person's answers: item number (1-based) → the value of the
// option chosen. An item left out was not answered.
type Answers map[int]int

// SubscaleScore is one subscale's score.
type SubscaleScore struct {
	Key   string  `json:"key"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
	Valid bool    `json:"valid"`
}

// Result is a scored set of answers.
type Result struct {
	Answered int
	// Valid is false when fewer than MinAnswered items were answered; Total
	// and Band are then not given.
	Valid     bool
	Total     float64
	Band      Band
	HasBand   bool
	Subscales []SubscaleScore
	// Critical: the critical item was answered at or above its value
	// (whether or not the total is valid).
	Critical bool
}

// Check refuses answers that name no item or a value the item does not
// offer (an odd form is a 422, never a score).
func (d Definition) Check(a Answers) error {
	for n, v := range a {
		if n < 1 || n > len(d.Items) {
			return fmt.Errorf("item %d does not exist", n)
		}
		ok := false
		for _, o := range d.Items[n-1].Options {
			if o.Value == v {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("item %d has no option %d", n, v)
		}
	}
	return nil
}

// value is item n's scored value (reverse-keyed items flipped).
func (d Definition) value(n, v int) float64 {
	it := d.Items[n-1]
	if it.Reverse {
		lo, hi := it.span()
		return float64(hi + lo - v)
	}
	return float64(v)
}

// combine makes the score of the answered items among items (1-based):
// their sum or mean, times the multiplier. ok false: fewer than min
// answered.
func (d Definition) combine(a Answers, items []int, min int) (float64, int, bool) {
	var sum float64
	n := 0
	for _, i := range items {
		if v, ok := a[i]; ok {
			sum += d.value(i, v)
			n++
		}
	}
	if n < min || n == 0 {
		return 0, n, false
	}
	if d.Method == Mean {
		sum /= float64(n)
	}
	return round(sum * d.multiplier()), n, true
}

// round keeps two decimals, so that a mean compares with a band's edge as
// it is shown.
func round(x float64) float64 { return math.Round(x*100) / 100 }

// Score scores answers under the definition. The answers must have passed
// Check. A sum counts the answered items only; MinAnswered decides whether
// the total is valid at all. Each subscale needs all its items answered.
func (d Definition) Score(a Answers) Result {
	all := make([]int, len(d.Items))
	for i := range all {
		all[i] = i + 1
	}
	var r Result
	r.Total, r.Answered, r.Valid = d.combine(a, all, d.MinAnswered)
	if r.Valid {
		r.Band, r.HasBand = d.BandOf(r.Total)
	}
	for _, s := range d.Subscales {
		sc, _, ok := d.combine(a, s.Items, len(s.Items))
		ss := SubscaleScore{Key: s.Key, Name: s.Name, Valid: ok && r.Valid}
		if ss.Valid {
			ss.Score = sc
		}
		r.Subscales = append(r.Subscales, ss)
	}
	if c := d.Critical; c != nil {
		if v, ok := a[c.Item]; ok && v >= c.AtLeast {
			r.Critical = true
		}
	}
	return r
}
