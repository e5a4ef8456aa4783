package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// Issue 17, item 3: every CSV export goes through one writer that defuses
// cells a spreadsheet would run as formulas. A client named like a formula
// lands in the audit export (through the counselor's pair export, which
// records the client) and in the pair export, as text in both.
func TestExportsDefuseFormulaNames(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const formula = `=HYPERLINK("http://evil.example/x","Open me")`
	if _, err := env.DB.Exec(`UPDATE users SET name = $1 WHERE email = 'client1a@northside.example'`, formula); err != nil {
		t.Fatal(err)
	}
	pairID := env.PairOf(t, "client1a@northside.example")
	counselor := env.Login(t, "counselor1@northside.example")
	res := counselor.Get(fmt.Sprintf("/pairs/%d/export.csv", pairID))
	wantStatus(t, "pair export", res, http.StatusOK)
	wantFormulaDefused(t, "pair export", res.Body, formula)

	res = env.Login(t, "admin@northside.example").Get("/admin/audit.csv")
	wantStatus(t, "audit export", res, http.StatusOK)
	wantFormulaDefused(t, "audit export", res.Body, formula)
}

// wantFormulaDefused fails unless the CSV holds the name as a quoted-text
// cell ("'=HYPERLINK…") and nowhere as a cell that starts with "=".
func wantFormulaDefused(t *testing.T, what, body, formula string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, body)
	}
	found := false
	for _, rec := range recs {
		for _, cell := range rec {
			if strings.HasPrefix(cell, "=") {
				t.Errorf("%s: cell %q would run as a formula in a spreadsheet", what, cell)
			}
			if cell == "'"+formula {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("%s: no cell holds the client's name as text (%q)\n%s", what, "'"+formula, body)
	}
}

// Issue 17, item 17: odd input (a NUL byte, bytes that are not UTF-8, a
// number too big for any id or page) is refused where it arrives with a
// 4xx and a message, never a 500. One row per route and input; every
// query parameter Mend reads is in the table.
func TestOddInputIsRefusedNever500(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	counselor := env.Login(t, "counselor1@northside.example")
	client := env.Login(t, "client1a@northside.example")
	anon := env.NewClient(t)
	pairID := env.PairOf(t, "client1a@northside.example")
	hwID := env.ID(t, `SELECT a.id FROM assignments a JOIN pair_members m ON m.pair_id = a.pair_id
		JOIN users u ON u.id = m.user_id WHERE u.email = 'client1a@northside.example' ORDER BY a.id LIMIT 1`)
	const huge = "9223372036854775807"
	const huger = "99999999999999999999999"
	nul, badUTF8 := "%00", "%FF%FE"
	// want 4 is a refusal (4xx); want 0 is any answer but a 5xx, for values
	// that are well formed and simply match nothing (an id past every row
	// is a page with nothing on it, as for an id that was deleted).
	type get struct {
		who  *webtest.Client
		path string
		want int
	}
	gets := []get{
		{admin, "/admin/audit?user=" + nul, 4},
		{admin, "/admin/audit?client=" + nul, 4},
		{admin, "/admin/audit?action=" + nul, 4},
		{admin, "/admin/audit?action=a" + badUTF8, 4},
		{admin, "/admin/audit?from=" + nul, 4},
		{admin, "/admin/audit?to=" + nul, 4},
		{admin, "/admin/audit?user=" + huge, 0},
		{admin, "/admin/audit?client=" + huger, 4},
		{admin, "/admin/audit?page=" + huge, 4},
		{admin, "/admin/audit?page=" + nul, 4},
		{admin, "/admin/audit.csv?action=" + nul, 4},
		{admin, "/admin/audit.csv?user=" + huge, 0},
		{admin, "/admin/mail?to=" + nul, 4},
		{admin, "/admin/mail?to=" + badUTF8, 4},
		{admin, "/admin/mail?status=" + nul, 4},
		{admin, "/admin/mail?kind=" + nul, 4},
		{admin, "/admin/mail?from=" + nul, 4},
		{admin, "/admin/mail?before=" + huge, 0},
		{admin, "/admin/mail?before=" + huger, 4},
		{admin, "/admin/mail?" + nul + "=x", 4},
		{counselor, "/pairs?status=" + nul, 4},
		{counselor, "/pairs?page=" + huge, 4},
		{counselor, "/library?q=" + nul, 4},
		{counselor, "/library?q=" + badUTF8, 4},
		{counselor, "/library?page=" + huge, 4},
		{counselor, "/plans?page=" + huge, 4},
		{counselor, "/plans/new?from=" + huge, 0},
		{counselor, "/plans/new?from=" + huger, 0},
		{counselor, "/plans/new?step=" + nul, 4},
		{counselor, "/review/next?after=" + huge, 0},
		{counselor, "/review/next?after=" + nul, 4},
		{counselor, fmt.Sprintf("/pairs/%d?hpage=%s", pairID, huge), 4},
		{counselor, fmt.Sprintf("/pairs/%d?epage=%s", pairID, huge), 4},
		{counselor, fmt.Sprintf("/pairs/%d/checkins?page=%s", pairID, huge), 4},
		{counselor, fmt.Sprintf("/pairs/%d/checkins?page=%s", pairID, huger), 4},
		{counselor, fmt.Sprintf("/pairs/%d/progress?from=%s", pairID, nul), 4},
		{counselor, fmt.Sprintf("/pairs/%d/export.csv?to=%s", pairID, nul), 4},
		{counselor, fmt.Sprintf("/pairs/%d/report.pdf?from=%s", pairID, huger), 4},
		{counselor, fmt.Sprintf("/pairs/%d/homework/new?step=%s", pairID, nul), 4},
		{counselor, fmt.Sprintf("/pairs/%d/plan?plan=%s", pairID, nul), 4},
		{counselor, "/pairs/" + huge, 4},
		{counselor, "/pairs/" + huger, 4},
		{client, fmt.Sprintf("/homework/%d/checkins/new?period=%s", hwID, nul), 4},
		{anon, "/login?next=" + nul, 4},
		{anon, "/invite/" + nul, 4},
		{anon, "/password/reset/" + nul, 4},
		{anon, "/unsubscribe/" + nul, 4},
	}
	for _, g := range gets {
		res := g.who.Get(g.path)
		if res.Status >= 500 || (g.want == 4 && res.Status < 400) {
			t.Errorf("GET %s: status %d, want %s\n%s", g.path, res.Status, map[int]string{0: "no 5xx", 4: "a 4xx"}[g.want], snippet(res.Body))
		}
	}
	type post struct {
		who  *webtest.Client
		path string
		form url.Values
	}
	posts := []post{
		{anon, "/login", url.Values{"email": {"client1a@northside.example\x00"}, "password": {"whatever"}}},
		{anon, "/login", url.Values{"email": {"\xff\xfe@northside.example"}, "password": {"whatever"}}},
		{anon, "/login", url.Values{"email": {"client1a@northside.example"}, "password": {"pass\x00word"}}},
		{anon, "/password/forgot", url.Values{"email": {"\x00"}}},
		{anon, "/password/forgot", url.Values{"email": {"client1a@northside.example\x00"}}},
		{counselor, "/pairs", url.Values{"label": {"Odd\x00pair"}}},
		{admin, "/admin/counselors", url.Values{"name": {"Odd"}, "email": {"odd\x00@northside.example"}}},
		{client, "/settings", url.Values{"timezone": {"Europe/Paris\x00"}}},
	}
	for _, p := range posts {
		res := p.who.PostForm(p.path, p.form)
		if res.Status < 400 || res.Status > 499 {
			t.Errorf("POST %s %q: status %d, want a 4xx\n%s", p.path, p.form, res.Status, snippet(res.Body))
		}
	}
	if n := count(t, env, `SELECT count(*) FROM users WHERE email LIKE 'odd%'`); n != 0 {
		t.Errorf("%d accounts were made from a refused form", n)
	}
	// The refusal says what was wrong.
	res := admin.Get("/admin/audit?action=" + nul)
	wantBody(t, "audit log with a NUL byte", res.Body, "cannot be stored")
}

// Issue 17, item 19: a practice admin's queues page shows their own
// practice's numbers only; how busy the deployment (other practices) is
// belongs to the operator.
func TestQueuesPageShowsOnlyThePracticesNumbers(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	riverbank := env.Login(t, "admin@riverbank.example")
	for _, email := range []string{"queue-one@riverbank.example", "queue-two@riverbank.example", "queue-three@riverbank.example"} {
		res := riverbank.PostForm("/admin/counselors", url.Values{"name": {"Queue Test"}, "email": {email}, "timezone": {"UTC"}})
		wantStatus(t, "invite "+email, res, http.StatusCreated)
	}
	waiting := func(slug string) int {
		return count(t, env, `SELECT count(*) FROM email_delivery d JOIN practices p ON p.id = d.practice_id
			WHERE p.slug = $1 AND d.status = 'queued'`, slug)
	}
	for who, slug := range map[string]string{"admin@riverbank.example": "riverbank.example", "admin@northside.example": "northside.example"} {
		res := env.Login(t, who).Get("/admin/queues")
		wantStatus(t, who+" queues page", res, http.StatusOK)
		wantBody(t, who+" queues page", res.Body, fmt.Sprintf("<tbody><tr><td>%d</td>", waiting(slug)))
		wantNotInBody(t, who+" queues page", res.Body, "whole Mend installation", "Done in total", "Oldest waiting")
	}
	if waiting("riverbank.example") < 3 || waiting("riverbank.example") == waiting("northside.example") {
		t.Fatalf("the test needs the practices' numbers to differ: riverbank %d, northside %d", waiting("riverbank.example"), waiting("northside.example"))
	}
}

// Issue 17, item 8: /review/next?after= takes its pivot from the caller's
// own caseload only. Another counselor's check-in id (flagged or not) is
// treated as if no pivot had been given, so the answer says nothing about
// that check-in.
func TestReviewNextIgnoresAnotherCaseloadsPivot(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	counselor := env.Login(t, "counselor1@northside.example")
	var others []int64
	if err := env.DB.Select(&others, `
		SELECT c.id FROM checkins c JOIN pairs p ON p.id = c.pair_id JOIN users u ON u.id = p.counselor_id
		WHERE u.email <> 'counselor1@northside.example' ORDER BY c.id`); err != nil {
		t.Fatal(err)
	}
	if len(others) == 0 {
		t.Fatal("the demo has no check-ins of other counselors")
	}
	// Flag half of them, so both kinds of pivot are tried.
	if _, err := env.DB.Exec(`UPDATE checkins SET safety_flag = (id % 2 = 0), reviewed_at = NULL WHERE id = ANY($1)`, pq.Array(others)); err != nil {
		t.Fatal(err)
	}
	start := counselor.Get("/review/next")
	if start.Status != http.StatusSeeOther {
		t.Fatalf("/review/next: %d", start.Status)
	}
	for _, id := range others {
		res := counselor.Get(fmt.Sprintf("/review/next?after=%d", id))
		if res.Status != start.Status || res.Location != start.Location {
			t.Errorf("after=%d (another counselor's check-in): %d to %q, want the same as without a pivot: %d to %q",
				id, res.Status, res.Location, start.Status, start.Location)
		}
	}
}

// Issue 17, item 9: feedback to both partners has the same shape whatever
// check-in it answers. Looking from the partner's side, feedback to both
// about Daniel's private check-in and feedback to both about Maya's own
// check-in carry the same "About …" line, so nothing tells Maya that a
// private check-in exists.
func TestFeedbackToBothHidesWhoseCheckinItAnswers(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const maya, daniel = "client1a@northside.example", "client1b@northside.example"
	checkinOf := func(email, visibility string) int64 {
		id := env.ID(t, `SELECT c.id FROM checkins c JOIN users u ON u.id = c.user_id WHERE u.email = $1 ORDER BY c.id DESC LIMIT 1`, email)
		if _, err := env.DB.Exec(`UPDATE checkins SET visibility = $2 WHERE id = $1`, id, visibility); err != nil {
			t.Fatal(err)
		}
		return id
	}
	private := checkinOf(daniel, "counselor")
	own := checkinOf(maya, "partner")
	counselor := env.Login(t, "counselor1@northside.example")
	const aboutPrivate = "Sentence about the private check-in 7f3a."
	const aboutOwn = "Sentence about the own check-in 9c2e."
	for id, body := range map[int64]string{private: aboutPrivate, own: aboutOwn} {
		res := counselor.PostForm(fmt.Sprintf("/review/checkins/%d/feedback", id), url.Values{"body": {body}, "audience": {"both"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("feedback on %d: %d\n%s", id, res.Status, snippet(res.Body))
		}
	}
	home := env.Login(t, maya).Get("/homework")
	wantStatus(t, "Maya's home", home, http.StatusOK)
	item := func(sentence string) string {
		i := strings.Index(home.Body, sentence)
		if i < 0 {
			t.Fatalf("Maya's home lacks %q\n%s", sentence, snippet(home.Body))
		}
		start := strings.LastIndex(home.Body[:i], `<li class="feedback-item">`)
		end := strings.Index(home.Body[i:], "</li>")
		if start < 0 || end < 0 {
			t.Fatalf("no feedback item around %q", sentence)
		}
		return home.Body[start : i+end]
	}
	about := func(li string) string {
		i := strings.Index(li, `<p class="feedback-about">`)
		if i < 0 {
			return ""
		}
		return li[i : i+strings.Index(li[i:], "</p>")]
	}
	p, o := about(item(aboutPrivate)), about(item(aboutOwn))
	if p == "" || o == "" {
		t.Fatalf("every feedback item needs an About line: private %q, own %q", p, o)
	}
	if p != o {
		t.Errorf("the About lines differ, so Maya can tell one answers a check-in she cannot see:\n private: %s\n own:     %s", p, o)
	}
}

// TestReviewFormsRefuseAVersionThatIsNone: a review form says which
// version of the check-in the counselor read, so that a change by the
// client since is not reviewed unseen. A version that is no number (too
// large for one, or below 1) is refused, the typed feedback kept, and
// nothing saved or marked; it used to be read as "not said", which skipped
// that check.
func TestReviewFormsRefuseAVersionThatIsNone(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	id := env.ID(t, `SELECT c.id FROM checkins c JOIN pairs p ON p.id = c.pair_id JOIN users u ON u.id = p.counselor_id
		WHERE u.email = 'counselor1@northside.example' AND c.reviewed_at IS NULL ORDER BY c.id LIMIT 1`)
	counselor := env.Login(t, "counselor1@northside.example")
	feedback := func() int { return count(t, env, `SELECT count(*) FROM feedback WHERE checkin_id = $1`, id) }
	reviewed := func() int {
		return count(t, env, `SELECT count(*) FROM checkins WHERE id = $1 AND reviewed_at IS NOT NULL`, id)
	}
	before := feedback()
	const typed = "Typed feedback that must not be lost 5e1b."
	for _, v := range []string{"99999999999999999999999", "-3", "0", "two"} {
		res := counselor.PostForm(fmt.Sprintf("/review/checkins/%d/feedback", id),
			url.Values{"body": {typed}, "audience": {"client"}, "reviewed": {"yes"}, "version": {v}})
		wantStatus(t, "feedback with version "+v, res, http.StatusUnprocessableEntity)
		wantBody(t, "feedback with version "+v, res.Body, "This form does not say which version of the check-in you read.", typed)
		wantStatus(t, "mark reviewed with version "+v, counselor.PostForm(fmt.Sprintf("/review/checkins/%d/reviewed", id),
			url.Values{"version": {v}}), http.StatusUnprocessableEntity)
		if n := feedback(); n != before {
			t.Fatalf("version %s: feedback %d → %d", v, before, n)
		}
		if reviewed() != 0 {
			t.Fatalf("version %s: the check-in was marked reviewed", v)
		}
	}
}

// TestUnstorableTextInAFormKeepsWhatWasTyped: a NUL byte or bytes that are
// not UTF-8 in a form's field (feedback, a homework's note, a reveal
// answer) are refused with a message beside that field, the rest of what
// was typed kept in the form, and nothing saved; only the check-in forms
// had done so before, every other form answered with a bare error page.
func TestUnstorableTextInAFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, clientA)
	checkinID := env.ID(t, `SELECT c.id FROM checkins c WHERE c.pair_id = $1 AND c.reviewed_at IS NULL ORDER BY c.id LIMIT 1`, pairID)
	step := strconv.FormatInt(env.ID(t, `SELECT id FROM steps WHERE key = 'patience' AND practice_id IS NULL`), 10)
	co := env.Login(t, counselor)
	const kept = "Words around the bad byte 8d2c"
	const beside = "This holds a character that cannot be stored (a NUL byte, or text that is not UTF-8). Remove it and send again."
	before := count(t, env, `SELECT (SELECT count(*) FROM feedback) + (SELECT count(*) FROM assignments)`)
	for _, bad := range []string{"\x00", "\xff\xfe"} {
		res := co.PostForm(fmt.Sprintf("/review/checkins/%d/feedback", checkinID),
			url.Values{"body": {kept + bad}, "audience": {"client"}})
		wantStatus(t, "feedback with unstorable text", res, http.StatusUnprocessableEntity)
		wantBody(t, "feedback with unstorable text", res.Body, kept, beside, `aria-describedby="f-body-error"`)

		res = co.PostForm(fmt.Sprintf("/pairs/%d/homework", pairID), url.Values{"step": {step}, "for": {"both"},
			"cadence": {"daily"}, "note": {kept + bad}})
		wantStatus(t, "homework note with unstorable text", res, http.StatusUnprocessableEntity)
		wantBody(t, "homework note with unstorable text", res.Body, kept, beside, `aria-describedby="f-note-error"`)
	}
	if n := count(t, env, `SELECT (SELECT count(*) FROM feedback) + (SELECT count(*) FROM assignments)`); n != before {
		t.Fatalf("refused forms saved rows: %d → %d", before, n)
	}

	hw, period := giveOpenReveal(t, env, clientA, "reveal-where-we-each-stand")
	res := env.Login(t, clientA).PostForm(fmt.Sprintf("/homework/%d/reveal", hw), url.Values{"period": {period}, "answer_0": {kept + "\x00"}})
	wantStatus(t, "reveal answer with a NUL byte", res, http.StatusUnprocessableEntity)
	wantBody(t, "reveal answer with a NUL byte", res.Body, kept, beside)
	if n := count(t, env, `SELECT count(*) FROM reveal_answers WHERE assignment_id = $1`, hw); n != 0 {
		t.Fatalf("%d reveal answers saved from a refused form", n)
	}
}
