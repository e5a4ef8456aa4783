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
	tplPlans        pageName = "plans"
	tplPlan         pageName = "plan"
	tplPlanForm     pageName = "plan_form"
	tplPairPlanForm pageName = "pair_plan_form"
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

// planFormPage is the plan form's page for form (its Errors already set:
// the rows are built with their messages).
func (s *Server) planFormPage(c *gin.Context, form *Form, action string) (formPage, error) {
	opts, err := s.steps.Options(c.Request.Context(), scopeOf(c))
	if err != nil {
		return formPage{}, err
	}
	builtin, own := stepGroups(opts)
	extra := 3
	if form.Get("more") != "" {
		extra = morePlanRows + 3
	}
	return formPage{Name: tplPlanForm, Data: H{"BuiltinSteps": builtin, "OwnSteps": own, "Action": action, "Form": form,
		"Rows": planRows(form, extra)}}, nil
}

func (s *Server) renderPlanForm(c *gin.Context, form *Form, action string) error {
	page, err := s.planFormPage(c, form, action)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// savePlan handles the plan form: "Add more rows" shows the form again with
// more empty rows and stores nothing; otherwise save stores it.
func (s *Server) savePlan(c *gin.Context, action string, save func(*Form) (formDone, error)) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		if form.Get("more") != "" {
			page, err := s.planFormPage(c, form, action)
			return formDone{Page: page.Name, Data: page.Data}, err
		}
		return save(form)
	}, func(form *Form, _ error) (formPage, error) {
		return s.planFormPage(c, form, action)
	})
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
	return s.renderPlanForm(c, form, "/plans")
}

// planCreate saves a new plan.
func (s *Server) planCreate(c *gin.Context) error {
	return s.savePlan(c, "/plans", func(form *Form) (formDone, error) {
		p, err := s.steps.CreatePlan(c.Request.Context(), scopeOf(c), planInputOf(form))
		return formDone{Flash: "Plan saved. Apply it to a pair from the pair's page.", To: pathTo("plans", p.ID)}, err
	})
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
	return s.renderPlanForm(c, planFormOf(p), pathTo("plans", id))
}

func (s *Server) planUpdate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	action := pathTo("plans", id)
	return s.savePlan(c, action, func(form *Form) (formDone, error) {
		_, err := s.steps.UpdatePlan(c.Request.Context(), scopeOf(c), id, planInputOf(form))
		return formDone{Flash: "Plan saved. Pairs already on it keep the steps they started with.", To: action}, err
	})
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
		"plan": {c.Query("plan")}, "starts_on": {today.String()}, "cadence": {homework.CadenceDaily},
	}}
	page, err := s.pairPlanPage(c, form)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, page.Name, page.Data)
	return nil
}

// pairPlanPage is the page of the form that puts a pair on a plan.
func (s *Server) pairPlanPage(c *gin.Context, form *Form) (formPage, error) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return formPage{}, err
	}
	p, err := s.pairs.Get(ctx, sc, id)
	if err != nil {
		return formPage{}, err
	}
	current, err := s.hw.Plan(ctx, sc, id)
	if err != nil {
		return formPage{}, err
	}
	plans, err := s.steps.PlanOptions(ctx, sc)
	if err != nil {
		return formPage{}, err
	}
	if form.Get("plan") == "" && len(plans) > 0 {
		form.Values.Set("plan", strconv.FormatInt(plans[0].ID, 10))
	}
	return formPage{Name: tplPairPlanForm, Data: H{"Pair": p, "Running": current != nil && current.Status == homework.PlanActive,
		"Plans": plans, "Cadences": cadences, "Weekdays": weekdayBoxes(form), "Form": form}}, nil
}

func (s *Server) pairPlanApply(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		_, err := s.hw.ApplyPlan(c.Request.Context(), scopeOf(c), id, homework.PlanInput{
			PlanID: form.Get("plan"), StartsOn: form.Get("starts_on"), Cadence: form.Get("cadence"), Weekdays: form.Values["weekdays"],
			ConfirmDates: form.Get(homework.ConfirmField) == "yes",
		})
		return formDone{Flash: "Plan started. Each step's homework begins when the previous one ends.", To: pathTo("pairs", id)}, err
	}, func(form *Form, _ error) (formPage, error) {
		return s.pairPlanPage(c, form)
	})
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
	s.redirect(c, pathTo("pairs", id))
	return nil
}
