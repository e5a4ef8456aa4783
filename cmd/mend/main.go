// Command mend is Mend's one binary: the web server, the background worker,
// migrations, the demo seed and account creation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/web"
)

const usage = `mend — practice management for counselors who help two people rebuild trust

Usage:
  mend serve [--demo]     web server and background worker in one process
                          (--demo: migrate and load the demo practice first)
  mend web [--demo]       web server only (several can run behind a load balancer)
  mend worker [--demo]    background worker and scheduler only
                          (--demo: a demo instance, which may use the master key
                          published in compose.yaml; without it they refuse that key)
  mend migrate [up|down|status]
  mend seed --demo        load the demo practices (safe to run twice)
  mend demo-code          the demo admins' current two-step sign-in code
  mend user create --role admin|counselor --email EMAIL --name NAME --practice SLUG [--practice-name NAME]
  mend keys generate|status|rotate [--batch N]
                          encryption keys: MEND_MASTER_KEY wraps the data keys
                          (serve and web refuse to start without it; serve --demo
                          falls back to a development key file, with a warning)

Configuration comes from the environment; see docs/operations.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], config.Environ(os.Environ()), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mend:", err)
		os.Exit(1)
	}
}

// run executes one command with the given environment (variable → value)
// and writes its output to out. It returns when the command is done or, for
// the servers, when ctx is cancelled and they have drained.
func run(ctx context.Context, args []string, environ map[string]string, out io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(out, usage)
		return nil
	}
	cfg, err := config.LoadFrom(environ)
	if err != nil {
		return err
	}
	log := cfg.Logger(os.Stderr)
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		fs := newFlagSet("serve [--demo]")
		demo := fs.Bool("demo", false, "migrate and load the demo practices first")
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		return serve(ctx, cfg, log, out, true, true, serveOptions{seedDemo: *demo, demoKey: *demo})
	case "web", "worker":
		fs := newFlagSet(cmd + " [--demo]")
		demoKey := fs.Bool("demo", false, "a demo instance: accept the master key published in compose.yaml")
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		return serve(ctx, cfg, log, out, cmd == "web", cmd == "worker", serveOptions{demoKey: *demoKey})
	case "migrate":
		return migrate(ctx, cfg, out, rest)
	case "seed":
		fs := newFlagSet("seed --demo")
		demo := fs.Bool("demo", false, "load the demo practices")
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if !*demo {
			return errors.New("seed: only --demo is available (usage: mend seed --demo)")
		}
		return seedDemo(ctx, cfg, log, out)
	case "demo-code":
		if err := parseFlags(newFlagSet("demo-code"), rest); err != nil {
			return err
		}
		code, err := auth.CodeAt(seed.DemoTOTPSecret, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n(the demo admins' sign-in code for the next few seconds; it changes every 30 seconds)\n", code)
		return nil
	case "user":
		return userCmd(ctx, cfg, out, rest)
	case "keys":
		return keysCmd(ctx, cfg, out, os.Stderr, rest)
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

// newFlagSet makes a flag set that reports problems as returned errors
// (with the command's usage line) instead of printing and exiting.
func newFlagSet(usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet("mend "+usageLine, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s (usage: %s)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (usage: %s)", fs.Arg(0), fs.Name())
	}
	return nil
}

// openDB connects as the app role (DATABASE_URL). With migrateFirst it
// first brings the schema up to date as the owner role (see
// migrateAsOwner).
func openDB(ctx context.Context, cfg config.Config, migrateFirst bool) (*sqlx.DB, error) {
	if migrateFirst {
		if err := migrateAsOwner(ctx, cfg, false); err != nil {
			return nil, err
		}
	}
	return db.Open(ctx, cfg.DatabaseURL)
}

// openOwnerDB connects as the role that owns the tables:
// MIGRATE_DATABASE_URL, or DATABASE_URL when there is one role.
func openOwnerDB(ctx context.Context, cfg config.Config) (*sqlx.DB, error) {
	if cfg.MigrateDatabaseURL != "" {
		return db.Open(ctx, cfg.MigrateDatabaseURL)
	}
	return db.Open(ctx, cfg.DatabaseURL)
}

// migrateAsOwner applies pending migrations as the owner role and, with two
// roles, grants the app role its privileges. With one URL whose role does
// not own the schema (an app role started without MIGRATE_DATABASE_URL)
// there is nothing it may do: migrating is then `mend migrate`'s job, and
// unless required it returns quietly.
func migrateAsOwner(ctx context.Context, cfg config.Config, required bool) error {
	d, err := openOwnerDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if cfg.MigrateDatabaseURL == "" && !required {
		owns, err := db.OwnsSchema(ctx, d)
		if err != nil {
			return err
		}
		if !owns {
			return nil
		}
	}
	if err := migrateUp(ctx, d, cfg); err != nil {
		return err
	}
	if cfg.MigrateDatabaseURL != "" {
		return db.GrantApp(ctx, d, db.RoleOf(cfg.DatabaseURL))
	}
	return nil
}

// serveOptions are how a server was started: seedDemo migrates and loads
// the demo practices first (serve --demo); demoKey accepts the master key
// published in compose.yaml (any --demo).
type serveOptions struct {
	seedDemo, demoKey bool
}

// serve runs the web server, the worker, or both, until SIGINT/SIGTERM; then
// it stops taking requests, lets those in flight finish, and drains the
// worker.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer, withWeb, withWorker bool, opt serveOptions) error {
	demo := opt.seedDemo
	if demo {
		if err := demoMasterKey(&cfg, log, out); err != nil {
			return err
		}
	}
	if cfg.UsesPublishedMasterKey() {
		if !opt.demoKey {
			return config.ErrPublishedMasterKey
		}
		fmt.Fprintln(out, "!!! WARNING: --demo: MEND_MASTER_KEY is the key published in compose.yaml. Anyone can decrypt what this instance stores. Never put real clients' records in it.")
		log.Warn("demo instance: the master key is the one published in compose.yaml; not for real data")
	}
	// The web server seals clinical text with it; the worker signs the
	// reminders' unsubscribe links with a key derived from it.
	if _, _, err := cfg.MasterKeys(); err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, withWeb)
	if err != nil {
		return err
	}
	defer d.Close()
	if owns, err := db.OwnsSchema(ctx, d); err != nil {
		return err
	} else if owns {
		log.Warn("single database role: web and worker connect as the role that owns the tables, which could switch off the audit log's append-only triggers. " +
			"Fine for a local demo; otherwise set MIGRATE_DATABASE_URL to an owner role and DATABASE_URL to an app role (docs/operations.md)")
	}
	// Every store is built here, once, and passed to the parts below.
	st, err := app.New(cfg, d)
	if err != nil {
		return err
	}
	if demo {
		logins, err := seed.Demo(ctx, st)
		if err != nil {
			return err
		}
		printLogins(out, cfg, logins)
	}
	redisOpt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(redisOpt)
	defer rdb.Close()

	g, gctx := errgroup.WithContext(ctx)
	if withWorker {
		asynqOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		mailer, relay, closeMail, err := jobs.NewMail(asynqOpt, cfg, log)
		if err != nil {
			return err
		}
		defer closeMail()
		reminders := jobs.NewReminders(st, cfg)
		if relay != nil {
			reminders.Handoff = relay.Handoff // each batch to asynq as soon as it commits
		}
		w := &jobs.Worker{DB: d, Redis: asynqOpt, Logger: log, Concurrency: cfg.WorkerConcurrency, Mail: mailer, Relay: relay,
			Reminders: reminders, Homework: st.Homework, Sessions: st.Sessions}
		g.Go(func() error { return w.Run(gctx) })
	}
	if withWeb {
		web.LimitMemory()
		enf, err := authz.New()
		if err != nil {
			return err
		}
		srv, err := web.New(web.Deps{Config: cfg, Stores: st, Redis: rdb, Logger: log, Enforcer: enf})
		if err != nil {
			return err
		}
		g.Go(func() error {
			err := listen(gctx, cfg, log, "web", cfg.ListenAddr, srv.Handler(), srv.Drain)
			srv.Wait() // reset emails started behind answers
			return err
		})
		if addr := cfg.MetricsListener(); addr != "" {
			// Metrics are the operator's: a listener of their own (loopback
			// unless METRICS_ADDR says otherwise), never the public one. A
			// second process on the same host finds the port taken; that
			// costs its metrics, not its service.
			g.Go(func() error {
				if err := listen(gctx, cfg, log, "metrics", addr, srv.MetricsHandler(), nil); err != nil {
					log.Warn("metrics listener stopped; serving without metrics", "addr", addr, "err", err)
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// listen serves h on addr until ctx ends. Then, when drain is given, it
// calls it and keeps serving for DRAIN_PERIOD (a load balancer sees
// /readyz fail and stops sending requests), and finally stops accepting
// connections and waits up to SHUTDOWN_TIMEOUT for the requests in flight.
func listen(ctx context.Context, cfg config.Config, log *slog.Logger, name, addr string, h http.Handler, drain func()) error {
	hs := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("listening", "server", name, "addr", addr, "base_url", cfg.BaseURL)
	select {
	case err := <-errc:
		return fmt.Errorf("%s server: %w", name, err)
	case <-ctx.Done():
	}
	if drain != nil && cfg.DrainPeriod > 0 {
		drain()
		log.Info("draining: /readyz answers 503, requests still served", "server", name, "for", cfg.DrainPeriod.String())
		select {
		case err := <-errc:
			return fmt.Errorf("%s server: %w", name, err)
		case <-time.After(cfg.DrainPeriod):
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	log.Info("stopping: no new connections, finishing requests in flight", "server", name)
	return hs.Shutdown(sctx)
}

// newVault opens the vault under the configured master keys
// (config.ErrNoMasterKey without one).
func newVault(d *sqlx.DB, cfg config.Config) (*vault.Vault, error) {
	current, old, err := cfg.MasterKeys()
	if err != nil {
		return nil, err
	}
	return vault.New(d, current, old...)
}

// migrateOptions gives the migrations that encrypt existing clinical text
// the vault when a master key is configured. Without one, migrating works
// as long as there is nothing to encrypt (a new database), and otherwise
// stops with a message asking for MEND_MASTER_KEY.
func migrateOptions(d *sqlx.DB, cfg config.Config) ([]db.MigrateOption, error) {
	if cfg.MasterKey == "" {
		return nil, nil
	}
	v, err := newVault(d, cfg)
	if err != nil {
		return nil, err
	}
	return []db.MigrateOption{db.WithCipher(v)}, nil
}

// migrateUp applies pending migrations, then brings the built-in step
// library up to date with the binary (a changed wording adds a version).
func migrateUp(ctx context.Context, d *sqlx.DB, cfg config.Config) error {
	opts, err := migrateOptions(d, cfg)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx, d, opts...); err != nil {
		return err
	}
	return library.SyncBuiltins(ctx, d)
}

func migrate(ctx context.Context, cfg config.Config, out io.Writer, args []string) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub == "up" {
		if err := migrateAsOwner(ctx, cfg, true); err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations applied")
		if cfg.MigrateDatabaseURL != "" {
			fmt.Fprintf(out, "app role %q may read and write the data, append to the audit log, and change no table\n", db.RoleOf(cfg.DatabaseURL))
		}
		return nil
	}
	d, err := openOwnerDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "down":
		opts, err := migrateOptions(d, cfg)
		if err != nil {
			return err
		}
		if err := db.MigrateDown(ctx, d, opts...); err != nil {
			return err
		}
		fmt.Fprintln(out, "rolled back one migration")
	case "status":
		lines, err := db.MigrationStatus(ctx, d)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, strings.Join(lines, "\n"))
	default:
		return fmt.Errorf("migrate: unknown %q (up, down or status)", sub)
	}
	return nil
}

// seedDemo loads the demo practices. The demo's clinical text is
// encrypted like any other, so it needs a master key: MEND_MASTER_KEY, or
// (as for serve --demo) the development key file.
func seedDemo(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	if err := demoMasterKey(&cfg, log, out); err != nil {
		return err
	}
	d, err := openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := app.New(cfg, d)
	if err != nil {
		return err
	}
	logins, err := seed.Demo(ctx, st)
	if err != nil {
		return err
	}
	printLogins(out, cfg, logins)
	return nil
}

func printLogins(out io.Writer, cfg config.Config, logins []seed.Login) {
	fmt.Fprintf(out, "\nMend demo practice is ready. Sign in at %s/login\nEvery demo password is %q.\n\n", cfg.BaseURL, seed.DemoPassword)
	for _, l := range logins {
		fmt.Fprintf(out, "  %-32s %-10s %s (%s)\n", l.Email, l.Role, l.Name, l.Practice)
	}
	fmt.Fprintf(out, "\nAdmins must use two-step sign-in. The demo admins' code comes from the secret\n%q:\nadd it to an authenticator app, or run `mend demo-code` for the current code.\n\n", seed.DemoTOTPSecret)
}
