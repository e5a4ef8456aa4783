package web

import "testing"

func TestPathToJoinsSegments(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{pathTo("pairs", int64(12)), "/pairs/12"},
		{pathTo("pairs", int64(12), "homework"), "/pairs/12/homework"},
		{pathTo("admin", "measures", 3), "/admin/measures/3"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
