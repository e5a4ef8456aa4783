package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/mend"
)

const tplAdminSecurity pageName = "admin_security"

// adminSecurity shows the practice's security settings (two-step sign-in,
// retention), each staff member's two-step sign-in and sessions, and the
// closed pairs with the day each may be purged.
func (s *Server) adminSecurity(c *gin.Context) error {
	page, err := s.adminSecurityPage(c, nil)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// adminSecurityPage is the page's data; form is the retention form (nil:
// the practice's current setting).
func (s *Server) adminSecurityPage(c *gin.Context, form *Form) (formPage, error) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	required, err := s.mfa.MFARequired(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	staff, err := s.userSessions.StaffSecurity(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	days, err := s.retention.Days(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	closed, err := s.retention.ClosedPairs(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	if form == nil {
		form = &Form{Values: url.Values{"retention_days": {strconv.Itoa(days)}}}
	}
	return formPage{Name: tplAdminSecurity, Data: H{"Required": required, "Staff": staff,
		"RetentionDays": days, "RetentionYears": fmt.Sprintf("%.1f", float64(days)/365.25), "Closed": closed, "Form": form}}, nil
}

// adminSecuritySave saves the practice setting: MFA required for staff.
func (s *Server) adminSecuritySave(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	if err != nil {
		return err
	}
	required := form.Get("mfa_required") == "on"
	if err := s.mfa.SetMFARequired(ctx, sc, required); err != nil {
		return err
	}
	msg := "Two-step sign-in is now optional for staff."
	if required {
		msg = "Two-step sign-in is now required for staff. Anyone without it sets it up at their next step in Mend."
	}
	s.flash(c, msg)
	s.redirect(c, "/admin/security")
	return nil
}

// adminResetMFA removes a staff member's second factor (lost phone) and
// ends their sessions, so that none that only passed the password lives on.
func (s *Server) adminResetMFA(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	name, err := s.mfa.Reset(ctx, sc, id)
	if err == nil {
		var member mend.Scope
		if member, err = s.users.Scope(ctx, id, ""); err == nil {
			err = s.sendNotice(ctx, member, noticeMFAReset)
		}
	}
	if err != nil {
		return err
	}
	s.flash(c, name+"'s two-step sign-in is reset and they are signed out. They set it up again at their next sign-in.")
	s.redirect(c, "/admin/security")
	return nil
}

// adminEndSessions signs a staff member out everywhere.
func (s *Server) adminEndSessions(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	sc := scopeOf(c)
	name, n, err := s.userSessions.EndStaffSessions(ctx, sc, id)
	if err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("%s is signed out (%s).", name, plural(n, "1 session", "%d sessions")))
	s.redirect(c, "/admin/security")
	return nil
}
