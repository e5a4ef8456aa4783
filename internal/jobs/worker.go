// Package jobs runs Mend's background work on asynq: task types (payloads
// carry ids only, never clinical text), their handlers, and the periodic
// scheduler.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/reminder"
)

// Queues, by priority. Safety alerts go to critical so that a backlog of
// reminders never delays them.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Task types.
const (
	TypePrune = "maintenance:prune"
)

// Worker runs the task handlers and the periodic scheduler.
type Worker struct {
	DB          *sqlx.DB
	Redis       asynq.RedisConnOpt
	Logger      *slog.Logger
	Concurrency int

	// Installation is this installation's id (db.InstallationID), carried
	// by every task; empty: read from DB at Run.
	Installation string

	// Mail delivers email_log rows (TypeDeliver tasks); Relay moves rows
	// from PostgreSQL to asynq. Both nil: no mail work in this process.
	Mail  *mail.Delivery
	Relay *mail.Relay
	// RelayEvery is how often the relay looks for new rows and checks that
	// Redis kept its queues (default 1s); SweepEvery how often it takes
	// back lost ones (default 5s); ProbeEvery how often a failing SMTP
	// server is tried again (default 5s).
	RelayEvery, SweepEvery, ProbeEvery time.Duration
	// ForeignRetry is how soon a task of another installation goes back
	// to the queue for its own workers (default 250ms).
	ForeignRetry time.Duration

	// Reminders queues check-in reminders, nudges and digests each minute;
	// nil: not in this process.
	Reminders *reminder.Scheduler
	// Homework advances repair plans every 5 minutes; nil: not in this
	// process.
	Homework *homework.Store
	// Sessions ends idle sessions in the periodic prune; nil: only expired
	// ones are deleted.
	Sessions *auth.Sessions

	foreign foreignLog
}

// QueueFor is the queue of a kind of email: a safety alert must never wait
// behind a batch of reminders, and a digest can wait for any alert.
func QueueFor(kind string) string {
	switch kind {
	case mail.KindSafetyAlert:
		return QueueCritical
	case mail.KindDigest:
		return QueueLow
	}
	return QueueDefault
}

// NewMail builds the mail delivery and relay from the configuration. With
// no SMTP_URL, messages are marked skipped ("no SMTP configured") and stay
// readable in the admin's mail log. close releases the SMTP connections and
// the asynq client.
func NewMail(redis asynq.RedisConnOpt, cfg config.Config, log *slog.Logger) (*mail.Delivery, *mail.Relay, func(), error) {
	state, err := mail.OpenStateDB(cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	del := &mail.Delivery{DB: state, Logger: log}
	var smtp *mail.SMTPSender
	if cfg.SMTPURL != "" {
		smtp, err = mail.NewSMTPSender(cfg.SMTPURL, cfg.MailFrom, mail.SenderOptions{
			Timeout: mail.DefaultSendTimeout, PoolSize: cfg.WorkerConcurrency,
		})
		if err != nil {
			state.Close()
			return nil, nil, nil, err
		}
		del.Sender = smtp
	} else {
		log.Warn("SMTP_URL is not set: emails are recorded in the mail log but not sent")
	}
	installation, err := db.InstallationID(context.Background(), state)
	if err != nil {
		state.Close()
		return nil, nil, nil, err
	}
	del.Health = &mail.Health{DB: state, Logger: log}
	client := asynq.NewClient(redis)
	epochs, _ := redis.MakeRedisClient().(goredis.UniversalClient)
	relay := &mail.Relay{DB: state, Client: client, Logger: log, Queue: QueueFor, Installation: installation,
		Redis: epochs, UrgentKinds: []string{mail.KindSafetyAlert}}
	return del, relay, func() {
		client.Close()
		if epochs != nil {
			epochs.Close()
		}
		if smtp != nil {
			smtp.Close()
		}
		state.Close()
	}, nil
}

// CriticalConcurrency is the size of each worker process's asynq server
// for safety alerts (and, when none waits, digests and pruning): a
// backlog of reminders never holds an alert up, since none of the
// reminders' workers takes from its queues.
const CriticalConcurrency = 4

// Run serves tasks until ctx is cancelled, then lets running tasks finish.
//
// Two asynq servers share the handlers. The reminders' one, with the
// configured concurrency, takes only the default queue. The other takes
// the critical queue first and the low one when no alert waits. An asynq
// server with several queues asks Redis for a task queue by queue until it
// finds one; one server for all three queues weighted 6:3:1 asked about
// twice per reminder, since the critical queue, nearly always empty, came
// first in most draws.
func (w *Worker) Run(ctx context.Context) error {
	if w.Installation == "" {
		id, err := db.InstallationID(ctx, w.DB)
		if err != nil {
			return err
		}
		w.Installation = id
	}
	if w.Relay != nil && w.Relay.Installation == "" {
		w.Relay.Installation = w.Installation
	}
	w.foreign.lines.Interval = time.Minute
	cfg := func(concurrency int, queues map[string]int) asynq.Config {
		return asynq.Config{
			Concurrency:     concurrency,
			Queues:          queues,
			StrictPriority:  true,
			ShutdownTimeout: 15 * time.Second,
			Logger:          asynqLogger{w.Logger},
			LogLevel:        asynq.WarnLevel,
			RetryDelayFunc:  w.retryDelay,
			// Retries (and tasks handed back to another installation) are
			// taken up within a second of being due, not asynq's 5.
			DelayedTaskCheckInterval: time.Second,
		}
	}
	critical := asynq.NewServer(w.Redis, cfg(CriticalConcurrency, map[string]int{QueueCritical: 2, QueueLow: 1}))
	srv := asynq.NewServer(w.Redis, cfg(w.Concurrency, map[string]int{QueueDefault: 1}))
	mux := asynq.NewServeMux()
	mux.Use(w.ownTasksOnly)
	mux.HandleFunc(TypePrune, w.prune)
	if w.Mail != nil {
		mux.HandleFunc(mail.TypeDeliver, w.Mail.HandleTask)
	}

	sched := asynq.NewScheduler(w.Redis, &asynq.SchedulerOpts{Logger: asynqLogger{w.Logger}, LogLevel: asynq.WarnLevel})
	// Idempotent work only: several schedulers may run at once.
	if _, err := sched.Register("@every 10m", w.task(TypePrune), asynq.Queue(QueueLow), asynq.Unique(9*time.Minute)); err != nil {
		return fmt.Errorf("jobs: schedule prune: %w", err)
	}
	if err := w.registerPlans(mux, sched); err != nil {
		return err
	}
	if err := w.registerReminders(mux, sched); err != nil {
		return err
	}
	if err := critical.Start(mux); err != nil {
		return fmt.Errorf("jobs: start worker: %w", err)
	}
	if err := srv.Start(mux); err != nil {
		critical.Shutdown()
		return fmt.Errorf("jobs: start worker: %w", err)
	}
	if err := sched.Start(); err != nil {
		srv.Shutdown()
		critical.Shutdown()
		return fmt.Errorf("jobs: start scheduler: %w", err)
	}
	w.Logger.Info("worker started", "concurrency", w.Concurrency, "installation", w.Installation)
	var background sync.WaitGroup
	if w.Relay != nil {
		background.Go(func() { w.Relay.Run(ctx, or(w.RelayEvery, time.Second), or(w.SweepEvery, 5*time.Second)) })
	}
	if w.Mail != nil {
		inspector := asynq.NewInspector(w.Redis)
		defer inspector.Close()
		if w.Mail.Health != nil && w.Mail.Health.Resume == nil {
			w.Mail.Health.Resume = func(context.Context) error { return runRetries(inspector) }
		}
		background.Go(func() { w.Mail.WatchOutage(ctx, or(w.ProbeEvery, 5*time.Second)) })
	}
	<-ctx.Done()
	sched.Shutdown()
	// Both servers wind down at once: each waits up to ShutdownTimeout for
	// its running tasks, and one after the other could outlast a
	// container's stop grace period.
	var stopping sync.WaitGroup
	for _, s := range []*asynq.Server{srv, critical} {
		stopping.Go(s.Shutdown)
	}
	stopping.Wait()
	if w.Mail != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := w.Mail.Close(ctx); err != nil {
			w.Logger.Error("worker stopping", "err", err)
		}
	}
	background.Wait()
	w.Logger.Info("worker stopped")
	return nil
}

// runRetries makes every task waiting for a retry run now (after an SMTP
// outage ends; tasks of other kinds lose nothing by running early).
func runRetries(inspector *asynq.Inspector) error {
	var errs []error
	for _, q := range []string{QueueCritical, QueueDefault, QueueLow} {
		if _, err := inspector.RunAllRetryTasks(q); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// task is a periodic task of this installation: its payload is the
// installation id, so that the unique lock and the handler are per
// installation.
func (w *Worker) task(typ string) *asynq.Task {
	return asynq.NewTask(typ, []byte(w.Installation))
}

// errForeignTask marks a task of another installation, handed back.
var errForeignTask = errors.New("jobs: task of another Mend installation")

// ownTasksOnly hands back, untouched, any task whose payload names
// another installation (two installations sharing one Redis database):
// the task goes back to the queue shortly (retryDelay), where a worker of
// its own installation takes it, and this worker's rows are never touched
// for it. Every payload starts with the installation id ("<id>" or
// "<id>:<rest>").
func (w *Worker) ownTasksOnly(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		owner, _, _ := strings.Cut(string(t.Payload()), ":")
		if owner == w.Installation {
			return next.ProcessTask(ctx, t)
		}
		w.foreign.note(w.Logger, t.Type(), owner, w.Installation)
		return fmt.Errorf("%s task of installation %q: %w", t.Type(), owner, errForeignTask)
	})
}

// retryDelay is asynq's backoff: short for a task handed back to its own
// installation, the mail's backoff for deliveries, asynq's default else.
func (w *Worker) retryDelay(n int, err error, t *asynq.Task) time.Duration {
	switch {
	case errors.Is(err, errForeignTask):
		return or(w.ForeignRetry, 250*time.Millisecond)
	case w.Mail != nil:
		return w.Mail.RetryDelayFunc(n, err, t)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// foreignLog says loudly, at most once a minute, that tasks of another
// installation arrive here.
type foreignLog struct {
	lines   rate.Sometimes // Interval set by Run
	skipped atomic.Int64
}

func (f *foreignLog) note(log *slog.Logger, typ, owner, own string) {
	f.skipped.Add(1)
	f.lines.Do(func() {
		log.Error("a task of another Mend installation reached this worker and was handed back; "+
			"give each installation its own Redis database (REDIS_URL redis://host:6379/N)",
			"task", typ, "task_installation", owner, "installation", own, "more_since_last_line", f.skipped.Swap(0)-1)
	})
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// prune deletes login failures long past the throttle window, expired
// sessions and idle ones.
func (w *Worker) prune(ctx context.Context, _ *asynq.Task) error {
	if _, err := w.DB.ExecContext(ctx, `DELETE FROM login_failures WHERE failed_at < now() - interval '1 day'`); err != nil {
		return fmt.Errorf("jobs: prune login failures: %w", err)
	}
	if _, err := w.DB.ExecContext(ctx, `DELETE FROM sign_in_addresses WHERE last_at < now() - make_interval(secs => $1)`,
		auth.DefaultThrottle().KnownFor.Seconds()); err != nil {
		return fmt.Errorf("jobs: prune sign-in addresses: %w", err)
	}
	if _, err := w.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < now()`); err != nil {
		return fmt.Errorf("jobs: prune sessions: %w", err)
	}
	if w.Sessions != nil {
		if _, err := w.Sessions.EndIdle(ctx); err != nil {
			return fmt.Errorf("jobs: prune idle sessions: %w", err)
		}
	}
	// The per-user index of sessions loses the rows of sessions that are
	// gone (a minute's grace: a login writes its index row before scs
	// writes the session).
	if _, err := w.DB.ExecContext(ctx, `
		DELETE FROM user_sessions us WHERE us.created_at < now() - interval '1 minute'
		  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.token = us.token_hash)`); err != nil {
		return fmt.Errorf("jobs: prune session index: %w", err)
	}
	return nil
}

// asynqLogger routes asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
