package mail_test

import (
	"context"
	"errors"
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
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/templates"
)

const baseURL = "http://mend.test"

// env is one test's world: a fresh database with a practice and a client,
// an SMTP listener, and a Redis database of its own.
type env struct {
	t          *testing.T
	db         *sqlx.DB
	smtp       *mailtest.Listener
	redisURL   string
	rc         *redis.Client
	redis      asynq.RedisConnOpt
	outbox     *mail.Outbox
	practiceID int64
	userID     int64
	log        *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d, _ := dbtest.New(t)
	url, rc := mailtest.RedisDB(t)
	ropt, err := asynq.ParseRedisURI(url)
	if err != nil {
		t.Fatal(err)
	}
	o, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	o.BaseURL = baseURL
	o.Links = mailtest.UnsubscribeLinks(t)
	e := &env{t: t, db: d, smtp: mailtest.Start(t), redisURL: url, rc: rc, redis: ropt, outbox: o, log: testLogger()}
	e.practiceID = e.id(`INSERT INTO practices (name, slug, mail_from_name, reply_to) VALUES ('Northside Counseling', 'northside', 'Northside Counseling', 'desk@northside.example') RETURNING id`)
	e.userID = e.id(`INSERT INTO users (practice_id, role, email, name) VALUES ($1, 'client', 'ann@example.com', 'Ann') RETURNING id`, e.practiceID)
	return e
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (e *env) id(q string, args ...any) int64 {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// queue writes n invitations (distinct recipients) and returns their ids.
func (e *env) queue(n int) []int64 {
	e.t.Helper()
	ids := make([]int64, 0, n)
	for i := range n {
		id, err := e.outbox.Queue(context.Background(), e.db, mail.Message{
			PracticeID: e.practiceID, To: fmt.Sprintf("person%d@example.com", i), ToName: fmt.Sprintf("Person %d", i),
			Kind: mail.KindInvitation, Template: "invitation",
			Data: map[string]any{"Name": fmt.Sprintf("Person %d", i), "PracticeName": "Northside Counseling",
				"InviterName": "Dana", "Link": fmt.Sprintf("%s/invite/token%d", baseURL, i)},
		})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (e *env) sender() *mail.SMTPSender {
	e.t.Helper()
	s, err := mail.NewSMTPSender(e.smtp.URL(), "Mend <no-reply@mend.test>", mail.SenderOptions{Timeout: 5 * time.Second, PoolSize: 4})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	return s
}

func (e *env) delivery(s mail.Sender) *mail.Delivery {
	d := &mail.Delivery{DB: e.db, Logger: e.log, Lease: 3 * time.Second, MaxAttempts: 5,
		RetryDelay: func(int) time.Duration { return 200 * time.Millisecond }}
	if s != nil {
		d.Sender = s
	}
	return d
}

func (e *env) relay() *mail.Relay {
	c := asynq.NewClient(e.redis)
	e.t.Cleanup(func() { c.Close() })
	return &mail.Relay{DB: e.db, Client: c, Logger: e.log, Queue: jobs.QueueFor, Stale: time.Second, Batch: 100,
		Installation: e.installation()}
}

// installation is the test database's installation id.
func (e *env) installation() string {
	e.t.Helper()
	id, err := db.InstallationID(context.Background(), e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// startWorker runs a real worker (asynq server, delivery handler, relay)
// until the test ends.
func (e *env) startWorker(d *mail.Delivery) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &jobs.Worker{DB: e.db, Redis: e.redis, Logger: e.log, Concurrency: 4, Mail: d, Relay: e.relay(),
		RelayEvery: 100 * time.Millisecond, SweepEvery: 300 * time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Error(err)
		}
	})
}

type row struct {
	Status    string `db:"status"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
	Sent      bool   `db:"sent"`
}

func (e *env) row(id int64) row {
	e.t.Helper()
	var r row
	if err := e.db.Get(&r, `SELECT status, attempts, last_error, sent_at IS NOT NULL AS sent FROM email_delivery WHERE email_id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// waitRows waits until no row is queued or sending any more (bounded).
func (e *env) waitSettled(limit time.Duration) {
	e.t.Helper()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM email_delivery WHERE status IN ('queued', 'sending')`); err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("rows still queued or sending after %s", limit)
}

func (e *env) statusCounts() map[string]int {
	e.t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := e.db.Select(&rows, `SELECT status, count(*) AS n FROM email_delivery GROUP BY status`); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

func TestDeliveredOnceWithBothBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startWorker(e.delivery(e.sender()))
	ids := e.queue(1)

	msgs := e.smtp.WaitFor(t, 1, 30*time.Second)
	e.waitSettled(30 * time.Second)
	if got := e.smtp.Count(); got != 1 {
		t.Fatalf("listener got %d messages, want 1", got)
	}
	m := msgs[0]
	if len(m.To) != 1 || m.To[0] != "person0@example.com" {
		t.Errorf("envelope recipients %v", m.To)
	}
	h := m.Header()
	if from := h.Get("From"); !strings.Contains(from, "Northside Counseling") || !strings.Contains(from, "no-reply@mend.test") {
		t.Errorf("From %q: want the practice's name and MAIL_FROM's address", from)
	}
	if rt := h.Get("Reply-To"); !strings.Contains(rt, "desk@northside.example") {
		t.Errorf("Reply-To %q", rt)
	}
	if h.Get("Subject") != "Northside Counseling invited you to Mend" {
		t.Errorf("Subject %q", h.Get("Subject"))
	}
	if h.Get("List-Unsubscribe") != "" {
		t.Error("an invitation must not carry List-Unsubscribe")
	}
	// Derived from the row alone, so a message sent again after a crash
	// carries the same id and the receiver can tell it is a duplicate.
	if want := fmt.Sprintf("<mend-email-%d@mend.test>", ids[0]); h.Get("Message-Id") != want {
		t.Errorf("Message-ID %q, want %q", h.Get("Message-Id"), want)
	}
	parts := m.Parts()
	link := baseURL + "/invite/token0"
	if !strings.Contains(parts["text/plain"], link) {
		t.Errorf("text body lacks the link:\n%s", parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], `href="`+link+`"`) {
		t.Errorf("HTML body lacks the link:\n%s", parts["text/html"])
	}
	if r := e.row(ids[0]); r.Status != "sent" || !r.Sent || r.Attempts != 1 {
		t.Errorf("row %+v, want sent after 1 attempt", r)
	}
}

func TestReminderCarriesOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startWorker(e.delivery(e.sender()))
	_, err := e.outbox.Queue(context.Background(), e.db, mail.Message{
		PracticeID: e.practiceID, UserID: e.userID, To: "ann@example.com", ToName: "Ann",
		Kind: mail.KindReminder, Template: "checkin_reminder", Unsubscribe: true,
		Data: map[string]any{"Name": "Ann", "PracticeName": "Northside Counseling", "Link": baseURL + "/homework"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := e.smtp.WaitFor(t, 1, 30*time.Second)[0]
	h := m.Header()
	lu := h.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<"+baseURL+"/unsubscribe/") || !strings.HasSuffix(lu, ">") {
		t.Fatalf("List-Unsubscribe %q", lu)
	}
	if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", h.Get("List-Unsubscribe-Post"))
	}
	link := strings.Trim(lu, "<>")
	if parts := m.Parts(); !strings.Contains(parts["text/plain"], link) || !strings.Contains(parts["text/html"], link) {
		t.Error("the unsubscribe link is not in both bodies")
	}
	// The link's token resolves to Ann, and nothing was stored for it.
	u := &mail.Unsubscribes{DB: e.db, Links: e.outbox.Links}
	info, err := u.Check(context.Background(), link[strings.LastIndex(link, "/")+1:])
	if err != nil || info.UserID != e.userID {
		t.Fatalf("token → %+v, %v", info, err)
	}
	if n := e.id(`SELECT count(*) FROM unsubscribe_tokens`); n != 0 {
		t.Errorf("%d unsubscribe_tokens rows for a signed link", n)
	}
}

func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startWorker(e.delivery(e.sender()))
	e.startWorker(e.delivery(e.sender()))
	const n = 300
	e.queue(n)
	e.smtp.WaitFor(t, n, 60*time.Second)
	e.waitSettled(60 * time.Second)
	// Without a crash, no duplicates: as many messages as distinct ones.
	got, distinct := e.smtp.Count(), len(e.smtp.CountByMessageID())
	if got != n || distinct != n {
		t.Errorf("listener got %d messages, %d distinct, want %d of each", got, distinct, n)
	}
	for id, c := range e.smtp.CountByMessageID() {
		if c != 1 {
			t.Errorf("%s arrived %d times", id, c)
		}
	}
	if c := e.statusCounts(); c["sent"] != n {
		t.Errorf("statuses %v, want %d sent", c, n)
	}
}

func TestHandlerRunTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.delivery(e.sender())
	id := e.queue(1)[0]
	task, _ := mail.NewDeliverTask("test", id, 0)
	var wg sync.WaitGroup
	for range 2 { // asynq delivers at least once: the same task twice at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.HandleTask(context.Background(), task); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := d.HandleTask(context.Background(), task); err != nil { // and once more later
		t.Fatal(err)
	}
	if got, distinct := e.smtp.Count(), len(e.smtp.CountByMessageID()); got != 1 || distinct != 1 {
		t.Fatalf("listener got %d messages, %d distinct, want 1", got, distinct)
	}
	if err := d.Close(context.Background()); err != nil { // the worker's stop: sent marks written
		t.Fatal(err)
	}
	if r := e.row(id); r.Status != "sent" || r.Attempts != 1 {
		t.Errorf("row %+v", r)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.smtp.SetReject(550)
	d := e.delivery(e.sender())
	id := e.queue(1)[0]
	task, _ := mail.NewDeliverTask("test", id, 0)
	err := d.HandleTask(context.Background(), task)
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("err %v, want one that tells asynq not to retry", err)
	}
	r := e.row(id)
	if r.Status != "failed" || r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
		t.Fatalf("row %+v, want failed after 1 attempt with the 550", r)
	}
	// A redelivered task finds nothing to do.
	e.smtp.SetReject(0)
	if err := d.HandleTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if e.smtp.Count() != 0 || e.row(id).Attempts != 1 {
		t.Error("a failed message was tried again")
	}
}

// A recipient the server refuses fails that message for good, with the
// server's reply as the reason, and the messages around it go through:
// with PIPELINING (RFC 2920) the refused RCPT's reply is read among the
// others of its message; without it the commands go one at a time.
func TestRefusedRecipientFailsOnlyItsMessage(t *testing.T) {
	t.Parallel()
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining=%v", pipelining), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if !pipelining {
				e.smtp.HidePipelining()
			}
			e.smtp.RejectRecipient("person1@example.com", 550)
			d := e.delivery(e.sender())
			ids := e.queue(3)
			for _, id := range ids {
				task, _ := mail.NewDeliverTask("test", id, 0)
				err := d.HandleTask(context.Background(), task)
				if (id == ids[1]) != errors.Is(err, asynq.SkipRetry) {
					t.Errorf("email %d: %v", id, err)
				}
			}
			if err := d.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if r := e.row(ids[1]); r.Status != "failed" || r.Attempts != 1 || !strings.Contains(r.LastError, "rcpt (550)") {
				t.Errorf("refused recipient's row %+v", r)
			}
			for _, id := range []int64{ids[0], ids[2]} {
				if r := e.row(id); r.Status != "sent" {
					t.Errorf("row %d %+v, want sent", id, r)
				}
			}
			var to []string
			for _, m := range e.smtp.Messages() {
				to = append(to, m.To...)
			}
			if strings.Join(to, " ") != "person0@example.com person2@example.com" {
				t.Errorf("the listener accepted messages for %v", to)
			}
			// Three envelopes, each sent in one write when the server
			// offers PIPELINING, never when it does not.
			if got, want := e.smtp.PipelinedEnvelopes(), map[bool]int{true: 3, false: 0}[pipelining]; got != want {
				t.Errorf("%d envelopes arrived in one piece, want %d", got, want)
			}
		})
	}
}

func TestTemporaryFailureGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.smtp.SetReject(451)
	d := e.delivery(e.sender())
	d.MaxAttempts = 3
	e.startWorker(d)
	id := e.queue(1)[0]
	e.waitSettled(30 * time.Second)
	r := e.row(id)
	if r.Status != "failed" || r.Attempts != 3 || !strings.Contains(r.LastError, "451") {
		t.Fatalf("row %+v, want failed after 3 attempts, last error 451", r)
	}
}

func TestSMTPDownThenUpDelivers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.smtp.Stop()
	e.startWorker(e.delivery(e.sender()))
	id := e.queue(1)[0]
	// Wait until a delivery has failed against the dead server.
	end := time.Now().Add(30 * time.Second)
	for e.row(id).Attempts < 2 && time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.row(id); r.Attempts < 2 || r.Status == "sent" || r.LastError == "" {
		t.Fatalf("row %+v, want retried with the connection error", r)
	}
	e.smtp.Restart(t)
	e.smtp.WaitFor(t, 1, 30*time.Second)
	e.waitSettled(30 * time.Second)
	if got, r := e.smtp.Count(), e.row(id); got != 1 || r.Status != "sent" {
		t.Fatalf("listener %d, row %+v", got, r)
	}
}

func TestRedisFlushedRelayStillDelivers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 50
	e.queue(n)
	// Enqueued, then Redis loses everything before any worker ran.
	if _, err := e.relay().Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	if qi, err := insp.GetQueueInfo("default"); err != nil || qi.Pending != n {
		t.Fatalf("queue before the flush: %+v, %v", qi, err)
	}
	rc := e.rc
	if err := rc.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	e.startWorker(e.delivery(e.sender()))
	e.smtp.WaitFor(t, n, 60*time.Second)
	e.waitSettled(30 * time.Second)
	if got := e.smtp.Count(); got != n {
		t.Errorf("listener got %d, want %d", got, n)
	}
	for id, c := range e.smtp.CountByMessageID() {
		if c != 1 {
			t.Errorf("%s arrived %d times", id, c)
		}
	}
}

func TestNoSMTPMarksSkippedAndKeepsTheMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.startWorker(e.delivery(nil))
	id := e.queue(1)[0]
	e.waitSettled(30 * time.Second)
	r := e.row(id)
	if r.Status != "skipped" || r.LastError != mail.ReasonNoSMTP {
		t.Fatalf("row %+v", r)
	}
	var body string
	_ = e.db.Get(&body, `SELECT body_text FROM email_log WHERE id = $1`, id)
	if !strings.Contains(body, baseURL+"/invite/token0") {
		t.Error("the skipped message's text (with its link) is not kept")
	}
}

func TestHeaderInjectionIsImpossible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Whatever reached the row or the practice settings, CR/LF cannot make a
	// header of its own.
	if _, err := e.db.Exec(`UPDATE practices SET mail_from_name = E'Clinic\r\nBcc: evil1@attacker.example' WHERE id = $1`, e.practiceID); err != nil {
		t.Fatal(err)
	}
	id := e.queue(1)[0]
	if _, err := e.db.Exec(`UPDATE email_log SET to_name = E'Eve\r\nBcc: evil2@attacker.example',
		subject = E'Hello\r\nBcc: evil3@attacker.example\r\nX-Injected: yes' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	d := e.delivery(e.sender())
	task, _ := mail.NewDeliverTask("test", id, 0)
	if err := d.HandleTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	m := e.smtp.WaitFor(t, 1, 10*time.Second)[0]
	if len(m.To) != 1 || m.To[0] != "person0@example.com" {
		t.Errorf("envelope recipients %v", m.To)
	}
	h := m.Header()
	if h.Get("Bcc") != "" || h.Get("X-Injected") != "" {
		t.Errorf("an injected header arrived: Bcc %q X-Injected %q", h.Get("Bcc"), h.Get("X-Injected"))
	}
	head := string(m.Raw[:strings.Index(string(m.Raw), "\r\n\r\n")])
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") || strings.HasPrefix(line, "X-Injected") {
			t.Errorf("header line %q", line)
		}
	}
	// A recipient address with a line break is refused outright.
	id2 := e.queue(1)[0]
	if _, err := e.db.Exec(`UPDATE email_log SET to_address = E'a@example.com\r\nRCPT TO:<evil@attacker.example>' WHERE id = $1`, id2); err != nil {
		t.Fatal(err)
	}
	task2, _ := mail.NewDeliverTask("test", id2, 0)
	if err := d.HandleTask(context.Background(), task2); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("bad address: err %v", err)
	}
	if r := e.row(id2); r.Status != "failed" {
		t.Errorf("bad address row %+v", r)
	}
	if e.smtp.Count() != 1 {
		t.Errorf("listener got %d messages", e.smtp.Count())
	}
}

func TestTaskPayloadIsOnlyTheInstallationAndRowID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.queue(3)
	if _, err := e.relay().Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	tasks, err := insp.ListPendingTasks("default")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[fmt.Sprintf("%s:%d", e.installation(), id)] = true
	}
	if len(tasks) != len(ids) {
		t.Fatalf("%d tasks, want %d", len(tasks), len(ids))
	}
	for _, task := range tasks {
		if task.Type != mail.TypeDeliver || !want[string(task.Payload)] {
			t.Errorf("task %s payload %q", task.Type, task.Payload)
		}
	}
	// Nothing in Redis mentions a recipient, subject or body.
	rc := e.rc
	ctx := context.Background()
	keys, err := rc.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, k := range keys {
		switch rc.Type(ctx, k).Val() {
		case "hash":
			for f, v := range rc.HGetAll(ctx, k).Val() {
				dump.WriteString(f + v)
			}
		case "string":
			dump.WriteString(rc.Get(ctx, k).Val())
		case "list":
			dump.WriteString(strings.Join(rc.LRange(ctx, k, 0, -1).Val(), ""))
		}
	}
	for _, secret := range []string{"person0@example.com", "Person 0", "invited you", "token0"} {
		if strings.Contains(dump.String(), secret) {
			t.Errorf("Redis holds %q", secret)
		}
	}
}

// TestMessageWrittenWithoutItsStateIsStillSent: a binary from before
// migration 00062, still running during an upgrade, writes email_log rows
// the old way, without their email_delivery row. The trigger gives them
// one, so they are sent and listed like any other.
func TestMessageWrittenWithoutItsStateIsStillSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.id(`INSERT INTO email_log (practice_id, user_id, to_address, to_name, kind, subject, body_text, body_html)
		VALUES ($1, $2, 'ann@example.com', 'Ann', 'safety_alert', 'A check-in needs you', 'Open it', '<p>Open it</p>')
		RETURNING id`, e.practiceID, e.userID)
	if r := e.row(id); r.Status != "queued" || r.Attempts != 0 {
		t.Fatalf("state of a message written the old way: %+v, want queued", r)
	}
	listed, _, err := e.outbox.List(context.Background(), mend.Scope{PracticeID: e.practiceID, Role: mend.RoleAdmin}, mail.LogFilter{})
	if err != nil || len(listed) != 1 || listed[0].ID != id {
		t.Fatalf("mail log lists %+v (%v), want the message", listed, err)
	}
	e.startWorker(e.delivery(e.sender()))
	msgs := e.smtp.WaitFor(t, 1, 30*time.Second)
	if msgs[0].To[0] != "ann@example.com" {
		t.Errorf("sent to %v", msgs[0].To)
	}
	e.waitSettled(30 * time.Second)
	if r := e.row(id); r.Status != "sent" {
		t.Errorf("state %+v, want sent", r)
	}
}

// TestLeaseIsRenewedWhileASendTakesLong: a slow SMTP server takes three
// times the lease to accept each message. The worker renews the lease of
// what it is sending, so the relay's sweep (every 0.3 s) never takes the
// rows back, and each message arrives once.
func TestLeaseIsRenewedWhileASendTakesLong(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.smtp.SetDelay(3 * time.Second)
	d := e.delivery(e.sender())
	d.Lease, d.RenewEvery = time.Second, 250*time.Millisecond
	e.startWorker(d)
	ids := e.queue(3)
	e.smtp.WaitFor(t, len(ids), time.Minute)
	time.Sleep(2 * time.Second) // a copy sent by a second claim would arrive now
	for mid, n := range e.smtp.CountByMessageID() {
		if n != 1 {
			t.Errorf("%s arrived %d times, want once", mid, n)
		}
	}
	for _, id := range ids {
		if r := e.row(id); r.Status != mail.StatusSent || r.Attempts != 1 {
			t.Errorf("row %d: %s after %d attempts, want sent after 1", id, r.Status, r.Attempts)
		}
	}
}
