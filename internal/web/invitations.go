package web

import (
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

// invitationsShown is the page that shows newly issued invitation links
// once (their emails are already queued; only the links' hashes are
// stored): one for a counselor, two for a new pair. data may add Heading,
// Intro, Next and NextLabel.
func (s *Server) invitationsShown(status int, invs []practice.Invitation, data H) formDone {
	if data == nil {
		data = H{}
	}
	shown := make([]shownInvitation, len(invs))
	for i, inv := range invs {
		shown[i] = shownInvitation{Invitation: inv, Link: s.inviteURL(inv.Token)}
	}
	data["Invitations"] = shown
	data["TTLDays"] = int(auth.InviteTTL.Hours() / 24)
	return formDone{Page: tplInvitation, Status: status, Data: data}
}
