package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplAdminMeasures pageName = "admin_measures"
	tplAdminMeasure  pageName = "admin_measure"
	tplPairMeasures  pageName = "pair_measures"
	tplMyMeasures    pageName = "my_measures"
	tplMeasureAnswer pageName = "measure_answer"
)

// ItemsPerScreen is how many items a client sees at once on the answer
// page: a phone shows them without scrolling far.
const ItemsPerScreen = 3

// ---- Admin: the practice's measures ----

func (s *Server) adminMeasuresPage(c *gin.Context) (H, error) {
	list, err := s.measures.List(c.Request.Context(), scopeOf(c))
	if err != nil {
		return nil, err
	}
	return H{"Measures": list, "Structures": measure.StructureList(), "Form": &Form{}, "ImportForm": &Form{}}, nil
}

func (s *Server) adminMeasures(c *gin.Context) error {
	data, err := s.adminMeasuresPage(c)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplAdminMeasures, data)
	return nil
}

// adminMeasureCreate creates a measure from a shipped structure.
func (s *Server) adminMeasureCreate(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		id, err := s.measures.CreateFrom(c.Request.Context(), scopeOf(c), form.Get("structure"))
		return formDone{Flash: "Measure created as a draft. Fill in every item from your licensed copy, then activate it.",
			To: pathTo("admin", "measures", id)}, err
	}, func(*Form, error) (formPage, error) {
		data, err := s.adminMeasuresPage(c)
		return formPage{Name: tplAdminMeasures, Data: data}, err
	})
}

// adminMeasureImport creates a measure from an exported JSON file.
func (s *Server) adminMeasureImport(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		var body []byte
		fh, err := c.FormFile("file")
		if err == nil {
			f, oerr := fh.Open()
			if oerr != nil {
				return formDone{}, oerr
			}
			defer f.Close()
			body, err = io.ReadAll(io.LimitReader(f, measure.MaxFile+1))
		}
		if err != nil || len(body) == 0 {
			var fe mend.FieldErrors
			fe.Add("file", "Choose a measure file (.json) exported from Mend.")
			return formDone{}, fe.Err()
		}
		id, err := s.measures.Import(c.Request.Context(), scopeOf(c), body)
		return formDone{Flash: "Measure imported as a draft. Check it, then activate it.",
			To: pathTo("admin", "measures", id)}, err
	}, func(*Form, error) (formPage, error) {
		data, err := s.adminMeasuresPage(c)
		return formPage{Name: tplAdminMeasures, Data: data, FormKey: "ImportForm"}, err
	})
}

// structure is the part of a definition edited as JSON on the edit page:
// everything but the texts and rules that have fields of their own.
type structure struct {
	Method     string             `json:"method"`
	Multiplier float64            `json:"multiplier,omitempty"`
	Items      []structureItem    `json:"items"`
	Subscales  []measure.Subscale `json:"subscales,omitempty"`
	Bands      []measure.Band     `json:"bands"`
}

type structureItem struct {
	Options []measure.Option `json:"options"`
	Reverse bool             `json:"reverse,omitempty"`
}

// measureValues fills the edit form from a definition.
func measureValues(d measure.Definition) url.Values {
	v := url.Values{}
	v.Set("name", d.Name)
	v.Set("licence", d.Licence)
	v.Set("note", d.Note)
	v.Set("answered_by", d.AnsweredBy)
	for i, it := range d.Items {
		v.Set(fmt.Sprintf("item_%d", i+1), it.Text)
	}
	v.Set("min_answered", strconv.Itoa(d.MinAnswered))
	if d.Critical != nil {
		v.Set("critical_item", strconv.Itoa(d.Critical.Item))
		v.Set("critical_at_least", strconv.Itoa(d.Critical.AtLeast))
	} else {
		v.Set("critical_item", "0")
	}
	if d.ShowClient {
		v.Set("show_client", "yes")
	}
	if d.ShareTotal {
		v.Set("share_total", "yes")
	}
	v.Set("change_points", strconv.FormatFloat(d.ChangePoints, 'f', -1, 64))
	v.Set("gap_points", strconv.FormatFloat(d.GapPoints, 'f', -1, 64))
	st := structure{Method: d.Method, Multiplier: d.Multiplier, Subscales: d.Subscales, Bands: d.Bands}
	for _, it := range d.Items {
		st.Items = append(st.Items, structureItem{Options: it.Options, Reverse: it.Reverse})
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	v.Set("structure", string(b))
	return v
}

// definitionOf reads the edit form into a definition (structure is the
// stored one's, kept for what the form does not carry).
func definitionOf(form *Form, current measure.Definition) (measure.Definition, error) {
	d := current
	var fe mend.FieldErrors
	d.Name, d.Licence, d.Note = form.Get("name"), form.Get("licence"), form.Get("note")
	d.AnsweredBy = form.Get("answered_by")
	var st structure
	dec := json.NewDecoder(strings.NewReader(form.Get("structure")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		fe.Add("structure", "This is not valid JSON for a measure's structure: "+jsonProblem(err))
		return d, fe.Err()
	}
	d.Method, d.Multiplier, d.Subscales, d.Bands = st.Method, st.Multiplier, st.Subscales, st.Bands
	d.Items = nil
	for i, it := range st.Items {
		d.Items = append(d.Items, measure.Item{Text: form.Get(fmt.Sprintf("item_%d", i+1)), Options: it.Options, Reverse: it.Reverse})
	}
	num := func(field string) int {
		v := strings.TrimSpace(form.Get(field))
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < -1000 || n > 1000 {
			fe.Add(field, "Give a whole number.")
		}
		return n
	}
	points := func(field string) float64 {
		v := strings.TrimSpace(form.Get(field))
		if v == "" {
			return 0
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e6 {
			fe.Add(field, "Give a number of points, 0 or more.")
		}
		return f
	}
	d.MinAnswered = num("min_answered")
	if ci := num("critical_item"); ci != 0 {
		d.Critical = &measure.Critical{Item: ci, AtLeast: num("critical_at_least")}
	} else {
		d.Critical = nil
	}
	d.ShowClient = form.Get("show_client") == "yes"
	d.ShareTotal = form.Get("share_total") == "yes"
	d.ChangePoints, d.GapPoints = points("change_points"), points("gap_points")
	return d, fe.Err()
}

func jsonProblem(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return strings.TrimPrefix(msg, "json: ")
}

// structureFields are validation fields that the edit page shows beside
// the structure box.
var structureFields = []string{"definition", "bands", "method", "multiplier"}

func (s *Server) adminMeasurePage(c *gin.Context, id int64) (H, measure.Measure, error) {
	m, err := s.measures.Get(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return nil, m, err
	}
	lo, hi := m.Definition.Range()
	return H{"Measure": m, "Action": pathTo("admin", "measures", id), "Low": lo, "High": hi}, m, nil
}

func (s *Server) adminMeasure(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	data, m, err := s.adminMeasurePage(c, id)
	if err != nil {
		return err
	}
	data["Form"] = &Form{Values: measureValues(m.Definition)}
	s.render(c, http.StatusOK, tplAdminMeasure, data)
	return nil
}

// adminMeasureUpdate saves the edit form as the measure's next version.
func (s *Server) adminMeasureUpdate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		m, err := s.measures.Get(ctx, sc, id)
		if err != nil {
			return formDone{}, err
		}
		d, err := definitionOf(form, m.Definition)
		if err != nil {
			return formDone{}, err
		}
		v, err := s.measures.Save(ctx, sc, id, d)
		return formDone{Flash: fmt.Sprintf("Saved as version %d.", v), To: pathTo("admin", "measures", id)}, err
	}, func(form *Form, err error) (formPage, error) {
		for _, f := range structureFields {
			if msg := form.Errors[f]; msg != "" && form.Errors["structure"] == "" {
				form.Errors["structure"] = msg
			}
		}
		data, _, perr := s.adminMeasurePage(c, id)
		return formPage{Name: tplAdminMeasure, Data: data}, perr
	})
}

func (s *Server) adminMeasureActivate(c *gin.Context) error   { return s.setMeasureActive(c, true) }
func (s *Server) adminMeasureDeactivate(c *gin.Context) error { return s.setMeasureActive(c, false) }

func (s *Server) setMeasureActive(c *gin.Context, active bool) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(*Form) (formDone, error) {
		err := s.measures.SetActive(c.Request.Context(), scopeOf(c), id, active)
		msg := "Activated: counselors can now give this measure to pairs."
		if !active {
			msg = "Deactivated: it can no longer be given; pairs that have it stop being asked."
		}
		return formDone{Flash: msg, To: pathTo("admin", "measures", id)}, err
	}, func(form *Form, err error) (formPage, error) {
		data, m, perr := s.adminMeasurePage(c, id)
		if perr != nil {
			return formPage{}, perr
		}
		// The message belongs beside the empty items of the stored version.
		errs := form.Errors
		form.Values = measureValues(m.Definition)
		form.Errors = errs
		return formPage{Name: tplAdminMeasure, Data: data}, nil
	})
}

func (s *Server) adminMeasureExport(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	b, name, err := s.measures.Export(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	attachment(c, name, "application/json", b)
	return nil
}

// ---- Counselor: a pair's measures ----

// The pair's Measures tab is where measures are given and stopped and
// where every answer is read item by item (the read is audited); the
// charts of both partners' scores are on the progress tab
// (pairProgressPage), with the open safety flags of critical answers.

func (s *Server) pairMeasuresPage(c *gin.Context, id int64) (H, error) {
	ctx, sc := c.Request.Context(), scopeOf(c)
	p, err := s.pairs.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	v, err := s.measures.ForPair(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	return H{"Pair": p, "View": v, "Form": &Form{}, "Action": pathTo("pairs", id, "measures")}, nil
}

func (s *Server) pairMeasures(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	data, err := s.pairMeasuresPage(c, id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplPairMeasures, data)
	return nil
}

func (s *Server) pairMeasureAssign(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		var in measure.AssignInput
		var fe mend.FieldErrors
		var perr error
		if in.MeasureID, perr = strconv.ParseInt(form.Get("measure"), 10, 64); perr != nil {
			fe.Add("measure", "Choose one of the practice's active measures.")
		}
		if v := form.Get("for"); v != "" && v != "both" {
			if in.ForUserID, perr = strconv.ParseInt(v, 10, 64); perr != nil {
				fe.Add("for", "Choose both partners or one of them.")
			}
		}
		if v := strings.TrimSpace(form.Get("every_days")); v != "" {
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 || n > 365 {
				fe.Add("every_days", "Repeat every 1 to 365 days, or leave it empty to ask once.")
			}
			in.EveryDays = n
		}
		if err := fe.Err(); err != nil {
			return formDone{}, err
		}
		_, err := s.measures.Assign(c.Request.Context(), scopeOf(c), id, in)
		return formDone{Flash: "Measure given to the pair. It appears on their home page now.",
			To: pathTo("pairs", id, "measures")}, err
	}, func(*Form, error) (formPage, error) {
		data, err := s.pairMeasuresPage(c, id)
		return formPage{Name: tplPairMeasures, Data: data}, err
	})
}

func (s *Server) measureAssignmentEnd(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	pairID, err := s.measures.End(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	return s.show(c, formDone{Flash: "The pair is no longer asked to answer this measure.", To: pathTo("pairs", pairID, "measures")})
}

// ---- Client: answering ----

func (s *Server) myMeasures(c *gin.Context) error {
	ms, err := s.measures.Mine(c.Request.Context(), scopeOf(c))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplMyMeasures, H{"Measures": ms})
	return nil
}

// answerScreen is one screen of the answer form.
type answerScreen struct {
	Items      []answerItem
	Hidden     []answerItem // answers of the other screens, carried along
	N, Of      int
	First      bool
	Last       bool
	FirstError int
}

type answerItem struct {
	N       int
	Text    string
	Options []answerOption
	Value   string
	Error   string
}

type answerOption struct {
	Label, Value string
	Checked      bool
}

// answerScreenOf lays out screen n (0-based) of the form, with what was
// chosen so far.
func answerScreenOf(f measure.Form, form *Form, n int) answerScreen {
	items := f.Definition.Items
	screens := max((len(items)+ItemsPerScreen-1)/ItemsPerScreen, 1)
	n = min(max(n, 0), screens-1)
	sc := answerScreen{N: n + 1, Of: screens, First: n == 0, Last: n == screens-1}
	for i, it := range items {
		name := fmt.Sprintf("item_%d", i+1)
		ai := answerItem{N: i + 1, Text: it.Text, Value: form.Get(name), Error: form.Error(name)}
		if i/ItemsPerScreen != n {
			if ai.Value != "" {
				sc.Hidden = append(sc.Hidden, ai)
			}
			continue
		}
		for _, o := range it.Options {
			v := strconv.Itoa(o.Value)
			ai.Options = append(ai.Options, answerOption{Label: o.Shown(), Value: v, Checked: v == ai.Value})
		}
		sc.Items = append(sc.Items, ai)
	}
	return sc
}

func (s *Server) measureAnswerPage(c *gin.Context, id int64, form *Form, screen int) (H, error) {
	f, err := s.measures.AnswerForm(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return nil, err
	}
	if form == nil {
		form = &Form{Values: url.Values{}}
	}
	// A refused form opens on the first screen with a message.
	if len(form.Errors) > 0 {
		for i := range f.Definition.Items {
			if form.Error(fmt.Sprintf("item_%d", i+1)) != "" {
				screen = i / ItemsPerScreen
				break
			}
		}
	}
	return H{"Measure": f, "Screen": answerScreenOf(f, form, screen), "Form": form,
		"Action": pathTo("measures", id)}, nil
}

func (s *Server) measureAnswer(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	data, err := s.measureAnswerPage(c, id, nil, 0)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplMeasureAnswer, data)
	return nil
}

// measureSubmit moves between the screens of the answer form ("next",
// "back": nothing is stored) or sends the answers.
func (s *Server) measureSubmit(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	form, err := formOf(c)
	if err != nil {
		return err
	}
	screen, _ := strconv.Atoi(form.Get("screen"))
	screen = min(max(screen, 0), measure.MaxItems)
	switch form.Get("go") {
	case "next", "back":
		if form.Get("go") == "next" {
			screen++
		} else {
			screen--
		}
		data, err := s.measureAnswerPage(c, id, form, screen)
		if err != nil {
			return err
		}
		s.render(c, http.StatusOK, tplMeasureAnswer, data)
		return nil
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		f, err := s.measures.AnswerForm(c.Request.Context(), scopeOf(c), id)
		if err != nil {
			return formDone{}, err
		}
		answers := measure.Answers{}
		for i := range f.Definition.Items {
			name := fmt.Sprintf("item_%d", i+1)
			if v := form.Get(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					var fe mend.FieldErrors
					fe.Add(name, "Choose one of the answers offered.")
					return formDone{}, fe.Err()
				}
				answers[i+1] = n
			}
		}
		version, _ := strconv.ParseInt(form.Get("version"), 10, 64)
		out, err := s.measures.Submit(c.Request.Context(), scopeOf(c), id, version, answers)
		if err != nil {
			return formDone{}, err
		}
		msg := "Thank you. Your answers are with your counselor."
		if out.ShowClient && out.Result.Valid {
			msg = fmt.Sprintf("Thank you. Your score is %s", strconv.FormatFloat(out.Result.Total, 'f', -1, 64))
			if out.Result.HasBand {
				msg += " (" + out.Result.Band.Label + ")"
			}
			msg += ". Your answers are with your counselor."
		}
		return formDone{Flash: msg, To: "/measures"}, nil
	}, func(form *Form, err error) (formPage, error) {
		data, perr := s.measureAnswerPage(c, id, form, screen)
		return formPage{Name: tplMeasureAnswer, Data: data}, perr
	})
}

// pairMeasuresCSV downloads every answer of a pair's measures as CSV.
func (s *Server) pairMeasuresCSV(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	// Written to a buffer first: a failure must show the error page, not
	// half a file.
	var buf bytes.Buffer
	if err := s.measures.ExportCSV(c.Request.Context(), scopeOf(c), id, &buf); err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("pair-%d-measures.csv", id), "text/csv; charset=utf-8", buf.Bytes())
	return nil
}
