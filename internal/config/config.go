// Package config reads Mend's configuration from the environment once, at
// start, and validates it. The resulting Config is passed explicitly to
// whatever needs it; nothing reads the environment afterwards.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/mend-practice/mend/internal/vault"
)

// Config is every setting Mend reads. Defaults work on a machine that runs
// PostgreSQL on localhost:5432 (user postgres, trust auth) and Redis on
// localhost:6379.
type Config struct {
	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/mend?sslmode=disable"`
	// MigrateDatabaseURL is the owner role's connection: `mend migrate`
	// (and serve/seed/user create before they start) apply the migrations
	// through it and grant DATABASE_URL's role what web and worker need,
	// nothing more. Empty: one role for both (the local demo), which can
	// also switch off the audit log's triggers; the servers say so at start.
	MigrateDatabaseURL string `env:"MIGRATE_DATABASE_URL"`
	RedisURL           string `env:"REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when offered),
	// smtps://… (implicit TLS) or empty: then mail is rendered and recorded
	// in the email log but not sent.
	SMTPURL  string `env:"SMTP_URL"`
	MailFrom string `env:"MAIL_FROM" envDefault:"Mend <no-reply@mend.localhost>"`
	// BaseURL is where people reach Mend; links in emails start with it and
	// an https scheme turns on __Host- cookies and HSTS.
	BaseURL    string `env:"BASE_URL" envDefault:"http://localhost:8080"`
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":8080"`
	// MetricsAddr is the separate listener that serves /metrics (request
	// figures of the whole deployment: the operator's, never a practice's).
	// Loopback by default; "off" turns it off. The main listener has no
	// /metrics at all.
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9090"`
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`
	LogLevel       string   `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat      string   `env:"LOG_FORMAT" envDefault:"text"`

	SessionIdleTimeout time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"30m"`
	SessionLifetime    time.Duration `env:"SESSION_LIFETIME" envDefault:"12h"`
	ShutdownTimeout    time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// DrainPeriod is how long a stopping web server keeps serving while
	// /readyz answers 503, so that a load balancer takes it out of
	// rotation before it stops accepting connections (0: stop at once).
	DrainPeriod       time.Duration `env:"DRAIN_PERIOD" envDefault:"5s"`
	WorkerConcurrency int           `env:"WORKER_CONCURRENCY" envDefault:"10"`
	// DashboardCache is how many counselors' rendered dashboards, and as
	// many pairs' progress tabs, a web process keeps (each is checked
	// against the data before it is shown; 0 keeps none), within 8 MB and
	// 12 MB. A 150-pair dashboard is about 100 KB.
	DashboardCache int `env:"DASHBOARD_CACHE" envDefault:"500"`
	// QuickExitURL is the neutral page a client's "Quick exit" replaces
	// Mend with (the current page is replaced, so Back does not return).
	QuickExitURL string `env:"QUICK_EXIT_URL" envDefault:"https://www.bbc.co.uk/weather"`

	// MasterKey (base64, 32 bytes) wraps the data keys that encrypt clinical
	// text at rest. Required by every command that reads or writes it;
	// `mend serve --demo` falls back to a development key file. Keep it out
	// of the database's backups. Generate one with `mend keys generate`.
	MasterKey string `env:"MEND_MASTER_KEY"`
	// OldMasterKeys are previous master keys, still accepted for unwrapping
	// until `mend keys rotate` has rewrapped every data key.
	OldMasterKeys []string `env:"MEND_OLD_MASTER_KEYS" envSeparator:","`
}

// MetricsOff as METRICS_ADDR turns the metrics listener off.
const MetricsOff = "off"

// MetricsListener is the address to serve /metrics on, or "" for none.
func (c Config) MetricsListener() string {
	if c.MetricsAddr == MetricsOff {
		return ""
	}
	return c.MetricsAddr
}

// LoadFrom reads the settings from environ (variable name → value) and
// validates them. Taking the environment as a value lets tests run commands
// side by side, each with its own settings.
func LoadFrom(environ map[string]string) (Config, error) {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: environ})
	if err != nil {
		return Config{}, fmt.Errorf("config: %s", describeParseError(err))
	}
	return cfg, cfg.Validate()
}

// describeParseError names the environment variable a value could not be
// parsed for (the library names the Go field).
func describeParseError(err error) string {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err.Error()
	}
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			name := pe.Name
			if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
				name = f.Tag.Get("env")
			}
			msgs = append(msgs, fmt.Sprintf("%s: %v", name, pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return strings.Join(msgs, "; ")
}

// Environ turns os.Environ()-style "KEY=value" lines into a map.
func Environ(lines []string) map[string]string {
	m := make(map[string]string, len(lines))
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Validate checks the settings that would otherwise fail later and obscurely.
func (c Config) Validate() error {
	var problems []string
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "BASE_URL must be an absolute http(s) URL")
	}
	if _, err := url.Parse(c.DatabaseURL); err != nil || !strings.HasPrefix(c.DatabaseURL, "postgres") {
		problems = append(problems, "DATABASE_URL must be a postgres:// URL")
	}
	if c.MigrateDatabaseURL != "" {
		if _, err := url.Parse(c.MigrateDatabaseURL); err != nil || !strings.HasPrefix(c.MigrateDatabaseURL, "postgres") {
			problems = append(problems, "MIGRATE_DATABASE_URL must be a postgres:// URL")
		}
	}
	if !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		problems = append(problems, "REDIS_URL must be a redis:// URL")
	}
	if c.SMTPURL != "" {
		if su, err := url.Parse(c.SMTPURL); err != nil || (su.Scheme != "smtp" && su.Scheme != "smtps") || su.Host == "" {
			problems = append(problems, "SMTP_URL must be smtp://host:port or smtps://host:port")
		}
	}
	if q, err := url.Parse(c.QuickExitURL); err != nil || (q.Scheme != "http" && q.Scheme != "https") || q.Host == "" {
		problems = append(problems, "QUICK_EXIT_URL must be an absolute http(s) URL")
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		problems = append(problems, "LISTEN_ADDR must be host:port, e.g. :8080")
	}
	if c.MetricsAddr != "" && c.MetricsAddr != MetricsOff {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			problems = append(problems, "METRICS_ADDR must be host:port, e.g. 127.0.0.1:9090, or off")
		}
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			problems = append(problems, "TRUSTED_PROXIES: "+p+" is not an IP or CIDR")
		}
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		problems = append(problems, "LOG_LEVEL must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, "LOG_FORMAT must be text or json")
	}
	if c.MasterKey != "" {
		if _, err := vault.ParseMasterKey(c.MasterKey); err != nil {
			problems = append(problems, "MEND_MASTER_KEY: "+err.Error())
		}
	}
	for i, k := range c.OldMasterKeys {
		if _, err := vault.ParseMasterKey(k); err != nil {
			problems = append(problems, fmt.Sprintf("MEND_OLD_MASTER_KEYS (key %d): %s", i+1, err))
		}
	}
	if c.SessionIdleTimeout <= 0 || c.SessionLifetime < c.SessionIdleTimeout {
		problems = append(problems, "SESSION_LIFETIME must be at least SESSION_IDLE_TIMEOUT, both positive")
	}
	if c.DrainPeriod < 0 {
		problems = append(problems, "DRAIN_PERIOD must not be negative, e.g. 5s (0: no drain)")
	}
	if c.ShutdownTimeout <= 0 {
		problems = append(problems, "SHUTDOWN_TIMEOUT must be positive, e.g. 20s")
	}
	if c.WorkerConcurrency < 1 {
		problems = append(problems, "WORKER_CONCURRENCY must be at least 1")
	}
	if len(problems) > 0 {
		return fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return nil
}

// HTTPS reports whether Mend is served over HTTPS (secure cookies, HSTS).
func (c Config) HTTPS() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Logger builds the process logger from LOG_LEVEL and LOG_FORMAT.
func (c Config) Logger(w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// ErrNoMasterKey explains what to do when MEND_MASTER_KEY is missing.
var ErrNoMasterKey = errors.New("MEND_MASTER_KEY is not set. Mend encrypts clinical text with it. " +
	"Generate one with `mend keys generate`, store it outside the database and its backups, and set it in the environment. " +
	"(For a local demo, `mend serve --demo` uses a development key file instead.)")

// ComposeDemoMasterKey is the master key written into compose.yaml so that
// `docker compose up` works out of the box. It is public: anything sealed
// with it can be read by anyone. web, worker and serve refuse it unless
// started with --demo.
const ComposeDemoMasterKey = "ZGVtby1vbmx5LW1lbmQtbWFzdGVyLWtleS0zMi1ieXQ="

// ErrPublishedMasterKey explains why a server refuses the compose.yaml key.
var ErrPublishedMasterKey = errors.New("MEND_MASTER_KEY is the demo key published in compose.yaml: anyone can read it, " +
	"so it protects nothing. Generate your own with `mend keys generate` and set it in the environment " +
	"(keep using the published key only in MEND_OLD_MASTER_KEYS until `mend keys rotate` has run). " +
	"To try Mend out with the published key, start with --demo")

// UsesPublishedMasterKey reports whether the current master key is the one
// published in compose.yaml.
func (c Config) UsesPublishedMasterKey() bool { return c.MasterKey == ComposeDemoMasterKey }

// MasterKeys returns the decoded current and old master keys, or
// ErrNoMasterKey.
func (c Config) MasterKeys() (current []byte, old [][]byte, err error) {
	if c.MasterKey == "" {
		return nil, nil, ErrNoMasterKey
	}
	current, err = vault.ParseMasterKey(c.MasterKey)
	if err != nil {
		return nil, nil, fmt.Errorf("MEND_MASTER_KEY: %w", err)
	}
	for _, k := range c.OldMasterKeys {
		b, err := vault.ParseMasterKey(k)
		if err != nil {
			return nil, nil, fmt.Errorf("MEND_OLD_MASTER_KEYS: %w", err)
		}
		old = append(old, b)
	}
	return current, old, nil
}
