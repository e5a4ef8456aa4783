package web_test

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// crawlSkip are links the crawl does not follow: downloads, the neutral
// page of the quick exit (another site), and what would change state.
var crawlSkip = regexp.MustCompile(`\.(csv|pdf)$|^/static/|^/logout|^/unsubscribe/|^/invite/|^/password/reset/`)

// routeOf is a path with its ids replaced, so that one page per route is
// visited (the demo has many homework, steps and check-ins of each kind).
var routeIDs = regexp.MustCompile(`/\d+`)

// TestEveryPageFitsAPhoneAndPassesAxe signs in as each demo role on a
// 375 px phone, follows every link reachable from the role's home (one
// page per route, query strings included once per route), and checks on
// each page that it does not scroll sideways and that axe-core finds no
// serious or critical violation. One browser serves all roles; axe runs
// once per route (a page two roles share is one template), the width is
// checked on every page.
func TestEveryPageFitsAPhoneAndPassesAxe(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	axed := map[string]bool{}
	for _, email := range []string{
		"admin@northside.example", "counselor1@northside.example",
		"client1a@northside.example", "client1b@northside.example",
	} {
		t.Run(strings.Split(email, "@")[0], func(t *testing.T) {
			crawlPhone(t, env, email, axed)
		})
	}
}

func crawlPhone(t *testing.T, env *webtest.Env, email string, axed map[string]bool) {
	tab := signInPhone(t, env, email)
	base, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	shots := os.Getenv("MEND_SCREENSHOTS") != ""
	seen := map[string]bool{}
	queue := []string{tab.Path()}
	visited := 0
	for len(queue) > 0 {
		page := queue[0]
		queue = queue[1:]
		if status := tab.Go(page); status != http.StatusOK {
			t.Errorf("%s: status %d", page, status)
			continue
		}
		visited++
		if w := tab.ScrollWidth(); w > phoneWidth {
			t.Errorf("%s is %d px wide on a %d px phone", page, w, phoneWidth)
		}
		if route := routeIDs.ReplaceAllString(page, "/:id"); !axed[route] {
			axed[route] = true
			for _, v := range tab.SeriousAxe() {
				t.Errorf("%s: axe: %s", page, v)
			}
		}
		if shots {
			name := routeIDs.ReplaceAllString(page, "/n")
			tab.Screenshot(name + "-375")
			if strings.HasPrefix(email, "client") { // people look at the clients' pages wide too
				tab.SetViewport(1280, 900)
				tab.Screenshot(name + "-1280")
				tab.SetPhone()
			}
		}
		for _, link := range tab.Links() {
			u, err := url.Parse(link)
			if err != nil || u.Host != base.Host || crawlSkip.MatchString(u.Path) {
				continue
			}
			key := routeIDs.ReplaceAllString(u.Path, "/:id")
			if u.RawQuery != "" {
				key += "?" + strings.Join(sortedKeys(u.Query()), "&")
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			target := u.Path
			if u.RawQuery != "" {
				target += "?" + u.RawQuery
			}
			queue = append(queue, target)
		}
	}
	t.Logf("%s: %d pages checked at %d px in %s", email, visited, phoneWidth, time.Since(start).Round(time.Millisecond))
	if visited < 4 {
		t.Errorf("only %d pages reachable: the crawl is not finding the links", visited)
	}
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
