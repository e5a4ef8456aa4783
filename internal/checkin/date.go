package checkin

import (
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
	// Embedded zone database: periods are computed in each client's
	// timezone, and a server without /usr/share/zoneinfo must still know
	// every IANA zone a client can pick.
	_ "time/tzdata"
)

// Date is a civil date: a day on the calendar, with no time and no zone.
// Homework starts and ends on dates, and check-in periods are ranges of
// dates, so that "Tuesday" means Tuesday wherever the client lives and
// whatever daylight-saving time does to the length of that day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is how a Date is written in URLs, forms and SQL.
const dateLayout = "2006-01-02"

// D builds a Date, normalising out-of-range days (Jan 32 → Feb 1).
func D(year int, month time.Month, day int) Date {
	return dateOfTime(time.Date(year, month, day, 12, 0, 0, 0, time.UTC))
}

func dateOfTime(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// DateIn is the calendar date of the instant t as seen in loc.
func DateIn(t time.Time, loc *time.Location) Date { return dateOfTime(t.In(loc)) }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("checkin: bad date %q", s)
	}
	return dateOfTime(t), nil
}

// noon is the date as an instant at noon UTC: far from any day boundary, so
// arithmetic on it never slips into a neighbouring day.
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// String is YYYY-MM-DD.
func (d Date) String() string { return d.noon().Format(dateLayout) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n calendar days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return dateOfTime(d.noon().AddDate(0, 0, n)) }

// DaysUntil is the number of calendar days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int { return int(e.noon().Sub(d.noon()).Hours() / 24) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.noon().Before(e.noon()) }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.noon().After(e.noon()) }

// ISOWeekday is 1 for Monday … 7 for Sunday.
func (d Date) ISOWeekday() int {
	w := int(d.noon().Weekday())
	if w == 0 {
		return 7
	}
	return w
}

// Weekday is the day's name, e.g. "Tuesday".
func (d Date) Weekday() time.Weekday { return d.noon().Weekday() }

// Format formats the date with a time layout (e.g. "Mon 2 Jan").
func (d Date) Format(layout string) string { return d.noon().Format(layout) }

// StartIn is the first instant of the date in loc: local midnight, or, on
// the rare days when a daylight-saving change skips midnight itself (as in
// São Paulo before 2019), the moment the clocks jump forward.
func (d Date) StartIn(loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if DateIn(t, loc).Before(d) {
		// time.Date resolved the missing midnight to the evening before;
		// the day begins where that zone period ends.
		_, end := t.ZoneBounds()
		t = end
	}
	return t
}

// Value stores a Date in a PostgreSQL date column.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a PostgreSQL date column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		// lib/pq gives a date as midnight in a fixed zone: its Y-M-D is the date.
		*d = Date{Year: v.Year(), Month: v.Month(), Day: v.Day()}
		return nil
	case []byte:
		p, err := ParseDate(string(v))
		*d = p
		return err
	case string:
		p, err := ParseDate(v)
		*d = p
		return err
	}
	return fmt.Errorf("checkin: cannot scan %T into Date", src)
}

// NullDate is a Date that may be NULL (a date column without NOT NULL).
type NullDate struct {
	Date
	Valid bool
}

// Scan reads a PostgreSQL date column that may be NULL.
func (n *NullDate) Scan(src any) error {
	if src == nil {
		*n = NullDate{}
		return nil
	}
	n.Valid = true
	return n.Date.Scan(src)
}

// Value stores a NullDate (NULL when not Valid).
func (n NullDate) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return n.Date.String(), nil
}

// MarshalText lets a Date travel in JSON and forms as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	*d = p
	return err
}

// LoadZone returns the IANA zone named tz, or UTC when the name is empty or
// unknown: a stored zone that has since disappeared must not break pages.
func LoadZone(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := loadZone(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// zones keeps each zone once loaded. time.LoadLocation reads and parses
// the zone's file on every call, and pages, reminders and exports ask for
// the same few zones for every date they show (a dashboard of 150 pairs
// asked hundreds of times per request). A Location never changes once
// loaded, so one table for the whole process is safe; it holds at most the
// zones the IANA database names (about 600).
var zones sync.Map // string → *time.Location

func loadZone(tz string) (*time.Location, error) {
	if loc, ok := zones.Load(tz); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	zones.Store(tz, loc)
	return loc, nil
}

// ValidZone reports whether tz is an IANA zone name a person may choose.
// "Local" is refused: it means the server's zone, not the client's.
func ValidZone(tz string) bool {
	if tz == "" || tz == "Local" || len(tz) > 64 {
		return false
	}
	_, err := loadZone(tz)
	return err == nil
}
