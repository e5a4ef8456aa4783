package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/consent"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// The clients' side beyond homework and check-ins (issue 16): what the
// partner shared, all feedback, the client's own progress, the safety care
// page and consent. What each caller may see is decided by the stores' SQL;
// these handlers parse, call and render.

const (
	tplSharedList   pageName = "shared_list"
	tplSharedOne    pageName = "shared_checkin"
	tplFeedbackList pageName = "feedback_list"
	tplMyProgress   pageName = "my_progress"
	tplCare         pageName = "care"
	tplConsent      pageName = "consent"
	tplClientTexts  pageName = "admin_client_texts"
)

// homeSharedShown is how many shared check-ins a client's home lists.
const homeSharedShown = 5

// feedbackPageSize is how many pieces of feedback the feedback page shows
// at a time.
const feedbackPageSize = 20

// sharedList is every check-in the partner shared with the client, newest
// first, those not yet opened marked new.
func (s *Server) sharedList(c *gin.Context) error {
	pr := paging.Parse(c.Query("page"))
	pr.Size = checkin.SharedPageSize
	items, err := s.checkins.SharedWithMe(c.Request.Context(), scopeOf(c), pr.Limit(), pr.Offset())
	if err != nil {
		return err
	}
	pg := paging.Of(pr, items)
	if len(pg.Items) > 0 {
		c.Set(navSharedKey, pg.Items[0].Unread)
	}
	s.render(c, http.StatusOK, tplSharedList, H{"Items": pg.Items, "Page": pg.Number, "More": pg.HasNext})
	return nil
}

// sharedShow opens one check-in the partner shared; opening it is what
// takes its "new" mark away.
func (s *Server) sharedShow(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ch, err := s.checkins.ReadShared(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplSharedOne, H{"C": ch})
	return nil
}

// feedbackList is all the counselor's feedback to the client, newest first.
func (s *Server) feedbackList(c *gin.Context) error {
	pr := paging.Parse(c.Query("page"))
	pr.Size = feedbackPageSize
	list, err := s.reviews.Feedback(c.Request.Context(), scopeOf(c), pr.Limit(), pr.Offset())
	if err != nil {
		return err
	}
	pg := paging.Of(pr, list)
	s.render(c, http.StatusOK, tplFeedbackList, H{"Feedback": pg.Items, "Page": pg.Number, "More": pg.HasNext})
	return nil
}

// myProgress is the client's own ratings over time and check-in streak,
// and the partner's where the partner shared.
func (s *Server) myProgress(c *gin.Context) error {
	sc := scopeOf(c)
	form, rg, status := rangeForm(c, sc)
	p, err := s.reviews.ClientProgress(c.Request.Context(), sc, rg)
	if err != nil {
		return err
	}
	s.render(c, status, tplMyProgress, H{"P": p, "Form": form, "Charts": p.Charts()})
	return nil
}

// care is the page a client sees after saying they do not feel safe: the
// counselor has been told, what happens next, what to do in danger now.
// It names the check-in only by date; it never shows the note.
func (s *Server) care(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	ch, err := s.checkins.Own(ctx, sc, id)
	if err != nil {
		return err
	}
	if !ch.SafetyFlag {
		return errNotFound
	}
	words, err := s.consent.CareFor(ctx, sc)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplCare, H{"C": ch, "Care": words})
	return nil
}

// consentForm asks a signed-in client to accept the practice's current
// consent text (a new version since they last accepted).
func (s *Server) consentForm(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	due, v, err := s.consent.Due(ctx, sc)
	if err != nil {
		return err
	}
	if !due {
		s.sessions.Put(ctx, consentDueKey, consentGiven)
		s.redirect(c, "/")
		return nil
	}
	s.render(c, http.StatusOK, tplConsent, H{"Consent": v})
	return nil
}

// consentAccept records the acceptance of the version the page showed.
func (s *Server) consentAccept(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		if err := consentChecked(form); err != nil {
			return formDone{}, err
		}
		version, _ := strconv.Atoi(form.Get("version"))
		if err := s.consent.Accept(ctx, s.db, sc.PracticeID, sc.UserID, version); err != nil {
			return formDone{}, err
		}
		s.sessions.Put(ctx, consentDueKey, consentGiven)
		return formDone{Flash: "Thank you. Your agreement is recorded.", To: "/"}, nil
	}, func(*Form, error) (formPage, error) {
		_, v, err := s.consent.Due(ctx, sc)
		return formPage{Name: tplConsent, Data: H{"Consent": v}}, err
	})
}

// consentChecked requires the "I agree" box.
func consentChecked(form *Form) error {
	if form.Get("consent") == "yes" {
		return nil
	}
	var fe mend.FieldErrors
	fe.Add("consent", "Tick the box to agree before you go on.")
	return fe.Err()
}

// clientTextsForm is the admin's page for what clients are told: the
// consent text (versioned) and the safety care page's wording.
func (s *Server) clientTextsForm(c *gin.Context) error {
	st, err := s.consent.Settings(c.Request.Context(), scopeOf(c))
	if err != nil {
		return err
	}
	form := &Form{Values: url.Values{"consent": {st.Consent.Body}, "care": {st.Care}, "crisis": {st.Crisis}}}
	hint, err := s.revealHint(c)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplClientTexts, H{"Settings": st, "Form": form,
		"DefaultCare": consent.DefaultCare, "DefaultCrisis": consent.DefaultCrisis, "RevealHint": hint})
	return nil
}

// clientTextsSave stores the admin's wording; a changed consent text is a
// new version that every client accepts at their next sign-in.
func (s *Server) clientTextsSave(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		version, err := s.consent.Save(ctx, sc, form.Get("consent"), form.Get("care"), form.Get("crisis"))
		return formDone{Flash: fmt.Sprintf("Saved. The consent text in effect is version %d.", version), To: "/admin/clients"}, err
	}, func(*Form, error) (formPage, error) {
		st, err := s.consent.Settings(ctx, sc)
		if err != nil {
			return formPage{}, err
		}
		hint, err := s.revealHint(c)
		return formPage{Name: tplClientTexts, Data: H{"Settings": st,
			"DefaultCare": consent.DefaultCare, "DefaultCrisis": consent.DefaultCrisis, "RevealHint": hint}}, err
	})
}
