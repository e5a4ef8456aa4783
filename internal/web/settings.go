package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/checkin"
)

const tplSettings = "settings"

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
	form, err := formOf(c)
	if err == nil {
		err = s.checkins.SaveSettings(c.Request.Context(), scopeOf(c), checkin.SettingsInput{
			Timezone:     form.Get("timezone"),
			Reminders:    form.Get("reminders") == "on",
			ReminderTime: form.Get("reminder_time"),
			QuietFrom:    form.Get("quiet_from"),
			QuietUntil:   form.Get("quiet_until"),
		})
	}
	if err != nil {
		s.formFailed(c, err, tplSettings, form, H{"Timezones": zonesWith(form.Get("timezone"))})
		return nil
	}
	s.flash(c, "Your settings are saved.")
	s.redirect(c, "/settings")
	return nil
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
