package web

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplMFAPrompt     pageName = "mfa_prompt"
	tplMFAEnrol      pageName = "mfa_enrol"
	tplMFARecovery   pageName = "mfa_recovery"
	tplRecoveryCodes pageName = "mfa_recovery_codes"
)

// pendingOnly sends anyone whose session is not waiting for a second factor
// home: the prompt has nothing for them. It reports whether to go on.
func (s *Server) pendingOnly(c *gin.Context) bool {
	if scopeOf(c).Role != mend.RoleMFAPending {
		s.redirect(c, "/")
		return false
	}
	return true
}

// mfaPrompt is the second step of signing in: the code from the app, or,
// when the practice requires MFA and the person has none yet, its set-up.
func (s *Server) mfaPrompt(c *gin.Context) error {
	if !s.pendingOnly(c) {
		return nil
	}
	if mustEnrol(c) {
		return s.renderEnrol(c, "/login/mfa")
	}
	s.render(c, http.StatusOK, tplMFAPrompt, nil)
	return nil
}

func (s *Server) mfaPromptSubmit(c *gin.Context) error {
	if !s.pendingOnly(c) {
		return nil
	}
	if mustEnrol(c) {
		return s.confirmEnrolment(c, "/login/mfa")
	}
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		if err := s.mfa.Verify(c.Request.Context(), sc, form.Get("code")); err != nil {
			s.auditFailure(c, sc, "login.mfa", err)
			form.Values.Del("code")
			return formDone{}, err
		}
		next, err := s.completeSecondFactor(c, sc, "login.mfa")
		return formDone{To: next}, err
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplMFAPrompt}, nil
	})
}

func (s *Server) mfaRecoveryForm(c *gin.Context) error {
	if !s.pendingOnly(c) {
		return nil
	}
	if mustEnrol(c) {
		s.redirect(c, "/login/mfa")
		return nil
	}
	s.render(c, http.StatusOK, tplMFARecovery, nil)
	return nil
}

func (s *Server) mfaRecoverySubmit(c *gin.Context) error {
	if !s.pendingOnly(c) {
		return nil
	}
	if mustEnrol(c) {
		s.redirect(c, "/login/mfa")
		return nil
	}
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		left, err := s.mfa.UseRecoveryCode(c.Request.Context(), sc, form.Get("code"))
		if err != nil {
			s.auditFailure(c, sc, "login.mfa_recovery", err)
			form.Values.Del("code")
			return formDone{}, err
		}
		next, err := s.completeSecondFactor(c, sc, "login.mfa_recovery")
		switch left {
		case 0:
			return formDone{Flash: "You signed in with your last recovery code. Make new ones now on your account page.", To: next}, err
		case 1:
			return formDone{Flash: "You signed in with a recovery code. You have 1 left; consider making new ones on your account page.", To: next}, err
		}
		return formDone{Flash: fmt.Sprintf("You signed in with a recovery code. You have %d left.", left), To: next}, err
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplMFARecovery}, nil
	})
}

// auditFailure records a refused second factor (never the code typed).
func (s *Server) auditFailure(c *gin.Context, sc mend.Scope, action string, err error) {
	if code := mend.ErrorCode(err); code != mend.EINVALID && code != mend.ETHROTTLED {
		return
	}
	if e := s.audit.Record(c.Request.Context(), nil, sc, audit.Entry{
		Action: action, ObjectType: "user", ObjectID: sc.UserID, Outcome: audit.Failed,
	}); e != nil {
		s.log.Error("audit", "err", e)
	}
}

// renderEnrol shows the set-up page (see enrolPage); a person who already
// has a second factor goes to their account page.
func (s *Server) renderEnrol(c *gin.Context, action string) error {
	page, err := s.enrolPage(c, action, H{}, false)
	if mend.ErrorCode(err) == mend.ECONFLICT {
		s.redirect(c, "/account")
		return nil
	}
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// enrolPage is the QR code and the confirmation form; action is where the
// form posts (the sign-in step or the account page). Opening the page
// makes a new secret; after a mistyped code (again) the secret just
// scanned is shown.
func (s *Server) enrolPage(c *gin.Context, action string, data H, again bool) (formPage, error) {
	begin := s.mfa.BeginEnrolment
	if again {
		begin = s.mfa.PendingEnrolment
	}
	en, err := begin(c.Request.Context(), scopeOf(c))
	if err != nil {
		return formPage{}, err
	}
	data["Action"] = action
	data["Enrolment"] = en
	// A data: URL (allowed by the CSP's img-src) keeps the secret out of
	// any file or cache.
	data["QR"] = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCode))
	return formPage{Name: tplMFAEnrol, Data: data}, nil
}

// confirmEnrolment checks the first code from the app; on success the
// session counts as past its second factor and the recovery codes are shown,
// once.
func (s *Server) confirmEnrolment(c *gin.Context, action string) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		codes, err := s.mfa.ConfirmEnrolment(ctx, sc, form.Get("code"))
		if mend.ErrorCode(err) == mend.ECONFLICT { // already on (e.g. a second tab)
			return formDone{Flash: mend.ErrorMessage(err), To: "/"}, nil
		}
		if err != nil {
			form.Values.Del("code")
			s.auditFailure(c, sc, "mfa.enrol", err)
			return formDone{}, err
		}
		if err := s.sendNotice(ctx, sc, noticeMFAOn); err != nil {
			return formDone{}, err
		}
		next, err := s.completeSecondFactor(c, sc, "login.mfa")
		if action != "/login/mfa" {
			next = "/account"
		}
		return formDone{Page: tplRecoveryCodes, Data: H{"Codes": codes, "Next": next, "New": true}}, err
	}, func(_ *Form, err error) (formPage, error) {
		data := H{"Error": ""} // the message is beside the code field
		switch mend.ErrorCode(err) {
		case mend.EINVALID:
		case mend.ETHROTTLED:
			data["Error"] = mend.ErrorMessage(err)
		default:
			return formPage{}, err
		}
		return s.enrolPage(c, action, data, true)
	})
}

// accountMFA is the set-up page reached from the account page.
func (s *Server) accountMFA(c *gin.Context) error {
	return s.renderEnrol(c, "/account/mfa")
}

func (s *Server) accountMFAConfirm(c *gin.Context) error {
	return s.confirmEnrolment(c, "/account/mfa")
}

// accountRecoveryCodes replaces the recovery codes (a current code needed).
func (s *Server) accountRecoveryCodes(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		codes, err := s.mfa.RegenerateRecoveryCodes(ctx, sc, form.Get("regen_code"))
		if err != nil {
			form.Values.Del("regen_code")
			return formDone{}, err
		}
		return formDone{Page: tplRecoveryCodes, Data: H{"Codes": codes, "Next": "/account"}}, nil
	}, s.accountPageFor(c, "regen_code"))
}

// accountMFADisable turns MFA off (a current code needed; refused to staff
// of a practice that requires it).
func (s *Server) accountMFADisable(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		if err := s.mfa.Disable(ctx, sc, form.Get("disable_code")); err != nil {
			form.Values.Del("disable_code")
			return formDone{}, err
		}
		err := s.sendNotice(ctx, sc, noticeMFAOff)
		return formDone{Flash: "Two-step sign-in is off.", To: "/account"}, err
	}, s.accountPageFor(c, "disable_code"))
}
