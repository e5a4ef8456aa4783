package reminder_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// TestCriticalMeasureAnswerAlertsTheCounselorOnly (issue 20): a critical
// answer to a measure reaches the real SMTP listener as the same safety
// alert a flagged check-in sends: to the counselor, on the critical queue,
// one link and no clinical words (no item, no measure name, no client
// name); nothing reaches either partner.
func TestCriticalMeasureAnswerAlertsTheCounselorOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	maya := w.client("Maya", "America/Chicago", prefs{})
	daniel := w.client("Daniel", "America/Chicago", prefs{})
	pair := w.pair(maya, daniel)
	w.clock.Set(local(zone(t, "America/Chicago"), 2026, 3, 10, 12, 0))
	store, def, aid := w.measureGiven(t, pair)
	rig := w.mailRig()
	rig.startWorker(false)
	form, err := store.AnswerForm(ctx, w.scope(maya), aid)
	if err != nil {
		t.Fatal(err)
	}
	// Item 6 ("afraid of my partner") answered "Often": critical.
	out, err := store.Submit(ctx, w.scope(maya), aid, form.VersionID, measure.Answers{1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 3})
	if err != nil || !out.Result.Critical {
		t.Fatalf("submit: %+v %v", out, err)
	}
	link := fmt.Sprintf("%s/pairs/%d/progress#response-%d", baseURL, pair, out.ResponseID)
	w.wantAlertToCounselorOnly(t, rig, link, []string{"afraid", def.Name, "closeness", "Maya", "Daniel", "Often"}, maya, daniel)
}

// TestDueMeasuresAreRemindedOnceThenNudged (issue 20): a measure given to
// both partners is reminded at each one's reminder time on the day it is
// due, once; the partner who has not answered two days later gets one
// nudge, the one who answered nothing more. The emails name no measure.
func TestDueMeasuresAreRemindedOnceThenNudged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya", "America/Chicago", prefs{})
	daniel := w.client("Daniel", "America/Chicago", prefs{})
	pair := w.pair(maya, daniel)
	w.clock.Set(local(chicago, 2026, 3, 10, 9, 0))
	store, def, aid := w.measureGiven(t, pair)
	kinds := func() map[string]int {
		out := map[string]int{}
		for _, e := range w.emails() {
			out[fmt.Sprintf("%s to %d", e.Kind, e.UserID)]++
			if strings.Contains(e.Text, def.Name) || strings.Contains(e.Subject, def.Name) {
				t.Errorf("email names the measure: %s", e.Text)
			}
		}
		return out
	}
	w.at(local(chicago, 2026, 3, 10, 12, 0))
	if k := kinds(); len(k) != 0 {
		t.Fatalf("before the reminder time: %v", k)
	}
	w.at(local(chicago, 2026, 3, 10, 18, 1))
	w.at(local(chicago, 2026, 3, 10, 18, 5))
	k := kinds()
	if k[fmt.Sprintf("measure_reminder to %d", maya)] != 1 || k[fmt.Sprintf("measure_reminder to %d", daniel)] != 1 || len(k) != 2 {
		t.Fatalf("at the reminder time: %v", k)
	}
	if e := w.emails()[0]; !strings.Contains(e.Text, fmt.Sprintf("%s/measures/%d", baseURL, aid)) || e.Unsub == "" {
		t.Errorf("reminder without its link or unsubscribe: %s", e.Text)
	}
	// Maya answers the next day; Daniel does not.
	w.clock.Set(local(chicago, 2026, 3, 11, 8, 0))
	form, err := store.AnswerForm(ctx, w.scope(maya), aid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Submit(ctx, w.scope(maya), aid, form.VersionID, measure.Answers{1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 0}); err != nil {
		t.Fatal(err)
	}
	w.at(local(chicago, 2026, 3, 12, 18, 1))
	w.at(local(chicago, 2026, 3, 13, 12, 0))
	w.at(local(chicago, 2026, 3, 20, 18, 1))
	k = kinds()
	if k[fmt.Sprintf("measure_overdue to %d", daniel)] != 1 || k[fmt.Sprintf("measure_overdue to %d", maya)] != 0 || len(k) != 3 {
		t.Errorf("after the nudge day: %v", k)
	}
}

// measureGiven gives the pair the practice's own measure (created and
// turned on by an admin, given by the counselor at the clock's time), and
// returns the measure store, the measure and the assignment.
func (w *world) measureGiven(t *testing.T, pair int64) (*measure.Store, measure.Definition, int64) {
	t.Helper()
	ctx := context.Background()
	admin := mend.Scope{PracticeID: w.practice, Role: mend.RoleAdmin,
		UserID: w.id(`INSERT INTO users (practice_id, role, email, name, password_hash) VALUES ($1, 'admin', 'admin@northside.test', 'Ada', 'x') RETURNING id`, w.practice)}
	counselor := mend.Scope{PracticeID: w.practice, UserID: w.counselor, Role: mend.RoleCounselor, Timezone: "America/Chicago"}
	store := measure.NewStore(w.db, vaulttest.New(t, w.db), &audit.Log{DB: w.db}, w.outbox, baseURL)
	store.Now = w.clock.Now
	def := measure.Structures()[measure.OwnKey].Definition
	id, err := store.Create(ctx, admin, def)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetActive(ctx, admin, id, true); err != nil {
		t.Fatal(err)
	}
	aid, err := store.Assign(ctx, counselor, pair, measure.AssignInput{MeasureID: id})
	if err != nil {
		t.Fatal(err)
	}
	return store, def, aid
}
