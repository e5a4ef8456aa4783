package reminder_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/reveal"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// revealStep adds a reveal step version under rule and makes it the step
// the world's homework is given on.
func (w *world) revealStep(rule string) {
	w.t.Helper()
	stepID := w.id(`INSERT INTO steps (practice_id, key) VALUES (NULL, $1) RETURNING id`, "reveal-test-"+rule)
	w.step = w.id(`INSERT INTO step_versions (step_id, version, title, instructions, questions, duration_days, reveal_rule)
		VALUES ($1, 1, 'Secret step title', '{"both": ["Answer alone"], "broke": [], "hurt": []}', '["Where are we?"]', 7, $2)
		RETURNING id`, stepID, rule)
}

func (w *world) reveals() *reveal.Store {
	s := reveal.NewStore(w.db, vaulttest.New(w.t, w.db), &audit.Log{DB: w.db})
	s.Now = w.clock.Now
	return s
}

func (w *world) answer(user, hw int64, period checkin.Date, text string) {
	w.t.Helper()
	if _, err := w.reveals().Save(context.Background(), w.scope(user), hw, period.String(), []string{text}); err != nil {
		w.t.Fatal(err)
	}
}

// revealEmails are the reveal emails in the log, as "kind→user".
func (w *world) revealEmails() []string {
	var out []string
	for _, e := range w.emails() {
		if strings.HasPrefix(e.Kind, "reveal_") {
			out = append(out, e.Kind+"→"+e.To)
		}
	}
	sort.Strings(out)
	return out
}

// TestRevealEmailsReachTheRightPeopleOnce: the partner who has not
// answered hears that the other has (after their quiet hours, once, not
// again after an edit); both hear when their answers are shown; the
// counselor hears when a counselor-releases exercise is ready; no email
// carries an answer, the note or the exercise's title; every one reaches
// the real SMTP listener.
func TestRevealEmailsReachTheRightPeopleOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	// Reminders at 20:00, after everything here; Daniel is quiet 12:00–14:00.
	maya := w.client("Maya", "America/Chicago", prefs{minute: 20 * 60})
	daniel := w.client("Daniel", "America/Chicago", prefs{minute: 20 * 60, quiet: true, qs: 12 * 60, qe: 14 * 60})
	pair := w.pair(maya, daniel)
	tue := checkin.D(2026, 3, 10)
	w.revealStep("both")
	both := w.homework(pair, 0, tue, checkin.D(2026, 3, 16), checkin.Once)
	w.revealStep("counselor")
	held := w.homework(pair, 0, tue, checkin.D(2026, 3, 16), checkin.Once)
	rig := w.mailRig()
	rig.startWorker(false)

	// 12:30: Maya answers; Daniel is in his quiet hours.
	w.clock.Set(local(chicago, 2026, 3, 10, 12, 30))
	w.answer(maya, both, tue, "Maya's secret words")
	w.at(local(chicago, 2026, 3, 10, 12, 31))
	if got := w.revealEmails(); len(got) != 0 {
		t.Fatalf("during Daniel's quiet hours: %v", got)
	}
	w.clock.Set(local(chicago, 2026, 3, 10, 13, 0))
	w.answer(maya, both, tue, "Maya's secret words, edited")
	w.at(local(chicago, 2026, 3, 10, 14, 1))
	w.at(local(chicago, 2026, 3, 10, 14, 2))
	if got := w.revealEmails(); len(got) != 1 || got[0] != "reveal_answered→client2@northside.test" {
		t.Fatalf("after the quiet hours: %v, want one 'answered' to Daniel", got)
	}

	// 15:00: Daniel answers: both hear that their answers are shown.
	w.clock.Set(local(chicago, 2026, 3, 10, 15, 0))
	w.answer(daniel, both, tue, "Daniel's secret words")
	w.at(local(chicago, 2026, 3, 10, 15, 1))
	w.at(local(chicago, 2026, 3, 10, 15, 2))

	// The counselor-releases exercise: Daniel first this time, then Maya;
	// the counselor hears it is ready, then both hear of the release.
	w.clock.Set(local(chicago, 2026, 3, 10, 16, 0))
	w.answer(daniel, held, tue, "Daniel's held words")
	w.answer(maya, held, tue, "Maya's held words")
	w.at(local(chicago, 2026, 3, 10, 16, 1))
	w.at(local(chicago, 2026, 3, 10, 16, 2))
	counselor := mend.Scope{PracticeID: w.practice, UserID: w.counselor, Role: mend.RoleCounselor, Timezone: "America/Chicago"}
	w.clock.Set(local(chicago, 2026, 3, 10, 17, 0))
	if err := w.reveals().Release(context.Background(), counselor, held, tue.String(), "The counselor's private note"); err != nil {
		t.Fatal(err)
	}
	w.at(local(chicago, 2026, 3, 10, 17, 1))
	w.at(local(chicago, 2026, 3, 10, 17, 2))

	want := []string{
		"reveal_answered→client2@northside.test", // Daniel hears Maya answered "both"
		"reveal_ready→counselor@northside.test",  // the held exercise is ready
		"reveal_revealed→client1@northside.test", // "both" shown
		"reveal_revealed→client1@northside.test", // held exercise released
		"reveal_revealed→client2@northside.test",
		"reveal_revealed→client2@northside.test",
	}
	sort.Strings(want)
	got := w.revealEmails()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("reveal emails:\n got %v\nwant %v", got, want)
	}
	// Maya answered the held exercise second: Daniel had answered, so she
	// got no 'answered' email about it; the notices are all spent.
	var left int
	_ = w.db.Get(&left, `SELECT count(*) FROM reveal_notices`)
	if left != 0 {
		t.Errorf("%d reveal notices left", left)
	}

	msgs := rig.smtp.WaitFor(t, len(want), time.Minute)
	w.settle()
	if n := rig.smtp.Count(); n != len(want) {
		t.Fatalf("the SMTP listener got %d messages, want %d", n, len(want))
	}
	for _, m := range msgs {
		for ct, body := range m.Parts() {
			for _, words := range []string{"secret words", "held words", "private note", "Secret step title", "Where are we"} {
				if strings.Contains(body, words) {
					t.Errorf("email to %v (%s) carries %q", m.To, ct, words)
				}
			}
			if !strings.Contains(body, baseURL+"/") {
				t.Errorf("email to %v (%s) has no link", m.To, ct)
			}
		}
	}
}
