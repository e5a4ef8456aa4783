package review

import (
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/checkin"
)

func fp(f float64) *float64 { return &f }
func sp(s string) *string   { return &s }
func bp(b bool) *bool       { return &b }
func ip(i int) *int         { return &i }

// TestMeasureAttentionRules: the most severe band, a change of at least
// the definition's points, partners apart by at least its gap, an overdue
// answer — each says whose and what, and nothing fires below its edge.
func TestMeasureAttentionRules(t *testing.T) {
	p := PairRow{ID: 1, Label: "Pair", Today: checkin.D(2026, 3, 20),
		Members: []MemberRow{{UserID: 10, Name: "Maya"}, {UserID: 11, Name: "Daniel"}}}
	fact := func(user int64, totals ...*float64) MeasureFact {
		return MeasureFact{Measure: 5, Name: "CSI-4", Change: 5, Gap: 6, User: user, Every: ip(7),
			Starts: "2026-03-01", Totals: totals, LastOn: sp("2026-03-18"), Severe: bp(false)}
	}
	kinds := func(rs []Reason) map[string]string {
		out := map[string]string{}
		for _, r := range rs {
			out[r.Kind] += r.Text + "|"
		}
		return out
	}
	// Apart by 5 (gap 6), changed by 4 (rule 5): nothing.
	p.Measures = []MeasureFact{fact(10, fp(15), fp(11)), fact(11, fp(10), fp(10))}
	if rs := measureReasons(p); len(rs) != 0 {
		t.Errorf("below every edge: %+v", rs)
	}
	// At the edges: apart by 6, changed by 5.
	p.Measures = []MeasureFact{fact(10, fp(16), fp(11)), fact(11, fp(10), fp(10))}
	k := kinds(measureReasons(p))
	if !strings.Contains(k[ReasonMeasureGap], "Maya 16, Daniel 10") {
		t.Errorf("gap: %q", k[ReasonMeasureGap])
	}
	if !strings.Contains(k[ReasonMeasureChange], "Maya's CSI-4 changed by 5 points since the previous answer (11 → 16)") {
		t.Errorf("change: %q", k[ReasonMeasureChange])
	}
	// Most severe band, and an answer overdue by more than three days.
	sev := fact(11, fp(4))
	sev.Severe, sev.Band = bp(true), sp("Distressed")
	late := fact(10, fp(16))
	late.LastOn = sp("2026-03-09") // next due the 16th; overdue after the 19th
	p.Measures = []MeasureFact{late, sev}
	k = kinds(measureReasons(p))
	if !strings.Contains(k[ReasonMeasureSevere], "Daniel's latest CSI-4 is in its most severe band (Distressed)") {
		t.Errorf("severe: %q", k[ReasonMeasureSevere])
	}
	if !strings.Contains(k[ReasonMeasureOverdue], "CSI-4 is waiting for Maya's answer since Mon 16 Mar") {
		t.Errorf("overdue: %q", k[ReasonMeasureOverdue])
	}
	p.Today = checkin.D(2026, 3, 19)
	if k := kinds(measureReasons(p)); k[ReasonMeasureOverdue] != "" {
		t.Errorf("overdue on its third day: %q", k[ReasonMeasureOverdue])
	}
	// A once-only measure answered is never overdue; unanswered it is.
	once := fact(10)
	once.Every, once.LastOn = nil, nil
	p.Today, p.Measures = checkin.D(2026, 3, 20), []MeasureFact{once}
	if k := kinds(measureReasons(p)); !strings.Contains(k[ReasonMeasureOverdue], "since Sun 1 Mar") {
		t.Errorf("unanswered once-only measure: %q", k[ReasonMeasureOverdue])
	}
	once.LastOn = sp("2026-03-02")
	p.Measures = []MeasureFact{once}
	if rs := measureReasons(p); len(rs) != 0 {
		t.Errorf("answered once-only measure: %+v", rs)
	}
	// On the dashboard: the severe band ranks with falling trust, first.
	att := attention([]PairRow{p, {ID: 2, Label: "B", Today: p.Today, Members: p.Members, Measures: []MeasureFact{sev}}})
	if len(att) == 0 || att[0].Pair.ID != 2 || att[0].Reasons[0].Kind != ReasonMeasureSevere {
		t.Errorf("attention order: %+v", att)
	}
}
