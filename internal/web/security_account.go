package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplAccount         = "account"
	tplAccountPassword = "account_password"
)

// accountHome is everyone's security page: two-step sign-in, password and
// active sessions.
func (s *Server) accountHome(c *gin.Context) {
	s.renderAccount(c, http.StatusOK, H{})
}

func (s *Server) renderAccount(c *gin.Context, status int, data H) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	st, err := s.mfa.Status(ctx, sc)
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.userSessions.List(ctx, sc, s.sessions.Token(ctx))
	if err != nil {
		s.fail(c, err)
		return
	}
	data["MFA"] = st
	data["Sessions"] = list
	s.render(c, status, tplAccount, data)
}

// accountFormFailed re-renders the account page with the message next to
// the code field of the form that failed (the page has two code fields, so
// the domain's "code" message is moved to field).
func (s *Server) accountFormFailed(c *gin.Context, err error, form *Form, field string) {
	code := mend.ErrorCode(err)
	if code != mend.EINVALID && code != mend.ECONFLICT && code != mend.ETHROTTLED {
		s.fail(c, err)
		return
	}
	form.Errors = map[string]string{}
	if msg, ok := mend.Fields(err)["code"]; ok {
		form.Errors[field] = msg
	}
	data := H{"Form": form}
	if len(form.Errors) == 0 {
		data["Error"] = mend.ErrorMessage(err)
	}
	s.renderAccount(c, statusOf(code), data)
}

func (s *Server) passwordForm(c *gin.Context) {
	s.render(c, http.StatusOK, tplAccountPassword, nil)
}

// passwordSubmit changes the password, then ends every other session of
// the account and renews this one's token.
func (s *Server) passwordSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	var practiceName string
	if err == nil {
		practiceName, err = s.practiceName(ctx, sc.PracticeID)
	}
	if err == nil {
		err = s.login.ChangePassword(ctx, sc, form.Get("current"), form.Get("password"), form.Get("confirm"), func(tx *sqlx.Tx) error {
			return s.queueNotice(ctx, tx, sc, practiceName, noticePasswordChanged)
		})
	}
	if err != nil {
		for _, f := range []string{"current", "password", "confirm"} {
			form.Values.Del(f)
		}
		s.formFailed(c, err, tplAccountPassword, form, nil)
		return
	}
	current := s.sessions.Token(ctx)
	ended, err := s.userSessions.EndOthers(ctx, sc, current)
	if err == nil {
		err = s.sessions.RenewToken(ctx)
	}
	if err == nil {
		err = s.userSessions.Rekey(ctx, current, s.sessions.Token(ctx), false)
	}
	if err == nil {
		err = s.audit.Record(ctx, nil, sc, audit.Entry{Action: "password.changed", ObjectType: "user", ObjectID: sc.UserID})
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	msg := "Your password has been changed."
	if ended > 0 {
		msg += fmt.Sprintf(" %s signed out.", plural(ended, "Your other session was", "Your %d other sessions were"))
	}
	s.flash(c, msg)
	s.redirect(c, "/account")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

// sessionEnd signs out one of the caller's other sessions.
func (s *Server) sessionEnd(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	if err := s.userSessions.End(ctx, sc, id, s.sessions.Token(ctx)); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.audit.Record(ctx, nil, sc, audit.Entry{Action: "session.ended", ObjectType: "session", ObjectID: id}); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "That session is signed out.")
	s.redirect(c, "/account")
}

// sessionsEndOthers signs out every session of the caller but this one.
func (s *Server) sessionsEndOthers(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	n, err := s.userSessions.EndOthers(ctx, sc, s.sessions.Token(ctx))
	if err == nil {
		err = s.audit.Record(ctx, nil, sc, audit.Entry{Action: "sessions.ended_others", ObjectType: "user", ObjectID: sc.UserID})
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if n == 0 {
		s.flash(c, "You had no other sessions.")
	} else {
		s.flash(c, plural(n, "Your other session is signed out.", "Your %d other sessions are signed out."))
	}
	s.redirect(c, "/account")
}
