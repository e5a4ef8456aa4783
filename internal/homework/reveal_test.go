package homework_test

import (
	"strconv"
	"testing"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
)

// TestRevealExerciseIsForBoth: a reveal exercise given to one member is
// refused with a message beside "for" and nothing is stored; given to
// both, it is homework like any other (issue 21).
func TestRevealExerciseIsForBoth(t *testing.T) {
	e := setup(t)
	p := e.Pair(t, e.A, "was_hurt", "broke_trust")
	step := id(e.builtinStep(t, "reveal-where-we-each-stand"))
	one := homework.Input{StepID: step, For: strconv.FormatInt(p.Members[0].UserID, 10), Cadence: "once"}
	_, err := e.hw.Assign(e.ctx, e.A, p.ID, one)
	if mend.ErrorCode(err) != mend.EINVALID || mend.Fields(err)["for"] == "" {
		t.Fatalf("a reveal exercise for one member: %v", err)
	}
	if n := e.Count(t, `SELECT count(*) FROM assignments WHERE pair_id = $1`, p.ID); n != 0 {
		t.Fatalf("%d homework stored from a refused form", n)
	}
	both := one
	both.For = homework.ForBoth
	if _, err := e.hw.Assign(e.ctx, e.A, p.ID, both); err != nil {
		t.Fatalf("a reveal exercise for both: %v", err)
	}
}
