package web

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/templates"
)

// healthz answers while the process is up.
func (s *Server) healthz(c *gin.Context) error {
	c.String(http.StatusOK, "ok")
	return nil
}

// readyz answers 200 when PostgreSQL and Redis are reachable, so that a load
// balancer only sends traffic to a replica that can serve it.
func (s *Server) readyz(c *gin.Context) error {
	if err := s.Ready(c.Request.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		c.String(http.StatusServiceUnavailable, "not ready")
		return nil
	}
	c.String(http.StatusOK, "ready")
	return nil
}

// static serves the embedded CSS, JS and images.
func (s *Server) static() handler {
	sub, _ := fs.Sub(templates.FS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(sub))
	return func(c *gin.Context) error {
		if c.Param("file") == "/" {
			return errNotFound
		}
		fileServer.ServeHTTP(c.Writer, c.Request)
		return nil
	}
}
