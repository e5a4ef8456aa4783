package review_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/pair"
)

// reveal gives the pair a once-exercise on a built-in reveal step (key)
// from starts to due, and stores an answer for each of the users (no
// words: the dashboard reads only that it exists).
func (f *fx) reveal(t *testing.T, p pair.Pair, key string, starts, due checkin.Date, users ...int64) int64 {
	t.Helper()
	var id int64
	if err := f.DB.Get(&id, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, created_at)
		VALUES ($1, $2, (SELECT current_version_id FROM steps WHERE key = $3), $4, $5, 'once', ($4::date - 1)::timestamptz)
		RETURNING id`, p.PracticeID, p.ID, key, starts, due); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := f.DB.Exec(`INSERT INTO reveal_answers (practice_id, pair_id, assignment_id, user_id, period_start, period_end)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.PracticeID, p.ID, id, u, starts, due); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestRevealExercisesOnTheDashboard: a counselor-releases exercise both
// answered waits in the attention queue until it is released; an exercise
// past its due date that one partner answered is the other's missing
// check-in (and not the one who answered).
func TestRevealExercisesOnTheDashboard(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	an, bn := p.Members[0].Name, p.Members[1].Name
	held := f.reveal(t, p, "reveal-what-i-need-to-feel-safe", day0.AddDays(-2), day0.AddDays(4), a, b)
	past := f.reveal(t, p, "reveal-where-we-each-stand", day0.AddDays(-10), day0.AddDays(-4), a)

	got := reasons(f.dashboard(t, f.A), p.ID)
	if !has(got, "release:") {
		t.Errorf("reasons %v: the exercise waiting for release is not in the queue", got)
	}
	if !has(got, "overdue:"+bn) || has(got, "overdue:"+an) {
		t.Errorf("reasons %v: want %s overdue on the past exercise, not %s", got, bn, an)
	}
	for _, at := range f.dashboard(t, f.A).Attention {
		for _, r := range at.Reasons {
			if r.Kind == "release" && (r.HomeworkID != held || r.Action() != "Read and release") {
				t.Errorf("release reason %+v, want homework %d", r, held)
			}
			if r.Kind == "overdue" && r.HomeworkID != past {
				t.Errorf("overdue reason %+v, want homework %d", r, past)
			}
		}
	}

	// Released: no longer waiting.
	if _, err := f.DB.Exec(`INSERT INTO reveals (practice_id, pair_id, assignment_id, period_start, rule)
		VALUES ($1, $2, $3, $4, 'counselor')`, p.PracticeID, p.ID, held, day0.AddDays(-2)); err != nil {
		t.Fatal(err)
	}
	if got := reasons(f.dashboard(t, f.A), p.ID); has(got, "release:") {
		t.Errorf("reasons %v after the release", got)
	}
	// Another counselor's dashboard never shows it.
	if got := reasons(f.dashboard(t, f.B), p.ID); len(got) != 0 {
		t.Errorf("another counselor sees %v", got)
	}
}
