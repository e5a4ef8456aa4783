package mend

import "time"

// Clock is the time a store or service reads, embedded in it: tests set
// Now to a clock of their own; nil means time.Now.
type Clock struct {
	Now func() time.Time
}

// Time is the clock's time now.
func (c Clock) Time() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
