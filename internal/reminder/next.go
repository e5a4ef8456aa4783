// Package reminder decides when check-in reminders, overdue nudges and the
// counselors' daily digests are due, and queues them in the email log.
//
// A client gets, for each period of each homework they have not checked in
// for, at most two emails: a reminder on the period's first expected day
// (checkin.Schedule.ExpectedOn) at their reminder time, and a nudge the day
// after the period ended, at the same time, while a late check-in is still
// accepted. Both come at the client's time of day in the client's timezone,
// never inside their quiet hours (they move to the end of the quiet hours),
// and not at all when the client turned reminders off.
//
// The Scheduler keeps one row per (client, homework) in reminder_due with
// the instant the next email is due; each pass claims only rows that are
// due, so its cost follows the emails due, not the number of clients.
package reminder

import (
	"time"

	"github.com/mend-practice/mend/internal/checkin"
)

// Stage is which of a period's two emails an item is.
type Stage int

const (
	// Remind is the reminder while the period is open.
	Remind Stage = iota
	// Nudge is the reminder after the period ended, inside the grace window.
	Nudge
)

func (s Stage) String() string {
	if s == Nudge {
		return "nudge"
	}
	return "reminder"
}

// Prefs are a client's reminder preferences. Minutes are minutes of the day
// in Zone.
type Prefs struct {
	Zone   *time.Location
	Minute int // the reminder time of day
	// Quiet hours: no email from QuietStart up to QuietEnd (wrapping past
	// midnight when QuietStart > QuietEnd). Only when Quiet is set.
	Quiet                bool
	QuietStart, QuietEnd int
}

func (p Prefs) zone() *time.Location {
	if p.Zone == nil {
		return time.UTC
	}
	return p.Zone
}

// timeOn is the reminder time on day d in the client's zone.
func (p Prefs) timeOn(d checkin.Date) time.Time { return WallTime(d, p.Minute, p.zone()) }

// WallTime is the instant at minute of day d in loc. A wall time that the
// clocks skip (daylight saving begins) becomes the same time after the
// jump — 02:30 on a day that goes from 02:00 to 03:00 is 03:30 — never an
// earlier one.
func WallTime(d checkin.Date, minute int, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, minute/60, minute%60, 0, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, minute/60, minute%60, 0, 0, time.UTC)
	lt := t.In(loc)
	got := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), 0, 0, time.UTC)
	if diff := want.Sub(got); diff > 0 {
		t = t.Add(diff)
	}
	return t
}

// OutOfQuiet returns t, or, when t falls inside the quiet hours, the end of
// those quiet hours.
func (p Prefs) OutOfQuiet(t time.Time) time.Time {
	if !p.Quiet || p.QuietStart == p.QuietEnd {
		return t
	}
	lt := t.In(p.zone())
	m := lt.Hour()*60 + lt.Minute()
	s, e := p.QuietStart, p.QuietEnd
	var in bool
	nextDay := 0
	if s < e {
		in = m >= s && m < e
	} else { // e.g. 22:00 to 07:00
		in = m >= s || m < e
		if m >= s {
			nextDay = 1
		}
	}
	if !in {
		return t
	}
	end := WallTime(checkin.DateIn(t, p.zone()).AddDays(nextDay), e, p.zone())
	if !end.After(t) { // a daylight-saving fold; never move backwards
		return t
	}
	return end
}

// Item is one email to send: which stage of which period, and when.
type Item struct {
	Stage  Stage
	Period checkin.Period
	At     time.Time
}

// Done reports whether a stage of a period needs no email: it was sent
// already, or the client has checked in for the period.
type Done func(Stage, checkin.Period) bool

// CatchUp is how late an email may still go out after its time — the
// workers were down for a while, or homework was given just after the
// reminder time. An email later than that waits for the client's reminder
// time on a following day (while its window is open), so that nobody gets
// a reminder at three in the morning because a server restarted.
const CatchUp = 2 * time.Hour

// Next returns the earliest email still to send for a homework schedule at
// or after now. Its At is the client's reminder time on the email's day,
// moved out of quiet hours; or now, when that time passed less than
// CatchUp ago; or the reminder time of a later day when it passed longer
// ago. A reminder is only sent while its period is open and a nudge only
// while a late check-in is accepted; one whose window closed is left out.
// ok is false when nothing remains.
//
// Items come in period order, and for each period the reminder before the
// nudge, which is also their order in time: a period's nudge falls on the
// day after it ends, no later than the next period's reminder.
func Next(s checkin.Schedule, p Prefs, now time.Time, done Done) (Item, bool) {
	zone := p.zone()
	today := checkin.DateIn(now, zone)
	// The oldest period whose nudge may still be sent ended at most
	// GraceDays days ago.
	period, ok := s.Current(today.AddDays(-checkin.GraceDays - 1))
	for ok {
		_, until := period.Bounds(zone)
		graceEnd := period.LateUntil().AddDays(1).StartIn(zone)
		candidates := [2]struct {
			stage Stage
			day   checkin.Date
			until time.Time
		}{
			{Remind, remindDay(s, period), until},
			{Nudge, period.End.AddDays(1), graceEnd},
		}
		for _, c := range candidates {
			if done != nil && done(c.stage, period) {
				continue
			}
			if at, ok := p.slot(c.day, now, c.until); ok {
				return Item{Stage: c.stage, Period: period, At: at}, true
			}
		}
		period, ok = s.Current(period.End.AddDays(1))
	}
	return Item{}, false
}

// slot is when an email first due on day from goes out, seen at now: the
// reminder time out of quiet hours on that day or a later one, or now when
// that time passed less than CatchUp ago; ok is false when it would fall
// at or after until.
func (p Prefs) slot(from checkin.Date, now, until time.Time) (time.Time, bool) {
	for d := from; ; d = d.AddDays(1) {
		t := p.OutOfQuiet(p.timeOn(d))
		if !t.Before(until) {
			return time.Time{}, false
		}
		if !t.Before(now) {
			return t, true
		}
		if now.Sub(t) <= CatchUp {
			if at := p.OutOfQuiet(now); at.Before(until) {
				return at, true
			}
		}
	}
}

// remindDay is the day of a period on which its reminder goes out: the
// first day a check-in is expected (every day for daily homework, the
// chosen weekdays for weekly homework, the due date for one-off homework),
// or the period's last day if none is.
func remindDay(s checkin.Schedule, p checkin.Period) checkin.Date {
	for d := p.Start; !d.After(p.End); d = d.AddDays(1) {
		if s.ExpectedOn(d) {
			return d
		}
	}
	return p.End
}

// LastPeriod is the schedule's final period (ok false for an invalid
// schedule).
func LastPeriod(s checkin.Schedule) (checkin.Period, bool) {
	if s.Valid() != nil {
		return checkin.Period{}, false
	}
	for d := s.DueOn; !d.Before(s.StartsOn); d = d.AddDays(-1) {
		if p, ok := s.PeriodOn(d); ok {
			return p, true
		}
	}
	return checkin.Period{}, false
}
