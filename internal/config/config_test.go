package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsWorkOnALocalMachine(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") || !strings.Contains(cfg.DatabaseURL, "127.0.0.1:5432") ||
		cfg.RedisURL != "redis://127.0.0.1:6379/0" || cfg.ListenAddr != ":8080" {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg.SessionIdleTimeout != 30*time.Minute || cfg.SessionLifetime != 12*time.Hour {
		t.Errorf("session timeouts %v / %v, want 30m / 12h", cfg.SessionIdleTimeout, cfg.SessionLifetime)
	}
	if cfg.HTTPS() {
		t.Error("the default BASE_URL is not https")
	}
}

func TestBadSettingsAreReportedTogether(t *testing.T) {
	_, err := LoadFrom(map[string]string{
		"BASE_URL":             "localhost:8080",
		"REDIS_URL":            "127.0.0.1:6379",
		"LISTEN_ADDR":          "8080",
		"TRUSTED_PROXIES":      "10.0.0.0/8,not-an-ip",
		"SESSION_IDLE_TIMEOUT": "2h",
		"SESSION_LIFETIME":     "1h",
		"LOG_FORMAT":           "xml",
	})
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"BASE_URL", "REDIS_URL", "LISTEN_ADDR", "not-an-ip", "SESSION_LIFETIME", "LOG_FORMAT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := LoadFrom(map[string]string{"SESSION_LIFETIME": "soon"}); err == nil || !strings.Contains(err.Error(), `SESSION_LIFETIME: unable to parse duration: time: invalid duration "soon"`) {
		t.Errorf("unparsable duration: %v", err)
	}
	cfg, err := LoadFrom(map[string]string{"BASE_URL": "https://mend.example.org", "TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.1"})
	if err != nil || !cfg.HTTPS() || len(cfg.TrustedProxies) != 2 {
		t.Errorf("https config: %+v, %v", cfg, err)
	}
}

func TestEnviron(t *testing.T) {
	m := Environ([]string{"A=1", "B=x=y", "C="})
	if m["A"] != "1" || m["B"] != "x=y" || m["C"] != "" || len(m) != 3 {
		t.Errorf("Environ: %v", m)
	}
}
