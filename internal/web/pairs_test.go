package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/practice"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// wantPage fails the test when res has another status.
func wantPage(t *testing.T, res webtest.Response, status int) {
	t.Helper()
	wantStatus(t, "page", res, status)
}

func counselorScope(t *testing.T, env *webtest.Env, email string) mend.Scope {
	t.Helper()
	return mend.Scope{UserID: env.UserID(t, email), Role: mend.RoleCounselor, Name: email,
		PracticeID: env.ID(t, `SELECT practice_id FROM users WHERE email = $1`, email)}
}

// TestPairPagesRunABoundedNumberOfQueries counts the statements the pairs
// list and a pair page send to PostgreSQL with the demo data, then again
// after adding many pairs, much homework and a long history: the counts
// must not change.
func TestPairPagesRunABoundedNumberOfQueries(t *testing.T) {
	t.Parallel()
	_, dsn := webtest.DemoDB(t)
	d, n := countedDB(t, dsn)
	env := webtest.StartWithDB(t, d, dsn)
	c := env.Login(t, "counselor1@northside.example")
	pairID := env.PairOf(t, "client1a@northside.example")
	// The fewer of two back-to-back requests: the session's last-seen time
	// is written at most once a minute, and on a slow machine that write
	// can land in any one request.
	measure := func(path string) int64 {
		fewest := int64(-1)
		for range 2 {
			before := n.Load()
			wantPage(t, c.Get(path), http.StatusOK)
			if q := n.Load() - before; fewest < 0 || q < fewest {
				fewest = q
			}
		}
		return fewest
	}
	paths := []string{"/pairs", fmt.Sprintf("/pairs/%d", pairID), "/library", "/plans"}
	// A first visit warms what the server caches (e.g. the pair's
	// unwrapped data key, read once per key for a few minutes).
	for _, p := range paths {
		measure(p)
	}
	small := map[string]int64{}
	for _, p := range paths {
		small[p] = measure(p)
	}

	// Grow the data: 60 more pairs for this counselor, each on the plan for
	// three weeks, and 40 finished homework and 30 history entries on the
	// measured pair.
	ctx := context.Background()
	sc := counselorScope(t, env, "counselor1@northside.example")
	pairs, hw := env.Stores.Pairs, env.Stores.Homework
	planID := strconv.FormatInt(env.ID(t, `SELECT id FROM plans WHERE key = 'core-path'`), 10)
	today, _ := hw.Today(ctx, sc)
	for i := range 60 {
		person := func(s string) pair.NewClient {
			return pair.NewClient{Side: "mutual", NewPerson: practice.NewPerson{
				Name: "Load " + s, Email: fmt.Sprintf("load%d%s@example.com", i, s), Timezone: "UTC"}}
		}
		cr, err := pairs.Create(ctx, sc, pair.NewPair{Label: fmt.Sprintf("Load pair %02d", i), Kind: "other", A: person("a"), B: person("b")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hw.ApplyPlan(ctx, sc, cr.PairID, homework.PlanInput{PlanID: planID, Cadence: "daily",
			StartsOn: today.AddDays(-20).String(), ConfirmDates: true}); err != nil {
			t.Fatal(err)
		}
	}
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience'`), 10)
	// The 40 finished homework reach back further than the demo pair's
	// start, and homework cannot end before its pair existed.
	env.DB.MustExec(`UPDATE pairs SET created_at = created_at - interval '60 days' WHERE id = $1`, pairID)
	for i := range 40 {
		a, err := hw.Assign(ctx, sc, pairID, homework.Input{StepID: step, Cadence: "once", ConfirmDates: true,
			StartsOn: today.AddDays(-i - 5).String()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hw.Complete(ctx, sc, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	for range 15 {
		if _, err := pairs.Pause(ctx, sc, pairID); err != nil {
			t.Fatal(err)
		}
		if _, err := pairs.Resume(ctx, sc, pairID); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range paths {
		if big := measure(p); big != small[p] {
			t.Errorf("GET %s: %d queries with the demo data, %d with more pairs and homework", p, small[p], big)
		} else {
			t.Logf("GET %s: %d queries either way", p, big)
		}
	}
	// The lists are paged: the counselor's 62 pairs do not fit one page.
	if body := c.Get("/pairs").Body; !strings.Contains(body, `rel="next"`) {
		t.Error("pairs list has no next page")
	}
	if body := c.Get(fmt.Sprintf("/pairs/%d", pairID)).Body; !strings.Contains(body, `hpage=2`) || !strings.Contains(body, `epage=2`) {
		t.Error("pair page history is not paged")
	}
}

var inviteLinkRE = regexp.MustCompile(`http://[^"<\s]+/invite/[A-Za-z0-9_-]+`)

func TestCreatePairShowsBothLinksOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, "counselor1@northside.example")
	form := url.Values{
		"label": {"Sam & Kit"}, "kind": {"friends"},
		"a_name": {"Sam Hill"}, "a_email": {"Sam.Hill@Example.com"}, "a_timezone": {"Europe/London"}, "a_side": {"broke_trust"},
		"b_name": {"Kit Vale"}, "b_email": {"kit@example.com"}, "b_timezone": {"UTC"}, "b_side": {"was_hurt"},
	}
	res := c.PostForm("/pairs", form)
	wantPage(t, res, http.StatusCreated)
	links := inviteLinkRE.FindAllString(res.Body, -1)
	if len(links) != 2 || !strings.Contains(res.Body, "Sam Hill") || !strings.Contains(res.Body, "Kit Vale") {
		t.Fatalf("invitation page shows %d links:\n%s", len(links), res.Body)
	}
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE kind = 'invitation' AND to_address IN ('sam.hill@example.com', 'kit@example.com')`); n != 2 {
		t.Fatalf("%d invitation emails queued", n)
	}
	// A link opens the set-password page for that client.
	anon := env.NewClient(t)
	page := anon.Get(strings.TrimPrefix(links[0], env.URL))
	wantPage(t, page, http.StatusOK)
	// The pair page shows both members, their sides and that they have
	// not accepted yet.
	pairID := env.PairOf(t, "kit@example.com")
	body := c.Get(fmt.Sprintf("/pairs/%d", pairID)).Body
	for _, want := range []string{"Sam &amp; Kit", "Broke the trust", "Was hurt", "Invitation not accepted", "Pair created"} {
		if !strings.Contains(body, want) {
			t.Errorf("pair page lacks %q", want)
		}
	}
	// A new link for the second member replaces the first one.
	res = c.PostForm(fmt.Sprintf("/pairs/%d/members/2/invitation", pairID), nil)
	wantPage(t, res, http.StatusOK)
	if len(inviteLinkRE.FindAllString(res.Body, -1)) != 1 {
		t.Fatal("re-invitation page does not show one link")
	}
	if page := anon.Get(strings.TrimPrefix(links[1], env.URL)); page.Status == http.StatusOK {
		t.Fatal("the old link still works after a new one was issued")
	}
}

func TestFormsKeepWhatWasTypedAndStoreNothing(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, "counselor1@northside.example")
	users := count(t, env, `SELECT count(*) FROM users`)
	res := c.PostForm("/pairs", url.Values{
		"label": {"Typed label"}, "kind": {"family"},
		"a_name": {"Ada"}, "a_email": {"client1a@northside.example"}, "a_timezone": {"UTC"}, "a_side": {"mutual"},
		"b_name": {"Bo"}, "b_email": {"not an email"}, "b_timezone": {"UTC"}, "b_side": {"mutual"},
	})
	wantPage(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{`value="Typed label"`, `value="not an email"`, "Enter an email address", `name="kind" value="family" checked`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("new-pair form after an error lacks %q", want)
		}
	}
	// A client already in an open pair is refused next to their email.
	res = c.PostForm("/pairs", url.Values{
		"label": {"Typed label"}, "kind": {"family"},
		"a_name": {"Ada"}, "a_email": {"client1a@northside.example"}, "a_timezone": {"UTC"}, "a_side": {"mutual"},
		"b_name": {"Bo"}, "b_email": {"bo@example.com"}, "b_timezone": {"UTC"}, "b_side": {"mutual"},
	})
	wantPage(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.Body, "already in an active or paused pair") || !strings.Contains(res.Body, `value="bo@example.com"`) {
		t.Errorf("new-pair form does not refuse a client of an open pair:\n%s", res.Body)
	}
	if n := count(t, env, `SELECT count(*) FROM users`); n != users {
		t.Fatalf("users %d → %d after a refused form", users, n)
	}

	pairID := env.PairOf(t, "client1a@northside.example")
	before := count(t, env, `SELECT count(*) FROM assignments`)
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience'`), 10)
	res = c.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), url.Values{
		"step": {step}, "for": {"both"}, "starts_on": {"2026-05-10"}, "due_on": {"2026-05-01"},
		"cadence": {"weekly"}, "note": {"Typed note"},
	})
	wantPage(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{"cannot be before the start date", "Choose at least one weekday", "Typed note",
		`value="2026-05-10"`, `value="` + step + `" selected`, `value="weekly" checked`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("assign form after an error lacks %q", want)
		}
	}
	res = c.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), url.Values{"step": {"99999"}, "starts_on": {"soon"}, "cadence": {"daily"}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{"Choose a step from the library", "Enter a date like", `value="soon"`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("assign form after an error lacks %q", want)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM assignments`); n != before {
		t.Fatalf("assignments %d → %d after refused forms", before, n)
	}
	res = c.PostForm("/plans", url.Values{"name": {"Typed plan"}, "step": {"", step}, "days": {"3", "0"}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{`value="Typed plan"`, "Choose a step for this row", "Enter a number of days"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("plan form after an error lacks %q", want)
		}
	}
	res = c.PostForm("/library", url.Values{"title": {""}, "why": {"Typed why"}, "duration_days": {"x"}})
	wantPage(t, res, http.StatusUnprocessableEntity)
	for _, want := range []string{"Enter a title", "Typed why", "at least one instruction", "Enter a number of days"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("step form after an error lacks %q", want)
		}
	}
}

func TestPairPageReadsAreAudited(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, "client1a@northside.example")
	wantPage(t, env.Login(t, "admin@northside.example").Get(fmt.Sprintf("/pairs/%d", pairID)), http.StatusOK)
	n := count(t, env, `
		SELECT count(*) FROM audit_log a JOIN pair_members m ON m.user_id = a.client_id AND m.pair_id = a.object_id
		WHERE a.action = 'pair.read' AND a.object_id = $1 AND a.user_id = $2`, pairID, env.UserID(t, "admin@northside.example"))
	if n != 2 {
		t.Fatalf("%d audit entries for reading the pair page, want one per client", n)
	}
}

func TestAdminReassignsAPair(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, "client1a@northside.example")
	admin := env.Login(t, "admin@northside.example")
	page := admin.Get(fmt.Sprintf("/pairs/%d", pairID))
	if !strings.Contains(page.Body, "Reassign pair") || strings.Contains(page.Body, "Assign homework") {
		t.Fatal("the admin's pair page should offer reassignment and no homework changes")
	}
	res := admin.PostForm(fmt.Sprintf("/pairs/%d/reassign", pairID), url.Values{"counselor": {strconv.FormatInt(env.UserID(t, "counselor2@northside.example"), 10)}})
	wantPage(t, res, http.StatusSeeOther)
	wantPage(t, env.Login(t, "counselor1@northside.example").Get(fmt.Sprintf("/pairs/%d", pairID)), http.StatusNotFound)
	body := env.Login(t, "counselor2@northside.example").Get(fmt.Sprintf("/pairs/%d", pairID)).Body
	if !strings.Contains(body, "Reassigned from Dr. Rachel Moreno to Sam Okafor, LMFT") || !strings.Contains(body, "by Avery Admin") {
		t.Fatalf("history does not show the reassignment:\n%s", body)
	}
}

func TestBuiltinStepsAreCopiedToEdit(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	c := env.Login(t, "counselor1@northside.example")
	builtin := env.ID(t, `SELECT id FROM steps WHERE key = 'patience'`)
	wantPage(t, c.Get(fmt.Sprintf("/library/%d/edit", builtin)), http.StatusForbidden)
	wantPage(t, c.PostForm(fmt.Sprintf("/library/%d", builtin), stepForm), http.StatusForbidden)
	res := c.PostForm(fmt.Sprintf("/library/%d/copy", builtin), nil)
	wantPage(t, res, http.StatusSeeOther)
	edit := c.Get(res.Location)
	wantPage(t, edit, http.StatusOK)
	if !strings.Contains(edit.Body, `value="Practice patience"`) {
		t.Fatal("the copy's edit form is not filled in")
	}
	copyPath := strings.TrimSuffix(res.Location, "/edit")
	form := url.Values{"title": {"Patience, our way"}, "both": {"Wait a day before replying."}, "questions": {"Did you wait?"}, "duration_days": {"4"}}
	wantPage(t, c.PostForm(copyPath, form), http.StatusSeeOther)
	page := c.Get(copyPath).Body
	if !strings.Contains(page, "Patience, our way") || !strings.Contains(page, "Version 2") || !strings.Contains(page, "Copied from") {
		t.Fatalf("edited copy:\n%s", page)
	}
	// Search finds it by its new text.
	if list := c.Get("/library?q=replying").Body; !strings.Contains(list, "Patience, our way") {
		t.Fatal("library search does not find the edited copy")
	}
	// The built-in plan is read-only too, but a practice can start its own
	// from it.
	plan := env.ID(t, `SELECT id FROM plans WHERE key = 'core-path'`)
	wantPage(t, c.Get(fmt.Sprintf("/plans/%d/edit", plan)), http.StatusForbidden)
	from := c.Get(fmt.Sprintf("/plans/new?from=%d", plan))
	wantPage(t, from, http.StatusOK)
	if n := strings.Count(from.Body, "\" selected>"); n != 15 || !strings.Contains(from.Body, "the core path (our version)") {
		t.Fatalf("plan form from the built-in plan has %d steps chosen", n)
	}
	foreign := env.ID(t, `INSERT INTO plans (practice_id, name) SELECT id, 'Theirs' FROM practices WHERE slug = 'riverbank.example' RETURNING id`)
	wantPage(t, c.Get(fmt.Sprintf("/plans/new?from=%d", foreign)), http.StatusNotFound)
}
