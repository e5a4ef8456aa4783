package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/practice"
)

const (
	tplPairs    pageName = "pairs"
	tplPairNew  pageName = "pair_new"
	tplPair     pageName = "pair"
	tplPairBody          = "pair-body" // the block of pair.html kept for a counselor
)

// pairRow is a pair with its homework summary, for the pairs list.
type pairRow struct {
	pair.Pair
	Summary homework.Summary
}

// pairsList lists the caller's pairs (an admin: the practice's), by label,
// a page at a time: three queries whatever the number of pairs.
func (s *Server) pairsList(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	filter := c.Query("status")
	if filter != pair.FilterClosed && filter != pair.FilterAll {
		filter = pair.FilterOpen
	}
	page, err := s.pairs.List(ctx, sc, filter, paging.Parse(c.Query("page")))
	if err != nil {
		return err
	}
	ids := make([]int64, len(page.Items))
	for i, p := range page.Items {
		ids[i] = p.ID
	}
	sums, err := s.hw.Summaries(ctx, sc, ids)
	if err != nil {
		return err
	}
	rows := paging.Page[pairRow]{Number: page.Number, HasNext: page.HasNext, Items: make([]pairRow, len(page.Items))}
	for i, p := range page.Items {
		rows.Items[i] = pairRow{Pair: p, Summary: sums[p.ID]}
	}
	s.render(c, http.StatusOK, tplPairs, H{
		"Pairs": rows, "Filter": filter, "PagerBase": "/pairs?status=" + url.QueryEscape(filter) + "&",
		"Filters": []pair.Choice{{Value: pair.FilterOpen, Label: "Active and paused"}, {Value: pair.FilterClosed, Label: "Closed"}, {Value: pair.FilterAll, Label: "All"}},
	})
	return nil
}

// pairFormData is what the new-pair form needs besides the form.
func (s *Server) pairFormData(c *gin.Context) (H, error) {
	p, err := s.practices.Get(c.Request.Context(), scopeOf(c))
	if err != nil {
		return nil, err
	}
	mail, err := s.mailState(c)
	if err != nil {
		return nil, err
	}
	return H{"Kinds": pair.Kinds, "Sides": pair.Sides, "Timezones": timezonesFor(p.Timezone), "Mail": mail,
		"Clients": []pairClientFields{{"a_", "First client"}, {"b_", "Second client"}}}, nil
}

// pairClientFields names one client's fieldset in the new-pair form.
type pairClientFields struct{ Prefix, Legend string }

// timezonesFor puts the practice's zone first in the list.
func timezonesFor(first string) []string {
	out := []string{first}
	for _, tz := range timezones {
		if tz != first {
			out = append(out, tz)
		}
	}
	return out
}

func (s *Server) pairNew(c *gin.Context) error {
	data, err := s.pairFormData(c)
	if err != nil {
		return err
	}
	data["Form"] = &Form{Values: url.Values{"kind": {"romantic"}}}
	s.render(c, http.StatusOK, tplPairNew, data)
	return nil
}

// pairCreate creates the pair, its clients' accounts and invitations, and
// shows the two links once.
func (s *Server) pairCreate(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		client := func(prefix string) pair.NewClient {
			return pair.NewClient{Side: form.Get(prefix + "side"), NewPerson: practice.NewPerson{
				Name: form.Get(prefix + "name"), Email: form.Get(prefix + "email"), Timezone: form.Get(prefix + "timezone"),
			}}
		}
		created, err := s.pairs.Create(c.Request.Context(), scopeOf(c), pair.NewPair{
			Label: form.Get("label"), Kind: form.Get("kind"), A: client(pair.PrefixA), B: client(pair.PrefixB),
		}, s.queueInvitation(c))
		if err != nil {
			return formDone{}, err
		}
		intro := "Both clients have a Mend account now."
		if len(created.Returning) > 0 {
			intro += " Already signed up, so no new link needed: " + joinNames(created.Returning) + "."
		}
		return s.invitationsShown(c, http.StatusCreated, created.Invitations, H{
			"Heading": "Pair created: " + form.Get("label"), "Intro": intro,
			"Next": pathTo("pairs", created.PairID), "NextLabel": "Go to the pair",
		})
	}, func(*Form, error) (formPage, error) {
		data, err := s.pairFormData(c)
		return formPage{Name: tplPairNew, Data: data}, err
	})
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += " and "
		}
		out += n
	}
	return out
}

// pairShow is the pair page: members and sides, current homework, the
// plan's position, past homework and the pair's history. Each read is
// audited once per client. Its queries do not grow with the amount of
// homework or pairs (pages of history, bounded lists).
//
// A counselor's pair page is kept as their review pages are (the same
// stamp covers every change it shows, migrations 00060 to 00173), per page
// of its lists and state of the mail server, which is read every time:
// it is not the pair's data. Each showing is audited as the read of the
// clients' records that it is.
func (s *Server) pairShow(c *gin.Context) error {
	if scopeOf(c).Role != mend.RoleCounselor {
		data, err := s.pairPage(c, nil)
		if err != nil {
			return err
		}
		s.render(c, http.StatusOK, tplPair, data)
		return nil
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, sc := c.Request.Context(), scopeOf(c)
	mail, err := s.mailState(c)
	if err != nil {
		return err
	}
	return s.serveKept(c, keptPage{page: tplPair, set: s.keptStaff,
		key: keptKey{user: sc.UserID, page: tplPair, id: id,
			query: url.Values{"hpage": {c.Query("hpage")}, "epage": {c.Query("epage")}, "mail": {mail.String()}}.Encode()},
		shown: func(e keptEntry) error {
			return s.audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "pair.read", ObjectType: "pair", ObjectID: id}, e.clients)
		},
		read: func() (keptEntry, error) {
			data, err := s.pairPage(c, nil)
			if err != nil {
				return keptEntry{}, err
			}
			data["Scope"] = sc
			body, err := s.executeBlock(tplPair, tplPairBody, data)
			if err != nil {
				return keptEntry{}, err
			}
			counts, err := s.reviews.Counts(ctx, sc) // for the navigation, kept with the body
			p := data["Pair"].(pair.Pair)
			return keptEntry{counts: counts, title: p.Label, clients: p.ClientIDs(), body: body}, err
		}})
}

// pairPage is the pair page's data; reassign is the reassignment form.
func (s *Server) pairPage(c *gin.Context, reassign *Form) (H, error) {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	p, err := s.pairs.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	if err := s.audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "pair.read", ObjectType: "pair", ObjectID: p.ID}, p.ClientIDs()); err != nil {
		return nil, err
	}
	current, err := s.hw.Current(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	plan, err := s.hw.Plan(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	history, err := s.hw.History(ctx, sc, id, paging.Parse(c.Query("hpage")))
	if err != nil {
		return nil, err
	}
	events, err := s.pairs.Events(ctx, sc, id, paging.Parse(c.Query("epage")))
	if err != nil {
		return nil, err
	}
	counselors, err := s.pairs.Counselors(ctx, sc)
	if err != nil {
		return nil, err
	}
	consents, err := s.consent.Acceptances(ctx, sc, p.ClientIDs())
	if err != nil {
		return nil, err
	}
	mail, err := s.mailState(c)
	if err != nil {
		return nil, err
	}
	base := pathTo("pairs", id)
	if reassign == nil {
		reassign = &Form{Values: url.Values{}}
	}
	return H{
		"Pair": p, "Current": current, "Plan": plan, "History": history, "Events": events,
		"HistoryBase": base + "?epage=" + strconv.Itoa(events.Number) + "&h",
		"EventsBase":  base + "?hpage=" + strconv.Itoa(history.Number) + "&e",
		"Counselors":  counselors, "Form": reassign, "Consents": consents,
		"CanWrite": sc.Role == mend.RoleCounselor && p.Status != pair.StatusClosed,
		// Invitation and reset links to hand a client: their counselor or an admin.
		"CanHandLinks": sc.Role.IsStaff() && p.Status != pair.StatusClosed, "Mail": mail,
		"IsAdmin": sc.Role == mend.RoleAdmin,
	}, nil
}

func (s *Server) pairPause(c *gin.Context) error {
	return s.pairStatus(c, s.pairs.Pause, "Paused. No new plan steps start until you resume the pair.")
}

func (s *Server) pairResume(c *gin.Context) error {
	return s.pairStatus(c, s.pairs.Resume, "Resumed.")
}

func (s *Server) pairClose(c *gin.Context) error {
	return s.pairStatus(c, s.pairs.Close, "Closed. Open homework was cancelled and the plan stopped.")
}

func (s *Server) pairStatus(c *gin.Context, change func(context.Context, mend.Scope, int64) (pair.Pair, error), msg string) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := change(c.Request.Context(), scopeOf(c), id); err != nil {
		return err
	}
	s.flash(c, msg)
	s.redirect(c, pathTo("pairs", id))
	return nil
}

// pairReassign gives the pair to another counselor (admin).
func (s *Server) pairReassign(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.postForm(c, func(form *Form) (formDone, error) {
		p, err := s.pairs.Reassign(c.Request.Context(), scopeOf(c), id, form.Get("counselor"))
		return formDone{Flash: "The pair is now with " + p.CounselorName.String + ".", To: pathTo("pairs", id)}, err
	}, func(form *Form, _ error) (formPage, error) {
		data, err := s.pairPage(c, form)
		return formPage{Name: tplPair, Data: data, FormKey: "Form"}, err
	})
}

// pairReinvite issues a fresh invitation link for a member who has not set
// a password yet, queues the email, and shows the link once.
func (s *Server) pairReinvite(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.pairs.Reinvite(c.Request.Context(), scopeOf(c), id, c.Param("position"), s.queueInvitation(c))
	if err != nil {
		return err
	}
	done, err := s.invitationsShown(c, http.StatusOK, []practice.Invitation{inv}, H{
		"Next": pathTo("pairs", id), "NextLabel": "Back to the pair",
	})
	if err != nil {
		return err
	}
	return s.show(c, done)
}

// pairInvitationLink shows again the open invitation link of a client who
// has not joined, to copy and hand over.
func (s *Server) pairInvitationLink(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.pairs.InvitationLink(c.Request.Context(), scopeOf(c), id, c.Param("position"))
	if err != nil {
		return err
	}
	done, err := s.invitationsShown(c, http.StatusOK, []practice.Invitation{inv}, H{
		"Again": true, "Next": pathTo("pairs", id), "NextLabel": "Back to the pair",
	})
	if err != nil {
		return err
	}
	return s.show(c, done)
}

// pairResetLink issues a password-reset link for a client of the pair who
// is locked out, and shows it once to hand over.
func (s *Server) pairResetLink(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	inv, err := s.pairs.IssueReset(c.Request.Context(), scopeOf(c), id, c.Param("position"))
	if err != nil {
		return err
	}
	return s.show(c, s.resetShown(inv, pathTo("pairs", id), "Back to the pair"))
}
