package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplAccount         pageName = "account"
	tplAccountPassword pageName = "account_password"
)

// accountHome is everyone's security page: two-step sign-in, password and
// active sessions.
func (s *Server) accountHome(c *gin.Context) error {
	page, err := s.accountPage(c, H{})
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// accountPage is the account page's data.
func (s *Server) accountPage(c *gin.Context, data H) (formPage, error) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	st, err := s.mfa.Status(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	list, err := s.userSessions.List(ctx, sc, s.sessions.Token(ctx))
	if err != nil {
		return formPage{}, err
	}
	data["MFA"] = st
	data["Sessions"] = list
	return formPage{Name: tplAccount, Data: data}, nil
}

// accountPageFor draws the account page again after one of its code forms
// was refused: the page has two code fields, so the domain's "code" message
// is moved to field, and the message at the top is shown only when no field
// has one.
func (s *Server) accountPageFor(c *gin.Context, field string) func(*Form, error) (formPage, error) {
	return func(form *Form, err error) (formPage, error) {
		if mend.ErrorCode(err) == mend.EUNAUTHORIZED {
			return formPage{}, err
		}
		msg, ok := form.Errors["code"]
		form.Errors = map[string]string{}
		data := H{}
		if ok {
			form.Errors[field] = msg
			data["Error"] = ""
		}
		return s.accountPage(c, data)
	}
}

func (s *Server) passwordForm(c *gin.Context) error {
	s.render(c, http.StatusOK, tplAccountPassword, nil)
	return nil
}

// passwordSubmit changes the password, then ends every other session of
// the account and renews this one's token.
func (s *Server) passwordSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		practiceName, err := s.practiceName(ctx, sc.PracticeID)
		var ended int
		if err == nil {
			ended, err = s.login.ChangePassword(ctx, sc, form.Get("current"), form.Get("password"), form.Get("confirm"),
				s.sessions.Token(ctx), func(tx *sqlx.Tx) error {
					return s.queueNotice(ctx, tx, sc, practiceName, noticePasswordChanged)
				})
		}
		if err != nil {
			for _, f := range []string{"current", "password", "confirm"} {
				form.Values.Del(f)
			}
			return formDone{}, err
		}
		return s.passwordChanged(c, ended)
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplAccountPassword}, nil
	})
}

// passwordChanged renews this session's token (the password change ended
// the others) and says how many were signed out.
func (s *Server) passwordChanged(c *gin.Context, ended int) (formDone, error) {
	ctx := c.Request.Context()
	current := s.sessions.Token(ctx)
	err := s.sessions.RenewToken(ctx)
	if err == nil {
		err = s.userSessions.Rekey(ctx, current, s.sessions.Token(ctx), false)
	}
	if err != nil {
		return formDone{}, err
	}
	msg := "Your password has been changed."
	if ended > 0 {
		msg += fmt.Sprintf(" %s signed out.", plural(ended, "Your other session was", "Your %d other sessions were"))
	}
	return formDone{Flash: msg, To: "/account"}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}

// sessionEnd signs out one of the caller's other sessions.
func (s *Server) sessionEnd(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	if err := s.userSessions.End(ctx, sc, id, s.sessions.Token(ctx)); err != nil {
		return err
	}
	s.flash(c, "That session is signed out.")
	s.redirect(c, "/account")
	return nil
}

// sessionsEndOthers signs out every session of the caller but this one.
func (s *Server) sessionsEndOthers(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	n, err := s.userSessions.EndOthers(ctx, sc, s.sessions.Token(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		s.flash(c, "You had no other sessions.")
	} else {
		s.flash(c, plural(n, "Your other session is signed out.", "Your %d other sessions are signed out."))
	}
	s.redirect(c, "/account")
	return nil
}
