package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// The admin's overview of the practice and the audit log.

const (
	tplAdminOverview pageName = "admin_overview"
	tplAuditLog      pageName = "audit_log"
)

// adminOverview lists counselors with their caseload and open pairs without
// a counselor.
func (s *Server) adminOverview(c *gin.Context) error {
	o, err := s.reviews.Overview(c.Request.Context(), scopeOf(c))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplAdminOverview, H{"O": o})
	return nil
}

// auditFilterOf reads the audit log filter from the query string.
func auditFilterOf(c *gin.Context) audit.Filter {
	return audit.Filter{User: c.Query("user"), Client: c.Query("client"), Action: c.Query("action"),
		From: c.Query("from"), To: c.Query("to")}
}

func auditFormOf(f audit.Filter) *Form {
	return &Form{Values: url.Values{"user": {f.User}, "client": {f.Client}, "action": {f.Action}, "from": {f.From}, "to": {f.To}}}
}

// auditLog is the practice's audit log, filtered and paginated.
func (s *Server) auditLog(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	f := auditFilterOf(c)
	form := auditFormOf(f)
	status := http.StatusOK
	page, err := s.audit.Search(ctx, sc, f, paging.Parse(c.Query("page")))
	if mend.ErrorCode(err) == mend.EINVALID {
		form.Errors = mend.Fields(err)
		status = http.StatusUnprocessableEntity
		page, err = paging.Page[audit.SearchRow]{Number: 1}, nil
	}
	if err != nil {
		return err
	}
	actions, err := s.audit.Actions(ctx, sc)
	if err != nil {
		return err
	}
	people, err := s.practices.Staff(ctx, sc)
	if err != nil {
		return err
	}
	q := form.Values
	q.Del("page")
	s.render(c, status, tplAuditLog, H{"Page": page, "Form": form, "Actions": actions, "People": people,
		"Query": template.URL(q.Encode()), "Filtered": !f.Empty()}) // built by url.Values: safe in a link
	return nil
}

// auditExport downloads the filtered audit log as CSV (the export is
// itself audited).
func (s *Server) auditExport(c *gin.Context) error {
	sc := scopeOf(c)
	var buf bytes.Buffer
	if err := s.audit.Export(c.Request.Context(), sc, auditFilterOf(c), &buf); err != nil {
		if mend.ErrorCode(err) == mend.EINVALID {
			err = mend.Errorf(mend.EINVALID, "The filter is not valid. Go back to the audit log, correct it and export again.")
		}
		return err
	}
	attachment(c, fmt.Sprintf("audit-log-%s.csv", time.Now().Format("2006-01-02")), "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
