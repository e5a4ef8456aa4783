package reminder_test

import (
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/reminder"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func local(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func daily(from, to checkin.Date) checkin.Schedule {
	return checkin.Schedule{StartsOn: from, DueOn: to, Cadence: checkin.Daily}
}

// doneSet marks stages of periods (by first day) as sent or checked in.
type doneSet map[string]bool

func (d doneSet) fn() reminder.Done {
	return func(s reminder.Stage, p checkin.Period) bool {
		return d[s.String()+p.Start.String()] || d["checkin"+p.Start.String()]
	}
}

func wantItem(t *testing.T, got reminder.Item, ok bool, stage reminder.Stage, period checkin.Date, at time.Time) {
	t.Helper()
	if !ok {
		t.Fatalf("no item, want %s for %s at %s", stage, period, at)
	}
	if got.Stage != stage || got.Period.Start != period || !got.At.Equal(at) {
		t.Fatalf("got %s for %s at %s, want %s for %s at %s",
			got.Stage, got.Period.Start, got.At.In(at.Location()), stage, period, at)
	}
}

func TestNextReminderAtTheClientsTimeInTheirZone(t *testing.T) {
	chicago, auckland := zone(t, "America/Chicago"), zone(t, "Pacific/Auckland")
	sch := daily(checkin.D(2026, 3, 9), checkin.D(2026, 3, 20))
	// The same instant is Tuesday morning in Chicago and Wednesday night in
	// Auckland.
	now := local(chicago, 2026, 3, 10, 9, 0)

	got, ok := reminder.Next(sch, reminder.Prefs{Zone: chicago, Minute: 18 * 60}, now, nil)
	// Monday's period ended; its reminder window is over and its nudge is
	// due at 18:00 today, the same moment as Tuesday's reminder — Monday's
	// nudge comes first.
	wantItem(t, got, ok, reminder.Nudge, checkin.D(2026, 3, 9), local(chicago, 2026, 3, 10, 18, 0))
	got, ok = reminder.Next(sch, reminder.Prefs{Zone: chicago, Minute: 18 * 60}, now, doneSet{"checkin2026-03-09": true}.fn())
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 10), local(chicago, 2026, 3, 10, 18, 0))

	// In Auckland it is already 03:00 on Wednesday: with Monday and Tuesday
	// checked in, Wednesday's reminder at 18:00 Auckland time is next.
	prefs := reminder.Prefs{Zone: auckland, Minute: 18 * 60}
	done := doneSet{"checkin2026-03-09": true, "checkin2026-03-10": true}.fn()
	got, ok = reminder.Next(sch, prefs, now, done)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 11), local(auckland, 2026, 3, 11, 18, 0))
}

func TestNextCatchesUpBrieflyThenWaitsForTheReminderTime(t *testing.T) {
	chicago := zone(t, "America/Chicago")
	p := reminder.Prefs{Zone: chicago, Minute: 18 * 60}
	sch := daily(checkin.D(2026, 3, 10), checkin.D(2026, 3, 20))
	// Homework given (or the worker back) an hour and a half after the
	// reminder time: now.
	now := local(chicago, 2026, 3, 10, 19, 30)
	got, ok := reminder.Next(sch, p, now, nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 10), now)
	// Later than the catch-up window: no reminder for a day that is nearly
	// over; the nudge comes at tomorrow's reminder time.
	got, ok = reminder.Next(sch, p, local(chicago, 2026, 3, 10, 20, 15), nil)
	wantItem(t, got, ok, reminder.Nudge, checkin.D(2026, 3, 10), local(chicago, 2026, 3, 11, 18, 0))
	// A weekly period's reminder missed by days comes at the reminder time
	// of a following day of that week, not in the middle of the night.
	weekly := checkin.Schedule{StartsOn: checkin.D(2026, 3, 2), DueOn: checkin.D(2026, 3, 29), Cadence: checkin.Weekly, Weekdays: []int{1}}
	got, ok = reminder.Next(weekly, p, local(chicago, 2026, 3, 4, 3, 30), nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 2), local(chicago, 2026, 3, 4, 18, 0))
}

func TestNextShiftsOutOfQuietHours(t *testing.T) {
	auckland := zone(t, "Pacific/Auckland")
	sch := daily(checkin.D(2026, 3, 10), checkin.D(2026, 3, 20))
	now := local(auckland, 2026, 3, 10, 8, 0)

	// Reminder at 18:00, quiet 17:30–19:15: at 19:15.
	p := reminder.Prefs{Zone: auckland, Minute: 18 * 60, Quiet: true, QuietStart: 17*60 + 30, QuietEnd: 19*60 + 15}
	got, ok := reminder.Next(sch, p, now, nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 10), local(auckland, 2026, 3, 10, 19, 15))

	// Quiet hours across midnight, 21:00–07:00, reminder at 06:00: 07:00.
	p = reminder.Prefs{Zone: auckland, Minute: 6 * 60, Quiet: true, QuietStart: 21 * 60, QuietEnd: 7 * 60}
	got, ok = reminder.Next(sch, p, local(auckland, 2026, 3, 10, 5, 0), nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 10), local(auckland, 2026, 3, 10, 7, 0))

	// A reminder at 23:00 inside 22:00–07:00 would move to 07:00 the next
	// day, after its one-day period: no reminder, and the nudge (23:00 the
	// day after, moved to 07:00 the day after that) is next.
	p = reminder.Prefs{Zone: auckland, Minute: 23 * 60, Quiet: true, QuietStart: 22 * 60, QuietEnd: 7 * 60}
	got, ok = reminder.Next(sch, p, now, nil)
	wantItem(t, got, ok, reminder.Nudge, checkin.D(2026, 3, 10), local(auckland, 2026, 3, 12, 7, 0))

	// Catching up inside quiet hours (the worker was down at 20:30): not
	// before they end, which is after the day's period — the nudge is next.
	p = reminder.Prefs{Zone: auckland, Minute: 20*60 + 30, Quiet: true, QuietStart: 21 * 60, QuietEnd: 7 * 60}
	got, ok = reminder.Next(sch, p, local(auckland, 2026, 3, 10, 21, 15), nil)
	wantItem(t, got, ok, reminder.Nudge, checkin.D(2026, 3, 10), local(auckland, 2026, 3, 11, 20, 30))
}

func TestNextNudgeOnceThenNothingForThatPeriod(t *testing.T) {
	chicago := zone(t, "America/Chicago")
	sch := checkin.Schedule{StartsOn: checkin.D(2026, 3, 2), DueOn: checkin.D(2026, 3, 8), Cadence: checkin.Once}
	p := reminder.Prefs{Zone: chicago, Minute: 9 * 60}
	// One-off homework: reminded on its due date.
	got, ok := reminder.Next(sch, p, local(chicago, 2026, 3, 3, 12, 0), nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 2), local(chicago, 2026, 3, 8, 9, 0))
	done := doneSet{"reminder2026-03-02": true}
	got, ok = reminder.Next(sch, p, local(chicago, 2026, 3, 8, 9, 1), done.fn())
	wantItem(t, got, ok, reminder.Nudge, checkin.D(2026, 3, 2), local(chicago, 2026, 3, 9, 9, 0))
	done["nudge2026-03-02"] = true
	if got, ok := reminder.Next(sch, p, local(chicago, 2026, 3, 9, 9, 1), done.fn()); ok {
		t.Fatalf("after the nudge: %+v", got)
	}
	// Never nudged (the worker was down for days): nothing once the late
	// window (2 days after the period) has closed.
	if got, ok := reminder.Next(sch, p, local(chicago, 2026, 3, 11, 0, 0), doneSet{}.fn()); ok {
		t.Fatalf("after the grace window: %+v", got)
	}
}

func TestNextWeeklyOnTheChosenWeekday(t *testing.T) {
	chicago := zone(t, "America/Chicago")
	// Weeks from Monday 2 March; check-ins expected on Thursdays.
	sch := checkin.Schedule{StartsOn: checkin.D(2026, 3, 2), DueOn: checkin.D(2026, 3, 29), Cadence: checkin.Weekly, Weekdays: []int{4}}
	p := reminder.Prefs{Zone: chicago, Minute: 19 * 60}
	got, ok := reminder.Next(sch, p, local(chicago, 2026, 3, 2, 8, 0), nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 2), local(chicago, 2026, 3, 5, 19, 0))
	// Checked in: the nudge is skipped and the next week's Thursday is next.
	got, ok = reminder.Next(sch, p, local(chicago, 2026, 3, 5, 19, 1), doneSet{"checkin2026-03-02": true}.fn())
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 9), local(chicago, 2026, 3, 12, 19, 0))
}

func TestNextAcrossDaylightSaving(t *testing.T) {
	chicago := zone(t, "America/Chicago")
	// 8 March 2026: Chicago's clocks jump from 02:00 to 03:00.
	sch := daily(checkin.D(2026, 3, 7), checkin.D(2026, 3, 9))
	p := reminder.Prefs{Zone: chicago, Minute: 2*60 + 30}
	got, ok := reminder.Next(sch, p, local(chicago, 2026, 3, 8, 0, 30), doneSet{"checkin2026-03-07": true}.fn())
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 8), time.Date(2026, 3, 8, 8, 30, 0, 0, time.UTC)) // 03:30 CDT
	// 18:00 local is 00:00 UTC before the change and 23:00 UTC after it.
	p.Minute = 18 * 60
	got, ok = reminder.Next(sch, p, local(chicago, 2026, 3, 7, 12, 0), nil)
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 7), time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC))
	got, ok = reminder.Next(sch, p, local(chicago, 2026, 3, 8, 12, 0), doneSet{"checkin2026-03-07": true}.fn())
	wantItem(t, got, ok, reminder.Remind, checkin.D(2026, 3, 8), time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC))
}

func TestLastPeriod(t *testing.T) {
	sch := checkin.Schedule{StartsOn: checkin.D(2026, 3, 2), DueOn: checkin.D(2026, 3, 13), Cadence: checkin.Daily, Weekdays: []int{1, 3}}
	p, ok := reminder.LastPeriod(sch)
	if !ok || p.Start != checkin.D(2026, 3, 11) {
		t.Fatalf("last period %v %v, want Wednesday 11 March", p, ok)
	}
}
