package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

const (
	scopeKey       = "mend.scope"
	sessionUserKey = "user_id"
	maxBodyBytes   = 1 << 20
)

// contentSecurityPolicy allows only Mend's own files: no inline script, no
// framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every response carries, including 404s,
// 500s and responses written by middleware. Pages may show client data, so
// nothing is stored by browsers or proxies except static files.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	https := s.cfg.HTTPS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if https {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into the 500 page; the stack goes to the log,
// never to the person.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "route", c.FullPath(), "panic", fmt.Sprint(r))
			s.fail(c, fmt.Errorf("panic: %v", r))
			c.Abort()
		}
	}()
	c.Next()
}

// limitBody caps request bodies; forms are small.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// pageParams are the query parameters that carry a page number.
var pageParams = []string{"page", "hpage", "epage"}

// refuseOddInput answers 422 before any handler runs when the URL, a path
// parameter or a form field's name holds what no Mend field can: a NUL byte
// or bytes that are not UTF-8 (PostgreSQL refuses both, which surfaced as a
// 500), or a page number beyond any list. A form field's value that holds
// one is noted for formOf, the one way handlers read a form, which refuses
// the form with a message beside the field and what was typed kept (the
// form pattern, postForm). Handlers then only ever see text they can store
// and compare.
func (s *Server) refuseOddInput(c *gin.Context) {
	// ParseForm reads a urlencoded body once (within limitBody's cap); the
	// handlers' PostForm calls read the parsed values. A body that does not
	// parse is left to the handler, as before.
	_ = c.Request.ParseForm()
	q := c.Request.URL.Query() // parsed once: every request comes through here
	for _, values := range []url.Values{q, c.Request.PostForm} {
		for name := range values {
			if !storable(name) {
				s.fail(c, errUnstorable)
				return
			}
		}
	}
	for _, vs := range q {
		for _, v := range vs {
			if !storable(v) {
				s.fail(c, errUnstorable)
				return
			}
		}
	}
	if !formValidatesItsText[c.FullPath()] {
		var fields mend.FieldErrors
		for name, vs := range c.Request.PostForm {
			for _, v := range vs {
				if !storable(v) {
					fields.Add(name, unstorableField)
				}
			}
		}
		if fields != nil {
			c.Set(unstorableKey, &mend.Error{Code: mend.EINVALID, Message: unstorableForm, Fields: fields})
		}
	}
	for _, p := range c.Params {
		if !storable(p.Value) {
			s.fail(c, errUnstorable)
			return
		}
	}
	for _, name := range pageParams {
		if v := q.Get(name); !paging.Valid(v) {
			s.fail(c, mend.Errorf(mend.EINVALID, "There is no page %q: pages are numbered from 1. Go back and choose a page from the list.", v))
			return
		}
	}
	c.Next()
}

// formValidatesItsText lists the routes whose forms check every text field
// themselves and answer with the message beside the field and the typed
// words kept (the check-in forms: a client's reflection must never be lost to
// a generic error page). Their query strings and path parameters are still
// checked here.
var formValidatesItsText = map[string]bool{
	"/homework/:id/checkins": true,
	"/checkins/:id":          true,
}

var errUnstorable = mend.Errorf(mend.EINVALID, "The address or form holds characters that cannot be stored "+
	"(a NUL byte, or text that is not UTF-8). Remove them and try again.")

// unstorableKey holds, for formOf, the refusal of a form whose fields hold
// characters that cannot be stored (see refuseOddInput).
const unstorableKey = "mend.unstorable"

const (
	unstorableForm  = "Nothing was saved: a field holds characters that cannot be stored. Remove them and send again."
	unstorableField = "This holds a character that cannot be stored (a NUL byte, or text that is not UTF-8). Remove it and send again."
)

// storable reports whether s is text PostgreSQL can hold.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// observe logs each request and counts it in the metrics, by route template
// (never the raw path: links carry tokens).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.observe(c.Request.Method, route, c.Writer.Status(), d)
	if route == "/static/*file" || route == "/healthz" {
		return
	}
	sc := scopeOf(c)
	s.log.Info("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"ms", d.Milliseconds(), "user", sc.UserID, "role", sc.Role)
}

// loadScope builds the caller's Scope once per request from the session,
// in one statement (auth.Sessions.Check reads the session's index row and
// its account together). A session that was ended, has been idle too long,
// or whose account is gone or disabled is destroyed on the spot.
func (s *Server) loadScope(c *gin.Context) {
	sc := mend.Scope{Role: mend.RoleAnonymous, IP: c.ClientIP()}
	if uid := s.sessions.GetInt64(c.Request.Context(), sessionUserKey); uid != 0 {
		var ok bool
		if sc, ok = s.checkSession(c, uid, sc.IP); !ok {
			c.Abort()
			return
		}
	}
	c.Set(scopeKey, sc)
	c.Next()
}

// scopeOf returns the request's Scope (anonymous before loadScope ran).
func scopeOf(c *gin.Context) mend.Scope {
	if v, ok := c.Get(scopeKey); ok {
		return v.(mend.Scope)
	}
	return mend.Scope{Role: mend.RoleAnonymous, IP: c.ClientIP()}
}

// authorize checks casbin for the route's (object, action). An anonymous
// caller is sent to the login page; a logged-in caller without the right
// gets the same 404 as for a page that does not exist, and the refusal is
// audited. A casbin error denies.
func (s *Server) authorize(obj, act string) gin.HandlerFunc {
	return func(c *gin.Context) {
		sc := scopeOf(c)
		ok, err := s.enforcer.Allowed(sc.Role, sc.PracticeID, obj, act)
		if err != nil {
			s.log.Error("authorization error", "err", err)
		}
		if ok && err == nil {
			c.Set(authzObjectKey, obj)
			if sc.Role == mend.RoleClient && !consentFree[obj] && s.consentOwed(c, sc) {
				c.Abort()
				s.redirect(c, "/consent")
				return
			}
			c.Next()
			return
		}
		c.Abort()
		if sc.Role == mend.RoleMFAPending {
			// Password given, second factor not yet: back to the prompt,
			// whatever was asked for.
			s.redirect(c, "/login/mfa")
			return
		}
		if sc.Anonymous() {
			c.Redirect(http.StatusSeeOther, signInTarget(c))
			return
		}
		s.auditDenied(c, obj)
		s.fail(c, errNotFound)
	}
}

// signInTarget is where an anonymous caller is sent: the sign-in page, then
// back to the page asked for. A form sent after the session ended (a long
// reflection typed past the idle timeout) was not saved: the sign-in page
// says so and leads back to the page the form was on (the Referer, which
// browsers send to the same origin), where it can be sent again.
func signInTarget(c *gin.Context) string {
	q := url.Values{}
	ended := c.GetBool(sessionEndedKey)
	switch {
	case c.Request.Method == http.MethodGet:
		q.Set("next", c.Request.URL.RequestURI())
		if ended {
			q.Set("ended", "1")
		}
	case ended:
		q.Set("ended", "unsaved")
		if ref, err := url.Parse(c.Request.Referer()); err == nil && ref.Host == c.Request.Host && ref.Path != "" {
			q.Set("next", ref.RequestURI())
		}
	}
	if len(q) == 0 {
		return "/login"
	}
	return "/login?" + q.Encode()
}

// authzObjectKey holds, in the gin context, the casbin object of the route
// that casbin allowed: a store's 404 on it is then audited as a refusal.
const authzObjectKey = "mend.authz_object"

// deniedKey marks a request whose refusal is already in the audit log.
const deniedKey = "mend.denied_audited"

// auditDenied records a refused access to the route's object (and the id
// in its path, if any): casbin refusing the role, or a store answering 404
// for an id outside the caller's scope (another counselor's pair).
func (s *Server) auditDenied(c *gin.Context, obj string) {
	if _, done := c.Get(deniedKey); done {
		return
	}
	c.Set(deniedKey, true)
	e := audit.Entry{Action: "route.denied", ObjectType: obj, Outcome: audit.Denied}
	if id, err := strconv.ParseInt(c.Param("id"), 10, 64); err == nil && id > 0 {
		e.ObjectID = id
	}
	if err := s.audit.Record(c.Request.Context(), nil, scopeOf(c), e); err != nil {
		s.log.Error("audit", "err", err)
	}
}

// consentDueKey records in the session whether the client still owes their
// agreement to the practice's current consent text: checked once per
// sign-in, so a new version is asked for at the next sign-in.
const consentDueKey = "consent.due"

const (
	consentUnknown = iota
	consentOwed
	consentGiven
)

// consentFree are the objects a client may reach before agreeing: the
// consent page itself and what anyone may reach.
var consentFree = map[string]bool{
	"consent": true, "logout": true, "static": true, "health": true, "login": true,
	"invitation": true, "password_reset": true, "mfa_prompt": true, "unsubscribe": true,
}

// consentOwed reports whether the client must agree to the practice's
// consent text before going on; on a database error it lets them on (the
// page they asked for will meet the same database).
func (s *Server) consentOwed(c *gin.Context, sc mend.Scope) bool {
	ctx := c.Request.Context()
	switch s.sessions.GetInt(ctx, consentDueKey) {
	case consentOwed:
		return true
	case consentGiven:
		return false
	}
	due, _, err := s.consent.Due(ctx, sc)
	if err != nil {
		s.log.Error("consent check", "err", err)
		return false
	}
	state := consentGiven
	if due {
		state = consentOwed
	}
	s.sessions.Put(ctx, consentDueKey, state)
	return due
}
