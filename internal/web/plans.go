package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

const (
	tplPlans        = "plans"
	tplPlan         = "plan"
	tplPlanForm     = "plan_form"
	tplPairPlanForm = "pair_plan_form"
)

func (s *Server) plansList(c *gin.Context) error {
	page, err := s.steps.Plans(c.Request.Context(), scopeOf(c), paging.Parse(c.Query("page")))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplPlans, H{"Plans": page, "PagerBase": "/plans?"})
	return nil
}

func (s *Server) planShow(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.steps.Plan(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplPlan, H{"Plan": p})
	return nil
}

// planRow is one row of the plan form: a step select and its days, with
// what was typed and any message.
type planRow struct {
	N                  int
	Step, Days         string
	StepError, DaysErr string
}

const (
	minPlanRows  = 6
	morePlanRows = 5
	maxPlanRows  = 40
)

// planRows builds the form's rows from typed values (repeated "step" and
// "days" fields), with at least minPlanRows and some empty ones to fill.
func planRows(form *Form, extra int) []planRow {
	steps, days := form.Values["step"], form.Values["days"]
	last := 0
	for i := range steps {
		if steps[i] != "" || (i < len(days) && days[i] != "") {
			last = i + 1
		}
	}
	n := min(max(last+extra, minPlanRows), maxPlanRows)
	rows := make([]planRow, n)
	for i := range rows {
		rows[i].N = i + 1
		if i < len(steps) {
			rows[i].Step = steps[i]
		}
		if i < len(days) {
			rows[i].Days = days[i]
		}
		rows[i].StepError = form.Error(library.RowStepField(i))
		rows[i].DaysErr = form.Error(library.RowDaysField(i))
	}
	return rows
}

func planInputOf(form *Form) library.PlanInput {
	in := library.PlanInput{Name: form.Get("name"), Description: form.Get("description")}
	steps, days := form.Values["step"], form.Values["days"]
	for i, st := range steps {
		r := library.PlanRow{Step: st}
		if i < len(days) {
			r.Days = days[i]
		}
		in.Rows = append(in.Rows, r)
	}
	return in
}

func planFormOf(p library.Plan) *Form {
	f := &Form{Values: url.Values{"name": {p.Name}, "description": {p.Description}}}
	for _, r := range library.RowsOf(p) {
		f.Values.Add("step", r.Step)
		f.Values.Add("days", r.Days)
	}
	return f
}

func (s *Server) renderPlanForm(c *gin.Context, status int, form *Form, action string, err error) error {
	opts, oerr := s.steps.Options(c.Request.Context(), scopeOf(c))
	if oerr != nil {
		return oerr
	}
	builtin, own := stepGroups(opts)
	extra := 3
	if form.Get("more") != "" {
		extra = morePlanRows + 3
	}
	data := H{"BuiltinSteps": builtin, "OwnSteps": own, "Action": action, "Form": form}
	if err != nil {
		// Messages must be on the form before the rows are built.
		form.Errors = mend.Fields(err)
		data["Rows"] = planRows(form, extra)
		s.formFailed(c, err, tplPlanForm, form, data)
		return nil
	}
	data["Rows"] = planRows(form, extra)
	s.render(c, status, tplPlanForm, data)
	return nil
}

func (s *Server) planNew(c *gin.Context) error {
	form := &Form{Values: url.Values{}}
	switch {
	case c.Query("from") != "":
		// "Make your own from it": start from another plan's steps.
		id, err := strconv.ParseInt(c.Query("from"), 10, 64)
		if err != nil {
			return errNotFound
		}
		p, err := s.steps.Plan(c.Request.Context(), scopeOf(c), id)
		if err != nil {
			return err
		}
		form = planFormOf(p)
		form.Values.Set("name", p.Name+" (our version)")
	case c.Query("step") != "":
		// From a step's page: start the plan with that step.
		form.Values.Set("step", c.Query("step"))
	}
	return s.renderPlanForm(c, http.StatusOK, form, "/plans", nil)
}

// planCreate saves a new plan; "Add more rows" re-shows the form with more
// empty rows and stores nothing.
func (s *Server) planCreate(c *gin.Context) error {
	form, err := formOf(c)
	if err == nil && form.Get("more") != "" {
		return s.renderPlanForm(c, http.StatusOK, form, "/plans", nil)
	}
	if err == nil {
		var p library.Plan
		p, err = s.steps.CreatePlan(c.Request.Context(), scopeOf(c), planInputOf(form))
		if err == nil {
			s.flash(c, "Plan saved. Apply it to a pair from the pair's page.")
			s.redirect(c, "/plans/"+strconv.FormatInt(p.ID, 10))
			return nil
		}
	}
	return s.renderPlanForm(c, http.StatusUnprocessableEntity, form, "/plans", err)
}

func (s *Server) planEdit(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.steps.Plan(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	if p.BuiltIn() {
		return mend.Errorf(mend.EFORBIDDEN, "The built-in plan is read-only. Make your own plan to change the path.")
	}
	return s.renderPlanForm(c, http.StatusOK, planFormOf(p), "/plans/"+strconv.FormatInt(id, 10), nil)
}

func (s *Server) planUpdate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	action := "/plans/" + strconv.FormatInt(id, 10)
	form, err := formOf(c)
	if err == nil && form.Get("more") != "" {
		return s.renderPlanForm(c, http.StatusOK, form, action, nil)
	}
	if err == nil {
		_, err = s.steps.UpdatePlan(c.Request.Context(), scopeOf(c), id, planInputOf(form))
		if err == nil {
			s.flash(c, "Plan saved. Pairs already on it keep the steps they started with.")
			s.redirect(c, action)
			return nil
		}
	}
	return s.renderPlanForm(c, http.StatusUnprocessableEntity, form, action, err)
}

// pairPlanForm is the form to put a pair on a plan.
func (s *Server) pairPlanForm(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	today, err := s.hw.Today(ctx, sc)
	if err != nil {
		return err
	}
	form := &Form{Values: url.Values{
		"plan": {c.Query("plan")}, "starts_on": {today.Format(homework.DateLayout)}, "cadence": {homework.CadenceDaily},
	}}
	return s.renderPairPlanForm(c, http.StatusOK, form, nil)
}

func (s *Server) renderPairPlanForm(c *gin.Context, status int, form *Form, err error) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, ierr := idParam(c, "id")
	if ierr != nil {
		return ierr
	}
	p, perr := s.pairs.Get(ctx, sc, id)
	if perr != nil {
		return perr
	}
	current, perr := s.hw.Plan(ctx, sc, id)
	if perr != nil {
		return perr
	}
	plans, perr := s.steps.PlanOptions(ctx, sc)
	if perr != nil {
		return perr
	}
	if form.Get("plan") == "" && len(plans) > 0 {
		form.Values.Set("plan", strconv.FormatInt(plans[0].ID, 10))
	}
	data := H{"Pair": p, "Running": current != nil && current.Status == homework.PlanActive, "Plans": plans,
		"Cadences": cadences, "Weekdays": weekdayBoxes(form), "Form": form}
	if err != nil {
		s.formFailed(c, err, tplPairPlanForm, form, data)
		return nil
	}
	s.render(c, status, tplPairPlanForm, data)
	return nil
}

func (s *Server) pairPlanApply(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	form, err := formOf(c)
	if err == nil {
		_, err = s.hw.ApplyPlan(c.Request.Context(), scopeOf(c), id, homework.PlanInput{
			PlanID: form.Get("plan"), StartsOn: form.Get("starts_on"), Cadence: form.Get("cadence"), Weekdays: form.Values["weekdays"],
		})
		if err == nil {
			s.flash(c, "Plan started. Each step's homework begins when the previous one ends.")
			s.redirect(c, "/pairs/"+strconv.FormatInt(id, 10))
			return nil
		}
	}
	if mend.ErrorCode(err) != mend.EINVALID {
		return err
	}
	return s.renderPairPlanForm(c, http.StatusUnprocessableEntity, form, err)
}

func (s *Server) pairPlanStop(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.hw.StopPlan(c.Request.Context(), scopeOf(c), id); err != nil {
		return err
	}
	s.flash(c, "Plan stopped. Homework already given stays as it is.")
	s.redirect(c, "/pairs/"+strconv.FormatInt(id, 10))
	return nil
}
