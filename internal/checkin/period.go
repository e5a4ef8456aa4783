package checkin

import (
	"fmt"
	"time"
)

// Cadence is how often a client checks in on a piece of homework.
type Cadence string

const (
	Once   Cadence = "once"
	Daily  Cadence = "daily"
	Weekly Cadence = "weekly"
)

// GraceDays is how many days after a period ends a client may still check in
// for it. Such a check-in is marked late. Two days cover a weekend or a
// forgotten evening without letting old periods be filled in from memory
// weeks later, which would make the counselor's trend lines misleading.
const GraceDays = 2

// Schedule is a homework's dates and cadence: everything the periods
// depend on. Periods are ranges of civil dates; they do not depend on any
// timezone. Only "today" does, and it is always the client's today.
//
//   - once: one period, from StartsOn to DueOn.
//   - daily: one period per calendar day from StartsOn to DueOn. If Weekdays
//     is not empty, only those days have a period (e.g. Monday to Friday).
//   - weekly: one period per week. Weeks start on StartsOn's weekday (not on
//     ISO Monday), so the first week is a whole week whatever day the
//     counselor assigned the homework; the last week is cut short at DueOn.
//     Weekdays are the days within a week on which a check-in is expected
//     and reminded; without them, the week's last day is.
type Schedule struct {
	StartsOn Date
	DueOn    Date
	Cadence  Cadence
	Weekdays []int // ISO 1 (Monday) … 7 (Sunday)
}

// ScheduleOf is the schedule of homework as stored: its dates, cadence and
// weekdays (ISO numbers, as in the weekdays column).
func ScheduleOf(starts, due Date, cadence Cadence, weekdays []int64) Schedule {
	s := Schedule{StartsOn: starts, DueOn: due, Cadence: cadence}
	for _, w := range weekdays {
		s.Weekdays = append(s.Weekdays, int(w))
	}
	return s
}

// Period is one stretch of a schedule for which a client checks in once.
// Start and End are both included.
type Period struct {
	Start Date `json:"start"`
	End   Date `json:"end"`
}

// String is "YYYY-MM-DD", or "YYYY-MM-DD–YYYY-MM-DD" for several days.
func (p Period) String() string {
	if p.Start == p.End {
		return p.Start.String()
	}
	return p.Start.String() + "–" + p.End.String()
}

// Label names the period for a person: "Tue 10 Mar", or "Mon 9 – Sun 15
// Mar" (years only when the period is not in one year).
func (p Period) Label() string {
	if p.Start == p.End {
		return p.Start.Format("Mon 2 Jan")
	}
	if p.Start.Year != p.End.Year {
		return p.Start.Format("Mon 2 Jan 2006") + " – " + p.End.Format("Mon 2 Jan 2006")
	}
	if p.Start.Month == p.End.Month {
		return p.Start.Format("Mon 2") + " – " + p.End.Format("Mon 2 Jan")
	}
	return p.Start.Format("Mon 2 Jan") + " – " + p.End.Format("Mon 2 Jan")
}

// Days is the number of calendar days in the period.
func (p Period) Days() int { return p.Start.DaysUntil(p.End) + 1 }

// Contains reports whether d falls within the period.
func (p Period) Contains(d Date) bool { return !d.Before(p.Start) && !d.After(p.End) }

// Started reports whether the period has begun on the client's today.
func (p Period) Started(today Date) bool { return !today.Before(p.Start) }

// Ended reports whether the period is over on the client's today: it ends
// at the end of its last day in the client's timezone.
func (p Period) Ended(today Date) bool { return today.After(p.End) }

// LateUntil is the last day on which a late check-in is accepted.
func (p Period) LateUntil() Date { return p.End.AddDays(GraceDays) }

// Bounds are the instants at which the period begins and ends in loc. They
// are not a whole number of 24 hours when a daylight-saving change falls
// inside the period (a Chicago day in March is 23 hours long).
func (p Period) Bounds(loc *time.Location) (from, until time.Time) {
	return p.Start.StartIn(loc), p.End.AddDays(1).StartIn(loc)
}

// Valid checks a schedule's own consistency.
func (s Schedule) Valid() error {
	switch s.Cadence {
	case Once, Daily, Weekly:
	default:
		return fmt.Errorf("checkin: unknown cadence %q", s.Cadence)
	}
	if s.StartsOn.IsZero() || s.DueOn.IsZero() || s.DueOn.Before(s.StartsOn) {
		return fmt.Errorf("checkin: schedule %s–%s is not a date range", s.StartsOn, s.DueOn)
	}
	for _, w := range s.Weekdays {
		if w < 1 || w > 7 {
			return fmt.Errorf("checkin: weekday %d is not ISO 1..7", w)
		}
	}
	return nil
}

func (s Schedule) hasWeekday(d Date) bool {
	for _, w := range s.Weekdays {
		if w == d.ISOWeekday() {
			return true
		}
	}
	return false
}

// PeriodOn returns the period containing d, if any.
func (s Schedule) PeriodOn(d Date) (Period, bool) {
	if s.Valid() != nil || d.Before(s.StartsOn) || d.After(s.DueOn) {
		return Period{}, false
	}
	switch s.Cadence {
	case Once:
		return Period{s.StartsOn, s.DueOn}, true
	case Daily:
		if len(s.Weekdays) > 0 && !s.hasWeekday(d) {
			return Period{}, false
		}
		return Period{d, d}, true
	default: // Weekly
		week := s.StartsOn.DaysUntil(d) / 7
		start := s.StartsOn.AddDays(7 * week)
		end := start.AddDays(6)
		if end.After(s.DueOn) {
			end = s.DueOn
		}
		return Period{start, end}, true
	}
}

// PeriodStarting returns the period that starts on d, if one does: it is how
// a period named in a form or URL is checked.
func (s Schedule) PeriodStarting(d Date) (Period, bool) {
	p, ok := s.PeriodOn(d)
	if !ok || p.Start != d {
		return Period{}, false
	}
	return p, true
}

// Periods lists every period of the schedule in order.
func (s Schedule) Periods() []Period {
	if s.Valid() != nil {
		return nil
	}
	var out []Period
	for d := s.StartsOn; !d.After(s.DueOn); {
		p, ok := s.PeriodOn(d)
		if ok {
			out = append(out, p)
			d = p.End.AddDays(1)
			continue
		}
		d = d.AddDays(1)
	}
	return out
}

// Current is the period containing today, or else the next one to come
// (ok false when the schedule is over).
func (s Schedule) Current(today Date) (Period, bool) {
	if p, ok := s.PeriodOn(today); ok {
		return p, true
	}
	if s.Valid() != nil || today.After(s.DueOn) {
		return Period{}, false
	}
	for d := today.AddDays(1); !d.After(s.DueOn); d = d.AddDays(1) {
		if d.Before(s.StartsOn) {
			d = s.StartsOn
		}
		if p, ok := s.PeriodOn(d); ok {
			return p, true
		}
	}
	return Period{}, false
}

// LatePeriods are the ended periods that still accept a late check-in on
// today, newest first.
func (s Schedule) LatePeriods(today Date) []Period {
	var out []Period
	for d := today.AddDays(-1); !d.Before(today.AddDays(-1 - GraceDays)); d = d.AddDays(-1) {
		p, ok := s.PeriodOn(d)
		if !ok || !p.Ended(today) || today.After(p.LateUntil()) {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// ExpectedOn reports whether d is a day on which a check-in for its period
// is expected (the day reminders go out): every period day for daily
// homework, the chosen weekdays for weekly homework (the week's last day if
// none were chosen), and the due date for one-off homework.
func (s Schedule) ExpectedOn(d Date) bool {
	p, ok := s.PeriodOn(d)
	if !ok {
		return false
	}
	switch s.Cadence {
	case Daily:
		return true
	case Weekly:
		if len(s.Weekdays) > 0 {
			return s.hasWeekday(d)
		}
		return d == p.End
	default:
		return d == s.DueOn
	}
}

// Timing is when a check-in for a period is sent, relative to the period.
type Timing int

const (
	TooEarly Timing = iota // the period has not started
	OnTime                 // within the period
	Late                   // after the period, within the grace window
	TooLate                // after the grace window
)

// TimingOf classifies a check-in for p made on the client's today.
func TimingOf(p Period, today Date) Timing {
	switch {
	case !p.Started(today):
		return TooEarly
	case !p.Ended(today):
		return OnTime
	case !today.After(p.LateUntil()):
		return Late
	}
	return TooLate
}

// Today is the client's calendar date at the instant now, in their zone.
func Today(now time.Time, tz string) Date { return DateIn(now, LoadZone(tz)) }
