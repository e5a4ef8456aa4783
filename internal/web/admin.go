package web

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/practice"
)

const (
	tplAdmin      = "admin"
	tplInvitation = "invitation_created"
)

// adminHome lists the practice's staff, with the form to invite a counselor.
func (s *Server) adminHome(c *gin.Context) {
	data, err := s.adminData(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, tplAdmin, data)
}

func (s *Server) adminData(c *gin.Context) (H, error) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	staff, err := s.practices.Staff(ctx, sc)
	if err != nil {
		return nil, err
	}
	p, err := s.practices.Get(ctx, sc)
	if err != nil {
		return nil, err
	}
	return H{"Staff": staff, "Practice": p, "Timezones": timezones}, nil
}

func (s *Server) inviteCounselor(c *gin.Context) {
	form, err := formOf(c)
	if err == nil {
		var inv practice.Invitation
		inv, err = s.practices.InviteCounselor(c.Request.Context(), scopeOf(c), practice.NewPerson{
			Name: form.Get("name"), Email: form.Get("email"), Timezone: form.Get("timezone"),
		}, s.queueInvitation(c))
		if err == nil {
			s.showInvitation(c, inv, http.StatusCreated)
			return
		}
	}
	data, derr := s.adminData(c)
	if derr != nil {
		s.fail(c, derr)
		return
	}
	s.formFailed(c, err, tplAdmin, form, data)
}

func (s *Server) reinviteStaff(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	inv, err := s.practices.Reinvite(c.Request.Context(), scopeOf(c), id, s.queueInvitation(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showInvitation(c, inv, http.StatusOK)
}

// queueInvitation returns the callback that queues an invitation's email in
// the transaction that creates the link.
func (s *Server) queueInvitation(c *gin.Context) practice.Notify {
	return func(tx *sqlx.Tx, inv practice.Invitation) error {
		ctx := c.Request.Context()
		sc := scopeOf(c)
		name, err := s.practiceName(c.Request.Context(), sc.PracticeID)
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

// showInvitation shows the link once to the person who made it: only its
// hash is stored, so it cannot be shown again (a new one can be made).
func (s *Server) showInvitation(c *gin.Context, inv practice.Invitation, status int) {
	s.renderInvitations(c, status, []practice.Invitation{inv}, nil)
}

// shownInvitation is an invitation with its link, for the page that shows
// it once.
type shownInvitation struct {
	practice.Invitation
	Link string
}

// renderInvitations shows newly issued invitation links once (their emails
// are already queued): one for a counselor, two for a new pair. data may
// add Heading, Intro, Next and NextLabel.
func (s *Server) renderInvitations(c *gin.Context, status int, invs []practice.Invitation, data H) {
	if data == nil {
		data = H{}
	}
	shown := make([]shownInvitation, len(invs))
	for i, inv := range invs {
		shown[i] = shownInvitation{Invitation: inv, Link: s.inviteURL(inv.Token)}
	}
	data["Invitations"] = shown
	data["TTLDays"] = int(auth.InviteTTL.Hours() / 24)
	s.render(c, status, tplInvitation, data)
}

func (s *Server) disableStaff(c *gin.Context) { s.setStaffDisabled(c, true) }
func (s *Server) enableStaff(c *gin.Context)  { s.setStaffDisabled(c, false) }

func (s *Server) setStaffDisabled(c *gin.Context, disabled bool) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.practices.SetDisabled(c.Request.Context(), scopeOf(c), id, disabled)
	if err != nil {
		s.fail(c, err)
		return
	}
	if disabled {
		if err := s.endSessionsOfDisabled(c, m.ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	if disabled {
		s.flash(c, m.Name+" is disabled and signed out everywhere.")
	} else {
		s.flash(c, m.Name+" can sign in again.")
	}
	s.redirect(c, "/admin")
}

// timezones offered in forms; the practice's own zone comes first in forms
// that know it. A short list keeps the select usable on a phone.
var timezones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "America/Toronto", "America/Vancouver", "America/Halifax", "America/Mexico_City",
	"America/Sao_Paulo", "America/Buenos_Aires", "Pacific/Honolulu", "Africa/Johannesburg", "Africa/Lagos",
	"Africa/Nairobi", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
	"Asia/Hong_Kong", "Australia/Perth", "Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland",
}

// oneTimeLink matches the token part of invitation and reset links.
var oneTimeLink = regexp.MustCompile(`(/invite/|/password/reset/)[A-Za-z0-9_-]+`)

// redactLinks hides one-time links in a message shown in the mail log: an
// admin reading a client's reset email must not be able to use its link.
func redactLinks(body string) string {
	return oneTimeLink.ReplaceAllString(body, "${1}[link hidden]")
}
