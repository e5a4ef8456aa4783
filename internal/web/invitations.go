package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/practice"
)

// Invitation links: queued by email in the transaction that makes them,
// and shown once to whoever made them.

// queueInvitation returns the callback that queues an invitation's email in
// the transaction that creates the link.
func (s *Server) queueInvitation(c *gin.Context) practice.Notify {
	return func(tx *sqlx.Tx, inv practice.Invitation) error {
		ctx := c.Request.Context()
		sc := scopeOf(c)
		name, err := s.practiceName(c, sc.PracticeID)
		if err != nil {
			return err
		}
		_, err = s.outbox.Queue(ctx, tx, mail.Message{
			PracticeID: sc.PracticeID, UserID: inv.UserID, To: inv.Email, ToName: inv.Name,
			Kind: mail.KindInvitation, Template: "invitation",
			Data: map[string]any{"Name": inv.Name, "PracticeName": name, "InviterName": sc.Name, "Link": s.inviteURL(inv.Token)},
		})
		return err
	}
}

func (s *Server) inviteURL(token string) string { return s.absURL("/invite/" + token) }

// shownInvitation is an invitation with its link, for the page that shows
// it once.
type shownInvitation struct {
	practice.Invitation
	Link string
}

// mailState is what the pages that hand out links say about email: Off
// when no mail server is set up (SMTP_URL is empty: emails are written to
// the email log and never sent), FailingSince when the server has been
// refusing or unreachable (mail_health, as the workers record it).
type mailState struct {
	Off          bool
	FailingSince time.Time
}

// String tells one state from another (a kept pair page is kept per state).
func (m mailState) String() string {
	switch {
	case m.Off:
		return "off"
	case m.FailingSince.IsZero():
		return "ok"
	}
	return "failing since " + m.FailingSince.UTC().Format(time.RFC3339Nano)
}

// mailStateKey holds the mail server's state once a request has read it.
const mailStateKey = "web.mail"

// mailState is the mail server's state, read at most once per request: a
// kept pair page is looked up under the state its body then shows.
func (s *Server) mailState(c *gin.Context) (mailState, error) {
	if v, ok := c.Get(mailStateKey); ok {
		return v.(mailState), nil
	}
	if s.cfg.SMTPURL == "" {
		return mailState{Off: true}, nil
	}
	st, err := s.mailHealth.Status(c.Request.Context())
	if err != nil {
		return mailState{}, err
	}
	m := mailState{FailingSince: st.FailingSince.Time}
	c.Set(mailStateKey, m)
	return m, nil
}

// invitationsShown is the page that shows newly issued invitation links
// once (their emails are already queued; only the links' hashes are
// stored): one for a counselor, two for a new pair. It says the truth
// about the email: queued, late (the mail server is failing), or not sent
// at all (no mail server). data may add Heading, Intro, Next and NextLabel.
func (s *Server) invitationsShown(c *gin.Context, status int, invs []practice.Invitation, data H) (formDone, error) {
	if data == nil {
		data = H{}
	}
	shown := make([]shownInvitation, len(invs))
	for i, inv := range invs {
		shown[i] = shownInvitation{Invitation: inv, Link: s.inviteURL(inv.Token)}
	}
	mail, err := s.mailState(c)
	if err != nil {
		return formDone{}, err
	}
	data["Mail"] = mail
	data["Invitations"] = shown
	data["TTLDays"] = int(auth.InviteTTL.Hours() / 24)
	return formDone{Page: tplInvitation, Status: status, Data: data}, nil
}

// resetShown is the page that shows a password-reset link staff issued,
// once; it is never emailed (the person may be locked out of their
// mailbox too, or there is no mail server).
func (s *Server) resetShown(inv practice.Invitation, next, nextLabel string) formDone {
	return formDone{Page: tplInvitation, Status: http.StatusOK, Data: H{
		"Reset": true, "Invitations": []shownInvitation{{Invitation: inv, Link: s.absURL("/password/reset/" + inv.Token)}},
		"TTLMinutes": int(auth.ResetTTL.Minutes()), "Next": next, "NextLabel": nextLabel,
	}}
}
