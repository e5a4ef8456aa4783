package web

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/report"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/review"
)

const tplPairPurge pageName = "pair_purge"

// adminRetentionSave sets how long closed pairs are kept before they may
// be purged.
func (s *Server) adminRetentionSave(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		days, err := s.retention.SetDays(c.Request.Context(), scopeOf(c), form.Get("retention_days"))
		return formDone{Flash: fmt.Sprintf("Closed pairs are now kept for %s after closing.", plural(days, "1 day", "%d days")), To: "/admin/security"}, err
	}, func(form *Form, err error) (formPage, error) {
		if mend.ErrorCode(err) != mend.EINVALID {
			return formPage{}, err
		}
		page, err := s.adminSecurityPage(c, form)
		if err == nil {
			page.Data["Error"] = "" // the message is beside the field
		}
		return page, err
	})
}

// pairArchive downloads a closed pair's full archive: a zip of the JSON
// (everything Mend holds about it, decrypted) and the PDF progress report
// over the pair's whole span. The export is audited by the stores.
func (s *Server) pairArchive(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	a, err := s.retention.Export(ctx, sc, id)
	if err != nil {
		return err
	}
	from, to := a.Span(sc.Timezone)
	d, err := s.reviews.Report(ctx, sc, id, review.Range{From: from, To: to})
	if err != nil {
		return err
	}
	pdf, err := report.PDF(d)
	if err != nil {
		return err
	}
	// Built in memory first: a failure must show the error page, not half
	// a file.
	var buf bytes.Buffer
	if err := retention.WriteZip(&buf, a, pdf); err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("mend-pair-%d-archive-%s.zip", id, a.ExportedAt.Format("2006-01-02")), "application/zip", buf.Bytes())
	return nil
}

// pairPurgeForm is the first step of a purge: what will be deleted, and a
// field for the pair's label.
func (s *Server) pairPurgeForm(c *gin.Context) error {
	page, err := s.purgePage(c)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

func (s *Server) purgePage(c *gin.Context) (formPage, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return formPage{}, err
	}
	p, err := s.retention.PurgePreview(c.Request.Context(), scopeOf(c), id)
	return formPage{Name: tplPairPurge, Data: H{"Preview": p}}, err
}

// pairPurge is the second step: with the label typed, the pair's rows and
// keys are gone.
func (s *Server) pairPurge(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		p, err := s.retention.Purge(c.Request.Context(), scopeOf(c), id, form.Get("label"))
		return formDone{Flash: fmt.Sprintf("“%s” is purged: %d rows deleted and its encryption keys destroyed.", p.Label, p.Total()), To: "/admin/security"}, err
	}, func(*Form, error) (formPage, error) {
		return s.purgePage(c)
	})
}
