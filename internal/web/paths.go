package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mend-practice/mend/internal/review"
)

// reasonPath is where the counselor acts on a dashboard reason: the
// exercise to read and release, the pair's measures for a measure's
// reason, the homework's page (to extend, complete or cancel it, or see
// who checked in) for missed or overdue check-ins, and the progress tab
// for a trend. Templates call it as {{reasonPath …}}.
func reasonPath(r review.Reason, pairID int64) string {
	switch {
	case r.Kind == review.ReasonRelease:
		return pathTo("assignments", r.HomeworkID, "reveal")
	case r.FromMeasure():
		return pathTo("pairs", pairID, "measures")
	case r.HomeworkID != 0:
		return pathTo("assignments", r.HomeworkID)
	}
	return pathTo("pairs", pairID, "progress")
}

// pathTo is the one way a path inside Mend is built: its segments joined
// with slashes, strings as they are and ids in decimal. pathTo("pairs", 12,
// "homework") is "/pairs/12/homework". Templates call it as {{path …}}.
func pathTo(segments ...any) string {
	var b strings.Builder
	for _, seg := range segments {
		b.WriteByte('/')
		switch v := seg.(type) {
		case string:
			b.WriteString(v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	return b.String()
}
