package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

const (
	tplLibrary  pageName = "library"
	tplStep     pageName = "step"
	tplStepForm pageName = "step_form"
)

// libraryList is the step library with full-text search, a page at a time.
func (s *Server) libraryList(c *gin.Context) error {
	q := c.Query("q")
	page, err := s.steps.List(c.Request.Context(), scopeOf(c), q, paging.Parse(c.Query("page")))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplLibrary, H{"Steps": page, "Q": q, "PagerBase": "/library?q=" + url.QueryEscape(q) + "&"})
	return nil
}

func (s *Server) stepShow(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.steps.Get(ctx, sc, id)
	if err != nil {
		return err
	}
	versions, err := s.steps.Versions(ctx, sc, id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplStep, H{"Step": st, "Sections": st.Instructions.All(), "Versions": versions})
	return nil
}

func stepForm(in library.StepInput) *Form {
	return &Form{Values: url.Values{
		"title": {in.Title}, "summary": {in.Summary}, "why": {in.Why}, "both": {in.Both}, "broke": {in.Broke},
		"hurt": {in.Hurt}, "questions": {in.Questions}, "duration_days": {in.DurationDays}, "reveal": {in.Reveal},
	}}
}

func stepInputOf(f *Form) library.StepInput {
	return library.StepInput{
		Title: f.Get("title"), Summary: f.Get("summary"), Why: f.Get("why"), Both: f.Get("both"), Broke: f.Get("broke"),
		Hurt: f.Get("hurt"), Questions: f.Get("questions"), DurationDays: f.Get("duration_days"),
		Reveal: f.Get("reveal"),
	}
}

func (s *Server) stepNew(c *gin.Context) error {
	s.render(c, http.StatusOK, tplStepForm, H{"Form": stepForm(library.StepInput{DurationDays: "7"}), "Action": "/library", "Back": "/library"})
	return nil
}

func (s *Server) stepCreate(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		st, err := s.steps.Create(c.Request.Context(), scopeOf(c), stepInputOf(form))
		return formDone{Flash: "Step added to your practice's library.", To: pathTo("library", st.ID)}, err
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplStepForm, Data: H{"Action": "/library", "Back": "/library"}}, nil
	})
}

// stepEdit edits a practice-owned step; built-in steps are read-only (the
// page offers a copy instead).
func (s *Server) stepEdit(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.steps.Get(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	if st.BuiltIn() {
		return mend.Errorf(mend.EFORBIDDEN, "Built-in steps are read-only. Make a copy to change it.")
	}
	path := pathTo("library", id)
	s.render(c, http.StatusOK, tplStepForm, H{"Form": stepForm(library.InputOf(st.Content)), "Step": st, "Action": path, "Back": path})
	return nil
}

func (s *Server) stepUpdate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	path := pathTo("library", id)
	return s.postForm(c, func(form *Form) (formDone, error) {
		st, err := s.steps.Update(c.Request.Context(), scopeOf(c), id, stepInputOf(form))
		return formDone{Flash: "Saved. The library now shows version " + strconv.Itoa(st.Version) + "; homework already given keeps its wording.", To: path}, err
	}, func(*Form, error) (formPage, error) {
		return formPage{Name: tplStepForm, Data: H{"Action": path, "Back": path}}, nil
	})
}

// stepCopy makes an editable practice copy of a step and opens it.
func (s *Server) stepCopy(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.steps.Copy(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	s.flash(c, "This is your practice's own copy. Change it as you like.")
	s.redirect(c, pathTo("library", st.ID, "edit"))
	return nil
}
