package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

const (
	tplAssignmentForm pageName = "assignment_form"
	tplAssignment     pageName = "assignment"
)

// weekdayBox is a weekday checkbox with whether it is ticked.
type weekdayBox struct {
	homework.Weekday
	Checked bool
}

func weekdayBoxes(form *Form) []weekdayBox {
	ticked := map[string]bool{}
	for _, v := range form.Values["weekdays"] {
		ticked[v] = true
	}
	out := make([]weekdayBox, len(homework.Weekdays))
	for i, d := range homework.Weekdays {
		out[i] = weekdayBox{Weekday: d, Checked: ticked[strconv.Itoa(d.N)]}
	}
	return out
}

// cadences offered in forms.
var cadences = []pair.Choice{
	{Value: homework.CadenceDaily, Label: "Daily"},
	{Value: homework.CadenceWeekly, Label: "Weekly, on chosen days"},
	{Value: homework.CadenceOnce, Label: "Once, by the due date"},
}

// stepGroups splits library options into built-in and the practice's own,
// for <optgroup>s.
func stepGroups(opts []library.Option) (builtin, own []library.Option) {
	for _, o := range opts {
		if o.BuiltIn {
			builtin = append(builtin, o)
		} else {
			own = append(own, o)
		}
	}
	return builtin, own
}

// assignmentFormData is what the assign and edit forms need.
func (s *Server) assignmentFormData(c *gin.Context, p pair.Pair, form *Form) (H, error) {
	opts, err := s.steps.Options(c.Request.Context(), scopeOf(c))
	if err != nil {
		return nil, err
	}
	builtin, own := stepGroups(opts)
	return H{"Pair": p, "BuiltinSteps": builtin, "OwnSteps": own, "Cadences": cadences,
		"Weekdays": weekdayBoxes(form), "Form": form}, nil
}

func (s *Server) assignmentNew(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.pairs.Get(ctx, sc, id)
	if err != nil {
		return err
	}
	today, err := s.hw.Today(ctx, sc)
	if err != nil {
		return err
	}
	form := &Form{Values: url.Values{
		"step": {c.Query("step")}, "for": {homework.ForBoth}, "starts_on": {today.String()},
		"cadence": {homework.CadenceDaily},
	}}
	data, err := s.assignmentFormData(c, p, form)
	if err != nil {
		return err
	}
	data["Heading"] = "Assign homework"
	data["Action"] = pathTo("pairs", p.ID, "homework")
	data["Back"] = pathTo("pairs", p.ID)
	s.render(c, http.StatusOK, tplAssignmentForm, data)
	return nil
}

func inputOf(form *Form) homework.Input {
	return homework.Input{
		StepID: form.Get("step"), For: form.Get("for"), StartsOn: form.Get("starts_on"), DueOn: form.Get("due_on"),
		Cadence: form.Get("cadence"), Weekdays: form.Values["weekdays"], Note: form.Get("note"),
		ConfirmDates: form.Get(homework.ConfirmField) == "yes",
	}
}

func (s *Server) assignmentCreate(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		a, err := s.hw.Assign(ctx, sc, id, inputOf(form))
		return formDone{Flash: "Homework assigned: " + a.Title + ".", To: pathTo("pairs", id)}, err
	}, func(form *Form, _ error) (formPage, error) {
		p, err := s.pairs.Get(ctx, sc, id)
		if err != nil {
			return formPage{}, err
		}
		data, err := s.assignmentFormData(c, p, form)
		if err != nil {
			return formPage{}, err
		}
		data["Heading"] = "Assign homework"
		data["Action"] = pathTo("pairs", p.ID, "homework")
		data["Back"] = pathTo("pairs", p.ID)
		return formPage{Name: tplAssignmentForm, Data: data}, nil
	})
}

// assignmentShow shows homework with its text and what each member sees.
// Reading it is audited per client it is for.
func (s *Server) assignmentShow(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.hw.GetDetail(ctx, sc, id)
	if err != nil {
		return err
	}
	for _, m := range d.Members {
		if err := s.audit.Record(ctx, nil, sc, audit.Entry{Action: "assignment.read", ObjectType: "assignment", ObjectID: d.ID, ClientID: m.UserID}); err != nil {
			return err
		}
	}
	s.render(c, http.StatusOK, tplAssignment, H{"A": d, "CanWrite": sc.Role == mend.RoleCounselor})
	return nil
}

func (s *Server) assignmentEdit(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := s.hw.Get(ctx, sc, id)
	if err != nil {
		return err
	}
	if !a.Editable() {
		return mend.Errorf(mend.ECONFLICT, "This homework can no longer be changed: it is %s or already has check-ins.", a.Status)
	}
	in := homework.InputOf(a)
	form := &Form{Values: url.Values{
		"step": {in.StepID}, "for": {in.For}, "starts_on": {in.StartsOn}, "due_on": {in.DueOn},
		"cadence": {in.Cadence}, "weekdays": in.Weekdays, "note": {in.Note},
	}}
	page, err := s.assignmentEditPage(c, a, form)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// assignmentEditPage is the edit form's page for a.
func (s *Server) assignmentEditPage(c *gin.Context, a homework.Assignment, form *Form) (formPage, error) {
	p, err := s.pairs.Get(c.Request.Context(), scopeOf(c), a.PairID)
	if err != nil {
		return formPage{}, err
	}
	data, err := s.assignmentFormData(c, p, form)
	if err != nil {
		return formPage{}, err
	}
	data["Heading"] = "Edit homework"
	data["Editing"] = a
	data["Action"] = pathTo("assignments", a.ID)
	data["Back"] = pathTo("assignments", a.ID)
	return formPage{Name: tplAssignmentForm, Data: data}, nil
}

func (s *Server) assignmentUpdate(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		a, err := s.hw.Update(ctx, sc, id, inputOf(form))
		return formDone{Flash: "Homework saved.", To: pathTo("assignments", a.ID)}, err
	}, func(form *Form, _ error) (formPage, error) {
		a, err := s.hw.Get(ctx, sc, id)
		if err != nil {
			return formPage{}, err
		}
		return s.assignmentEditPage(c, a, form)
	})
}

func (s *Server) assignmentComplete(c *gin.Context) error {
	return s.assignmentFinish(c, s.hw.Complete, "Marked complete: ")
}

func (s *Server) assignmentCancel(c *gin.Context) error {
	return s.assignmentFinish(c, s.hw.Cancel, "Cancelled: ")
}

func (s *Server) assignmentFinish(c *gin.Context, finish func(context.Context, mend.Scope, int64) (homework.Assignment, error), msg string) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, err := finish(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	if a.PlanPosition.Valid {
		msg += a.Title + ". The plan moves on to its next step."
	} else {
		msg += a.Title + "."
	}
	s.flash(c, msg)
	s.redirect(c, pathTo("pairs", a.PairID))
	return nil
}
