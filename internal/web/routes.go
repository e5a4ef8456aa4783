package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Route is one entry of the route table: the casbin object and action that
// guard it. The access-control matrix test walks this list.
type Route struct {
	Method, Path, Object, Action string
}

// buildEngine is the route table: the map a newcomer reads first. Every
// route is registered through handle, which puts the casbin check in front
// of the handler, so no route can exist without a policy decision.
func (s *Server) buildEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	_ = e.SetTrustedProxies(s.cfg.TrustedProxies) // nil trusts no proxy: ClientIP is the peer
	e.Use(s.recoverPanics, s.limitBody, s.observe, s.loadScope, s.refuseOddInput)
	e.NoRoute(func(c *gin.Context) { s.fail(c, errNotFound) })
	e.NoMethod(func(c *gin.Context) { s.fail(c, errNotFound) })
	e.HandleMethodNotAllowed = false

	// Health and static files. (/metrics is served by MetricsHandler on the
	// operator's own listener, never here.)
	s.handle(e, http.MethodGet, "/healthz", "health", "read", s.healthz)
	s.handle(e, http.MethodGet, "/readyz", "health", "read", s.readyz)
	s.handle(e, http.MethodGet, "/static/*file", "static", "read", s.static())

	// Logging in and out, invitations and password resets.
	s.handle(e, http.MethodGet, "/login", "login", "read", s.loginForm)
	s.handle(e, http.MethodPost, "/login", "login", "write", s.loginSubmit)
	s.handle(e, http.MethodPost, "/logout", "logout", "write", s.logout)
	s.handle(e, http.MethodGet, "/invite/:token", "invitation", "read", s.inviteForm)
	s.handle(e, http.MethodPost, "/invite/:token", "invitation", "write", s.inviteAccept)
	s.handle(e, http.MethodGet, "/password/forgot", "password_reset", "read", s.forgotForm)
	s.handle(e, http.MethodPost, "/password/forgot", "password_reset", "write", s.forgotSubmit)
	s.handle(e, http.MethodGet, "/password/reset/:token", "password_reset", "read", s.resetForm)
	s.handle(e, http.MethodPost, "/password/reset/:token", "password_reset", "write", s.resetSubmit)

	// Role homes.
	s.handle(e, http.MethodGet, "/", "home", "read", s.home)
	s.handle(e, http.MethodGet, "/dashboard", "dashboard", "read", s.dashboard)
	s.handle(e, http.MethodGet, "/homework", "homework", "read", s.homework)

	// Admin: staff, invitations, mail log.
	s.handle(e, http.MethodGet, "/admin", "admin", "read", s.adminHome)
	s.handle(e, http.MethodPost, "/admin/counselors", "staff", "write", s.inviteCounselor)
	s.handle(e, http.MethodGet, "/admin/staff/:id/invitation", "staff", "read", s.staffInvitationLink)
	s.handle(e, http.MethodPost, "/admin/staff/:id/invitation", "staff", "write", s.reinviteStaff)
	s.handle(e, http.MethodPost, "/admin/staff/:id/reset", "staff", "write", s.staffResetLink)
	s.handle(e, http.MethodPost, "/admin/staff/:id/disable", "staff", "write", s.disableStaff)
	s.handle(e, http.MethodPost, "/admin/staff/:id/enable", "staff", "write", s.enableStaff)
	s.handle(e, http.MethodGet, "/admin/mail", "mail_log", "read", s.mailLog)
	s.handle(e, http.MethodGet, "/admin/mail/:id", "mail_log", "read", s.mailMessage)

	// Library, pairs, homework and plans (counselor side).
	s.handle(e, http.MethodGet, "/pairs", "pair", "read", s.pairsList)
	s.handle(e, http.MethodGet, "/pairs/new", "pair", "write", s.pairNew)
	s.handle(e, http.MethodPost, "/pairs", "pair", "write", s.pairCreate)
	s.handle(e, http.MethodGet, "/pairs/:id", "pair", "read", s.pairShow)
	s.handle(e, http.MethodPost, "/pairs/:id/pause", "pair", "write", s.pairPause)
	s.handle(e, http.MethodPost, "/pairs/:id/resume", "pair", "write", s.pairResume)
	s.handle(e, http.MethodPost, "/pairs/:id/close", "pair", "write", s.pairClose)
	s.handle(e, http.MethodPost, "/pairs/:id/reassign", "pair_reassign", "write", s.pairReassign)
	s.handle(e, http.MethodGet, "/pairs/:id/members/:position/invitation", "member_link", "read", s.pairInvitationLink)
	s.handle(e, http.MethodPost, "/pairs/:id/members/:position/invitation", "member_link", "write", s.pairReinvite)
	s.handle(e, http.MethodPost, "/pairs/:id/members/:position/reset", "member_link", "write", s.pairResetLink)
	s.handle(e, http.MethodGet, "/pairs/:id/homework/new", "assignment", "write", s.assignmentNew)
	s.handle(e, http.MethodPost, "/pairs/:id/homework", "assignment", "write", s.assignmentCreate)
	s.handle(e, http.MethodGet, "/pairs/:id/plan", "pair_plan", "write", s.pairPlanForm)
	s.handle(e, http.MethodPost, "/pairs/:id/plan", "pair_plan", "write", s.pairPlanApply)
	s.handle(e, http.MethodPost, "/pairs/:id/plan/stop", "pair_plan", "write", s.pairPlanStop)
	s.handle(e, http.MethodGet, "/assignments/:id", "assignment", "read", s.assignmentShow)
	s.handle(e, http.MethodGet, "/assignments/:id/edit", "assignment", "write", s.assignmentEdit)
	s.handle(e, http.MethodPost, "/assignments/:id", "assignment", "write", s.assignmentUpdate)
	s.handle(e, http.MethodPost, "/assignments/:id/complete", "assignment", "write", s.assignmentComplete)
	s.handle(e, http.MethodPost, "/assignments/:id/cancel", "assignment", "write", s.assignmentCancel)
	s.handle(e, http.MethodGet, "/library", "library", "read", s.libraryList)
	s.handle(e, http.MethodGet, "/library/new", "library", "write", s.stepNew)
	s.handle(e, http.MethodPost, "/library", "library", "write", s.stepCreate)
	s.handle(e, http.MethodGet, "/library/:id", "library", "read", s.stepShow)
	s.handle(e, http.MethodGet, "/library/:id/edit", "library", "write", s.stepEdit)
	s.handle(e, http.MethodPost, "/library/:id", "library", "write", s.stepUpdate)
	s.handle(e, http.MethodPost, "/library/:id/copy", "library", "write", s.stepCopy)
	s.handle(e, http.MethodGet, "/plans", "plan", "read", s.plansList)
	s.handle(e, http.MethodGet, "/plans/new", "plan", "write", s.planNew)
	s.handle(e, http.MethodPost, "/plans", "plan", "write", s.planCreate)
	s.handle(e, http.MethodGet, "/plans/:id", "plan", "read", s.planShow)
	s.handle(e, http.MethodGet, "/plans/:id/edit", "plan", "write", s.planEdit)
	s.handle(e, http.MethodPost, "/plans/:id", "plan", "write", s.planUpdate)

	// Client homework pages and check-ins.
	s.handle(e, http.MethodGet, "/homework/:id", "homework", "read", s.homeworkPage)
	s.handle(e, http.MethodGet, "/homework/:id/checkins/new", "checkin", "read", s.checkinNew)
	s.handle(e, http.MethodPost, "/homework/:id/checkins", "checkin", "write", s.checkinCreate)
	s.handle(e, http.MethodGet, "/checkins/:id/edit", "checkin", "read", s.checkinEdit)
	s.handle(e, http.MethodPost, "/checkins/:id", "checkin", "write", s.checkinUpdate)
	s.handle(e, http.MethodGet, "/settings", "settings", "read", s.settingsForm)
	s.handle(e, http.MethodPost, "/settings", "settings", "write", s.settingsSave)
	s.handle(e, http.MethodGet, "/pairs/:id/checkins", "pair_checkins", "read", s.pairCheckins)

	// The clients' side: what the partner shared, feedback, own progress,
	// the safety care page, consent; the admin's wording for clients.
	s.handle(e, http.MethodGet, "/shared", "shared", "read", s.sharedList)
	s.handle(e, http.MethodGet, "/shared/:id", "shared", "read", s.sharedShow)
	s.handle(e, http.MethodGet, "/feedback", "my_feedback", "read", s.feedbackList)
	s.handle(e, http.MethodGet, "/progress", "my_progress", "read", s.myProgress)
	s.handle(e, http.MethodGet, "/checkins/:id/care", "checkin", "read", s.care)
	s.handle(e, http.MethodGet, "/consent", "consent", "read", s.consentForm)
	s.handle(e, http.MethodPost, "/consent", "consent", "write", s.consentAccept)
	s.handle(e, http.MethodGet, "/admin/clients", "client_texts", "read", s.clientTextsForm)
	s.handle(e, http.MethodPost, "/admin/clients", "client_texts", "write", s.clientTextsSave)

	// Reveal exercises: answer alone, then read both (issue 21).
	s.handle(e, http.MethodGet, "/homework/:id/reveal", "reveal", "read", s.revealShow)
	s.handle(e, http.MethodPost, "/homework/:id/reveal", "reveal", "write", s.revealSave)
	s.handle(e, http.MethodPost, "/homework/:id/reveal/reply", "reveal", "write", s.revealReply)
	s.handle(e, http.MethodGet, "/assignments/:id/reveal", "reveal_review", "read", s.revealStaff)
	s.handle(e, http.MethodPost, "/assignments/:id/reveal/release", "reveal_review", "write", s.revealRelease)
	s.handle(e, http.MethodPost, "/admin/reveal-hint", "client_texts", "write", s.revealHintSave)

	// Email: mail log actions, queues, unsubscribe.
	s.handle(e, http.MethodPost, "/admin/mail/:id/resend", "mail_log", "write", s.mailResend)
	s.handle(e, http.MethodGet, "/admin/queues", "mail_queues", "read", s.mailQueues)
	s.handle(e, http.MethodGet, "/unsubscribe/:token", "unsubscribe", "read", s.unsubscribeForm)
	s.handle(e, http.MethodPost, "/unsubscribe/:token", "unsubscribe", "write", s.unsubscribeSubmit)

	// Counselor dashboard, review, progress, exports; admin overview.
	s.handle(e, http.MethodGet, "/review/next", "review_queue", "read", s.reviewNext)
	s.handle(e, http.MethodGet, "/review/checkins/:id", "review", "read", s.reviewShow)
	s.handle(e, http.MethodPost, "/review/checkins/:id/feedback", "review", "write", s.reviewFeedback)
	s.handle(e, http.MethodPost, "/review/checkins/:id/reviewed", "review", "write", s.reviewMark)
	s.handle(e, http.MethodPost, "/review/alerts/:id/acknowledge", "safety_alert", "write", s.alertAcknowledge)
	s.handle(e, http.MethodGet, "/review/flags", "safety_alert", "read", s.flagsHistory)
	s.handle(e, http.MethodGet, "/pairs/:id/progress", "progress", "read", s.pairProgress)

	// Measures (issue 20): the admin's definitions, a pair's measures, a
	// client's answers.
	s.handle(e, http.MethodGet, "/admin/measures", "measure_def", "read", s.adminMeasures)
	s.handle(e, http.MethodPost, "/admin/measures", "measure_def", "write", s.adminMeasureCreate)
	s.handle(e, http.MethodPost, "/admin/measures/import", "measure_def", "write", s.adminMeasureImport)
	s.handle(e, http.MethodGet, "/admin/measures/:id", "measure_def", "read", s.adminMeasure)
	s.handle(e, http.MethodPost, "/admin/measures/:id", "measure_def", "write", s.adminMeasureUpdate)
	s.handle(e, http.MethodPost, "/admin/measures/:id/activate", "measure_def", "write", s.adminMeasureActivate)
	s.handle(e, http.MethodPost, "/admin/measures/:id/deactivate", "measure_def", "write", s.adminMeasureDeactivate)
	s.handle(e, http.MethodGet, "/admin/measures/:id/export.json", "measure_def", "read", s.adminMeasureExport)
	s.handle(e, http.MethodGet, "/pairs/:id/measures", "pair_measures", "read", s.pairMeasures)
	s.handle(e, http.MethodPost, "/pairs/:id/measures", "pair_measures", "write", s.pairMeasureAssign)
	s.handle(e, http.MethodGet, "/pairs/:id/measures.csv", "pair_measures", "read", s.pairMeasuresCSV)
	s.handle(e, http.MethodPost, "/measure-assignments/:id/end", "pair_measures", "write", s.measureAssignmentEnd)
	s.handle(e, http.MethodGet, "/measures", "my_measures", "read", s.myMeasures)
	s.handle(e, http.MethodGet, "/measures/:id", "my_measures", "read", s.measureAnswer)
	s.handle(e, http.MethodPost, "/measures/:id", "my_measures", "write", s.measureSubmit)
	s.handle(e, http.MethodGet, "/pairs/:id/export.csv", "export", "read", s.pairExportCSV)
	s.handle(e, http.MethodGet, "/pairs/:id/report.pdf", "export", "read", s.pairReportPDF)
	s.handle(e, http.MethodGet, "/admin/overview", "admin_overview", "read", s.adminOverview)
	s.handle(e, http.MethodGet, "/admin/audit", "audit_log", "read", s.auditLog)
	s.handle(e, http.MethodGet, "/admin/audit.csv", "audit_log", "read", s.auditExport)

	// Security: MFA, sessions, retention.
	s.handle(e, http.MethodGet, "/login/mfa", "mfa_prompt", "read", s.mfaPrompt)
	s.handle(e, http.MethodPost, "/login/mfa", "mfa_prompt", "write", s.mfaPromptSubmit)
	s.handle(e, http.MethodGet, "/login/mfa/recovery", "mfa_prompt", "read", s.mfaRecoveryForm)
	s.handle(e, http.MethodPost, "/login/mfa/recovery", "mfa_prompt", "write", s.mfaRecoverySubmit)
	s.handle(e, http.MethodGet, "/account", "account", "read", s.accountHome)
	s.handle(e, http.MethodGet, "/account/password", "account", "read", s.passwordForm)
	s.handle(e, http.MethodPost, "/account/password", "account", "write", s.passwordSubmit)
	s.handle(e, http.MethodGet, "/account/mfa", "account", "read", s.accountMFA)
	s.handle(e, http.MethodPost, "/account/mfa", "account", "write", s.accountMFAConfirm)
	s.handle(e, http.MethodPost, "/account/mfa/recovery-codes", "account", "write", s.accountRecoveryCodes)
	s.handle(e, http.MethodPost, "/account/mfa/disable", "account", "write", s.accountMFADisable)
	s.handle(e, http.MethodPost, "/account/sessions/end-others", "account", "write", s.sessionsEndOthers)
	s.handle(e, http.MethodPost, "/account/sessions/:id/end", "account", "write", s.sessionEnd)
	s.handle(e, http.MethodGet, "/admin/security", "security_settings", "read", s.adminSecurity)
	s.handle(e, http.MethodPost, "/admin/security", "security_settings", "write", s.adminSecuritySave)
	s.handle(e, http.MethodPost, "/admin/staff/:id/mfa/reset", "security_settings", "write", s.adminResetMFA)
	s.handle(e, http.MethodPost, "/admin/staff/:id/sessions/end", "security_settings", "write", s.adminEndSessions)
	s.handle(e, http.MethodPost, "/admin/security/retention", "security_settings", "write", s.adminRetentionSave)
	s.handle(e, http.MethodGet, "/pairs/:id/archive", "pair_archive", "read", s.pairArchive)
	s.handle(e, http.MethodGet, "/admin/pairs/:id/purge", "pair_purge", "read", s.pairPurgeForm)
	s.handle(e, http.MethodPost, "/admin/pairs/:id/purge", "pair_purge", "write", s.pairPurge)

	return e
}

// handler is what every route runs: it writes the response, or returns the
// error that stops it. Handlers never write an error page themselves.
type handler func(c *gin.Context) error

// handle registers a route behind the casbin check for (obj, act), and turns
// the error its handler returns into the one error page (s.fail).
func (s *Server) handle(e *gin.Engine, method, path, obj, act string, h handler) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Object: obj, Action: act})
	e.Handle(method, path, s.authorize(obj, act), func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c, err)
		}
	})
}
