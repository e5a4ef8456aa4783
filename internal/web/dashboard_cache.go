package web

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

// dashboardCache keeps each counselor's rendered dashboard body with the
// stamp (data version and 15-minute slot) it was read at. An entry is used
// only by the counselor it was rendered for, only while their stamp and
// timezone are unchanged, so it is never staler than a fresh read: any
// change the dashboard shows moves the stamp in the writing transaction
// (migration 00060). Each process has its own; the stamp makes them agree.
// The least recently used entries go first once Size is reached, and an
// entry found out of date is dropped at once.
type dashboardCache struct {
	lru *lru.Cache[int64, dashboardEntry]
}

type dashboardEntry struct {
	stamp    review.Stamp
	timezone string // the counselor's: dates on the dashboard are in it
	counts   review.Counts
	body     []byte // HTML, written into the page by renderAround; never changed
}

// newDashboardCache keeps at most size dashboards (0: keep none).
func newDashboardCache(size int) (*dashboardCache, error) {
	if size <= 0 {
		return &dashboardCache{}, nil
	}
	c, err := lru.New[int64, dashboardEntry](size)
	if err != nil {
		return nil, err
	}
	return &dashboardCache{lru: c}, nil
}

// get returns the counselor's kept dashboard if it was read at stamp.
func (c *dashboardCache) get(sc mend.Scope, stamp review.Stamp) (dashboardEntry, bool) {
	if c.lru == nil {
		return dashboardEntry{}, false
	}
	e, ok := c.lru.Get(sc.UserID)
	if !ok {
		return e, false
	}
	if e.stamp != stamp || e.timezone != sc.Timezone {
		c.lru.Remove(sc.UserID)
		return dashboardEntry{}, false
	}
	return e, true
}

func (c *dashboardCache) put(sc mend.Scope, e dashboardEntry) {
	if c.lru != nil {
		c.lru.Add(sc.UserID, e)
	}
}
