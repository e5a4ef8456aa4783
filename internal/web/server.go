// Package web is Mend's HTTP side: the route table, middleware, one render
// and one error mapping, and one handler file per area. Handlers parse the
// request, call the domain, and render; they never write SQL.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/mend-practice/mend/internal/app"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/authz"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/config"
	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/practice"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/reveal"
	"github.com/mend-practice/mend/internal/review"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/templates"
)

// Deps is everything the web side needs, built once by the caller
// (cmd/mend; webtest in tests).
type Deps struct {
	Config   config.Config
	Stores   *app.Stores // every store and its database, built by app.New
	Redis    redis.UniversalClient
	Logger   *slog.Logger
	Enforcer *authz.Enforcer
}

// Server holds the web side's dependencies.
type Server struct {
	cfg      config.Config
	db       *sqlx.DB
	redis    redis.UniversalClient
	log      *slog.Logger
	enforcer *authz.Enforcer
	sessions *scs.SessionManager
	pages    *renderer
	metrics  *metrics
	baseURL  *url.URL

	users *auth.Users
	login *auth.Login
	links *auth.Links
	// resetRequests limits password-reset requests per address.
	resetRequests *auth.ResetRequests
	// background is the work answers do not wait for (see behind), at most
	// cap(backgroundSlots) at a time so that a burst of requests cannot
	// take every database connection.
	background      sync.WaitGroup
	backgroundSlots chan struct{}
	audit           *audit.Log
	outbox          *mail.Outbox
	practices       *practice.Store

	pairs *pair.Store
	steps *library.Store // the repair-step library and plan templates
	hw    *homework.Store

	checkins *checkin.Store
	consent  *consent.Store // consent texts and the safety care page's words

	unsubscribes *mail.Unsubscribes
	queues       *asynq.Inspector
	mailHealth   *mail.Health

	reviews      *review.Store
	kept         *keptBodies    // counselors' dashboards
	keptProgress *keptBodies    // pairs' progress tabs
	keptClient   *keptBodies    // clients' home and homework pages, sealed
	keptStaff    *keptBodies    // counselors' review and pair pages, sealed
	measures     *measure.Store // questionnaires given to pairs (issue 20)
	reveals      *reveal.Store  // reveal exercises (issue 21)

	vault        *vault.Vault
	mfa          *auth.MFA
	userSessions *auth.Sessions
	retention    *retention.Store

	engine *gin.Engine
	routes []Route
	// draining is set by Drain when the server is about to stop.
	draining atomic.Bool
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	pages, err := newRenderer(templates.FS)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(d.Config.BaseURL)
	st := d.Stores
	s := &Server{
		cfg:      d.Config,
		db:       st.DB,
		redis:    d.Redis,
		log:      d.Logger,
		enforcer: d.Enforcer,
		sessions: newSessions(d.Config, st.DB, st.Sessions, base),
		pages:    pages,
		metrics:  newMetrics(),
		baseURL:  base,

		backgroundSlots: make(chan struct{}, 4),
		queues:          asynq.NewInspectorFromRedisClient(d.Redis),

		vault:         st.Vault,
		audit:         st.Audit,
		outbox:        st.Outbox,
		unsubscribes:  st.Unsubscribes,
		mailHealth:    st.MailHealth,
		users:         st.Users,
		links:         st.Links,
		login:         st.Login,
		resetRequests: st.ResetRequests,
		mfa:           st.MFA,
		userSessions:  st.Sessions,
		practices:     st.Practices,
		pairs:         st.Pairs,
		steps:         st.Library,
		hw:            st.Homework,
		checkins:      st.Checkins,
		consent:       st.Consent,
		reviews:       st.Reviews,
		retention:     st.Retention,
		measures:      st.Measures,
		reveals:       st.Reveals,
	}
	// Delivery's figures for every worker, read at each scrape.
	s.metrics.reg.MustRegister(mail.NewCollector(s.mailHealth, s.queues, nil))
	if s.kept, err = newKeptBodies(d.Config.DashboardCache, keptDashboardBytes); err != nil {
		return nil, err
	}
	if s.keptProgress, err = newKeptBodies(d.Config.DashboardCache, keptProgressBytes); err != nil {
		return nil, err
	}
	// Clients outnumber counselors: more entries, bounded by their bytes.
	if s.keptClient, err = newSealedBodies(8*d.Config.DashboardCache, keptClientBytes); err != nil {
		return nil, err
	}
	if s.keptStaff, err = newSealedBodies(8*d.Config.DashboardCache, keptStaffBytes); err != nil {
		return nil, err
	}

	// The session store failing (PostgreSQL down) gets the one error page,
	// and its text goes to the log only.
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		if db.IsTransient(err) {
			s.unavailable(w, r, err)
			return
		}
		s.log.Error("session store", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", mend.ErrorMessage(err))
	}
	s.engine = s.buildEngine()
	return s, nil
}

// newSessions configures server-side sessions in PostgreSQL. Over HTTPS the
// cookie is __Host- prefixed; in plain-HTTP development on a loopback host
// it is still Secure (browsers accept that on localhost), and on any other
// plain-HTTP host Secure would lose the cookie, so it is left off.
func newSessions(cfg config.Config, d *sqlx.DB, index *auth.Sessions, base *url.URL) *scs.SessionManager {
	sm := scs.New()
	// No cleanup goroutine per web replica: the worker's periodic prune
	// task deletes expired sessions (an expired one is never loaded anyway).
	sm.Store = auth.NewSessionStore(d, index)
	sm.HashTokenInStore = true // a database dump holds no usable session token
	sm.Codec = auth.SessionCodec{}
	// The idle timeout is enforced by auth.Sessions from last_seen, which is
	// written at most once a minute: scs's own IdleTimeout would rewrite the
	// session row on every request. The row expires at the absolute
	// lifetime.
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false
	if cfg.HTTPS() {
		sm.Cookie.Name = "__Host-mend_session"
		sm.Cookie.Secure = true
	} else {
		sm.Cookie.Name = "mend_session"
		h := base.Hostname()
		sm.Cookie.Secure = h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost")
	}
	return sm
}

// behind runs work after the answer is sent, when how long the work takes
// would tell the person something the answer must not (whether an account
// exists). It runs on its own context: the request's ends with the answer.
func (s *Server) behind(what string, work func(ctx context.Context) error) {
	s.background.Go(func() {
		s.backgroundSlots <- struct{}{}
		defer func() { <-s.backgroundSlots }()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := work(ctx); err != nil {
			s.log.Error(what, "err", err)
		}
	})
}

// Wait returns when the work started behind answers is done; call it after
// the listener has stopped, before closing the database.
func (s *Server) Wait() { s.background.Wait() }

// Handler is the whole HTTP stack: security headers outermost (so that every
// response, errors included, has them), then cross-origin protection, then
// sessions, then gin.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	_ = cop.AddTrustedOrigin(s.baseURL.Scheme + "://" + s.baseURL.Host)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "method", r.Method)
		s.errorPage(w, r, http.StatusForbidden, "Request refused",
			"This form was sent from another website, so Mend did not accept it. Open Mend directly and try again.")
	}))
	return s.closeWhileDraining(s.securityHeaders(cop.Handler(readSessionOnce(s.sessions.LoadAndSave(s.engine)))))
}

// readSessionOnce lets the session store's read of a request's session
// bring its index row and account along, for loadScope's check (see
// auth.WithSessionRead): one statement per request for the session.
func readSessionOnce(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(auth.WithSessionRead(r.Context())))
	})
}

// Routes lists every registered route with the casbin object and action
// that guard it.
func (s *Server) Routes() []Route { return s.routes }

// Sessions exposes the session manager (tests replay cookies through it).
func (s *Server) Sessions() *scs.SessionManager { return s.sessions }

// MetricsHandler serves Prometheus metrics, for a separate listener.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Ready reports whether PostgreSQL and Redis answer.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	return s.redis.Ping(ctx).Err()
}

// MemoryLimit is the web process's soft memory limit unless GOMEMLIMIT
// sets one: the Go runtime collects more often as the heap nears it and
// hands freed memory back to the system, so a process that served a burst
// of requests (each page is rendered whole into a pooled buffer) settles
// back near this size instead of keeping its peak. It is a target, not a
// cap: under more live data than this the process grows past it.
//
// Resident size is this plus about 35 MB of the binary's own pages (its
// code and tables, mapped from the file), so at 48 MiB a run of the page
// benchmark ended between 73 and 81 MB; at 40 MiB, with a live heap of 8
// to 17 MB (about 10 MB of it kept pages at most), garbage collection
// still has twice the live heap to work in.
const MemoryLimit = 40 << 20

// LimitMemory sets MemoryLimit as the soft memory limit, unless the
// GOMEMLIMIT environment variable sets one (the runtime has read it).
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
