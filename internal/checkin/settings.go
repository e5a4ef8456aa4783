package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mend-practice/mend/internal/mend"
)

// Settings are a client's own preferences: the timezone their periods and
// reminders follow, and when (and whether) reminder emails come. Minutes
// are minutes of the day in that timezone.
type Settings struct {
	Timezone         string        `db:"timezone"`
	RemindersEnabled bool          `db:"reminders_enabled"`
	ReminderMinute   int           `db:"reminder_minute"`
	QuietStart       sql.NullInt64 `db:"quiet_start"`
	QuietEnd         sql.NullInt64 `db:"quiet_end"`
}

// ReminderTime is the reminder minute as HH:MM.
func (s Settings) ReminderTime() string { return clock(int64(s.ReminderMinute)) }

// QuietFrom is the start of quiet hours as HH:MM, or "".
func (s Settings) QuietFrom() string {
	if !s.QuietStart.Valid {
		return ""
	}
	return clock(s.QuietStart.Int64)
}

// QuietUntil is the end of quiet hours as HH:MM, or "".
func (s Settings) QuietUntil() string {
	if !s.QuietEnd.Valid {
		return ""
	}
	return clock(s.QuietEnd.Int64)
}

func clock(minute int64) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

// SettingsInput is the settings form as typed.
type SettingsInput struct {
	Timezone     string
	Reminders    bool
	ReminderTime string // HH:MM
	QuietFrom    string // HH:MM or empty
	QuietUntil   string // HH:MM or empty
}

// Settings returns the caller's own settings.
func (s *Store) Settings(ctx context.Context, sc mend.Scope) (Settings, error) {
	var st Settings
	err := s.DB.GetContext(ctx, &st, `
		SELECT timezone, reminders_enabled, reminder_minute, quiet_start, quiet_end
		FROM users WHERE id = $1 AND practice_id = $2`, sc.UserID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{}, mend.NotFound("Account")
	}
	if err != nil {
		return Settings{}, fmt.Errorf("checkin: settings: %w", err)
	}
	return st, nil
}

// SaveSettings validates and stores the caller's own settings. Quiet hours
// are both given or both left empty; they may wrap past midnight (22:00 to
// 07:00).
func (s *Store) SaveSettings(ctx context.Context, sc mend.Scope, in SettingsInput) error {
	var fe mend.FieldErrors
	tz := strings.TrimSpace(in.Timezone)
	if !ValidZone(tz) {
		fe.Add("timezone", "Choose your time zone from the list.")
	}
	remind, ok := minuteOf(in.ReminderTime)
	if !ok {
		fe.Add("reminder_time", "Enter a time of day, like 18:00.")
	}
	from, fromOK := minuteOf(in.QuietFrom)
	until, untilOK := minuteOf(in.QuietUntil)
	qf, qu := strings.TrimSpace(in.QuietFrom), strings.TrimSpace(in.QuietUntil)
	var quietStart, quietEnd sql.NullInt64
	switch {
	case qf == "" && qu == "":
		// no quiet hours
	case qf != "" && !fromOK:
		fe.Add("quiet_from", "Enter a time of day, like 22:00, or leave both quiet-hour times empty.")
	case qu != "" && !untilOK:
		fe.Add("quiet_until", "Enter a time of day, like 07:00, or leave both quiet-hour times empty.")
	case qf == "":
		fe.Add("quiet_from", "Enter when quiet hours start, or leave both times empty.")
	case qu == "":
		fe.Add("quiet_until", "Enter when quiet hours end, or leave both times empty.")
	case from == until:
		fe.Add("quiet_until", "Quiet hours must end at a different time than they start.")
	default:
		quietStart = sql.NullInt64{Int64: int64(from), Valid: true}
		quietEnd = sql.NullInt64{Int64: int64(until), Valid: true}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	res, err := s.DB.ExecContext(ctx, `
		UPDATE users SET timezone = $3, reminders_enabled = $4, reminder_minute = $5, quiet_start = $6, quiet_end = $7
		WHERE id = $1 AND practice_id = $2`,
		sc.UserID, sc.PracticeID, tz, in.Reminders, remind, quietStart, quietEnd)
	if err != nil {
		return fmt.Errorf("checkin: save settings: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return mend.NotFound("Account")
	}
	return nil
}

// minuteOf reads HH:MM (as an <input type="time"> sends it) as a minute of
// the day.
func minuteOf(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}
