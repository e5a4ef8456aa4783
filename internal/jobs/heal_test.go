package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mail/mailtest"
)

// logBuffer is a log written by several goroutines and read by the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines are the log lines that contain s.
func (b *logBuffer) lines(s string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// eventually polls done until it holds, failing the test after limit (a
// bound on a hung test, not a timing assertion).
func eventually(t *testing.T, limit time.Duration, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !done(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
	}
}

// healRig is one installation (its own database) with a worker built as
// `mend worker` builds it (jobs.NewMail), on a Redis database and SMTP
// listener that a test may share between rigs.
type healRig struct {
	t          *testing.T
	db         *sqlx.DB
	redis      asynq.RedisConnOpt
	smtp       *mailtest.Listener
	log        *logBuffer
	del        *mail.Delivery
	relay      *mail.Relay
	outbox     *mail.Outbox
	practiceID int64
	domain     string
}

func newHealRig(t *testing.T, redisURL string, smtp *mailtest.Listener, domain string) *healRig {
	t.Helper()
	d, dsn := dbtest.New(t)
	ropt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	buf := &logBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := config.Config{DatabaseURL: dsn, RedisURL: redisURL, SMTPURL: smtp.URL(),
		MailFrom: "Mend <no-reply@" + domain + ">", WorkerConcurrency: 4}
	del, relay, closeMail, err := jobs.NewMail(ropt, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeMail)
	practice, outbox := mailPractice(t, d, "Heal "+domain, strings.ReplaceAll(domain, ".", "-"))
	return &healRig{t: t, db: d, redis: ropt, smtp: smtp, log: buf, del: del, relay: relay, outbox: outbox,
		practiceID: practice, domain: domain}
}

// worker is the rig's worker at the production intervals unless the test
// shortens them.
func (r *healRig) worker() *jobs.Worker {
	log := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return &jobs.Worker{DB: r.db, Redis: r.redis, Logger: log, Concurrency: 4, Mail: r.del, Relay: r.relay}
}

// queue writes n emails of kind to prefix-<i>@example.com and returns
// their Message-IDs.
func (r *healRig) queue(n int, kind, prefix string) map[string]bool {
	r.t.Helper()
	var msgs []mail.Message
	for i := range n {
		msgs = append(msgs, mail.Message{PracticeID: r.practiceID, To: fmt.Sprintf("%s-%d@example.com", prefix, i),
			Kind: kind, Template: "invitation",
			Data: map[string]any{"Name": "P", "PracticeName": "Quillfeather Counseling", "InviterName": "D", "Link": "http://mend.test/x"}})
	}
	ids, err := r.outbox.QueueMany(context.Background(), r.db, msgs)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range ids {
		out[fmt.Sprintf("<mend-email-%d@%s>", id, r.domain)] = true
	}
	return out
}

// TestSafetyAlertsArriveAfterRedisIsFlushed: safety alerts wait in Redis
// (their queue paused, as if every worker were busy) when Redis loses
// everything. The relay notices the loss by its epoch key and enqueues
// them again at once; each alert reaches the SMTP listener well within a
// minute. The urgent sweep is set to an hour here, so only the loss
// detection can bring them back.
func TestSafetyAlertsArriveAfterRedisIsFlushed(t *testing.T) {
	t.Parallel()
	redisURL, rc := mailtest.RedisDB(t)
	smtp := mailtest.Start(t)
	rig := newHealRig(t, redisURL, smtp, "alerts.test")
	rig.relay.UrgentStale = time.Hour
	inspector := asynq.NewInspector(rig.redis)
	defer inspector.Close()
	if err := inspector.PauseQueue(jobs.QueueCritical); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runWorker(rig.worker()))

	const alerts = 5
	want := rig.queue(alerts, mail.KindSafetyAlert, "counselor")
	written := time.Now()
	eventually(t, 30*time.Second, "the alerts never waited in the critical queue", func() bool {
		info, err := inspector.GetQueueInfo(jobs.QueueCritical)
		return err == nil && info.Pending == alerts
	})
	// This test's own Redis database (mailtest.RedisDB): nobody else's.
	if err := rc.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	flushed := time.Now()
	got := smtp.WaitFor(t, alerts, 60*time.Second)
	took := time.Since(written)
	t.Logf("alerts written, Redis flushed %s later; all %d delivered %s after being written",
		flushed.Sub(written).Round(time.Millisecond), alerts, took.Round(time.Millisecond))
	if took > 60*time.Second {
		t.Errorf("the alerts took %s, want under a minute", took)
	}
	for _, m := range got {
		if id := m.Header().Get("Message-Id"); !want[id] {
			t.Errorf("unexpected message %s to %v", id, m.To)
		}
	}
	if len(rig.log.lines("Redis lost its queues")) == 0 {
		t.Errorf("the worker did not say that Redis lost its queues; log:\n%s", rig.log)
	}
}

// TestUrgentSweepBringsBackAnOrphanedAlert: an alert's task disappears
// from Redis while the rest of Redis stays (no loss to detect); the sweep
// of the urgent kind enqueues it again after UrgentStale.
func TestUrgentSweepBringsBackAnOrphanedAlert(t *testing.T) {
	t.Parallel()
	redisURL, _ := mailtest.RedisDB(t)
	smtp := mailtest.Start(t)
	rig := newHealRig(t, redisURL, smtp, "orphan.test")
	rig.relay.UrgentStale = 2 * time.Second
	inspector := asynq.NewInspector(rig.redis)
	defer inspector.Close()
	if err := inspector.PauseQueue(jobs.QueueCritical); err != nil {
		t.Fatal(err)
	}
	w := rig.worker()
	w.SweepEvery = 500 * time.Millisecond
	t.Cleanup(runWorker(w))
	rig.queue(1, mail.KindSafetyAlert, "counselor")
	written := time.Now()
	eventually(t, 30*time.Second, "the alert never reached the critical queue", func() bool {
		n, _ := inspector.DeleteAllPendingTasks(jobs.QueueCritical)
		return n == 1
	})
	if err := inspector.UnpauseQueue(jobs.QueueCritical); err != nil {
		t.Fatal(err)
	}
	smtp.WaitFor(t, 1, 60*time.Second)
	took := time.Since(written)
	t.Logf("orphaned alert delivered %s after being written (urgent stale 2s, sweep every 0.5s)", took.Round(time.Millisecond))
	if took > 60*time.Second {
		t.Errorf("the alert took %s, want under a minute", took)
	}
}

// metric reads one sample of a gathered metric family (labels: name,
// value pairs); found is false when there is none.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (value float64, found bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestSMTPOutageIsVisibleAndEndsInSeconds: the SMTP server refuses every
// message (451) and then accepts again. While it refuses, the failures
// are in the log (a few lines, with the server's reply and nothing of the
// message) and in the metrics; once it accepts, every message arrives
// within 15 s, although the production backoff would wait 30 s or more:
// the worker's probe notices the server answering and sends the waiting
// retries at once.
func TestSMTPOutageIsVisibleAndEndsInSeconds(t *testing.T) {
	t.Parallel()
	redisURL, _ := mailtest.RedisDB(t)
	smtp := mailtest.Start(t)
	smtp.SetReject(451)
	rig := newHealRig(t, redisURL, smtp, "outage.test")
	inspector := asynq.NewInspector(rig.redis)
	defer inspector.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(mail.NewCollector(&mail.Health{DB: rig.db}, inspector, []string{jobs.QueueCritical, jobs.QueueDefault, jobs.QueueLow}))
	t.Cleanup(runWorker(rig.worker()))

	const n = 20
	want := rig.queue(n, mail.KindInvitation, "client")
	eventually(t, 60*time.Second, "the refused attempts never showed in mend_email_smtp_failures_total", func() bool {
		v, _ := metric(t, reg, "mend_email_smtp_failures_total")
		return v >= n
	})
	if v, _ := metric(t, reg, "mend_email_delivery_failing"); v != 1 {
		t.Errorf("mend_email_delivery_failing = %v during the outage, want 1", v)
	}
	// Waiting, or being tried again right now.
	queued, _ := metric(t, reg, "mend_emails", "status", "queued")
	sending, _ := metric(t, reg, "mend_emails", "status", "sending")
	if queued+sending != n || queued == 0 {
		t.Errorf("mend_emails{status=queued} = %v and {status=sending} = %v, want %d waiting", queued, sending, n)
	}
	if v, _ := metric(t, reg, "mend_email_retries_total"); v < n {
		t.Errorf("mend_email_retries_total = %v, want at least %d", v, n)
	}
	if v, found := metric(t, reg, "mend_asynq_queue_tasks", "queue", jobs.QueueDefault, "state", "retry"); !found || v < 1 {
		t.Errorf("mend_asynq_queue_tasks{queue=default,state=retry} = %v (found %v), want the waiting retries", v, found)
	}
	if v, _ := metric(t, reg, "mend_email_oldest_unsent_age_seconds"); v <= 0 {
		t.Errorf("mend_email_oldest_unsent_age_seconds = %v, want the age of the waiting emails", v)
	}
	failures := rig.log.lines("email delivery failed")
	if len(failures) == 0 || !strings.Contains(failures[0], "451") {
		t.Fatalf("no failure logged with the server's reply; log:\n%s", rig.log)
	}
	if len(failures) >= n {
		t.Errorf("%d failure lines for %d refusals: the log is not rate-limited", len(failures), n)
	}
	if strings.Contains(rig.log.String(), "Quillfeather") || strings.Contains(rig.log.String(), "client-") {
		t.Errorf("the log quotes a message (subject, body or recipient):\n%s", rig.log)
	}
	t.Logf("%d refusals, %d log lines: %s", n, len(failures), failures[0])

	smtp.SetReject(0)
	accepting := time.Now()
	got := smtp.WaitFor(t, n, 60*time.Second)
	took := time.Since(accepting)
	t.Logf("all %d delivered %s after the server accepted again", n, took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("delivery resumed %s after the server accepted again, want within 15 s", took)
	}
	for _, m := range got {
		if !want[m.Header().Get("Message-Id")] {
			t.Errorf("unexpected message %s", m.Header().Get("Message-Id"))
		}
	}
	eventually(t, 10*time.Second, "mend_email_delivery_failing stayed 1 after the outage", func() bool {
		v, _ := metric(t, reg, "mend_email_delivery_failing")
		return v == 0
	})
	if len(rig.log.lines("email delivery recovered")) == 0 {
		t.Errorf("the recovery was not logged; log:\n%s", rig.log)
	}
}

// TestTwoInstallationsShareOneRedisDatabase: two installations (two
// databases, two workers) on one Redis database, each queuing emails whose
// row ids are the same as the other's. Each email arrives once, sent by
// its own installation (its Message-ID domain), within seconds: a worker
// that takes the other's task hands it back and never sends its own row
// for it.
func TestTwoInstallationsShareOneRedisDatabase(t *testing.T) {
	t.Parallel()
	redisURL, _ := mailtest.RedisDB(t)
	smtp := mailtest.Start(t)
	a := newHealRig(t, redisURL, smtp, "first.test")
	b := newHealRig(t, redisURL, smtp, "second.test")
	wa, wb := a.worker(), b.worker()
	wa.ForeignRetry, wb.ForeignRetry = 50*time.Millisecond, 50*time.Millisecond
	t.Cleanup(runWorker(wa))
	t.Cleanup(runWorker(wb))

	const n = 40
	want := map[string]string{}
	for id := range a.queue(n, mail.KindInvitation, "first") {
		want[id] = "first"
	}
	for id := range b.queue(n, mail.KindInvitation, "second") {
		want[id] = "second"
	}
	start := time.Now()
	smtp.WaitFor(t, 2*n, 30*time.Second)
	took := time.Since(start)
	time.Sleep(time.Second) // anything sent twice would arrive now
	got := smtp.Messages()
	seen := map[string]int{}
	for _, m := range got {
		id := m.Header().Get("Message-Id")
		seen[id]++
		owner, ok := want[id]
		if !ok {
			t.Errorf("unexpected message %s to %v", id, m.To)
			continue
		}
		if len(m.To) != 1 || !strings.HasPrefix(m.To[0], owner+"-") {
			t.Errorf("message %s went to %v, want %s's recipient", id, m.To, owner)
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("message %s arrived %d times, want once", id, seen[id])
		}
	}
	t.Logf("%d emails of two installations delivered in %s; handed back: first %d line(s), second %d line(s)",
		len(got), took.Round(time.Millisecond),
		len(a.log.lines("another Mend installation")), len(b.log.lines("another Mend installation")))
	if took > 15*time.Second {
		t.Errorf("delivery took %s, want seconds", took)
	}
}
