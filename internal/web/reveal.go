package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/mend"
)

// Reveal exercises (issue 21): the client's page to answer alone and read
// both answers side by side after the reveal; the counselor's page to read
// both answers before it and release them with a note. What each caller
// may see is decided by reveal.Store's SQL.

const (
	tplReveal      pageName = "reveal"
	tplRevealStaff pageName = "reveal_staff"
)

func revealPath(id int64) string { return pathTo("homework", id, "reveal") }

// revealPage builds the client's page; form, when not nil, is a refused
// answer form to show again (its period's own answers otherwise fill it).
func (s *Server) revealPage(c *gin.Context, id int64) (H, error) {
	e, err := s.reveals.Exercise(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return nil, err
	}
	form := &Form{Values: url.Values{}}
	if p := e.Current; p != nil {
		form.Values.Set("period", p.Start.String())
		for i, a := range p.Me.Answers {
			form.Values.Set("answer_"+strconv.Itoa(i), a.Text)
		}
	}
	return H{"Exercise": e, "Form": form, "ReplyForm": &Form{Values: url.Values{}}, "Blank": &Form{Values: url.Values{}},
		"ReplyPeriod": "", "Action": revealPath(id), "ReplyAction": revealPath(id) + "/reply"}, nil
}

// revealShow is the client's page of a reveal exercise.
func (s *Server) revealShow(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	data, err := s.revealPage(c, id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplReveal, data)
	return nil
}

// revealAnswers reads answer_0 … answer_N from a form, one per question.
func revealAnswers(form *Form) []string {
	var out []string
	for i := range maxAnswers {
		out = append(out, form.Get("answer_"+strconv.Itoa(i)))
	}
	return out
}

// revealSave stores the client's answers for a period (new or changed).
func (s *Server) revealSave(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		revealed, err := s.reveals.Save(c.Request.Context(), scopeOf(c), id, form.Get("period"), revealAnswers(form))
		msg := "Your answers are saved. You can change them until both answers are shown."
		if revealed {
			msg = "You have both answered: here are both answers, side by side."
		}
		return formDone{Flash: msg, To: revealPath(id) + "#period-" + url.PathEscape(form.Get("period"))}, err
	}, func(_ *Form, err error) (formPage, error) {
		data, perr := s.revealPage(c, id)
		return formPage{Name: tplReveal, Data: data}, perr
	})
}

// revealReply stores the client's short reply to the partner's answers.
func (s *Server) revealReply(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		err := s.reveals.Reply(c.Request.Context(), scopeOf(c), id, form.Get("period"), form.Get("reply"))
		return formDone{Flash: "Your reply is saved.", To: revealPath(id) + "#period-" + url.PathEscape(form.Get("period"))}, err
	}, func(form *Form, err error) (formPage, error) {
		data, perr := s.revealPage(c, id)
		if data != nil {
			data["ReplyPeriod"] = form.Get("period")
		}
		return formPage{Name: tplReveal, Data: data, FormKey: "ReplyForm"}, perr
	})
}

// revealStaffPage builds the counselor's (or admin's) page.
func (s *Server) revealStaffPage(c *gin.Context, id int64) (H, error) {
	e, err := s.reveals.Exercise(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return nil, err
	}
	return H{"Exercise": e, "Form": &Form{Values: url.Values{}}, "Blank": &Form{Values: url.Values{}}, "ReleasePeriod": "",
		"Action": pathTo("assignments", id, "reveal", "release")}, nil
}

// revealStaff is the staff page of a reveal exercise: both answers of
// every period, before and after the reveal, with the release form.
func (s *Server) revealStaff(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	data, err := s.revealStaffPage(c, id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplRevealStaff, data)
	return nil
}

// revealRelease shows a period's answers to both partners, with the
// counselor's optional note.
func (s *Server) revealRelease(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		err := s.reveals.Release(c.Request.Context(), scopeOf(c), id, form.Get("period"), form.Get("note"))
		return formDone{Flash: "Both answers are now shown to the pair.", To: pathTo("assignments", id, "reveal")}, err
	}, func(form *Form, err error) (formPage, error) {
		data, perr := s.revealStaffPage(c, id)
		if data != nil {
			data["ReleasePeriod"] = form.Get("period")
		}
		return formPage{Name: tplRevealStaff, Data: data}, perr
	})
}

// revealHintSave turns the practice's "<partner> has answered" hint on or
// off (admin).
func (s *Server) revealHintSave(c *gin.Context) error {
	on := c.PostForm("hint") == "on"
	if err := s.reveals.SetHint(c.Request.Context(), scopeOf(c), on); err != nil {
		return err
	}
	if on {
		s.flash(c, "Partners now see when the other has answered a reveal exercise.")
	} else {
		s.flash(c, "Partners no longer see when the other has answered a reveal exercise.")
	}
	s.redirect(c, "/admin/clients")
	return nil
}

// revealHint is the practice's hint setting, for the admin's client page.
func (s *Server) revealHint(c *gin.Context) (bool, error) {
	sc := scopeOf(c)
	if sc.Role != mend.RoleAdmin {
		return false, nil
	}
	return s.reveals.Hint(c.Request.Context(), sc)
}
