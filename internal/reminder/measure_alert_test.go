package reminder_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/jobs"
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
	admin := mend.Scope{PracticeID: w.practice, Role: mend.RoleAdmin,
		UserID: w.id(`INSERT INTO users (practice_id, role, email, name, password_hash) VALUES ($1, 'admin', 'admin@northside.test', 'Ada', 'x') RETURNING id`, w.practice)}
	counselor := mend.Scope{PracticeID: w.practice, UserID: w.counselor, Role: mend.RoleCounselor, Timezone: "America/Chicago"}
	store := measure.NewStore(w.db, vaulttest.New(t, w.db), &audit.Log{DB: w.db}, w.outbox, baseURL)
	store.Now = w.clock.Now
	w.clock.Set(local(zone(t, "America/Chicago"), 2026, 3, 10, 12, 0))
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
	msgs := rig.smtp.WaitFor(t, 1, time.Minute)
	w.settle()
	time.Sleep(500 * time.Millisecond)
	if n := rig.smtp.Count(); n != 1 {
		t.Fatalf("listener got %d messages, want 1", n)
	}
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != "counselor@northside.test" {
		t.Fatalf("alert sent to %v, want the counselor only", m.To)
	}
	link := fmt.Sprintf("%s/pairs/%d/measures#response-%d", baseURL, pair, out.ResponseID)
	for ct, body := range m.Parts() {
		links := linkRE.FindAllString(body, -1)
		if len(links) == 0 {
			t.Errorf("%s body has no link", ct)
		}
		for _, l := range links {
			if l != link {
				t.Errorf("%s body links to %s, want exactly %s", ct, l, link)
			}
		}
		for _, words := range []string{"afraid", def.Name, "closeness", "Maya", "Daniel", "Often"} {
			if strings.Contains(body, words) {
				t.Errorf("%s body carries %q", ct, words)
			}
		}
	}
	var toClients int
	if err := w.db.Get(&toClients, `SELECT count(*) FROM email_log WHERE user_id IN ($1, $2)`, maya, daniel); err != nil || toClients != 0 {
		t.Errorf("%d emails to the partners (%v)", toClients, err)
	}
	var kind string
	_ = w.db.Get(&kind, `SELECT kind FROM email_log`)
	if jobs.QueueFor(kind) != jobs.QueueCritical {
		t.Errorf("kind %q goes to queue %q", kind, jobs.QueueFor(kind))
	}
}
