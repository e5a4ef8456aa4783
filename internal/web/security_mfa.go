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
	tplMFAPrompt     = "mfa_prompt"
	tplMFAEnrol      = "mfa_enrol"
	tplMFARecovery   = "mfa_recovery"
	tplRecoveryCodes = "mfa_recovery_codes"
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
func (s *Server) mfaPrompt(c *gin.Context) {
	if !s.pendingOnly(c) {
		return
	}
	if mustEnrol(c) {
		s.renderEnrol(c, http.StatusOK, "/login/mfa", &Form{}, nil, false)
		return
	}
	s.render(c, http.StatusOK, tplMFAPrompt, nil)
}

func (s *Server) mfaPromptSubmit(c *gin.Context) {
	if !s.pendingOnly(c) {
		return
	}
	if mustEnrol(c) {
		s.confirmEnrolment(c, "/login/mfa")
		return
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	if err == nil {
		err = s.mfa.Verify(ctx, sc, form.Get("code"))
	}
	if err != nil {
		s.auditFailure(c, sc, "login.mfa", err)
		form.Values.Del("code")
		s.formFailed(c, err, tplMFAPrompt, form, nil)
		return
	}
	next, err := s.completeSecondFactor(c, sc, "login.mfa")
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, next)
}

func (s *Server) mfaRecoveryForm(c *gin.Context) {
	if !s.pendingOnly(c) {
		return
	}
	if mustEnrol(c) {
		s.redirect(c, "/login/mfa")
		return
	}
	s.render(c, http.StatusOK, tplMFARecovery, nil)
}

func (s *Server) mfaRecoverySubmit(c *gin.Context) {
	if !s.pendingOnly(c) {
		return
	}
	if mustEnrol(c) {
		s.redirect(c, "/login/mfa")
		return
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	left := 0
	if err == nil {
		left, err = s.mfa.UseRecoveryCode(ctx, sc, form.Get("code"))
	}
	if err != nil {
		s.auditFailure(c, sc, "login.mfa_recovery", err)
		form.Values.Del("code")
		s.formFailed(c, err, tplMFARecovery, form, nil)
		return
	}
	next, err := s.completeSecondFactor(c, sc, "login.mfa_recovery")
	if err != nil {
		s.fail(c, err)
		return
	}
	switch left {
	case 0:
		s.flash(c, "You signed in with your last recovery code. Make new ones now on your account page.")
	case 1:
		s.flash(c, "You signed in with a recovery code. You have 1 left; consider making new ones on your account page.")
	default:
		s.flash(c, fmt.Sprintf("You signed in with a recovery code. You have %d left.", left))
	}
	s.redirect(c, next)
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

// renderEnrol shows the QR code and the confirmation form; action is where
// the form posts (the sign-in step or the account page). Opening the page
// makes a new secret; after a mistyped code (again) the secret just
// scanned is shown.
func (s *Server) renderEnrol(c *gin.Context, status int, action string, form *Form, data H, again bool) {
	begin := s.mfa.BeginEnrolment
	if again {
		begin = s.mfa.PendingEnrolment
	}
	en, err := begin(c.Request.Context(), scopeOf(c))
	if mend.ErrorCode(err) == mend.ECONFLICT {
		s.redirect(c, "/account")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if data == nil {
		data = H{}
	}
	data["Action"] = action
	data["Enrolment"] = en
	// A data: URL (allowed by the CSP's img-src) keeps the secret out of
	// any file or cache.
	data["QR"] = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCode))
	data["Form"] = form
	s.render(c, status, tplMFAEnrol, data)
}

// confirmEnrolment checks the first code from the app; on success the
// session counts as past its second factor and the recovery codes are shown,
// once.
func (s *Server) confirmEnrolment(c *gin.Context, action string) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	var codes []string
	if err == nil {
		codes, err = s.mfa.ConfirmEnrolment(ctx, sc, form.Get("code"))
	}
	if err != nil {
		form.Values.Del("code")
		code := mend.ErrorCode(err)
		if code == mend.EINVALID || code == mend.ETHROTTLED {
			s.auditFailure(c, sc, "mfa.enrol", err)
			data := H{}
			if code == mend.ETHROTTLED {
				data["Error"] = mend.ErrorMessage(err)
			}
			form.Errors = mend.Fields(err)
			s.renderEnrol(c, statusOf(code), action, form, data, true)
			return
		}
		if code == mend.ECONFLICT { // already on (e.g. a second tab)
			s.flash(c, mend.ErrorMessage(err))
			s.redirect(c, "/")
			return
		}
		s.fail(c, err)
		return
	}
	err = s.audit.Record(ctx, nil, sc, audit.Entry{Action: "mfa.enrolled", ObjectType: "user", ObjectID: sc.UserID})
	if err == nil {
		err = s.sendNotice(ctx, sc, noticeMFAOn)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	next, err := s.completeSecondFactor(c, sc, "login.mfa")
	if err != nil {
		s.fail(c, err)
		return
	}
	if action != "/login/mfa" {
		next = "/account"
	}
	s.render(c, http.StatusOK, tplRecoveryCodes, H{"Codes": codes, "Next": next, "New": true})
}

// accountMFA is the set-up page reached from the account page.
func (s *Server) accountMFA(c *gin.Context) {
	s.renderEnrol(c, http.StatusOK, "/account/mfa", &Form{}, nil, false)
}

func (s *Server) accountMFAConfirm(c *gin.Context) {
	s.confirmEnrolment(c, "/account/mfa")
}

// accountRecoveryCodes replaces the recovery codes (a current code needed).
func (s *Server) accountRecoveryCodes(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	var codes []string
	if err == nil {
		codes, err = s.mfa.RegenerateRecoveryCodes(ctx, sc, form.Get("regen_code"))
	}
	if err != nil {
		form.Values.Del("regen_code")
		s.accountFormFailed(c, err, form, "regen_code")
		return
	}
	if err := s.audit.Record(ctx, nil, sc, audit.Entry{Action: "mfa.recovery_codes_replaced", ObjectType: "user", ObjectID: sc.UserID}); err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, tplRecoveryCodes, H{"Codes": codes, "Next": "/account"})
}

// accountMFADisable turns MFA off (a current code needed; refused to staff
// of a practice that requires it).
func (s *Server) accountMFADisable(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	if err == nil {
		err = s.mfa.Disable(ctx, sc, form.Get("disable_code"))
	}
	if err != nil {
		form.Values.Del("disable_code")
		s.accountFormFailed(c, err, form, "disable_code")
		return
	}
	err = s.audit.Record(ctx, nil, sc, audit.Entry{Action: "mfa.disabled", ObjectType: "user", ObjectID: sc.UserID})
	if err == nil {
		err = s.sendNotice(ctx, sc, noticeMFAOff)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Two-step sign-in is off.")
	s.redirect(c, "/account")
}
