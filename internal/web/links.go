package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplSetPassword pageName = "set_password"
	tplLinkProblem pageName = "link_problem"
	tplForgot      pageName = "forgot_password"
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
	data := H{"Link": info, "Purpose": purpose}
	if err := s.addConsent(c, info, purpose, data); err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplSetPassword, data)
	return nil
}

// clientInvite reports whether a link is a client's invitation: the page
// that explains Mend and asks for consent before the password is set.
func clientInvite(info auth.LinkInfo, purpose string) bool {
	return purpose == auth.PurposeInvite && info.Role == string(mend.RoleClient)
}

// addConsent puts the practice's current consent text on a client's
// invitation page.
func (s *Server) addConsent(c *gin.Context, info auth.LinkInfo, purpose string, data H) error {
	if !clientInvite(info, purpose) {
		return nil
	}
	v, err := s.consent.Current(c.Request.Context(), info.PracticeID)
	data["Consent"] = v
	return err
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
	if err := s.addConsent(c, info, purpose, data); err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		if clientInvite(info, purpose) {
			// Agreeing comes first: without it no password is set.
			if err := consentChecked(form); err != nil {
				form.Values.Del("password")
				form.Values.Del("confirm")
				return formDone{}, err
			}
		}
		var notify func(tx *sqlx.Tx, sc mend.Scope) error
		switch {
		case purpose == auth.PurposeReset:
			notify = func(tx *sqlx.Tx, sc mend.Scope) error {
				return s.queueNotice(ctx, tx, sc, info.Practice, noticePasswordReset)
			}
		case clientInvite(info, purpose):
			// The consent is recorded in the transaction that sets the
			// password: both are there, or neither. It is recorded for the
			// version the page showed; if the practice changed its text
			// meanwhile (ECONFLICT, no statement failed), the password is
			// still set and the consent page asks for the new text next.
			version, _ := strconv.Atoi(form.Get("consent_version"))
			notify = func(tx *sqlx.Tx, sc mend.Scope) error {
				if err := s.consent.Accept(ctx, tx, info.PracticeID, sc.UserID, version); err != nil && mend.ErrorCode(err) != mend.ECONFLICT {
					return err
				}
				return nil
			}
		}
		sc, err := s.links.Redeem(ctx, token, purpose, form.Get("password"), form.Get("confirm"), c.ClientIP(), notify)
		if err != nil {
			form.Values.Del("password")
			form.Values.Del("confirm")
			return formDone{}, err
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

// forgotSubmit answers the same whether or not the email has an account,
// so that the form cannot be used to find out who is a client: before the
// answer it runs the same statements for every email (the per-address
// limit), and everything that depends on the account happens behind the
// answer.
func (s *Server) forgotSubmit(c *gin.Context) error {
	ctx := c.Request.Context()
	return s.postForm(c, func(form *Form) (formDone, error) {
		email := auth.NormalizeEmail(form.Get("email"))
		if email == "" {
			return formDone{}, mend.FieldErrors{"email": "Enter the email address you sign in with."}.Err()
		}
		ip := c.ClientIP()
		if err := s.resetRequests.Admit(ctx, ip); err != nil {
			if mend.ErrorCode(err) == mend.ETHROTTLED {
				if e := s.audit.Record(ctx, nil, mend.Scope{Role: mend.RoleAnonymous, IP: ip},
					audit.Entry{Action: "password_reset.throttled", ObjectType: "user", Outcome: audit.Denied}); e != nil {
					s.log.Error("audit", "err", e)
				}
			}
			return formDone{}, err
		}
		s.behind("password reset request", func(ctx context.Context) error { return s.sendResetLink(ctx, email, ip) })
		return formDone{Page: tplForgot, Data: H{"Sent": true, "Email": email}}, nil
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplForgot}, nil
	})
}

// sendResetLink does a reset request's work behind its answer: the link
// and its email when the account exists and has no fresh link open, and
// (written by RequestReset in its transaction) an audit entry in every
// case (the account named, if there is one, and the address).
func (s *Server) sendResetLink(ctx context.Context, email, ip string) error {
	return s.links.RequestReset(ctx, email, ip, func(tx *sqlx.Tx, raw string, to auth.LinkInfo) error {
		_, err := s.outbox.Queue(ctx, tx, mail.Message{
			PracticeID: to.PracticeID, UserID: to.UserID, To: to.Email, ToName: to.Name,
			Kind: mail.KindPasswordReset, Template: "password_reset",
			Data: map[string]any{"Name": to.Name, "PracticeName": to.Practice, "Link": s.absURL("/password/reset/" + raw)},
		})
		return err
	})
}

func (s *Server) practiceName(ctx context.Context, practiceID int64) (string, error) {
	p, err := s.practices.Get(ctx, mend.Scope{PracticeID: practiceID})
	return p.Name, err
}

// absURL makes a link for an email or to show once to an inviter.
func (s *Server) absURL(path string) string {
	return s.baseURL.Scheme + "://" + s.baseURL.Host + path
}
