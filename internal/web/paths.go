package web

import (
	"github.com/mend-practice/mend/internal/paths"
	"github.com/mend-practice/mend/internal/review"
)

// reasonPath is where the counselor acts on a dashboard reason: the
// exercise to read and release, the measures' section of the progress tab
// for a measure's score (both partners on one chart), the measures tab for
// an overdue measure, the homework's page (to extend, complete or cancel it, or see
// who checked in) for missed or overdue check-ins, and the progress tab
// for a trend. Templates call it as {{reasonPath …}}.
func reasonPath(r review.Reason, pairID int64) string {
	switch {
	case r.Kind == review.ReasonRelease:
		return pathTo("assignments", r.HomeworkID, "reveal")
	case r.Kind == review.ReasonMeasureOverdue: // what the pair was given, to stop or keep
		return pathTo("pairs", pairID, "measures")
	case r.FromMeasure(): // both partners' scores on one chart
		return pathTo("pairs", pairID, "progress") + "#measures"
	case r.HomeworkID != 0:
		return pathTo("assignments", r.HomeworkID)
	}
	return pathTo("pairs", pairID, "progress")
}

// pathTo is the one way a path inside Mend is built (paths.To): its
// segments joined with slashes, strings as they are and ids in decimal.
// pathTo("pairs", 12, "homework") is "/pairs/12/homework". Templates call
// it as {{path …}}.
func pathTo(segments ...any) string { return paths.To(segments...) }
