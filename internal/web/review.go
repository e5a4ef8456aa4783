package web

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/chart"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/report"
	"github.com/mend-practice/mend/internal/review"
)

// The counselor's dashboard and review pages. What each
// caller may see is decided by review.Store's SQL; these handlers parse,
// call and render.

const (
	tplReview   pageName = "review"
	tplProgress pageName = "progress"
	tplFlags    pageName = "flags"
	// The blocks of review.html kept for a counselor: the body, and the
	// title, which the page around it writes.
	tplReviewBody  = "review-body"
	tplReviewTitle = "review-title"
	// tplProgressBody is the block of progress.html that is kept.
	tplProgressBody = "progress-body"
)

// navCountsKey holds counts a handler already read, so that the navigation
// does not read them again.
const navCountsKey = "review.counts"

// navCounts gives the navigation its numbers ("Review (4)"), read at most
// once per request and only when a counselor's navigation is drawn.
type navCounts struct {
	s    *Server
	c    *gin.Context
	once sync.Once
	n    review.Counts

	sharedOnce sync.Once
	shared     int
}

// Counts returns the counselor's counts; on a database error the
// navigation shows no numbers rather than failing the page.
func (n *navCounts) Counts() review.Counts {
	n.once.Do(func() {
		if v, ok := n.c.Get(navCountsKey); ok {
			n.n = v.(review.Counts)
			return
		}
		got, err := n.s.reviews.Counts(n.c.Request.Context(), scopeOf(n.c))
		if err != nil {
			n.s.log.Error("navigation counts", "err", err)
		}
		n.n = got
	})
	return n.n
}

// navSharedKey holds the client's unread shared count when a handler has
// read it already (the home page, with its list).
const navSharedKey = "clients.unread"

// Shared is how many check-ins the client's partner shared that the client
// has not opened yet (clients only; read at most once per request).
func (n *navCounts) Shared() int {
	n.sharedOnce.Do(func() {
		if v, ok := n.c.Get(navSharedKey); ok {
			n.shared = v.(int)
			return
		}
		got, err := n.s.checkins.UnreadShared(n.c.Request.Context(), scopeOf(n.c))
		if err != nil {
			n.s.log.Error("navigation counts", "err", err)
		}
		n.shared = got
	})
	return n.shared
}

// Under reports whether the page is under path (to mark the current
// navigation entry).
func (n *navCounts) Under(path string) bool { return strings.HasPrefix(n.c.Request.URL.Path, path) }

// nav is the per-request navigation data the layout may use.
func (s *Server) nav(c *gin.Context) *navCounts { return &navCounts{s: s, c: c} }

// dashboard is the counselor's working queue. Reading and rendering it
// for 150 pairs costs tens of milliseconds, and it changes far less often
// than it is looked at, so its rendered body is kept per counselor under
// the stamp it was read at (see keptBodies); a request whose stamp
// matches costs no statement of its own (the session check reads the
// version).
func (s *Server) dashboard(c *gin.Context) error {
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.serveKept(c, keptPage{page: tplDashboard, set: s.kept, key: keptKey{user: sc.UserID, page: tplDashboard},
		read: func() (keptEntry, error) {
			d, err := s.reviews.Dashboard(ctx, sc)
			if err != nil {
				return keptEntry{}, err
			}
			body, err := s.executeBlock(tplDashboard, tplDashboardBody, H{"D": d})
			return keptEntry{counts: d.Counts, body: body}, err
		}})
}

// reviewNext opens the next check-in waiting for review (after the one in
// ?after=, to skip it), or the dashboard when none is left.
func (s *Server) reviewNext(c *gin.Context) error {
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	next, err := s.reviews.Next(c.Request.Context(), scopeOf(c), after)
	if err != nil {
		return err
	}
	if next == 0 {
		s.flash(c, "Nothing else is waiting for review.")
		s.redirect(c, "/dashboard")
		return nil
	}
	s.redirect(c, pathTo("review", "checkins", next))
	return nil
}

// reviewShow is the review page of one check-in.
//
// A counselor's review page is kept as their progress tabs are (the same
// stamp covers every change it shows), sealed like a client's pages: it
// holds the clients' words. Each showing is audited as the read of the
// check-ins on it that it is.
func (s *Server) reviewShow(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	if sc.Role != mend.RoleCounselor {
		data, err := s.reviewPage(c, id, feedbackForm(), nil)
		if err != nil {
			return err
		}
		s.render(c, http.StatusOK, tplReview, data)
		return nil
	}
	return s.serveKept(c, keptPage{page: tplReview, set: s.keptStaff, key: keptKey{user: sc.UserID, page: tplReview, id: id},
		shown: func(e keptEntry) error { return s.checkins.ReadAgain(ctx, sc, "checkin", id, e.clients) },
		read: func() (keptEntry, error) {
			data, err := s.reviewPage(c, id, feedbackForm(), nil)
			if err != nil {
				return keptEntry{}, err
			}
			title, err := s.executeBlock(tplReview, tplReviewTitle, data)
			if err != nil {
				return keptEntry{}, err
			}
			data["Scope"] = sc
			body, err := s.executeBlock(tplReview, tplReviewBody, data)
			if err != nil {
				return keptEntry{}, err
			}
			counts, err := s.reviews.Counts(ctx, sc) // for the navigation, kept with the body
			pg := data["Page"].(review.Page)
			clients := []int64{pg.Checkin.UserID}
			for _, p := range pg.Partner {
				clients = append(clients, p.UserID)
			}
			// The title block is rendered escaped; the layout escapes it again.
			return keptEntry{counts: counts, title: html.UnescapeString(string(title)), clients: clients, body: body}, err
		}})
}

// feedbackForm is the feedback form as the review page first shows it.
func feedbackForm() *Form {
	return &Form{Values: url.Values{"audience": {review.ToClient}, "reviewed": {"yes"}}}
}

// reviewPage is the review page's data, with the feedback form (and, after
// a refused acknowledgement, that form in ack). Its one message at the top
// is about the feedback form only.
func (s *Server) reviewPage(c *gin.Context, id int64, form, ack *Form) (H, error) {
	pg, err := s.reviews.Review(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return nil, err
	}
	if ack == nil {
		ack = &Form{Values: url.Values{}}
	}
	data := H{"Page": pg, "Form": form, "Ack": ack, "MaxFeedback": review.MaxFeedback, "MaxAckNote": review.MaxAckNote, "Error": ""}
	if form.HasErrors() {
		data["Error"] = "Your feedback was not sent. Please correct the highlighted fields."
	}
	return data, nil
}

// reviewFeedback sends feedback on a check-in and, if asked, marks it
// reviewed and moves on to the next one.
func (s *Server) reviewFeedback(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	return s.postForm(c, func(form *Form) (formDone, error) {
		seen, err := seenVersion(form)
		if err != nil {
			return formDone{}, err
		}
		in := review.FeedbackInput{Body: form.Get("body"), Audience: form.Get("audience"), Reviewed: form.Get("reviewed") == "yes", Seen: seen}
		if err := s.reviews.AddFeedback(ctx, sc, id, in); err != nil {
			return formDone{}, err
		}
		msg := "Feedback sent."
		if in.Audience == review.ToBoth {
			msg = "Feedback sent to both clients."
		}
		if !in.Reviewed {
			return formDone{Flash: msg, To: pathTo("review", "checkins", id)}, nil
		}
		return s.nextReview(c, id, msg+" The check-in is marked reviewed.")
	}, func(form *Form, err error) (formPage, error) {
		switch mend.ErrorCode(err) {
		case mend.EINVALID:
		case mend.ECONFLICT:
			// The client changed the check-in since the page was drawn:
			// show the new version, with the feedback as typed.
			form.Errors = map[string]string{"version": mend.ErrorMessage(err)}
		default:
			return formPage{}, err // throttled: the error page says why
		}
		data, err := s.reviewPage(c, id, form, nil)
		return formPage{Name: tplReview, Data: data}, err
	})
}

// reviewMark marks a check-in reviewed without feedback and moves on.
func (s *Server) reviewMark(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	form, err := formOf(c)
	var seen int
	if err == nil {
		seen, err = seenVersion(form)
	}
	if err == nil {
		err = s.reviews.MarkReviewed(c.Request.Context(), scopeOf(c), id, seen)
	}
	if mend.ErrorCode(err) == mend.ECONFLICT {
		return s.show(c, formDone{Flash: mend.ErrorMessage(err), To: pathTo("review", "checkins", id)})
	}
	if err != nil {
		return err
	}
	done, err := s.nextReview(c, id, "Marked reviewed.")
	if err != nil {
		return err
	}
	return s.show(c, done)
}

// seenVersion is the version of the check-in a review form was drawn at
// (0: not said). Anything else that is not a version is refused: read as
// "not said", it would skip the check that the client has not changed
// the check-in since the counselor read it.
func seenVersion(form *Form) (int, error) {
	v := form.Get("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, mend.FieldErrors{"version": "This form does not say which version of the check-in you read. " +
			"Open the check-in again and send it from there."}.Err()
	}
	return n, nil
}

// nextReview goes on to the next check-in in the queue, or back to the
// dashboard when the queue is empty.
func (s *Server) nextReview(c *gin.Context, id int64, msg string) (formDone, error) {
	next, err := s.reviews.Next(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return formDone{}, err
	}
	if next == 0 {
		return formDone{Flash: msg + " Nothing else is waiting for review.", To: "/dashboard"}, nil
	}
	return formDone{Flash: msg + " Here is the next check-in.", To: pathTo("review", "checkins", next)}, nil
}

// alertAcknowledge records that a safety flag was seen, with a note.
func (s *Server) alertAcknowledge(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	var flagged review.Flagged
	return s.postForm(c, func(form *Form) (formDone, error) {
		var err error
		flagged, err = s.reviews.Acknowledge(ctx, sc, id, form.Get("note"))
		to := pathTo("review", "checkins", flagged.CheckinID)
		if flagged.CheckinID == 0 { // a measure's critical answer (issue 20)
			to = pathTo("pairs", flagged.PairID, "progress")
		}
		return formDone{Flash: "Safety flag acknowledged. Your note is kept with it.", To: to}, err
	}, func(_ *Form, err error) (formPage, error) {
		switch {
		case mend.ErrorCode(err) != mend.EINVALID || flagged.PairID == 0:
			return formPage{}, err
		case flagged.CheckinID == 0: // the progress tab, where the flag is listed
			data, _, err := s.pairProgressPage(c, flagged.PairID)
			if data != nil {
				data["AckAlert"] = id
			}
			return formPage{Name: tplProgress, Data: data, FormKey: "Ack"}, err
		}
		data, err := s.reviewPage(c, flagged.CheckinID, feedbackForm(), nil)
		return formPage{Name: tplReview, Data: data, FormKey: "Ack"}, err
	})
}

// flagsHistory lists every safety flag of the caller's pairs, newest first,
// acknowledged or not; the dashboard shows only the open ones.
func (s *Server) flagsHistory(c *gin.Context) error {
	page, err := s.reviews.Flags(c.Request.Context(), scopeOf(c), paging.Parse(c.Query("page")))
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplFlags, H{"Flags": page, "PagerBase": pathTo("review", "flags") + "?"})
	return nil
}

// pairProgress is the progress tab of a pair.
func (s *Server) pairProgress(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	// A counselor's progress tab is kept as their dashboard is (the same
	// stamp covers every change it shows), per pair and chosen range; a
	// range that did not parse (422) is not kept.
	if _, _, status := rangeForm(c, sc); sc.Role == mend.RoleCounselor && status == http.StatusOK {
		return s.serveKept(c, keptPage{page: tplProgress, set: s.keptProgress,
			key: keptKey{user: sc.UserID, page: tplProgress, id: id,
				query: url.Values{"from": {c.Query("from")}, "to": {c.Query("to")}}.Encode()},
			// Every showing is a read of the clients' progress, audited as a
			// fresh read is (the clients are the pair's when it was kept: a
			// change of members moves the stamp).
			shown: func(e keptEntry) error { return s.reviews.ProgressShown(ctx, sc, id, e.clients) },
			read: func() (keptEntry, error) {
				data, _, err := s.pairProgressPage(c, id)
				if err != nil {
					return keptEntry{}, err
				}
				body, err := s.executeBlock(tplProgress, tplProgressBody, data)
				if err != nil {
					return keptEntry{}, err
				}
				counts, err := s.reviews.Counts(ctx, sc) // for the navigation, kept with the body
				return keptEntry{counts: counts, title: data["Title"].(string),
					clients: data["P"].(review.Progress).Pair.ClientIDs(), body: body}, err
			}})
	}
	data, status, err := s.pairProgressPage(c, id)
	if err != nil {
		return err
	}
	body, err := s.executeBlock(tplProgress, tplProgressBody, data)
	if err != nil {
		return err
	}
	s.renderAround(c, status, tplProgress, H{"Title": data["Title"]}, body)
	return nil
}

// pairProgressPage gathers the progress tab's body: the check-ins'
// progress over the range asked for (?from=, ?to=), and the measures'
// scores over the same range with their open safety flags (issue 20). The
// status is 422 when the range did not parse (the default range is shown).
// Rendered whole (not kept), it is also the page a refused acknowledgement
// of a measure's flag comes back on.
func (s *Server) pairProgressPage(c *gin.Context, id int64) (H, int, error) {
	ctx, sc := c.Request.Context(), scopeOf(c)
	form, rg, status := rangeForm(c, sc)
	p, err := s.reviews.Progress(ctx, sc, id, rg)
	if err != nil {
		return nil, 0, err
	}
	rg = p.Range           // the start moves to the pair's first record when none was chosen
	if !form.HasErrors() { // show the range in effect
		form.Values.Set("from", rg.From.String())
		form.Values.Set("to", rg.To.String())
	}
	ms, err := s.measures.Scores(ctx, sc, id, rg.From, rg.To)
	if err != nil {
		return nil, 0, err
	}
	measureCharts := make([][]measureChart, len(ms.Series))
	for i, sr := range ms.Series {
		for _, spec := range sr.ChartsOver(rg.From, rg.To) {
			heading := strings.TrimPrefix(spec.Title, sr.Name+": ") // "total of each partner", a subscale's name
			if r, n := utf8.DecodeRuneInString(heading); n > 0 {
				heading = string(unicode.ToUpper(r)) + heading[n:]
			}
			measureCharts[i] = append(measureCharts[i], measureChart{Heading: heading, SVG: chart.Build(spec)})
		}
	}
	// A query string built by url.Values is safe to place in a link as is.
	query := template.URL(url.Values{"from": {rg.From.String()}, "to": {rg.To.String()}}.Encode())
	return H{"P": p, "Form": form, "Query": query, "Charts": progressCharts(p),
		"DivergeMin": review.DivergeMin, "DivergingCount": p.DivergingCount(), "CompletionCounts": review.CompletionCounts,
		"RatingNames": review.RatingNames, "Scope": sc, "Title": p.Pair.Label,
		"Measures": ms, "MeasureCharts": measureCharts}, status, nil
}

// measureChart is one of a measure's charts on the progress tab, under its
// heading.
type measureChart struct {
	Heading string
	SVG     chart.SVG
}

// rangeForm reads a progress page's ?from= and ?to=: the range and the
// form to show it in. A range that does not parse gives the default range,
// with the messages next to the fields and what was typed kept (status
// 422); a good one is shown as in effect.
func rangeForm(c *gin.Context, sc mend.Scope) (*Form, review.Range, int) {
	form := &Form{Values: url.Values{"from": {c.Query("from")}, "to": {c.Query("to")}}}
	rg, err := review.ParseRange(form.Get("from"), form.Get("to"), sc.Timezone, time.Now())
	if err != nil {
		form.Errors = mend.Fields(err)
		rg, _ = review.ParseRange("", "", sc.Timezone, time.Now())
		return form, rg, http.StatusUnprocessableEntity
	}
	form.Values.Set("from", rg.From.String())
	form.Values.Set("to", rg.To.String())
	return form, rg, http.StatusOK
}

// progressCharts lays out the progress tab's charts.
func progressCharts(p review.Progress) H {
	members := make([]any, len(p.Series))
	for i := range p.Series {
		members[i] = chart.Build(p.MemberChart(i))
	}
	var div []any
	if len(p.Series) == 2 {
		for r := range review.RatingNames {
			div = append(div, chart.Build(p.DivergenceChart(r)))
		}
	}
	return H{"Members": members, "Divergence": div}
}

// pairExportCSV downloads a pair's check-ins as CSV.
func (s *Server) pairExportCSV(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sc := scopeOf(c)
	rg, err := review.ParseRange(c.Query("from"), c.Query("to"), sc.Timezone, time.Now())
	if err != nil {
		return mend.Errorf(mend.EINVALID, "The date range is not valid: use dates like 2026-03-01, the start before the end.")
	}
	// Written to a buffer first: a failure must show the error page, not
	// half a file.
	var buf bytes.Buffer
	if err := s.reviews.ExportCSV(c.Request.Context(), sc, id, rg, &buf); err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("pair-%d-checkins-%s-%s.csv", id, rg.From, rg.To), "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

// pairReportPDF downloads a pair's progress report as PDF.
func (s *Server) pairReportPDF(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sc := scopeOf(c)
	rg, err := review.ParseRange(c.Query("from"), c.Query("to"), sc.Timezone, time.Now())
	if err != nil {
		return mend.Errorf(mend.EINVALID, "The date range is not valid: use dates like 2026-03-01, the start before the end.")
	}
	d, err := s.reviews.Report(c.Request.Context(), sc, id, rg)
	if err != nil {
		return err
	}
	// The pair's measures (issue 20), read and audited by their store.
	mv, err := s.measures.ForPair(c.Request.Context(), sc, id)
	if err != nil {
		return err
	}
	pdf, err := report.PDFWithMeasures(d, mv.Series)
	if err != nil {
		return err
	}
	attachment(c, fmt.Sprintf("pair-%d-report-%s-%s.pdf", id, rg.From, rg.To), "application/pdf", pdf)
	return nil
}

// homeFeedbackShown is how many pieces of feedback a client's home shows.
const homeFeedbackShown = 3
