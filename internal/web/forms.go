package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
)

// formDone is what a POST form leads to once the domain accepted it: a
// flash and a redirect (To), or, for what can be shown only once (new
// invitation links, recovery codes), a page of its own (Page).
type formDone struct {
	Flash, To string
	Page      pageName
	Status    int // of Page; 200 if zero
	Data      H   // of Page
}

// formPage is a form's page drawn again after its input was refused: the
// template and its data besides the form. FormKey is the data key that
// holds the refused form ("Form" unless the page has more than one form).
// Data may set "Error" (the message at the top of the form) itself; it is
// the error's own message otherwise.
type formPage struct {
	Name    pageName
	Data    H
	FormKey string
}

// postForm is the one way a POST form is handled: parse it, submit it (the
// domain call), and on success flash and redirect (or show done.Page). When
// the domain refuses the input (field errors, a conflict, a throttle), again
// draws the form's page anew with what was typed, each message next to its
// field (form.Errors is set before again runs, so it may rename a field)
// and one at the top; nothing was changed. Any other error, in parsing,
// submitting or drawing, is returned for handle's error page.
func (s *Server) postForm(c *gin.Context, submit func(*Form) (formDone, error), again func(*Form, error) (formPage, error)) error {
	form, err := formOf(c)
	var done formDone
	if err == nil {
		done, err = submit(form)
	}
	if err != nil {
		return s.formRefused(c, form, err, again)
	}
	return s.show(c, done)
}

// show answers with what a form or action led to (see formDone).
func (s *Server) show(c *gin.Context, done formDone) error {
	if done.Page != "" {
		status := done.Status
		if status == 0 {
			status = http.StatusOK
		}
		s.render(c, status, done.Page, done.Data)
		return nil
	}
	if done.Flash != "" {
		s.flash(c, done.Flash)
	}
	s.redirect(c, done.To)
	return nil
}

// formRefused draws a refused form again (see postForm); errors that are
// not about the input are returned as they are.
func (s *Server) formRefused(c *gin.Context, form *Form, err error, again func(*Form, error) (formPage, error)) error {
	// A write the database could not take (db.IsTransient, after the
	// store's one retry) shows the form again too, with everything typed
	// and "not saved, send again" (503).
	code := mend.ErrorCode(err)
	status, message := statusOf(code), mend.ErrorMessage(err)
	switch {
	case db.IsTransient(err):
		s.log.Warn("database unavailable; form shown again", "route", c.FullPath(), "err", err)
		c.Header("Retry-After", "5")
		status, message = http.StatusServiceUnavailable, notSavedMessage
	case code == mend.EINVALID, code == mend.ECONFLICT, code == mend.EUNAUTHORIZED, code == mend.ETHROTTLED:
	default:
		return err
	}
	if form == nil {
		form = &Form{Values: url.Values{}}
	}
	form.Errors = mend.Fields(err)
	page, perr := again(form, err)
	if perr != nil {
		return perr
	}
	data := page.Data
	if data == nil {
		data = H{}
	}
	key := page.FormKey
	if key == "" {
		key = "Form"
	}
	data[key] = form
	if _, ok := data["Error"]; !ok || status == http.StatusServiceUnavailable {
		data["Error"] = message
	}
	s.render(c, status, page.Name, data)
	return nil
}

// timezones offered in forms; the practice's own zone comes first in forms
// that know it. A short list keeps the select usable on a phone.
var timezones = []string{
	"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki",
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	"America/Anchorage", "America/Toronto", "America/Vancouver", "America/Halifax", "America/Mexico_City",
	"America/Sao_Paulo", "America/Buenos_Aires", "Pacific/Honolulu", "Africa/Johannesburg", "Africa/Lagos",
	"Africa/Nairobi", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
	"Asia/Hong_Kong", "Australia/Perth", "Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland",
}
