package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/checkin"
)

const tplSettings pageName = "settings"

// settingsForm shows the client's settings: timezone, reminder time, quiet
// hours, reminders on or off.
func (s *Server) settingsForm(c *gin.Context) error {
	st, err := s.checkins.Settings(c.Request.Context(), scopeOf(c))
	if err != nil {
		return err
	}
	v := url.Values{
		"timezone":      {st.Timezone},
		"reminder_time": {st.ReminderTime()},
		"quiet_from":    {st.QuietFrom()},
		"quiet_until":   {st.QuietUntil()},
	}
	if st.RemindersEnabled {
		v.Set("reminders", "on")
	}
	s.render(c, http.StatusOK, tplSettings, H{"Form": &Form{Values: v}, "Timezones": zonesWith(st.Timezone)})
	return nil
}

// settingsSave stores the client's settings.
func (s *Server) settingsSave(c *gin.Context) error {
	return s.postForm(c, func(form *Form) (formDone, error) {
		err := s.checkins.SaveSettings(c.Request.Context(), scopeOf(c), checkin.SettingsInput{
			Timezone:     form.Get("timezone"),
			Reminders:    form.Get("reminders") == "on",
			ReminderTime: form.Get("reminder_time"),
			QuietFrom:    form.Get("quiet_from"),
			QuietUntil:   form.Get("quiet_until"),
		})
		return formDone{Flash: "Your settings are saved.", To: "/settings"}, err
	}, func(form *Form, _ error) (formPage, error) {
		return formPage{Name: tplSettings, Data: H{"Timezones": zonesWith(form.Get("timezone"))}}, nil
	})
}

// zonesWith is the list of time zones offered, with tz added when it is a
// valid zone that the short list lacks (so a client's own zone always shows).
func zonesWith(tz string) []string {
	for _, z := range timezones {
		if z == tz {
			return timezones
		}
	}
	if !checkin.ValidZone(tz) {
		return timezones
	}
	return append([]string{tz}, timezones...)
}
