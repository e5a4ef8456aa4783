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
	tplAssignmentForm = "assignment_form"
	tplAssignment     = "assignment"
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

func (s *Server) assignmentNew(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, err := s.pairs.Get(ctx, sc, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	today, err := s.hw.Today(ctx, sc)
	if err != nil {
		s.fail(c, err)
		return
	}
	form := &Form{Values: url.Values{
		"step": {c.Query("step")}, "for": {homework.ForBoth}, "starts_on": {today.Format(homework.DateLayout)},
		"cadence": {homework.CadenceDaily},
	}}
	data, err := s.assignmentFormData(c, p, form)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Heading"] = "Assign homework"
	data["Action"] = "/pairs/" + strconv.FormatInt(p.ID, 10) + "/homework"
	data["Back"] = "/pairs/" + strconv.FormatInt(p.ID, 10)
	s.render(c, http.StatusOK, tplAssignmentForm, data)
}

func inputOf(form *Form) homework.Input {
	return homework.Input{
		StepID: form.Get("step"), For: form.Get("for"), StartsOn: form.Get("starts_on"), DueOn: form.Get("due_on"),
		Cadence: form.Get("cadence"), Weekdays: form.Values["weekdays"], Note: form.Get("note"),
		ConfirmDates: form.Get(homework.ConfirmField) == "yes",
	}
}

func (s *Server) assignmentCreate(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	form, err := formOf(c)
	if err == nil {
		var a homework.Assignment
		a, err = s.hw.Assign(ctx, sc, id, inputOf(form))
		if err == nil {
			s.flash(c, "Homework assigned: "+a.Title+".")
			s.redirect(c, "/pairs/"+strconv.FormatInt(id, 10))
			return
		}
	}
	if code := mend.ErrorCode(err); code != mend.EINVALID {
		s.fail(c, err)
		return
	}
	p, perr := s.pairs.Get(ctx, sc, id)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	data, derr := s.assignmentFormData(c, p, form)
	if derr != nil {
		s.fail(c, derr)
		return
	}
	data["Heading"] = "Assign homework"
	data["Action"] = "/pairs/" + strconv.FormatInt(p.ID, 10) + "/homework"
	data["Back"] = "/pairs/" + strconv.FormatInt(p.ID, 10)
	s.formFailed(c, err, tplAssignmentForm, form, data)
}

// assignmentShow shows homework with its text and what each member sees.
// Reading it is audited per client it is for.
func (s *Server) assignmentShow(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.hw.GetDetail(ctx, sc, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, m := range d.Members {
		if err := s.audit.Record(ctx, nil, sc, audit.Entry{Action: "assignment.read", ObjectType: "assignment", ObjectID: d.ID, ClientID: m.UserID}); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.render(c, http.StatusOK, tplAssignment, H{"A": d, "CanWrite": sc.Role == mend.RoleCounselor})
}

func (s *Server) assignmentEdit(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	a, err := s.hw.Get(ctx, sc, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !a.Editable() {
		s.fail(c, mend.Errorf(mend.ECONFLICT, "This homework can no longer be changed: it is %s or already has check-ins.", a.Status))
		return
	}
	in := homework.InputOf(a)
	form := &Form{Values: url.Values{
		"step": {in.StepID}, "for": {in.For}, "starts_on": {in.StartsOn}, "due_on": {in.DueOn},
		"cadence": {in.Cadence}, "weekdays": in.Weekdays, "note": {in.Note},
	}}
	s.renderAssignmentEdit(c, http.StatusOK, a, form, nil)
}

func (s *Server) renderAssignmentEdit(c *gin.Context, status int, a homework.Assignment, form *Form, err error) {
	p, perr := s.pairs.Get(c.Request.Context(), scopeOf(c), a.PairID)
	if perr != nil {
		s.fail(c, perr)
		return
	}
	data, derr := s.assignmentFormData(c, p, form)
	if derr != nil {
		s.fail(c, derr)
		return
	}
	data["Heading"] = "Edit homework"
	data["Editing"] = a
	data["Action"] = "/assignments/" + strconv.FormatInt(a.ID, 10)
	data["Back"] = "/assignments/" + strconv.FormatInt(a.ID, 10)
	if err != nil {
		s.formFailed(c, err, tplAssignmentForm, form, data)
		return
	}
	s.render(c, status, tplAssignmentForm, data)
}

func (s *Server) assignmentUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	form, err := formOf(c)
	if err == nil {
		var a homework.Assignment
		a, err = s.hw.Update(ctx, sc, id, inputOf(form))
		if err == nil {
			s.flash(c, "Homework saved.")
			s.redirect(c, "/assignments/"+strconv.FormatInt(a.ID, 10))
			return
		}
	}
	if mend.ErrorCode(err) != mend.EINVALID {
		s.fail(c, err)
		return
	}
	a, gerr := s.hw.Get(ctx, sc, id)
	if gerr != nil {
		s.fail(c, gerr)
		return
	}
	s.renderAssignmentEdit(c, http.StatusUnprocessableEntity, a, form, err)
}

func (s *Server) assignmentComplete(c *gin.Context) {
	s.assignmentFinish(c, s.hw.Complete, "Marked complete: ")
}

func (s *Server) assignmentCancel(c *gin.Context) {
	s.assignmentFinish(c, s.hw.Cancel, "Cancelled: ")
}

func (s *Server) assignmentFinish(c *gin.Context, finish func(context.Context, mend.Scope, int64) (homework.Assignment, error), msg string) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	a, err := finish(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if a.PlanPosition.Valid {
		msg += a.Title + ". The plan moves on to its next step."
	} else {
		msg += a.Title + "."
	}
	s.flash(c, msg)
	s.redirect(c, "/pairs/"+strconv.FormatInt(a.PairID, 10))
}
