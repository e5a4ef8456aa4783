package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// crawlSkip are links the crawl does not follow: downloads (CSV, PDF, JSON), the neutral
// page of the quick exit (another site), and what would change state.
var crawlSkip = regexp.MustCompile(`\.(csv|pdf|json)$|^/static/|^/logout|^/unsubscribe/|^/invite/|^/password/reset/`)

// routeOf is a path with its ids replaced, so that one page per route is
// visited (the demo has many homework, steps and check-ins of each kind).
var routeIDs = regexp.MustCompile(`/\d+`)

// TestEveryPageFitsAPhoneAndPassesAxe signs in as each demo role on a
// 375 px phone, follows every link reachable from the role's home (one
// page per route, query strings included once per route), and checks on
// each page that it does not scroll sideways and that axe-core finds no
// serious or critical violation and no heading that skips a level
// (heading-order). Links do not reach every page a person sees, so each
// role also submits forms with bad input (the pages that show errors
// beside the fields), and a client sends a check-in with the safety answer
// (the care page after it) and opens it to edit. One browser serves all
// roles; axe runs once per route (a page two roles share is one
// template), the width is checked on every page.
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

// crawlCheck checks the page the tab shows: no sideways scroll, and (once
// per route) axe-core's serious and critical rules and heading order.
func crawlCheck(t *testing.T, tab *browsertest.Tab, email, page string, axed map[string]bool) {
	t.Helper()
	if w := tab.ScrollWidth(); w > phoneWidth {
		t.Errorf("%s is %d px wide on a %d px phone", page, w, phoneWidth)
	}
	if route := routeIDs.ReplaceAllString(page, "/:id"); !axed[route] {
		axed[route] = true
		for _, v := range tab.Axe() {
			if v.Impact == "serious" || v.Impact == "critical" || v.ID == "heading-order" {
				t.Errorf("%s: axe: %s", page, v)
			}
		}
	}
	if os.Getenv("MEND_SCREENSHOTS") != "" {
		name := strings.NewReplacer("?", "-", "&", "-", "=", "-").Replace(routeIDs.ReplaceAllString(page, "/n"))
		tab.Screenshot(name + "-375")
		if strings.HasPrefix(email, "client") { // people look at the clients' pages wide too
			tab.SetViewport(1280, 900)
			tab.Screenshot(name + "-1280")
			tab.SetPhone()
		}
	}
}

func crawlPhone(t *testing.T, env *webtest.Env, email string, axed map[string]bool) {
	tab := signInPhone(t, env, email)
	base, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
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
		crawlCheck(t, tab, email, page, axed)
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
	forms := crawlForms(t, env, tab, email, axed)
	t.Logf("%s: %d pages and %d form pages checked at %d px in %s", email, visited, forms, phoneWidth, time.Since(start).Round(time.Millisecond))
	if visited < 4 {
		t.Errorf("only %d pages reachable: the crawl is not finding the links", visited)
	}
}

// crawlForms visits the pages no link leads to: forms sent with bad input
// (errors beside the fields, what was typed kept), and for a client the
// care page after a safety answer and the check-in's edit page. It
// returns how many pages it checked.
func crawlForms(t *testing.T, env *webtest.Env, tab *browsertest.Tab, email string, axed map[string]bool) int {
	t.Helper()
	n := 0
	// sendBad opens page, lets prepare spoil the form (nil: send it as it
	// is), presses button and checks the page that comes back with errors.
	sendBad := func(page, prepare, button, name string) {
		t.Helper()
		if status := tab.Go(page); status != http.StatusOK {
			t.Errorf("%s: status %d", page, status)
			return
		}
		if prepare != "" {
			tab.Eval(prepare)
		}
		if status := tab.Click(button); status != http.StatusUnprocessableEntity {
			t.Errorf("%s with bad input: status %d, want 422", page, status)
			return
		}
		n++
		crawlCheck(t, tab, email, name, axed)
	}
	pastDate := func(days int) string {
		return `document.querySelector("[name=starts_on]").value = "` +
			practiceToday(t, env, email).AddDate(0, 0, days).Format("2006-01-02") + `"`
	}
	switch email {
	case "admin@northside.example":
		sendBad("/admin", "", "Create invitation", "/admin?form-error")
		sendBad("/account/password", "", "Change password", "/account/password?form-error")
	case "counselor1@northside.example":
		pair := strconv.FormatInt(env.PairOf(t, "client1a@northside.example"), 10)
		sendBad("/pairs/new", "", "Create pair and invite both", "/pairs/new?form-error")
		sendBad("/pairs/"+pair+"/homework/new", `document.querySelector("[name=step]").value = ""`, "Assign homework", "/pairs/:id/homework/new?form-error")
		sendBad("/pairs/"+pair+"/homework/new", pastDate(-5), "Assign homework", "/pairs/:id/homework/new?confirm-dates")
		sendBad("/library/new", "", "Save step", "/library/new?form-error")
		sendBad("/plans/new", "", "Save plan", "/plans/new?form-error")
		// A new pair, not on a plan yet: the plan form's question about a
		// start date before today.
		_, fresh := newPair(t, env, env.Login(t, email), "Crawl & Co", "crawl-a@example.com", "crawl-b@example.com")
		sendBad("/pairs/"+strconv.FormatInt(fresh, 10)+"/plan", pastDate(-10), "Start plan", "/pairs/:id/plan?confirm-dates")
	case "client1a@northside.example":
		hw := giveHomework(t, env, email, "")
		form := fmt.Sprintf("/homework/%d/checkins/new", hw)
		sendBad(form, "", "Send check-in", "/homework/:id/checkins/new?form-error")
		// The check-in with the safety answer leads to the care page.
		tab.Go(form)
		tab.Choose("status", "Partly")
		tab.Choose("trust", "3")
		tab.Choose("communication", "4")
		tab.Choose("hope", "4")
		tab.Choose("visibility", "Only my counselor")
		tab.Choose("unsafe", "I do not feel safe")
		tab.Type("safety_note", "Crawl note.")
		if status := tab.Click("Send check-in"); status != http.StatusOK || !strings.HasSuffix(tab.Path(), "/care") {
			t.Errorf("the safety check-in led to %s (status %d), not its care page", tab.Path(), status)
		} else {
			n++
			crawlCheck(t, tab, email, tab.Path(), axed)
		}
		id := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1`, hw)
		edit := fmt.Sprintf("/checkins/%d/edit", id)
		if status := tab.Go(edit); status != http.StatusOK {
			t.Errorf("%s: status %d", edit, status)
		} else {
			n++
			crawlCheck(t, tab, email, edit, axed)
		}
		sendBad(edit, `document.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; })`,
			"Save changes", "/checkins/:id/edit?form-error")
		sendBad("/settings", `document.querySelector("[name=timezone]").value = ""`, "Save settings", "/settings?form-error")
	}
	return n
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
