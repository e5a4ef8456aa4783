package checkin

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestPeriodsPerCadence(t *testing.T) {
	start, due := D(2026, 3, 4), D(2026, 3, 20) // a Wednesday to a Friday
	cases := []struct {
		name  string
		s     Schedule
		first Period
		last  Period
		count int
	}{
		{"once is one period from start to due", Schedule{start, due, Once, nil},
			Period{start, due}, Period{start, due}, 1},
		{"daily is one period per calendar day", Schedule{start, due, Daily, nil},
			Period{start, start}, Period{due, due}, 17},
		{"daily with weekdays has periods on those days only", Schedule{start, due, Daily, []int{1, 3, 5}},
			Period{start, start}, Period{due, due}, 8}, // Wed 4, Fri 6, Mon 9, Wed 11, Fri 13, Mon 16, Wed 18, Fri 20
		{"weekly weeks start on the start date's weekday; the last is cut at due", Schedule{start, due, Weekly, []int{7}},
			Period{start, D(2026, 3, 10)}, Period{D(2026, 3, 18), due}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := tc.s.Periods()
			if len(ps) != tc.count {
				t.Fatalf("got %d periods %v, want %d", len(ps), ps, tc.count)
			}
			if ps[0] != tc.first || ps[len(ps)-1] != tc.last {
				t.Errorf("periods run %v … %v, want %v … %v", ps[0], ps[len(ps)-1], tc.first, tc.last)
			}
			// Periods never overlap and each is found again by its start.
			for i, p := range ps {
				if i > 0 && !ps[i-1].End.Before(p.Start) {
					t.Errorf("period %v overlaps %v", p, ps[i-1])
				}
				if got, ok := tc.s.PeriodStarting(p.Start); !ok || got != p {
					t.Errorf("PeriodStarting(%s) = %v, %v", p.Start, got, ok)
				}
			}
		})
	}
	// A date inside a weekly period does not name a period.
	w := Schedule{start, due, Weekly, nil}
	if _, ok := w.PeriodStarting(D(2026, 3, 5)); ok {
		t.Error("a mid-week day was accepted as a period start")
	}
	if _, ok := w.PeriodOn(D(2026, 3, 21)); ok {
		t.Error("a day after the due date has a period")
	}
	if _, ok := w.PeriodOn(D(2026, 3, 3)); ok {
		t.Error("a day before the start has a period")
	}
}

func TestExpectedDays(t *testing.T) {
	start, due := D(2026, 3, 4), D(2026, 3, 20)
	weekly := Schedule{start, due, Weekly, []int{1, 4}} // Mondays and Thursdays
	for d, want := range map[Date]bool{
		D(2026, 3, 5): true, D(2026, 3, 9): true, D(2026, 3, 6): false, D(2026, 3, 10): false,
	} {
		if got := weekly.ExpectedOn(d); got != want {
			t.Errorf("weekly Mon+Thu ExpectedOn(%s %s) = %v", d.Weekday(), d, got)
		}
	}
	plain := Schedule{start, due, Weekly, nil}
	if !plain.ExpectedOn(D(2026, 3, 10)) || plain.ExpectedOn(D(2026, 3, 9)) {
		t.Error("weekly homework without weekdays should be expected on the week's last day only")
	}
	once := Schedule{start, due, Once, nil}
	if !once.ExpectedOn(due) || once.ExpectedOn(start) {
		t.Error("one-off homework is expected on its due date")
	}
}

func TestCurrentAndLatePeriods(t *testing.T) {
	s := Schedule{D(2026, 3, 2), D(2026, 3, 29), Weekly, nil} // Mondays
	if p, ok := s.Current(D(2026, 2, 20)); !ok || p.Start != D(2026, 3, 2) {
		t.Errorf("before the start, Current is the first period; got %v %v", p, ok)
	}
	if p, ok := s.Current(D(2026, 3, 11)); !ok || p != (Period{D(2026, 3, 9), D(2026, 3, 15)}) {
		t.Errorf("Current mid-week = %v %v", p, ok)
	}
	if _, ok := s.Current(D(2026, 3, 30)); ok {
		t.Error("a schedule that is over has no current period")
	}
	// Tuesday after the first week: that week still takes a late check-in.
	late := s.LatePeriods(D(2026, 3, 10))
	if len(late) != 1 || late[0] != (Period{D(2026, 3, 2), D(2026, 3, 8)}) {
		t.Errorf("LatePeriods on Tuesday = %v", late)
	}
	// Daily: yesterday and the day before are late-able, not three days ago.
	d := Schedule{D(2026, 3, 2), D(2026, 3, 29), Daily, nil}
	late = d.LatePeriods(D(2026, 3, 10))
	if len(late) != 2 || late[0].Start != D(2026, 3, 9) || late[1].Start != D(2026, 3, 8) {
		t.Errorf("daily LatePeriods = %v", late)
	}
}

func TestTimingAndGraceWindow(t *testing.T) {
	p := Period{D(2026, 3, 9), D(2026, 3, 15)}
	for today, want := range map[Date]Timing{
		D(2026, 3, 8):  TooEarly,
		D(2026, 3, 9):  OnTime,
		D(2026, 3, 15): OnTime,
		D(2026, 3, 16): Late,
		D(2026, 3, 17): Late, // GraceDays = 2
		D(2026, 3, 18): TooLate,
	} {
		if got := TimingOf(p, today); got != want {
			t.Errorf("TimingOf(%v, %s) = %v, want %v", p, today, got, want)
		}
	}
}

// The client's today decides whether a period has ended. At the same
// instant a client in Auckland is already a day ahead of one in UTC.
func TestTodayIsTheClientsToday(t *testing.T) {
	instant := time.Date(2026, 1, 10, 12, 30, 0, 0, time.UTC) // 01:30 on the 11th in Auckland (NZDT, +13)
	if got := Today(instant, "Pacific/Auckland"); got != D(2026, 1, 11) {
		t.Errorf("Auckland today = %s", got)
	}
	if got := Today(instant, "UTC"); got != D(2026, 1, 10) {
		t.Errorf("UTC today = %s", got)
	}
	if got := Today(instant, "America/Chicago"); got != D(2026, 1, 10) {
		t.Errorf("Chicago today = %s", got)
	}
	day := Period{D(2026, 1, 10), D(2026, 1, 10)}
	if !day.Ended(Today(instant, "Pacific/Auckland")) {
		t.Error("for the Auckland client, the 10th has ended")
	}
	if day.Ended(Today(instant, "UTC")) {
		t.Error("for a UTC client, the 10th is still going")
	}
	if TimingOf(day, Today(instant, "Pacific/Auckland")) != Late {
		t.Error("an Auckland check-in for the 10th at this instant is late")
	}
	// An unknown or empty zone falls back to UTC rather than failing.
	if got := Today(instant, "Not/AZone"); got != D(2026, 1, 10) {
		t.Errorf("unknown zone today = %s", got)
	}
}

// Daylight-saving changes make some local days 23 or 25 hours long. Periods
// are calendar dates, so they still start and end at local midnight, and the
// client's today flips at local midnight, not 24 hours after the last one.
func TestPeriodsAcrossDaylightSaving(t *testing.T) {
	cases := []struct {
		zone    string
		day     Date
		hours   float64
		startAt time.Time // local midnight, in UTC
	}{
		{"America/Chicago", D(2026, 3, 8), 23, time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)},   // CST → CDT
		{"America/Chicago", D(2026, 11, 1), 25, time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC)}, // CDT → CST
		{"Europe/London", D(2026, 3, 29), 23, time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},   // GMT → BST
		{"Europe/London", D(2026, 10, 25), 25, time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC)},
		{"Pacific/Auckland", D(2026, 4, 5), 25, time.Date(2026, 4, 4, 11, 0, 0, 0, time.UTC)},   // NZDT → NZST
		{"Pacific/Auckland", D(2026, 9, 27), 23, time.Date(2026, 9, 26, 12, 0, 0, 0, time.UTC)}, // NZST → NZDT
		// São Paulo once moved its clocks at midnight: that day began at 01:00.
		{"America/Sao_Paulo", D(2018, 11, 4), 23, time.Date(2018, 11, 4, 3, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.zone+" "+tc.day.String(), func(t *testing.T) {
			loc := mustZone(t, tc.zone)
			s := Schedule{tc.day.AddDays(-3), tc.day.AddDays(3), Daily, nil}
			p, ok := s.PeriodOn(tc.day)
			if !ok || p != (Period{tc.day, tc.day}) {
				t.Fatalf("PeriodOn(%s) = %v, %v", tc.day, p, ok)
			}
			from, until := p.Bounds(loc)
			if !from.Equal(tc.startAt) {
				t.Errorf("period starts at %s, want %s", from.UTC(), tc.startAt)
			}
			if h := until.Sub(from).Hours(); h != tc.hours {
				t.Errorf("period lasts %vh, want %vh", h, tc.hours)
			}
			// One second before the end it is still that day for the client;
			// at the end it is the next day and the period has ended.
			if got := DateIn(until.Add(-time.Second), loc); got != tc.day || p.Ended(got) {
				t.Errorf("a second before the end, today is %s (ended %v)", got, p.Ended(got))
			}
			if got := DateIn(until, loc); got != tc.day.AddDays(1) || !p.Ended(got) {
				t.Errorf("at the end, today is %s (ended %v)", got, p.Ended(got))
			}
			// The periods either side are whole days too: no gap, no overlap.
			prev, _ := s.PeriodOn(tc.day.AddDays(-1))
			_, prevUntil := prev.Bounds(loc)
			if !prevUntil.Equal(from) {
				t.Errorf("previous day ends at %s, this one starts at %s", prevUntil, from)
			}
		})
	}

	// A weekly period spanning the Chicago spring change is an hour short
	// of seven days, and the late window still closes at local midnight.
	chicago := mustZone(t, "America/Chicago")
	w := Schedule{D(2026, 3, 5), D(2026, 3, 25), Weekly, nil}
	p, _ := w.PeriodOn(D(2026, 3, 8))
	if p != (Period{D(2026, 3, 5), D(2026, 3, 11)}) {
		t.Fatalf("weekly period = %v", p)
	}
	from, until := p.Bounds(chicago)
	if h := until.Sub(from).Hours(); h != 7*24-1 {
		t.Errorf("weekly period over the spring change lasts %vh", h)
	}
	lateEnd := p.LateUntil().AddDays(1).StartIn(chicago)
	if TimingOf(p, DateIn(lateEnd.Add(-time.Minute), chicago)) != Late {
		t.Error("a minute before the grace window closes, a check-in is late, not refused")
	}
	if TimingOf(p, DateIn(lateEnd, chicago)) != TooLate {
		t.Error("once the grace window closes, a check-in is refused")
	}
}

func TestDateBasics(t *testing.T) {
	d, err := ParseDate("2024-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if d.AddDays(1) != D(2024, 2, 29) || d.AddDays(2) != D(2024, 3, 1) {
		t.Error("leap day arithmetic")
	}
	if D(2026, 1, 5).ISOWeekday() != 1 || D(2026, 1, 11).ISOWeekday() != 7 {
		t.Error("ISO weekdays")
	}
	if _, err := ParseDate("2024-02-30"); err == nil {
		t.Error("an impossible date parsed")
	}
	var s Date
	if err := s.Scan(time.Date(2026, 3, 8, 0, 0, 0, 0, time.FixedZone("", -6*3600))); err != nil || s != D(2026, 3, 8) {
		t.Errorf("Scan = %v, %v", s, err)
	}
	if ValidZone("Local") || ValidZone("") || ValidZone("Mars/Olympus") || !ValidZone("Pacific/Auckland") {
		t.Error("ValidZone")
	}
}
