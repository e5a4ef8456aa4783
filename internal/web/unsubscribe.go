package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

const tplUnsubscribe pageName = "unsubscribe"

// unsubscribeForm shows what the link does and a button: a GET changes
// nothing (mail scanners follow links).
func (s *Server) unsubscribeForm(c *gin.Context) error {
	info, err := s.unsubscribes.Check(c.Request.Context(), c.Param("token"))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplUnsubscribe, H{"Info": info, "Token": c.Param("token")})
	return nil
}

// unsubscribeSubmit turns reminders off. It is both the page's button and
// the RFC 8058 one-click target of the List-Unsubscribe-Post header, which
// a mail provider posts without cookies or an Origin.
func (s *Server) unsubscribeSubmit(c *gin.Context) error {
	info, err := s.unsubscribes.Apply(c.Request.Context(), c.Param("token"), c.ClientIP())
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplUnsubscribe, H{"Info": info, "Done": true})
	return nil
}
