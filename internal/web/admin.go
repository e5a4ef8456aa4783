package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/practice"
)

const (
	tplAdmin      pageName = "admin"
	tplInvitation pageName = "invitation_created"
)

// adminHome lists the practice's staff, with the form to invite a counselor.
func (s *Server) adminHome(c *gin.Context) error {
	data, err := s.adminData(c)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplAdmin, data)
	return nil
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
	mail, err := s.mailState(c)
	if err != nil {
		return nil, err
	}
	return H{"Staff": staff, "Practice": p, "Timezones": timezones, "Mail": mail}, nil
}

func (s *Server) inviteCounselor(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		inv, err := s.practices.InviteCounselor(c.Request.Context(), scopeOf(c), practice.NewPerson{
			Name: form.Get("name"), Email: form.Get("email"), Timezone: form.Get("timezone"),
		}, s.queueInvitation(c))
		if err != nil {
			return formDone{}, err
		}
		return s.invitationsShown(c, http.StatusCreated, []practice.Invitation{inv}, nil)
	}, func(*Form, error) (formPage, error) {
		data, err := s.adminData(c)
		return formPage{Name: tplAdmin, Data: data}, err
	})
}

func (s *Server) reinviteStaff(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.practices.Reinvite(c.Request.Context(), scopeOf(c), id, s.queueInvitation(c))
	if err != nil {
		return err
	}
	done, err := s.invitationsShown(c, http.StatusOK, []practice.Invitation{inv}, H{"Next": "/admin", "NextLabel": "Back to the staff list"})
	if err != nil {
		return err
	}
	return s.show(c, done)
}

// staffInvitationLink shows again the open invitation link of a staff
// member who has not joined, to copy and hand over.
func (s *Server) staffInvitationLink(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.practices.InvitationLink(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	done, err := s.invitationsShown(c, http.StatusOK, []practice.Invitation{inv}, H{
		"Again": true, "Next": "/admin", "NextLabel": "Back to the staff list",
	})
	if err != nil {
		return err
	}
	return s.show(c, done)
}

// staffResetLink issues a password-reset link for a staff member who is
// locked out, and shows it once to hand over.
func (s *Server) staffResetLink(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.practices.IssueReset(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	return s.show(c, s.resetShown(inv, "/admin", "Back to the staff list"))
}

func (s *Server) disableStaff(c *gin.Context) error { return s.setStaffDisabled(c, true) }
func (s *Server) enableStaff(c *gin.Context) error  { return s.setStaffDisabled(c, false) }

func (s *Server) setStaffDisabled(c *gin.Context, disabled bool) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.practices.SetDisabled(c.Request.Context(), scopeOf(c), id, disabled)
	if err != nil {
		return err
	}
	if disabled {
		s.flash(c, m.Name+" is disabled and signed out everywhere.")
	} else {
		s.flash(c, m.Name+" can sign in again.")
	}
	s.redirect(c, "/admin")
	return nil
}
