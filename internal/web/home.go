package web

import (
	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/mend"
)

const tplDashboard pageName = "dashboard"

// tplDashboardBody is the block of dashboard.html that is kept.
const tplDashboardBody = "dashboard-body"

// home sends each role to its own home page.
func (s *Server) home(c *gin.Context) error {
	switch scopeOf(c).Role {
	case mend.RoleAdmin:
		s.redirect(c, "/admin")
	case mend.RoleCounselor:
		s.redirect(c, "/dashboard")
	default:
		s.redirect(c, "/homework")
	}
	return nil
}

// The counselor's dashboard is in review.go.

// The client's home, homework, is in checkins.go.
