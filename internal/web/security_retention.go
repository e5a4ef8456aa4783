package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/report"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/review"
)

const tplPairPurge = "pair_purge"

// adminRetentionSave sets how long closed pairs are kept before they may
// be purged.
func (s *Server) adminRetentionSave(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	form, err := formOf(c)
	if err != nil {
		return err
	}
	days, err := s.retention.SetDays(ctx, sc, form.Get("retention_days"))
	if err != nil {
		return s.renderAdminSecurity(c, form, err)
	}
	s.flash(c, fmt.Sprintf("Closed pairs are now kept for %s after closing.", plural(days, "1 day", "%d days")))
	s.redirect(c, "/admin/security")
	return nil
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
	return s.renderPurge(c, http.StatusOK, &Form{Values: url.Values{}}, nil)
}

func (s *Server) renderPurge(c *gin.Context, status int, form *Form, failure error) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.retention.PurgePreview(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	data := H{"Preview": p, "Form": form}
	if failure != nil {
		form.Errors = mend.Fields(failure)
		data["Error"] = mend.ErrorMessage(failure)
		status = statusOf(mend.ErrorCode(failure))
	}
	s.render(c, status, tplPairPurge, data)
	return nil
}

// pairPurge is the second step: with the label typed, the pair's rows and
// keys are gone.
func (s *Server) pairPurge(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	form, err := formOf(c)
	if err != nil {
		return err
	}
	p, err := s.retention.Purge(c.Request.Context(), scopeOf(c), id, form.Get("label"))
	if err != nil {
		switch mend.ErrorCode(err) {
		case mend.EINVALID, mend.ECONFLICT:
			return s.renderPurge(c, http.StatusUnprocessableEntity, form, err)
		default:
			return err
		}
	}
	s.flash(c, fmt.Sprintf("“%s” is purged: %d rows deleted and its encryption keys destroyed.", p.Label, p.Total()))
	s.redirect(c, "/admin/security")
	return nil
}
