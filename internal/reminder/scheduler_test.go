package reminder_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/reminder"
)

var (
	tue = checkin.D(2026, 3, 10)
	wed = checkin.D(2026, 3, 11)
	end = checkin.D(2026, 3, 20)
)

func TestDueReminderIsDeliveredOnceWithBothBodies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya Brooks", "America/Chicago", prefs{})
	daniel := w.client("Daniel Brooks", "America/Chicago", prefs{off: true})
	hw := w.homework(w.pair(maya, daniel), 0, tue, end, checkin.Daily)
	rig := w.mailRig()
	rig.startWorker(false)

	if st := w.at(local(chicago, 2026, 3, 10, 17, 59)); st.Queued != 0 {
		t.Fatalf("a minute early: %d emails", st.Queued)
	}
	if st := w.at(local(chicago, 2026, 3, 10, 18, 0)); st.Queued != 1 {
		t.Fatalf("at 18:00: %d emails, want 1 (Daniel turned reminders off)", st.Queued)
	}
	if st := w.at(local(chicago, 2026, 3, 10, 18, 1)); st.Queued != 0 {
		t.Fatalf("a minute later: %d more emails", st.Queued)
	}
	msgs := rig.smtp.WaitFor(t, 1, time.Minute)
	w.settle()
	time.Sleep(500 * time.Millisecond) // a relay sweep or two: a second copy would show now
	if n := rig.smtp.Count(); n != 1 {
		t.Fatalf("listener got %d messages, want 1", n)
	}
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != "client1@northside.test" {
		t.Errorf("sent to %v", m.To)
	}
	h := m.Header()
	if h.Get("Subject") != "A check-in is waiting for you" {
		t.Errorf("subject %q", h.Get("Subject"))
	}
	if !strings.HasPrefix(h.Get("List-Unsubscribe"), "<"+baseURL+"/unsubscribe/") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("unsubscribe headers %q / %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}
	parts := m.Parts()
	link := fmt.Sprintf("%s/homework/%d/checkins/new?period=2026-03-10", baseURL, hw)
	for _, ct := range []string{"text/plain", "text/html"} {
		body := parts[ct]
		if body == "" {
			t.Fatalf("no %s body", ct)
		}
		if !strings.Contains(body, "Maya Brooks") || !strings.Contains(strings.ReplaceAll(body, "&amp;", "&"), link) {
			t.Errorf("%s body lacks the name or the link %s:\n%s", ct, link, body)
		}
		for _, secret := range []string{"Secret step title", "Private note", "Sit down"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s body carries homework text %q", ct, secret)
			}
		}
	}
	es := w.emails()
	if es[0].Key != key("reminder", maya, hw, tue) || es[0].Status != "sent" {
		t.Errorf("email log: %+v", es[0])
	}
}

// TestQuietHoursAndTimezones walks a fake clock over two days in steps of
// half an hour, running a pass at each step, for a client in
// Auckland and her partner in Chicago, and notes when each email was
// queued.
func TestQuietHoursAndTimezones(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	auckland, chicago := zone(t, "Pacific/Auckland"), zone(t, "America/Chicago")
	// Reminders at 18:00, quiet 17:00–19:30: at 19:30 Auckland time.
	ana := w.client("Ana", "Pacific/Auckland", prefs{minute: 18 * 60, quiet: true, qs: 17 * 60, qe: 19*60 + 30})
	// Reminders at 07:00, quiet 22:00–07:30: at 07:30 Chicago time.
	carl := w.client("Carl", "America/Chicago", prefs{minute: 7 * 60, quiet: true, qs: 22 * 60, qe: 7*60 + 30})
	hw := w.homework(w.pair(ana, carl), 0, tue, end, checkin.Daily)

	queuedAt := map[string]time.Time{}
	for now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC); now.Before(time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)); now = now.Add(30 * time.Minute) {
		w.at(now)
		for _, e := range w.emails() {
			if _, ok := queuedAt[e.Key]; !ok {
				queuedAt[e.Key] = now
			}
		}
	}
	want := map[string]time.Time{
		key("reminder", ana, hw, tue):  local(auckland, 2026, 3, 10, 19, 30),
		key("nudge", ana, hw, tue):     local(auckland, 2026, 3, 11, 19, 30),
		key("reminder", ana, hw, wed):  local(auckland, 2026, 3, 11, 19, 30),
		key("reminder", carl, hw, tue): local(chicago, 2026, 3, 10, 7, 30),
		key("nudge", carl, hw, tue):    local(chicago, 2026, 3, 11, 7, 30),
		key("reminder", carl, hw, wed): local(chicago, 2026, 3, 11, 7, 30),
	}
	for k, at := range want {
		got, ok := queuedAt[k]
		if !ok {
			t.Errorf("%s never queued, want at %s", k, at)
		} else if !got.Equal(at) {
			t.Errorf("%s queued at %s, want %s", k, got.In(at.Location()), at)
		}
	}
	for k := range queuedAt {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected email %s at %s", k, queuedAt[k])
		}
	}
}

func TestRemindersOffSendNothingUntilTurnedOn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	off := w.client("Off", "America/Chicago", prefs{off: true})
	notYet := w.client("Not activated", "America/Chicago", prefs{unactivated: true})
	hw := w.homework(w.pair(off, notYet), 0, tue, end, checkin.Daily)
	for h := 0; h < 48; h += 2 {
		w.at(local(chicago, 2026, 3, 10, 0, 0).Add(time.Duration(h) * time.Hour))
	}
	if es := w.emails(); len(es) != 0 {
		t.Fatalf("reminders off or account never activated, still %d emails: %+v", len(es), es)
	}
	var due int
	_ = w.db.Get(&due, `SELECT count(*) FROM reminder_due WHERE due_at IS NOT NULL`)
	if due != 0 {
		t.Errorf("%d rows still due for clients who get nothing", due)
	}
	// Turned on on the settings page (the same UPDATE) an hour after the
	// reminder time: the open period's reminder and the late one's nudge
	// come on the next pass.
	w.exec(`UPDATE users SET reminders_enabled = true WHERE id = $1`, off)
	w.at(local(chicago, 2026, 3, 11, 19, 0))
	if k := w.keys(); len(k) != 2 || !k[key("reminder", off, hw, checkin.D(2026, 3, 11))] || !k[key("nudge", off, hw, tue)] {
		t.Errorf("after turning reminders on: %v", k)
	}
}

func TestNoReminderForACheckedInPeriod(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya", "America/Chicago", prefs{})
	daniel := w.client("Daniel", "America/Chicago", prefs{})
	hw := w.homework(w.pair(maya, daniel), 0, tue, end, checkin.Daily)
	w.at(local(chicago, 2026, 3, 10, 9, 0)) // rows computed: due at 18:00
	w.clock.Set(local(chicago, 2026, 3, 10, 12, 0))
	w.checkIn(maya, hw, tue, false)
	w.at(local(chicago, 2026, 3, 10, 18, 0))
	w.at(local(chicago, 2026, 3, 11, 18, 0))
	got := w.keys()
	want := map[string]bool{
		key("reminder", daniel, hw, tue): true,
		key("nudge", daniel, hw, tue):    true,
		key("reminder", daniel, hw, wed): true,
		key("reminder", maya, hw, wed):   true, // Tuesday checked in: no reminder, no nudge
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("emails %v, want %v", sorted(got), sorted(want))
	}
}

func TestOverdueNudgeOnceThenNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya", "America/Chicago", prefs{minute: 9 * 60})
	daniel := w.client("Daniel", "America/Chicago", prefs{off: true})
	// One week, checked in weekly on Thursdays: one period, 2–8 March.
	hw := w.homework(w.pair(maya, daniel), maya, checkin.D(2026, 3, 2), checkin.D(2026, 3, 8), checkin.Weekly, 4)
	for h := 0; h < 24*12; h += 3 {
		w.at(local(chicago, 2026, 3, 1, 0, 0).Add(time.Duration(h) * time.Hour))
	}
	var es []logged
	var got []string
	for _, e := range w.emails() {
		if e.UserID == maya {
			es = append(es, e)
			got = append(got, e.Key+" "+e.Subject)
		}
	}
	want := []string{
		key("reminder", maya, hw, checkin.D(2026, 3, 2)) + " A check-in is waiting for you",
		key("nudge", maya, hw, checkin.D(2026, 3, 2)) + " Your check-in is still open",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("emails %v, want %v", got, want)
	}
	nudge := es[1]
	if !strings.Contains(nudge.Text, "until Tuesday 10 March") || nudge.Unsub == "" || !strings.Contains(nudge.Text, nudge.Unsub) {
		t.Errorf("nudge text (until, unsubscribe link %q):\n%s", nudge.Unsub, nudge.Text)
	}
	var left int
	_ = w.db.Get(&left, `SELECT count(*) FROM reminder_due WHERE assignment_id = $1 AND user_id = $2`, hw, maya)
	if left != 0 {
		t.Errorf("the finished homework's row is still there")
	}
}

func TestPreferenceChangeMovesTheReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya", "America/Chicago", prefs{minute: 20 * 60})
	daniel := w.client("Daniel", "America/Chicago", prefs{off: true})
	hw := w.homework(w.pair(maya, daniel), maya, tue, end, checkin.Daily)
	w.at(local(chicago, 2026, 3, 10, 8, 0)) // due at 20:00
	// She moves her reminders to 09:00 and turns on quiet hours until 10:15.
	w.exec(`UPDATE users SET reminder_minute = 540, quiet_start = 1320, quiet_end = 615 WHERE id = $1`, maya)
	if st := w.at(local(chicago, 2026, 3, 10, 10, 0)); st.Queued != 0 {
		t.Fatalf("inside the new quiet hours: %d emails", st.Queued)
	}
	if st := w.at(local(chicago, 2026, 3, 10, 10, 15)); st.Queued != 1 {
		t.Fatalf("at the end of quiet hours: %d emails, want 1", st.Queued)
	}
	// Homework cancelled: its rows go and nothing more is sent.
	w.exec(`UPDATE assignments SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, hw)
	w.at(local(chicago, 2026, 3, 11, 10, 15))
	if n := len(w.emails()); n != 1 {
		t.Errorf("%d emails after the homework was cancelled", n)
	}
	var rows int
	_ = w.db.Get(&rows, `SELECT count(*) FROM reminder_due`)
	if rows != 0 {
		t.Errorf("%d reminder rows left for cancelled homework", rows)
	}
}

// TestSchedulingCostFollowsTheDueRows: a pass reads only due rows.
func TestSchedulingCostFollowsTheDueRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	for i := 0; i < 30; i++ {
		a := w.client("A", "America/Chicago", prefs{minute: 18 * 60})
		b := w.client("B", "America/Chicago", prefs{minute: 19 * 60})
		w.homework(w.pair(a, b), 0, tue, end, checkin.Daily)
	}
	pass := func(t time.Time) reminder.Stats {
		w.clock.Set(t)
		st, err := w.scheduler().Reminders(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		return st
	}
	if st := pass(local(chicago, 2026, 3, 10, 8, 0)); st.Claimed != 60 || st.Queued != 0 {
		t.Fatalf("first pass: %+v, want 60 rows looked at (new homework), nothing sent", st)
	}
	if st := pass(local(chicago, 2026, 3, 10, 12, 0)); st.Claimed != 0 {
		t.Fatalf("nothing due at noon, yet %d rows were read", st.Claimed)
	}
	if st := pass(local(chicago, 2026, 3, 10, 18, 0)); st.Claimed != 30 || st.Queued != 30 {
		t.Fatalf("at 18:00: %+v, want the 30 due rows and 30 emails", st)
	}
}

// TestTwoWorkersAndTwoSchedulersSendEachOnce runs two workers (each with
// the minute task's handler, a relay and a delivery) and, at the same
// time, two more passes from the test; each client gets exactly one
// reminder.
func TestTwoWorkersAndTwoSchedulersSendEachOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	const pairs = 60
	var clients []int64
	for i := 0; i < pairs; i++ {
		a := w.client("A", "America/Chicago", prefs{})
		b := w.client("B", "America/Chicago", prefs{})
		w.homework(w.pair(a, b), 0, tue, end, checkin.Daily)
		clients = append(clients, a, b)
	}
	w.clock.Set(local(chicago, 2026, 3, 10, 18, 0))
	rig := w.mailRig()
	rig.startWorker(true)
	rig.startWorker(true)
	client := asynq.NewClient(rig.redis)
	defer client.Close()
	installation, err := db.InstallationID(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		if _, err := client.Enqueue(jobs.ScheduleTask(installation), asynq.Queue(jobs.QueueDefault)); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := w.scheduler()
			s.Batch, s.Parallel = 7, 3 // many small claims racing each other
			if _, err := s.Run(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rig.smtp.WaitFor(t, len(clients), 2*time.Minute)
	w.settle()
	// The minute tasks may still be running: wait for them, then for any
	// stray copy to arrive.
	insp := asynq.NewInspector(rig.redis)
	defer insp.Close()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		q, err := insp.GetQueueInfo(jobs.QueueDefault)
		if err == nil && q.Pending+q.Active+q.Retry == 0 {
			break
		}
	}
	time.Sleep(time.Second)
	w.settle()
	if n := rig.smtp.Count(); n != len(clients) {
		t.Errorf("listener got %d messages, want %d", n, len(clients))
	}
	byRecipient := map[string]int{}
	for _, m := range rig.smtp.Messages() {
		byRecipient[m.To[0]]++
	}
	for to, n := range byRecipient {
		if n != 1 {
			t.Errorf("%s got %d reminders", to, n)
		}
	}
	if len(byRecipient) != len(clients) {
		t.Errorf("%d distinct recipients, want %d", len(byRecipient), len(clients))
	}
}

// TestSafetyAlertReachesTheCounselorOnly: a check-in with the safety answer,
// a worker running as in production; one email reaches the SMTP listener,
// to the counselor, with a link to the check-in and none of the client's
// words, and nothing goes to either client.
func TestSafetyAlertReachesTheCounselorOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	maya := w.client("Maya", "America/Chicago", prefs{})
	daniel := w.client("Daniel", "America/Chicago", prefs{})
	pair := w.pair(maya, daniel)
	hw := w.homework(pair, 0, tue, end, checkin.Daily)
	rig := w.mailRig()
	rig.startWorker(true)
	w.clock.Set(local(zone(t, "America/Chicago"), 2026, 3, 10, 12, 0)) // before any reminder is due
	start := time.Now()
	id := w.checkIn(maya, hw, tue, true)
	// The one link in the email opens the check-in's review page on its
	// safety section (the note and the acknowledgement).
	link := fmt.Sprintf("%s/review/checkins/%d#safety", baseURL, id)
	w.wantAlertToCounselorOnly(t, rig, link, []string{"Private safety words", "Private reflection words", "river", "Maya", "Daniel", "Secret step title"}, maya, daniel)
	t.Logf("safety alert at the SMTP listener %s after the check-in", time.Since(start).Round(time.Millisecond))
}

// TestDigestCountsOnlyOncePerDay: the counselor's digest at 07:30 in their
// timezone, numbers only, once a day, and none when nothing waits.
func TestDigestCountsOnlyOncePerDay(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	chicago := zone(t, "America/Chicago")
	maya := w.client("Maya Brooks", "America/Chicago", prefs{off: true})
	daniel := w.client("Daniel Brooks", "America/Chicago", prefs{off: true})
	pair := w.pair(maya, daniel)
	hw := w.homework(pair, 0, checkin.D(2026, 3, 2), checkin.D(2026, 3, 8), checkin.Daily)
	// Maya checks in for the last day with the safety answer; Daniel never
	// checks in for it, so the homework is overdue once the 8th is over.
	w.clock.Set(local(chicago, 2026, 3, 8, 12, 0))
	checkinID := w.checkIn(maya, hw, checkin.D(2026, 3, 8), true)

	digests := func() []logged {
		var out []logged
		for _, e := range w.emails() {
			if e.Kind == "counselor_digest" {
				out = append(out, e)
			}
		}
		return out
	}
	w.at(local(chicago, 2026, 3, 9, 7, 29))
	if n := len(digests()); n != 0 {
		t.Fatalf("%d digests before 07:30", n)
	}
	w.at(local(chicago, 2026, 3, 9, 7, 30))
	w.at(local(chicago, 2026, 3, 9, 7, 31))
	w.at(local(chicago, 2026, 3, 9, 11, 0))
	ds := digests()
	if len(ds) != 1 {
		t.Fatalf("%d digests on the 9th, want 1", len(ds))
	}
	d := ds[0]
	if d.Key != fmt.Sprintf("digest:%d:2026-03-09", w.counselor) || d.To != "counselor@northside.test" {
		t.Errorf("digest %s to %s", d.Key, d.To)
	}
	if !strings.Contains(d.Text, baseURL+"/dashboard") || !strings.Contains(d.HTML, `href="`+baseURL+`/dashboard"`) {
		t.Errorf("digest lacks the link to the dashboard")
	}
	for _, want := range []string{"1 safety answer not yet acknowledged", "1 check-in to review", "1 homework past its due date"} {
		if !strings.Contains(d.Text, want) || !strings.Contains(tags.ReplaceAllString(d.HTML, ""), want) {
			t.Errorf("digest lacks %q:\n%s\n%s", want, d.Text, d.HTML)
		}
	}
	for _, secret := range []string{"Maya", "Daniel", "Brooks", "Secret step title", "Private"} {
		if strings.Contains(d.Text+d.HTML+d.Subject, secret) {
			t.Errorf("digest carries %q", secret)
		}
	}
	// Next morning again; then, with everything dealt with, nothing.
	w.at(local(chicago, 2026, 3, 10, 7, 30))
	if n := len(digests()); n != 2 {
		t.Fatalf("%d digests by the 10th, want 2", n)
	}
	w.exec(`UPDATE checkins SET reviewed_at = now() WHERE id = $1`, checkinID)
	w.exec(`UPDATE safety_alerts SET acknowledged_at = now(), acknowledged_by = $2 WHERE checkin_id = $1`, checkinID, w.counselor)
	w.exec(`UPDATE assignments SET status = 'completed', completed_at = now() WHERE id = $1`, hw)
	w.at(local(chicago, 2026, 3, 11, 7, 30))
	w.at(local(chicago, 2026, 3, 12, 7, 30))
	if n := len(digests()); n != 2 {
		t.Errorf("%d digests, want none once nothing waits", n)
	}
	// Woken late (the workers were down all morning): no evening digest.
	w.exec(`UPDATE checkins SET reviewed_at = NULL WHERE id = $1`, checkinID)
	w.at(local(chicago, 2026, 3, 13, 12, 30))
	if n := len(digests()); n != 2 {
		t.Errorf("a digest went out after noon")
	}
	w.at(local(chicago, 2026, 3, 14, 7, 45))
	if n := len(digests()); n != 3 {
		t.Errorf("%d digests, want the one of the 14th", n)
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// linkRE finds the absolute links in an email's body.
var linkRE = regexp.MustCompile(`https?://[^\s"'<>]+`)
