package review_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/review"
)

func TestFalling(t *testing.T) {
	for _, tc := range []struct {
		latestFirst []int
		want        bool
	}{
		{[]int{5, 6, 7}, true},      // 7 → 6 → 5
		{[]int{5, 7, 7}, true},      // 7 → 7 → 5
		{[]int{3, 5, 7, 9}, true},   // only the last three count
		{[]int{6, 6, 7}, false},     // one point: noise
		{[]int{6, 5, 8}, false},     // fell, then rose
		{[]int{5, 7}, false},        // fewer than three check-ins
		{[]int{1, 1, 1}, false},     // flat
		{[]int{7, 6, 5, 10}, false}, // rising over the last three
		{[]int{1, 10, 10, 1}, true}, // a steep drop at the end
		{nil, false},
	} {
		if got := review.Falling(tc.latestFirst); got != tc.want {
			t.Errorf("Falling(%v latest first) = %v, want %v", tc.latestFirst, got, tc.want)
		}
	}
}

func TestDiverging(t *testing.T) {
	a := review.Ratings{Trust: 8, Communication: 6, Hope: 5}
	if gaps := review.Diverging(a, review.Ratings{Trust: 5, Communication: 4, Hope: 8}); len(gaps) != 2 ||
		gaps[0].Rating != "trust" || gaps[1].Rating != "hope" {
		t.Errorf("gaps of 3 on trust and hope: got %v", gaps)
	}
	if gaps := review.Diverging(a, review.Ratings{Trust: 6, Communication: 8, Hope: 7}); len(gaps) != 0 {
		t.Errorf("gaps of 2: got %v, want none", gaps)
	}
}
