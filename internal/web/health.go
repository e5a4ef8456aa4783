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
// While the server drains (Drain) it answers 503 whatever they say.
func (s *Server) readyz(c *gin.Context) error {
	if s.draining.Load() {
		c.String(http.StatusServiceUnavailable, "draining")
		return nil
	}
	if err := s.Ready(c.Request.Context()); err != nil {
		s.log.Warn("not ready", "err", err)
		c.String(http.StatusServiceUnavailable, "not ready")
		return nil
	}
	c.String(http.StatusOK, "ready")
	return nil
}

// Drain starts the server's drain before it stops: /readyz answers 503 so
// that a load balancer stops sending it requests, every response asks the
// client to close its connection (so it reconnects to another replica
// rather than send its next request here), and everything is still served.
func (s *Server) Drain() { s.draining.Store(true) }

// closeWhileDraining closes each connection after its response once the
// server drains. Idle keep-alive connections are not cut: a request
// already on its way on one is answered.
func (s *Server) closeWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
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
