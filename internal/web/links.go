package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplSetPassword = "set_password"
	tplLinkProblem = "link_problem"
	tplForgot      = "forgot_password"
)

// inviteForm shows the invitation page, or explains why the link no longer
// works (expired, already used).
func (s *Server) inviteForm(c *gin.Context) error {
	return s.linkForm(c, auth.PurposeInvite)
}

func (s *Server) inviteAccept(c *gin.Context) error {
	return s.linkSubmit(c, auth.PurposeInvite)
}

func (s *Server) resetForm(c *gin.Context) error {
	return s.linkForm(c, auth.PurposeReset)
}

func (s *Server) resetSubmit(c *gin.Context) error {
	return s.linkSubmit(c, auth.PurposeReset)
}

func (s *Server) linkForm(c *gin.Context, purpose string) error {
	info, err := s.links.Check(c.Request.Context(), c.Param("token"), purpose)
	if err != nil {
		return err
	}
	if info.State != auth.LinkValid {
		s.render(c, linkStatus(info.State), tplLinkProblem, H{"Link": info, "Purpose": purpose})
		return nil
	}
	s.render(c, http.StatusOK, tplSetPassword, H{"Link": info, "Purpose": purpose})
	return nil
}

func (s *Server) linkSubmit(c *gin.Context, purpose string) error {
	ctx := c.Request.Context()
	token := c.Param("token")
	info, err := s.links.Check(ctx, token, purpose)
	if err != nil {
		return err
	}
	if info.State != auth.LinkValid {
		s.render(c, linkStatus(info.State), tplLinkProblem, H{"Link": info, "Purpose": purpose})
		return nil
	}
	data := H{"Link": info, "Purpose": purpose}
	return s.postForm(c, func(form *Form) (formDone, error) {
		sc, err := s.links.Redeem(ctx, token, purpose, form.Get("password"), form.Get("confirm"), c.ClientIP())
		if err != nil {
			form.Values.Del("password")
			form.Values.Del("confirm")
			return formDone{}, err
		}
		// A new password ends every session the account had: whoever knew
		// the old one is out.
		if purpose == auth.PurposeReset {
			if err := s.endSessionsForPasswordReset(c, sc); err != nil {
				return formDone{}, err
			}
		}
		// Someone already signed in on this browser is signed out first:
		// the link's owner is who continues.
		if err := s.startSession(c, sc); err != nil {
			return formDone{}, err
		}
		if purpose == auth.PurposeInvite {
			return formDone{Flash: "Welcome to Mend. Your password is set.", To: "/"}, nil
		}
		return formDone{Flash: "Your password has been changed.", To: "/"}, nil
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplSetPassword, Data: data}, nil
	})
}

func linkStatus(state string) int {
	if state == auth.LinkUnknown {
		return http.StatusNotFound
	}
	return http.StatusGone
}

func (s *Server) forgotForm(c *gin.Context) error {
	s.render(c, http.StatusOK, tplForgot, nil)
	return nil
}

// forgotSubmit answers the same whether or not the email has an account, so
// that the form cannot be used to find out who is a client.
func (s *Server) forgotSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	return s.postForm(c, func(form *Form) (formDone, error) {
		email := auth.NormalizeEmail(form.Get("email"))
		if email == "" {
			return formDone{}, mend.FieldErrors{"email": "Enter the email address you sign in with."}.Err()
		}
		err := s.links.RequestReset(ctx, s.users, email, func(tx *sqlx.Tx, raw string, to auth.LinkInfo) error {
			practiceName, err := s.practiceName(c, to.PracticeID)
			if err != nil {
				return err
			}
			_, err = s.outbox.Queue(ctx, tx, mail.Message{
				PracticeID: to.PracticeID, UserID: to.UserID, To: to.Email, ToName: to.Name,
				Kind: mail.KindPasswordReset, Template: "password_reset",
				Data: map[string]any{"Name": to.Name, "PracticeName": practiceName, "Link": s.absURL("/password/reset/" + raw)},
			})
			return err
		})
		return formDone{Page: tplForgot, Data: H{"Sent": true, "Email": email}}, err
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplForgot}, nil
	})
}

func (s *Server) practiceName(c *gin.Context, practiceID int64) (string, error) {
	p, err := s.practices.Get(c.Request.Context(), mend.Scope{PracticeID: practiceID})
	return p.Name, err
}

// absURL makes a link for an email or to show once to an inviter.
func (s *Server) absURL(path string) string {
	return s.baseURL.Scheme + "://" + s.baseURL.Host + path
}
