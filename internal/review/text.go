package review

import (
	"fmt"

	"github.com/mend-practice/mend/internal/chart"
)

// How the dashboard's values read on a page.

// CompletionText is the completion rate, e.g. "83%", or "—" when nothing
// was due.
func (p PairRow) CompletionText() string {
	if v, ok := p.Completion(); ok {
		return fmt.Sprintf("%d%%", v)
	}
	return "—"
}

// CompletionLow reports a rate under two thirds (shown as a warning).
func (p PairRow) CompletionLow() bool {
	v, ok := p.Completion()
	return ok && v < 67
}

// StepText names the current step, e.g. "Step 3 of 15: Active listening".
func (p PairRow) StepText() string {
	switch {
	case p.CurrentID == 0:
		return ""
	case p.PlanPosition > 0:
		return fmt.Sprintf("Step %d of %d: %s", p.PlanPosition, p.PlanSteps, p.CurrentTitle)
	}
	return p.CurrentTitle
}

// Label is the reason's kind as a short badge.
func (r Reason) Label() string {
	switch r.Kind {
	case ReasonFalling:
		return "Trust falling"
	case ReasonDiverging:
		return "Far apart"
	case ReasonMissing:
		return "Missed check-ins"
	case ReasonOverdue:
		return "Overdue"
	case ReasonRelease:
		return "Waiting for you"
	case ReasonMeasureSevere:
		return "Most severe band"
	case ReasonMeasureChange:
		return "Score changed"
	case ReasonMeasureGap:
		return "Measures far apart"
	case ReasonMeasureOverdue:
		return "Measure overdue"
	}
	return r.Kind
}

// Action is the text of the link to where the counselor acts on the
// reason (internal/web builds the link: reasonPath).
func (r Reason) Action() string {
	if r.Kind == ReasonRelease {
		return "Read and release"
	}
	if r.FromMeasure() {
		return "See measures"
	}
	if r.HomeworkID != 0 {
		return "Open the homework"
	}
	return "See progress"
}

// Text is the completion as shown: "83% (5 of 6)" or "nothing due yet".
func (m MemberRate) Text() string {
	if v, ok := m.Percent(); ok {
		return fmt.Sprintf("%d%% (%d of %d %s)", v, min(m.Done, m.Expected), m.Expected, periodWord(m.Expected))
	}
	return "nothing due yet"
}

// GapText is the largest gap between the partners, e.g. "4".
func (s Side) GapText() string { return chart.Value(s.Gap()) }

func periodWord(n int) string {
	if n == 1 {
		return "period"
	}
	return "periods"
}

// CompletionCounts says in a sentence what the completion figures count
// (the progress tab and the PDF report print it above them).
const CompletionCounts = "Per homework and client: the periods checked in for, out of those asked for. Asked for are the periods whose late window has closed, plus the current period once the client has checked in for it; periods that ended before the homework was given are not counted."

// FromMeasure reports whether the reason comes from a measure (issue 20).
func (r Reason) FromMeasure() bool {
	switch r.Kind {
	case ReasonMeasureSevere, ReasonMeasureChange, ReasonMeasureGap, ReasonMeasureOverdue:
		return true
	}
	return false
}
