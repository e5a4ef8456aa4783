package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"

	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
)

const (
	tplMailLog     pageName = "mail_log"
	tplMailMessage pageName = "mail_message"
	tplMailQueues  pageName = "mail_queues"
)

// mailLog is the practice's email log, filtered (status, kind, recipient,
// dates in the admin's timezone) and paged newest first.
func (s *Server) mailLog(c *gin.Context) error {
	sc := scopeOf(c)
	q := c.Request.URL.Query()
	form := &Form{Values: q}
	data := H{"Form": form, "Statuses": mail.Statuses, "Kinds": mail.Kinds}
	f, err := mail.ParseLogFilter(q, sc.Timezone)
	if err != nil {
		if mend.ErrorCode(err) == mend.EINVALID {
			form.Errors = mend.Fields(err)
			s.render(c, http.StatusUnprocessableEntity, tplMailLog, data)
			return nil
		}
		return err
	}
	rows, more, err := s.outbox.List(c.Request.Context(), sc, f)
	if err != nil {
		return err
	}
	data["Messages"] = rows
	health, err := s.mailHealth.Status(c.Request.Context())
	if err != nil {
		return err
	}
	if health.FailingSince.Valid {
		data["DeliveryFailing"] = health
	}
	data["Filtered"] = f.Status != "" || f.Kind != "" || f.Recipient != "" || !f.From.IsZero() || !f.Until.IsZero()
	if more {
		older := cloneValues(q)
		older.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		data["Older"] = "/admin/mail?" + older.Encode()
	}
	if f.Before > 0 {
		newest := cloneValues(q)
		newest.Del("before")
		data["Newest"] = "/admin/mail?" + newest.Encode()
	}
	s.render(c, http.StatusOK, tplMailLog, data)
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			out.Set(k, vs[0])
		}
	}
	return out
}

// bodySegment is a run of a message's text: plain, or a link.
type bodySegment struct {
	Text string
	URL  string
}

var (
	linkPattern = regexp.MustCompile(`https?://[^\s<>"'\[\]]+`)
	// An unsubscribe link is a capability too (it changes the client's
	// settings): hidden like the one-time links.
	unsubscribeLink = regexp.MustCompile(`(/unsubscribe/)[A-Za-z0-9_-]+`)
)

const linkHidden = "[link hidden]"

// mailBody is a message's text as the mail log shows it: one-time and
// unsubscribe links hidden (an admin must not be able to use a client's
// reset link), every other link clickable — with no SMTP configured, this
// is how a demo user follows a reminder to the page it points to.
func mailBody(body string) []bodySegment {
	body = redactLinks(body)
	return linkify(unsubscribeLink.ReplaceAllString(body, "${1}"+linkHidden))
}

// linkify splits a text body into text and http(s) links.
func linkify(body string) []bodySegment {
	var out []bodySegment
	last := 0
	for _, m := range linkPattern.FindAllStringIndex(body, -1) {
		start, end := m[0], m[1]
		// Punctuation that ends a sentence is not part of the link.
		for end > start && strings.ContainsRune(".,;:!?)", rune(body[end-1])) {
			end--
		}
		if strings.HasPrefix(body[end:], linkHidden) {
			continue // stays text: there is nothing to follow
		}
		if start > last {
			out = append(out, bodySegment{Text: body[last:start]})
		}
		out = append(out, bodySegment{URL: body[start:end]})
		last = end
	}
	if last < len(body) {
		out = append(out, bodySegment{Text: body[last:]})
	}
	return out
}

func (s *Server) mailMessage(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.outbox.Get(c.Request.Context(), scopeOf(c), id)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplMailMessage, H{"Message": m, "Body": mailBody(m.BodyText), "CanResend": m.Status == mail.StatusFailed})
	return nil
}

// mailResend queues a failed message again (the same row; audited).
func (s *Server) mailResend(c *gin.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.outbox.Resend(c.Request.Context(), scopeOf(c), s.audit, id); err != nil {
		return err
	}
	s.flash(c, "The message is queued again; it goes out within a few seconds.")
	s.redirect(c, pathTo("admin", "mail", id))
	return nil
}

// queueTask is a retried or archived delivery task of the admin's practice.
type queueTask struct {
	Queue   string
	State   string
	Email   mail.LogEntry
	Retried int
	LastErr string
}

// mailQueues shows the admin's own practice's email numbers and its
// delivery tasks waiting for a retry or given up. Read-only. The queues'
// sizes for the whole deployment belong to the operator (the metrics
// listener): a practice admin must not learn how busy other practices are.
func (s *Server) mailQueues(c *gin.Context) error {
	ctx := c.Request.Context()
	sc := scopeOf(c)
	names, err := s.queues.Queues()
	if err != nil {
		s.log.Warn("queues page: redis", "err", err)
		s.render(c, http.StatusServiceUnavailable, tplMailQueues, H{"Unavailable": true})
		return nil
	}
	var tasks []queueTask
	ids := map[int64]queueTask{}
	var order []int64
	for _, q := range names {
		for state, list := range map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
			"retry": s.queues.ListRetryTasks, "archived": s.queues.ListArchivedTasks,
		} {
			ts, err := list(q, asynq.PageSize(100))
			if err != nil {
				continue
			}
			for _, t := range ts {
				if t.Type != mail.TypeDeliver {
					continue
				}
				id, err := strconv.ParseInt(string(t.Payload), 10, 64)
				if err != nil {
					continue
				}
				ids[id] = queueTask{Queue: q, State: state, Retried: t.Retried, LastErr: t.LastErr}
				order = append(order, id)
			}
		}
	}
	own, err := s.outbox.Pick(ctx, sc, order)
	if err != nil {
		return err
	}
	for _, id := range order {
		if e, ok := own[id]; ok {
			t := ids[id]
			t.Email = e
			tasks = append(tasks, t)
			delete(own, id)
		}
	}
	counts, err := s.outbox.Counts(ctx, sc)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplMailQueues, H{"Counts": counts, "Tasks": tasks})
	return nil
}

// oneTimeLink matches the token part of invitation and reset links.
var oneTimeLink = regexp.MustCompile(`(/invite/|/password/reset/)[A-Za-z0-9_-]+`)

// redactLinks hides one-time links in a message shown in the mail log: an
// admin reading a client's reset email must not be able to use its link.
func redactLinks(body string) string {
	return oneTimeLink.ReplaceAllString(body, "${1}[link hidden]")
}
