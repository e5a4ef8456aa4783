package web

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
)

// Template names, beside their handlers.
const (
	tplLogin pageName = "login"
)

func (s *Server) loginForm(c *gin.Context) error {
	if sc := scopeOf(c); sc.Role == mend.RoleMFAPending {
		s.redirect(c, "/login/mfa")
		return nil
	} else if !sc.Anonymous() {
		s.redirect(c, "/")
		return nil
	}
	data := H{"Next": safeNext(c.Query("next"))}
	switch {
	case c.Query("signed_out") == "1":
		data["Flash"] = "You have signed out."
	case c.Query("ended") == "unsaved":
		// Something was lost: an alert, not the flash of good news.
		data["Error"] = "You were signed out (after a while without activity, or from another device), so what you last sent was not saved. Sign in, then send it again."
	case c.Query("ended") == "1":
		data["Flash"] = "You were signed out (after a while without activity, or from another device). Sign in to go on."
	}
	s.render(c, http.StatusOK, tplLogin, data)
	return nil
}

func (s *Server) loginSubmit(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		sc, err := s.login.Attempt(c.Request.Context(), form.Get("email"), form.Get("password"), c.ClientIP())
		if err != nil {
			form.Values.Del("password") // never echo a password back
			return formDone{}, err
		}
		if err := s.startSession(c, sc); err != nil {
			return formDone{}, err
		}
		return s.afterPassword(c, sc, safeNext(form.Get("next")))
	}, func(form *Form, _ error) (formPage, error) {
		return formPage{Name: tplLogin, Data: H{"Next": safeNext(form.Get("next"))}}, nil
	})
}

// startSession logs sc in: a new session token (no fixation), the user id in
// the session, its row in the index of sessions, and an audit entry.
func (s *Server) startSession(c *gin.Context, sc mend.Scope) error {
	ctx := c.Request.Context()
	previous := s.sessions.Token(ctx)
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserKey, sc.UserID)
	if err := s.indexSession(c, previous, sc); err != nil {
		return err
	}
	return s.audit.Record(ctx, nil, sc, audit.Entry{Action: "login", ObjectType: "user", ObjectID: sc.UserID})
}

func (s *Server) logout(c *gin.Context) error {
	if sc := scopeOf(c); !sc.Anonymous() {
		// Signing out must work even when the audit write does not.
		if err := s.audit.Record(c.Request.Context(), nil, sc, audit.Entry{Action: "logout", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
			s.log.Error("audit", "err", err)
		}
	}
	if err := s.userSessions.Forget(c.Request.Context(), s.sessions.Token(c.Request.Context())); err != nil {
		return err
	}
	if err := s.sessions.Destroy(c.Request.Context()); err != nil {
		return err
	}
	s.redirect(c, "/login?signed_out=1")
	return nil
}

// safeNext keeps a post-login redirect on this site: a local absolute path,
// not "//host", "/\host", or anything a browser would turn into one (it
// drops tabs and newlines from URLs, so "/\t/host" is "//host" to it).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "/login") ||
		strings.ContainsRune(next, '\\') || strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}
