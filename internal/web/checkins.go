package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// Client homework pages and check-ins, and the counselor's list of a pair's
// check-ins. What each caller may see is decided by checkin.Store's SQL;
// these handlers only parse, call and render.

const (
	tplHomework     pageName = "homework"
	tplHomeworkPage pageName = "homework_page"
	tplCheckinForm  pageName = "checkin_form"
	tplPairCheckins pageName = "pair_checkins"

	// The blocks of homework.html and homework_page.html that are kept.
	tplHomeworkBody     = "homework-body"
	tplHomeworkPageBody = "homework-page-body"
)

// checkinsPageSize is how many check-ins a page of the check-ins tab
// shows: each is a card with every answer, so ten already make a long page.
const checkinsPageSize = 10

// maxAnswers bounds the answer_N fields read from a form; steps have a
// handful of questions.
const maxAnswers = 20

// homework is the client's home: what is due today and this week, late
// check-ins still possible, and past homework. Its body is kept (sealed)
// per client under their stamp, like a counselor's dashboard: a client
// opens it far more often than anything on it changes. Each showing is
// audited as the read of what the partner shared that it is.
func (s *Server) homework(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.serveKept(c, keptPage{page: tplHomework, set: s.keptClient, key: keptKey{user: sc.UserID, page: tplHomework},
		shown: func(e keptEntry) error { return s.checkins.ReadAgain(ctx, sc, "shared", 0, e.clients) },
		read: func() (keptEntry, error) {
			data, err := s.homeworkData(c)
			if err != nil {
				return keptEntry{}, err
			}
			body, err := s.executeBlock(tplHomework, tplHomeworkBody, data)
			shared := data["Shared"].([]checkin.SharedItem)
			e := keptEntry{body: body}
			for _, it := range shared {
				e.clients = append(e.clients, it.UserID)
			}
			if len(shared) > 0 { // the navigation's count, read with the list
				e.unread = shared[0].Unread
			}
			return e, err
		}})
}

// homeworkData reads what the client's home shows.
func (s *Server) homeworkData(c *gin.Context) (H, error) {
	ctx, sc := c.Request.Context(), scopeOf(c)
	home, err := s.checkins.Home(ctx, sc)
	if err != nil {
		return nil, err
	}
	// The counselor's latest feedback to this client.
	feedback, err := s.reviews.LatestFeedback(ctx, sc, homeFeedbackShown)
	if err != nil {
		return nil, err
	}
	shared, err := s.checkins.SharedWithMe(ctx, sc, homeSharedShown, 0)
	if err != nil {
		return nil, err
	}
	// Questionnaires due now (issue 20).
	due, err := s.measures.DueFor(ctx, sc)
	if err != nil {
		return nil, err
	}
	return H{"Scope": sc, "Home": home, "Feedback": feedback, "Shared": shared, "DueMeasures": due}, nil
}

// homeworkPage shows one homework: the step, the client's instructions, the
// counselor's note, the questions, the client's check-ins and those the
// partner shared. Kept (sealed) per client and homework as the home is;
// each showing is audited as the read of the check-ins on it.
func (s *Server) homeworkPage(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.serveKept(c, keptPage{page: tplHomeworkPage, set: s.keptClient, key: keptKey{user: sc.UserID, page: tplHomeworkPage, id: id},
		// The partner's check-ins on it were marked read when it was kept.
		shown: func(e keptEntry) error { return s.checkins.ReadAgain(ctx, sc, "assignment", id, e.clients) },
		read: func() (keptEntry, error) {
			hw, err := s.hw.ClientAssignment(ctx, sc, id)
			if err != nil {
				return keptEntry{}, err
			}
			d, err := s.checkins.Detail(ctx, sc, id)
			if err != nil {
				return keptEntry{}, err
			}
			list, err := s.checkins.ForAssignment(ctx, sc, id)
			if err != nil {
				return keptEntry{}, err
			}
			var mine, partner []checkin.Checkin
			var partnerIDs []int64
			for _, ch := range list {
				if ch.Mine {
					mine = append(mine, ch)
				} else {
					partner = append(partner, ch)
					partnerIDs = append(partnerIDs, ch.ID)
				}
			}
			// What the partner shared is read here as much as on its own page.
			if err := s.checkins.MarkSharedRead(ctx, sc, partnerIDs); err != nil {
				return keptEntry{}, err
			}
			unread, err := s.checkins.UnreadShared(ctx, sc) // for the navigation, kept with the body
			if err != nil {
				return keptEntry{}, err
			}
			body, err := s.executeBlock(tplHomeworkPage, tplHomeworkPageBody,
				H{"Scope": sc, "Homework": d, "Step": hw, "Mine": mine, "Partner": partner})
			return keptEntry{title: d.Title, clients: checkin.Authors(list), unread: unread, body: body}, err
		}})
}

// checkinNew shows the form for a new check-in on a homework, for the period
// in ?period= or the one that most needs a check-in.
func (s *Server) checkinNew(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	d, err := s.checkins.NewDraft(ctx, sc, id, c.Query("period"))
	switch mend.ErrorCode(err) {
	case "":
	case mend.ECONFLICT, mend.EINVALID:
		// Nothing to check in for (yet), or a period that does not take a
		// check-in: say so on the homework page.
		msg := mend.ErrorMessage(err)
		for _, m := range mend.Fields(err) {
			msg = m
		}
		s.flash(c, msg)
		s.redirect(c, pathTo("homework", id))
		return nil
	default:
		return err
	}
	if d.Existing != 0 {
		s.flash(c, "You have already checked in for this period. You can change your check-in here.")
		s.redirect(c, pathTo("checkins", d.Existing, "edit"))
		return nil
	}
	form := &Form{Values: url.Values{"period": {d.Period.Start.String()}, "visibility": {string(checkin.ToCounselor)}}}
	s.render(c, http.StatusOK, tplCheckinForm, formData(d, H{"Form": form, "Action": pathTo("homework", id, "checkins")}))
	return nil
}

// checkinCreate stores a new check-in.
func (s *Server) checkinCreate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		in := checkinInputOf(form)
		checkinID, err := s.checkins.Create(ctx, sc, id, in)
		if err != nil {
			return formDone{}, err
		}
		return checkinSaved(checkinID, id, in.Unsafe, "Thank you. Your check-in is saved."), nil
	}, func(form *Form, err error) (formPage, error) {
		// The draft is rebuilt for the period the form named if it still
		// takes check-ins, else the default.
		d, derr := s.checkins.NewDraft(ctx, sc, id, form.Get("period"))
		if derr != nil {
			d, derr = s.checkins.NewDraft(ctx, sc, id, "")
		}
		if derr != nil {
			// The homework is out of scope (404) or takes no check-ins any more.
			if mend.ErrorCode(err) == mend.ENOTFOUND || mend.ErrorCode(derr) == mend.ENOTFOUND {
				return formPage{}, mend.NotFound("Homework")
			}
			return formPage{}, err
		}
		data := H{"Action": pathTo("homework", id, "checkins")}
		if d.Existing != 0 {
			// The client checked in for that period meanwhile (another tab,
			// another device): link to that check-in, and offer the form,
			// with what was typed, for a period still open, if one is.
			data["Existing"] = pathTo("checkins", d.Existing, "edit")
			data["ExistingPeriod"] = d.Period.Label()
			if next, nerr := s.checkins.NewDraft(ctx, sc, id, ""); nerr == nil && next.Existing == 0 {
				d = next
				form.Values.Set("period", d.Period.Start.String())
			}
		}
		return formPage{Name: tplCheckinForm, Data: formData(d, data)}, nil
	})
}

// checkinEdit shows the form to change one of the client's own check-ins,
// or why it can no longer be changed.
func (s *Server) checkinEdit(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ch, err := s.checkins.Own(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplCheckinForm, editData(ch, checkinValuesOf(ch)))
	return nil
}

// checkinUpdate saves changes to one of the client's own check-ins.
func (s *Server) checkinUpdate(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		in := checkinInputOf(form)
		assignmentID, err := s.checkins.Update(ctx, sc, id, in)
		if err != nil {
			return formDone{}, err
		}
		return checkinSaved(id, assignmentID, in.Unsafe, "Your check-in is updated."), nil
	}, func(form *Form, _ error) (formPage, error) {
		ch, err := s.checkins.Own(ctx, sc, id)
		return formPage{Name: tplCheckinForm, Data: editData(ch, form.Values)}, err
	})
}

// checkinSaved is where a saved check-in leads: after "I do not feel safe",
// the care page (not the everyday thank-you: what happens now, with care);
// else its homework, with flash.
func checkinSaved(checkinID, homeworkID int64, unsafe bool, flash string) formDone {
	if unsafe {
		return formDone{To: pathTo("checkins", checkinID, "care")}
	}
	return formDone{Flash: flash, To: pathTo("homework", homeworkID)}
}

// editData is the form page's data for an existing check-in.
func editData(ch checkin.Checkin, values url.Values) H {
	questions := make([]string, len(ch.Answers))
	for i, a := range ch.Answers {
		questions[i] = a.Question
	}
	d := checkin.Draft{
		AssignmentID: ch.AssignmentID, Title: ch.HomeworkTitle, Questions: questions,
		Period: ch.Period(), Late: ch.Late,
	}
	return formData(d, H{
		"Checkin": ch, "Form": &Form{Values: values},
		"Action": pathTo("checkins", ch.ID), "Locked": ch.EditableReason,
	})
}

// questionField is one question on the check-in form.
type questionField struct{ Name, Label string }

// ratingScale is the choices of each 1–10 rating.
func ratingScale() []int { return []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} }

// formData adds what every check-in form needs to data.
func formData(d checkin.Draft, data H) H {
	qs := make([]questionField, len(d.Questions))
	for i, q := range d.Questions {
		qs[i] = questionField{Name: "answer_" + strconv.Itoa(i+1), Label: q}
	}
	data["Draft"] = d
	data["Questions"] = qs
	data["Scale"] = ratingScale()
	return data
}

// checkinInputOf reads a check-in form.
func checkinInputOf(f *Form) checkin.Input {
	in := checkin.Input{
		Period:        f.Get("period"),
		Status:        f.Get("status"),
		Trust:         f.Get("trust"),
		Communication: f.Get("communication"),
		Hope:          f.Get("hope"),
		Reflection:    f.Get("reflection"),
		Visibility:    f.Get("visibility"),
		Unsafe:        f.Get("unsafe") == "yes",
		SafetyNote:    f.Get("safety_note"),
	}
	for i := 1; i <= maxAnswers; i++ {
		in.Answers = append(in.Answers, f.Get("answer_"+strconv.Itoa(i)))
	}
	return in
}

// checkinValuesOf fills the form from a stored check-in.
func checkinValuesOf(ch checkin.Checkin) url.Values {
	v := url.Values{
		"status":        {string(ch.Status)},
		"trust":         {strconv.Itoa(ch.Trust)},
		"communication": {strconv.Itoa(ch.Communication)},
		"hope":          {strconv.Itoa(ch.Hope)},
		"reflection":    {ch.Reflection},
		"visibility":    {string(ch.Visibility)},
	}
	for i, a := range ch.Answers {
		v.Set("answer_"+strconv.Itoa(i+1), a.Answer)
	}
	return v
}

// pairCheckins is the counselor's list of a pair's check-ins: both
// members, private and shared, safety flags marked, each with its review
// state and feedback; narrowed by client, homework and review state, one
// page at a time. A filter value that is not a number is no filter.
func (s *Server) pairCheckins(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f := checkin.PairFilter{}
	f.ClientID, _ = strconv.ParseInt(c.Query("client"), 10, 64)
	f.HomeworkID, _ = strconv.ParseInt(c.Query("homework"), 10, 64)
	if r := c.Query("review"); r == checkin.ReviewWaiting || r == checkin.ReviewReviewed {
		f.Review = r
	}
	pr := paging.Parse(c.Query("page"))
	pr.Size = checkinsPageSize
	tab, err := s.reviews.PairCheckins(c.Request.Context(), scopeOf(c), id, f, pr)
	if err != nil {
		return err
	}
	// The pager's links keep the filter.
	q := url.Values{}
	if f.ClientID != 0 {
		q.Set("client", strconv.FormatInt(f.ClientID, 10))
	}
	if f.HomeworkID != 0 {
		q.Set("homework", strconv.FormatInt(f.HomeworkID, 10))
	}
	if f.Review != "" {
		q.Set("review", f.Review)
	}
	base := pathTo("pairs", id, "checkins") + "?"
	if len(q) > 0 {
		base += q.Encode() + "&"
	}
	s.render(c, http.StatusOK, tplPairCheckins, H{"List": tab, "PagerBase": base})
	return nil
}
