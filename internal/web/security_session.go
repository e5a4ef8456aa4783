package web

import (
	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	// mfaEnrolKey marks (in the gin context) a pending session that must set
	// up MFA before anything else.
	mfaEnrolKey = "mend.mfa_enrol"
	// mfaNextKey keeps, in the session, where to go once the second factor
	// is done.
	mfaNextKey = "mfa_next"
	// sessionEndedKey marks (in the gin context) a request whose session
	// had ended (idle too long, signed out elsewhere): the sign-in page then
	// says so, and that a form sent with it was not saved.
	sessionEndedKey = "mend.session_ended"
)

// checkSession gives loadScope the caller's Scope for a session of user
// uid: the session must be in the index with an enabled account (else it
// was ended: it continues anonymous and its data is destroyed), and a
// session still owing its second factor gets the mfa_pending role, which
// casbin lets reach only the MFA pages. ok is false when the request has
// been answered (an error).
func (s *Server) checkSession(c *gin.Context, uid int64, ip string) (mend.Scope, bool) {
	ctx := c.Request.Context()
	anonymous := mend.Scope{Role: mend.RoleAnonymous, IP: ip}
	st, err := s.userSessions.Check(ctx, s.sessions.Token(ctx), uid, ip)
	if err != nil {
		s.fail(c, err)
		return anonymous, false
	}
	if !st.Found {
		_ = s.sessions.Destroy(ctx)
		c.Set(sessionEndedKey, true)
		return anonymous, true
	}
	sc := st.Scope
	if st.Pending {
		sc.Role = mend.RoleMFAPending
		c.Set(mfaEnrolKey, st.MustEnrol)
	}
	return sc, true
}

// mustEnrol reports whether the pending session has to set up MFA first.
func mustEnrol(c *gin.Context) bool { return c.GetBool(mfaEnrolKey) }

// indexSession records the new session of a login in the index, and drops
// the index row of the session it replaced on this browser, if any.
func (s *Server) indexSession(c *gin.Context, previousToken string, sc mend.Scope) error {
	ctx := c.Request.Context()
	if err := s.userSessions.Forget(ctx, previousToken); err != nil {
		return err
	}
	return s.userSessions.Start(ctx, s.sessions.Token(ctx), sc, c.Request.UserAgent())
}

// afterPassword sends a person who just gave the right password on: to the
// second-factor page when their session owes one, else to next.
func (s *Server) afterPassword(c *gin.Context, sc mend.Scope, next string) (formDone, error) {
	ctx := c.Request.Context()
	st, err := s.userSessions.Check(ctx, s.sessions.Token(ctx), sc.UserID, sc.IP)
	if err != nil {
		return formDone{}, err
	}
	if st.Pending {
		s.sessions.Put(ctx, mfaNextKey, next)
		return formDone{To: "/login/mfa"}, nil
	}
	return formDone{To: next}, nil
}

// completeSecondFactor marks the session as past its second factor, under
// a new token (the privilege changed), and makes the rest of this request
// see the full role. It returns where the person wanted to go.
func (s *Server) completeSecondFactor(c *gin.Context, sc mend.Scope, how string) (string, error) {
	ctx := c.Request.Context()
	previous := s.sessions.Token(ctx)
	if err := s.sessions.RenewToken(ctx); err != nil {
		return "", err
	}
	if err := s.userSessions.Rekey(ctx, previous, s.sessions.Token(ctx), true); err != nil {
		return "", err
	}
	full, err := s.users.Scope(ctx, sc.UserID, sc.IP)
	if err != nil {
		return "", err
	}
	c.Set(scopeKey, full)
	c.Set(mfaEnrolKey, false)
	if err := s.audit.Record(ctx, nil, full, audit.Entry{Action: how, ObjectType: "user", ObjectID: full.UserID}); err != nil {
		return "", err
	}
	next := safeNext(s.sessions.PopString(ctx, mfaNextKey))
	return next, nil
}
