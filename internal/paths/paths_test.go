package paths_test

import (
	"testing"

	"github.com/mend-practice/mend/internal/paths"
)

func TestPathsAndLinks(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{paths.To("pairs", int64(12)), "/pairs/12"},
		{paths.To("admin", "measures", 3), "/admin/measures/3"},
		{paths.Link("https://mend.example/", "review", "checkins", int64(5)), "https://mend.example/review/checkins/5"},
		{paths.Link("https://mend.example", "dashboard"), "https://mend.example/dashboard"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
