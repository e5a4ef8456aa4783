// Package app builds every store and service over the database once, in
// one place, so that the web server, the worker, the demo seed and the
// tests use the same wiring (cmd/mend calls New and passes the result on).
// A store is built only by its package's NewStore; TestStoresAreBuiltOnlyByTheirConstructors
// guards that.
package app

import (
	"runtime"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/semaphore"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/practice"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/reveal"
	"github.com/mend-practice/mend/internal/review"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/templates"
)

// Stores is every store and service over the database, each built once
// with the dependencies it needs.
type Stores struct {
	DB    *sqlx.DB
	Vault *vault.Vault // seals and opens clinical text
	Audit *audit.Log
	// Outbox queues emails (rendered from templates/email) with links
	// under the configured BASE_URL.
	Outbox       *mail.Outbox
	Unsubscribes *mail.Unsubscribes
	MailHealth   *mail.Health

	Users         *auth.Users
	Links         *auth.Links // invitation and reset links
	Login         *auth.Login
	ResetRequests *auth.ResetRequests
	MFA           *auth.MFA
	Sessions      *auth.Sessions

	Practices *practice.Store
	Pairs     *pair.Store
	Library   *library.Store // repair steps and plan templates
	Homework  *homework.Store
	Checkins  *checkin.Store
	Consent   *consent.Store
	Reviews   *review.Store
	Retention *retention.Store
	Measures  *measure.Store
	Reveals   *reveal.Store
}

// New builds the stores over d. The vault and the unsubscribe links need
// the master key (config.ErrNoMasterKey without one).
func New(cfg config.Config, d *sqlx.DB) (*Stores, error) {
	masterKey, oldMasterKeys, err := cfg.MasterKeys()
	if err != nil {
		return nil, err
	}
	v, err := vault.New(d, masterKey, oldMasterKeys...)
	if err != nil {
		return nil, err
	}
	outbox, err := mail.NewOutbox(d, templates.FS)
	if err != nil {
		return nil, err
	}
	outbox.BaseURL = cfg.BaseURL
	if outbox.Links, err = mail.NewUnsubscribeLinks(masterKey, oldMasterKeys...); err != nil {
		return nil, err
	}
	al := &audit.Log{DB: d}
	links := &auth.Links{DB: d, Vault: v}
	sessions := &auth.Sessions{DB: d, TouchEvery: time.Minute, IdleTimeout: cfg.SessionIdleTimeout}
	hw := homework.NewStore(d, v)
	checkins := checkin.NewStore(d, v, al, outbox, cfg.BaseURL)
	return &Stores{
		DB:           d,
		Vault:        v,
		Audit:        al,
		Outbox:       outbox,
		Unsubscribes: &mail.Unsubscribes{DB: d, Audit: al, Links: outbox.Links},
		MailHealth:   &mail.Health{DB: d},

		Users:         &auth.Users{DB: d},
		Links:         links,
		Login:         &auth.Login{DB: d, Throttle: auth.DefaultThrottle(), Audit: al, Hashing: semaphore.NewWeighted(int64(runtime.GOMAXPROCS(0)))},
		ResetRequests: auth.DefaultResetRequests(d),
		MFA:           &auth.MFA{DB: d, Vault: v, Throttle: auth.DefaultThrottle()},
		Sessions:      sessions,

		Practices: practice.NewStore(d, links),
		Pairs:     pair.NewStore(d, links),
		Library:   library.NewStore(d),
		Homework:  hw,
		Checkins:  checkins,
		Consent:   consent.NewStore(d),
		Reviews:   review.NewStore(d, v, al, checkins, hw),
		Retention: retention.NewStore(d, v, al, sessions, checkins),
		Measures:  measure.NewStore(d, v, al, outbox, strings.TrimRight(cfg.BaseURL, "/")),
		Reveals:   reveal.NewStore(d, v, al),
	}, nil
}
