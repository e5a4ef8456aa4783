package review

import "fmt"

// The attention rules. Each looks at data the dashboard has already read
// in bulk, so that deciding costs no query.

// FallWindow is how many of a member's latest check-ins the trust trend
// looks at, and FallMin how far trust must have dropped over them.
const (
	FallWindow = 3
	FallMin    = 2
)

// DivergeMin is the gap between the partners' latest ratings that needs
// the counselor's attention.
const DivergeMin = 3

// Falling reports whether trust, given latest first, fell over the last
// FallWindow check-ins: it never rose from one check-in to the next and the
// latest is at least FallMin below the earliest. (A single dip of one point
// is noise; 7, 6, 5 or 7, 7, 5 is a trend.)
func Falling(trustLatestFirst []int) bool {
	if len(trustLatestFirst) < FallWindow {
		return false
	}
	t := trustLatestFirst[:FallWindow]
	for i := 0; i+1 < len(t); i++ {
		if t[i] > t[i+1] {
			return false
		}
	}
	return t[len(t)-1]-t[0] >= FallMin
}

// Ratings are one check-in's three ratings.
type Ratings struct {
	Trust, Communication, Hope int
}

// Gap is one rating on which the partners differ by DivergeMin or more.
type Gap struct {
	Rating string // "trust", "communication" or "hope"
	A, B   int
}

func (g Gap) String() string { return fmt.Sprintf("%s %d vs %d", g.Rating, g.A, g.B) }

// Diverging returns the ratings on which a and b, the partners' latest
// check-ins, are DivergeMin or more apart (none: not diverging).
func Diverging(a, b Ratings) []Gap {
	var out []Gap
	for _, r := range []struct {
		name string
		a, b int
	}{{"trust", a.Trust, b.Trust}, {"communication", a.Communication, b.Communication}, {"hope", a.Hope, b.Hope}} {
		if d := r.a - r.b; d >= DivergeMin || -d >= DivergeMin {
			out = append(out, Gap{Rating: r.name, A: r.a, B: r.b})
		}
	}
	return out
}
