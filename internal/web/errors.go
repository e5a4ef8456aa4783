package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// tplError is the one error page.
const tplError pageName = "error"

var errNotFound = mend.Errorf(mend.ENOTFOUND, "We could not find that page. It may have moved, or you may not have access to it.")

// statusOf is the one mapping from domain error codes to HTTP statuses.
func statusOf(code string) int {
	switch code {
	case mend.EINVALID:
		return http.StatusUnprocessableEntity
	case mend.ENOTFOUND:
		return http.StatusNotFound
	case mend.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case mend.EFORBIDDEN:
		// Only for objects the caller can already see; anything outside
		// their scope is ENOTFOUND.
		return http.StatusForbidden
	case mend.ECONFLICT:
		return http.StatusConflict
	case mend.ETHROTTLED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// fail renders the one error page for err. Internal errors are logged and
// shown as a generic message: no SQL, driver text or stack reaches the page.
func (s *Server) fail(c *gin.Context, err error) {
	if db.IsTransient(err) {
		s.unavailable(c.Writer, c.Request, err)
		c.Abort()
		return
	}
	code := mend.ErrorCode(err)
	status := statusOf(code)
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", "route", c.FullPath(), "err", err)
	}
	// A store's 404 for an id in the path that casbin let through is a
	// refusal like casbin's own (the id is outside the caller's scope, or
	// does not exist: the log cannot tell which without telling the caller).
	if obj, ok := c.Get(authzObjectKey); ok && status == http.StatusNotFound && c.Param("id") != "" && !scopeOf(c).Anonymous() {
		s.auditDenied(c, obj.(string))
	}
	var title string
	switch status {
	case http.StatusNotFound:
		title = "Not found"
	case http.StatusInternalServerError:
		title = "Something went wrong"
	default:
		title = http.StatusText(status)
	}
	// Not even a missing static file's page may be cached: the file may
	// exist a minute later.
	c.Header("Cache-Control", "no-store")
	s.render(c, status, tplError, H{"Title": title, "Status": status, "Message": mend.ErrorMessage(err)})
	c.Abort()
}

// idParam reads a numeric path parameter; anything else is not found.
func idParam(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}
