package web

import (
	"testing"

	"github.com/mend-practice/mend/internal/review"
)

func TestPathToJoinsSegments(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{pathTo("pairs", int64(12)), "/pairs/12"},
		{pathTo("pairs", int64(12), "homework"), "/pairs/12/homework"},
		{pathTo("admin", "measures", 3), "/admin/measures/3"},
		{reasonPath(review.Reason{Kind: review.ReasonRelease, HomeworkID: 7}, 12), "/assignments/7/reveal"},
		{reasonPath(review.Reason{Kind: review.ReasonMeasureSevere}, 12), "/pairs/12/progress#measures"},
		{reasonPath(review.Reason{Kind: review.ReasonMeasureGap}, 12), "/pairs/12/progress#measures"},
		{reasonPath(review.Reason{Kind: review.ReasonMeasureOverdue}, 12), "/pairs/12/measures"},
		{reasonPath(review.Reason{Kind: review.ReasonOverdue, HomeworkID: 7}, 12), "/assignments/7"},
		{reasonPath(review.Reason{Kind: review.ReasonFalling}, 12), "/pairs/12/progress"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
