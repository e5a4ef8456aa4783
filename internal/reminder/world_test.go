package reminder_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/reminder"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/templates"
)

const baseURL = "https://mend.test"

// clock is the fake time every part of a test world reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// world is one test's practice: a counselor, a step to give as homework,
// clients made on demand, and a fake clock.
type world struct {
	t         *testing.T
	db        *sqlx.DB
	dsn       string
	outbox    *mail.Outbox
	clock     *clock
	practice  int64
	counselor int64
	step      int64
	log       *slog.Logger
	n         int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	d, dsn := dbtest.New(t)
	o, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	o.BaseURL = baseURL
	o.Links = mailtest.UnsubscribeLinks(t)
	w := &world{t: t, db: d, dsn: dsn, outbox: o, clock: &clock{}, log: testLogger()}
	w.practice = w.id(`INSERT INTO practices (name, slug, timezone) VALUES ('Northside Counseling', 'northside.test', 'America/Chicago') RETURNING id`)
	w.counselor = w.id(`INSERT INTO users (practice_id, role, email, name, password_hash, timezone)
		VALUES ($1, 'counselor', 'counselor@northside.test', 'Dr. Rachel Moreno', 'x', 'America/Chicago') RETURNING id`, w.practice)
	stepID := w.id(`INSERT INTO steps (practice_id, key) VALUES (NULL, 'reminder-test-step') RETURNING id`)
	w.step = w.id(`INSERT INTO step_versions (step_id, version, title, summary, why, instructions, questions, duration_days)
		VALUES ($1, 1, 'Secret step title', 'Listen well', 'Because', '{"both": ["Sit down"], "broke": ["Own it"], "hurt": ["Say it"]}', $2, 7)
		RETURNING id`, stepID, `["What went well?"]`)
	return w
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (w *world) id(q string, args ...any) int64 {
	w.t.Helper()
	var id int64
	if err := w.db.Get(&id, q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (w *world) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := w.db.Exec(q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

// prefs are a client's reminder settings; minutes of the day.
type prefs struct {
	minute      int
	quiet       bool
	qs, qe      int
	off         bool
	unactivated bool
}

// client creates an activated client in tz (reminders at 18:00 unless p
// says otherwise).
func (w *world) client(name, tz string, p prefs) int64 {
	w.t.Helper()
	w.n++
	if p.minute == 0 {
		p.minute = 18 * 60
	}
	var qs, qe sql.NullInt64
	if p.quiet {
		qs, qe = sql.NullInt64{Int64: int64(p.qs), Valid: true}, sql.NullInt64{Int64: int64(p.qe), Valid: true}
	}
	hash := sql.NullString{String: "x", Valid: !p.unactivated}
	return w.id(`INSERT INTO users (practice_id, role, email, name, password_hash, timezone, reminders_enabled, reminder_minute, quiet_start, quiet_end)
		VALUES ($1, 'client', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		w.practice, fmt.Sprintf("client%d@northside.test", w.n), name, hash, tz, !p.off, p.minute, qs, qe)
}

func (w *world) pair(a, b int64) int64 {
	w.t.Helper()
	id := w.id(`INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, 'Pair', 'romantic') RETURNING id`, w.practice, w.counselor)
	w.exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, 'was_hurt'), ($1, $3, 2, 'broke_trust')`, id, a, b)
	return id
}

// homework gives the pair homework (forUser 0: for both).
func (w *world) homework(pair, forUser int64, starts, due checkin.Date, cadence checkin.Cadence, weekdays ...int64) int64 {
	w.t.Helper()
	if weekdays == nil {
		weekdays = []int64{}
	}
	id := w.id(`INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, weekdays, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ($5::date - 1)::timestamptz) RETURNING id`, // given the day before it starts
		w.practice, pair, w.step, sql.NullInt64{Int64: forUser, Valid: forUser != 0}, starts, due, cadence, pq.Int64Array(weekdays))
	// The counselor's note, sealed as the homework store seals it: a
	// reminder that leaked it would have had to open it.
	note, err := vaulttest.New(w.t, w.db).SealText(context.Background(), w.db, vault.PairScope(w.practice, pair), vault.AssignmentNote, id, "Private note for the pair")
	if err != nil {
		w.t.Fatal(err)
	}
	w.exec(`UPDATE assignments SET note = $1 WHERE id = $2`, note, id)
	return id
}

func (w *world) scheduler() *reminder.Scheduler {
	return &reminder.Scheduler{DB: w.db, Outbox: w.outbox, BaseURL: baseURL, Clock: mend.Clock{Now: w.clock.Now}}
}

// at sets the clock and runs one scheduling pass.
func (w *world) at(t time.Time) reminder.Stats {
	w.t.Helper()
	w.clock.Set(t)
	st, err := w.scheduler().Run(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

type logged struct {
	ID      int64  `db:"id"`
	UserID  int64  `db:"user_id"`
	To      string `db:"to_address"`
	Kind    string `db:"kind"`
	Key     string `db:"dedupe_key"`
	Text    string `db:"body_text"`
	HTML    string `db:"body_html"`
	Subject string `db:"subject"`
	Status  string `db:"status"`
	Unsub   string `db:"list_unsubscribe"`
}

func (w *world) emails() []logged {
	w.t.Helper()
	var out []logged
	if err := w.db.Select(&out, `SELECT e.id, coalesce(e.user_id, 0) AS user_id, e.to_address, e.kind, coalesce(e.dedupe_key, '') AS dedupe_key,
		e.body_text, e.body_html, e.subject, d.status, e.list_unsubscribe
		FROM email_log e JOIN email_delivery d ON d.email_id = e.id ORDER BY e.id`); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) keys() map[string]bool {
	out := map[string]bool{}
	for _, e := range w.emails() {
		out[e.Key] = true
	}
	return out
}

func key(stage string, user, hw int64, period checkin.Date) string {
	return fmt.Sprintf("%s:%d:%d:%s", stage, user, hw, period)
}

// scope is a client's Scope, for the check-in store.
func (w *world) scope(user int64) mend.Scope {
	w.t.Helper()
	var tz string
	if err := w.db.Get(&tz, `SELECT timezone FROM users WHERE id = $1`, user); err != nil {
		w.t.Fatal(err)
	}
	return mend.Scope{PracticeID: w.practice, UserID: user, Role: mend.RoleClient, Timezone: tz}
}

func (w *world) checkins() *checkin.Store {
	s := checkin.NewStore(w.db, vaulttest.New(w.t, w.db), &audit.Log{DB: w.db}, w.outbox, baseURL)
	s.Now = w.clock.Now
	return s
}

// checkIn submits a check-in through the check-in store, as the web form does.
func (w *world) checkIn(user, hw int64, period checkin.Date, unsafe bool) int64 {
	w.t.Helper()
	in := checkin.Input{Period: period.String(), Status: "done", Trust: "6", Communication: "5", Hope: "7",
		Answers: []string{"We walked by the river"}, Reflection: "Private reflection words", Visibility: "partner"}
	if unsafe {
		in.Unsafe, in.SafetyNote = true, "Private safety words"
	}
	id, err := w.checkins().Create(context.Background(), w.scope(user), hw, in)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// mailRig is a real delivery path: Redis of the test's own, an SMTP
// listener, and workers.
type mailRig struct {
	w     *world
	smtp  *mailtest.Listener
	redis asynq.RedisConnOpt
}

func (w *world) mailRig() *mailRig {
	w.t.Helper()
	url, _ := mailtest.RedisDB(w.t)
	ropt, err := asynq.ParseRedisURI(url)
	if err != nil {
		w.t.Fatal(err)
	}
	return &mailRig{w: w, smtp: mailtest.Start(w.t), redis: ropt}
}

// startWorker runs a worker process's parts in the test: asynq server with
// the delivery handler, the relay, and (withScheduler) the reminder task
// on the fake clock.
func (r *mailRig) startWorker(withScheduler bool) {
	t := r.w.t
	t.Helper()
	sender, err := mail.NewSMTPSender(r.smtp.URL(), "Mend <no-reply@mend.test>", mail.SenderOptions{Timeout: 5 * time.Second, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	client := asynq.NewClient(r.redis)
	t.Cleanup(func() { client.Close() })
	wk := &jobs.Worker{DB: r.w.db, Redis: r.redis, Logger: r.w.log, Concurrency: 4,
		Mail:       &mail.Delivery{DB: r.w.db, Sender: sender, Logger: r.w.log, Lease: 5 * time.Second},
		Relay:      &mail.Relay{DB: r.w.db, Client: client, Logger: r.w.log, Queue: jobs.QueueFor, Stale: 2 * time.Second},
		RelayEvery: 100 * time.Millisecond, SweepEvery: 500 * time.Millisecond}
	if withScheduler {
		// Wired as `mend worker` wires it: batches handed to asynq at commit.
		wk.Reminders = r.w.scheduler()
		wk.Reminders.Handoff = wk.Relay.Handoff
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wk.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// settle waits (bounded) until no email is queued or sending.
func (w *world) settle() {
	w.t.Helper()
	end := time.Now().Add(time.Minute)
	for time.Now().Before(end) {
		var n int
		if err := w.db.Get(&n, `SELECT count(*) FROM email_delivery WHERE status IN ('queued', 'sending')`); err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatal("emails still queued or sending after a minute")
}

// wantCriticalQueue fails unless the one email logged goes to the
// critical queue (an alert must not wait behind reminders).
func (w *world) wantCriticalQueue(t *testing.T) {
	t.Helper()
	var kind string
	_ = w.db.Get(&kind, `SELECT kind FROM email_log`)
	if jobs.QueueFor(kind) != jobs.QueueCritical {
		t.Errorf("kind %q goes to queue %q", kind, jobs.QueueFor(kind))
	}
}

// wantAlertToCounselorOnly waits for the one alert email a worker sends
// through rig and fails unless it reached the counselor alone, links to
// exactly link, carries none of words, went to the critical queue, and no
// email went to the clients.
func (w *world) wantAlertToCounselorOnly(t *testing.T, rig *mailRig, link string, words []string, clients ...int64) {
	t.Helper()
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
		for _, word := range words {
			if strings.Contains(body, word) {
				t.Errorf("%s body carries %q", ct, word)
			}
		}
	}
	var toClients int
	if err := w.db.Get(&toClients, `SELECT count(*) FROM email_log WHERE user_id = ANY($1)`, pq.Array(clients)); err != nil || toClients != 0 {
		t.Errorf("%d emails to the clients (%v)", toClients, err)
	}
	w.wantCriticalQueue(t)
}
