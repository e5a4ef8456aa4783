package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/web/webtest"
)

const (
	clientA   = "client1a@northside.example"
	clientB   = "client1b@northside.example"
	counselor = "counselor1@northside.example"
)

// checkinForm is a valid check-in form for the period starting on day.
func checkinForm(day checkin.Date, visibility string) url.Values {
	return url.Values{
		"period": {day.String()}, "status": {"done"}, "trust": {"6"}, "communication": {"5"}, "hope": {"7"},
		"answer_1": {"An answer"}, "reflection": {"A reflection"}, "visibility": {visibility},
	}
}

func countCheckins(t *testing.T, env *webtest.Env, homework int64) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM checkins WHERE assignment_id = $1`, homework); err != nil {
		t.Fatal(err)
	}
	return n
}

// textareaValue is what a textarea named name holds in a page.
func textareaValue(body, name string) string {
	i := strings.Index(body, `name="`+name+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i:]
	open := strings.Index(rest, ">")
	end := strings.Index(rest, "</textarea>")
	if open < 0 || end < open {
		return ""
	}
	return html.UnescapeString(rest[open+1 : end])
}

func TestCheckinBadInputKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	c := env.Login(t, clientA)
	path := fmt.Sprintf("/homework/%d/checkins", hw)

	cases := []struct {
		name    string
		change  func(url.Values)
		message string
	}{
		{"rating above 10", func(v url.Values) { v.Set("trust", "11") }, "on a scale from 1 to 10"},
		{"rating below 1", func(v url.Values) { v.Set("hope", "0") }, "on a scale from 1 to 10"},
		{"rating not a number", func(v url.Values) { v.Set("communication", "lots") }, "on a scale from 1 to 10"},
		{"unknown visibility", func(v url.Values) { v.Set("visibility", "everyone") }, "Choose who can read this check-in"},
		{"no status", func(v url.Values) { v.Del("status") }, "Choose whether you did this homework"},
		{"reflection too long", func(v url.Values) { v.Set("answer_1", "Kept answer"); v.Set("reflection", strings.Repeat("x", 5001)) }, "the limit is 5,000"},
		{"invalid UTF-8", func(v url.Values) { v.Set("reflection", "Kept text \xff\xfe here") }, "characters we can't read"},
		{"period not started", func(v url.Values) { v.Set("period", today.AddDays(1).String()) }, "you can check in from then"},
		{"period too old", func(v url.Values) { v.Set("period", today.AddDays(-3).String()) }, "Late check-ins are possible for 2 days"},
	}
	for _, tc := range cases {
		form := checkinForm(today, "partner")
		form.Set("reflection", "Typed reflection, kept")
		tc.change(form)
		res := c.PostForm(path, form)
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, res.Status)
			continue
		}
		if !strings.Contains(html.UnescapeString(res.Body), tc.message) {
			t.Errorf("%s: the page does not say %q", tc.name, tc.message)
		}
		// What was typed is still in the form.
		want := strings.ToValidUTF8(form.Get("reflection"), "\uFFFD")
		if got := strings.ToValidUTF8(textareaValue(res.Body, "reflection"), "\uFFFD"); got != want && !strings.Contains(got, "Kept text") {
			t.Errorf("%s: reflection shown as %.60q, want %.60q", tc.name, got, want)
		}
		if got := textareaValue(res.Body, "answer_1"); got != form.Get("answer_1") {
			t.Errorf("%s: answer shown as %q", tc.name, got)
		}
		if form.Get("hope") == "7" && !strings.Contains(res.Body, `value="7" checked`) {
			t.Errorf("%s: the hope rating chosen is not kept", tc.name)
		}
	}
	if n := countCheckins(t, env, hw); n != 0 {
		t.Fatalf("%d check-ins stored from bad forms", n)
	}

	// A good one, then a second for the same period: a message, not a 500.
	if res := c.PostForm(path, checkinForm(today, "partner")); res.Status != http.StatusSeeOther {
		t.Fatalf("valid check-in: status %d\n%s", res.Status, res.Body)
	}
	second := checkinForm(today, "counselor")
	second.Set("reflection", "Second attempt text")
	res := c.PostForm(path, second)
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "already checked in") {
		t.Errorf("second check-in for a period: status %d\n%s", res.Status, res.Body)
	}
	if textareaValue(res.Body, "reflection") != "Second attempt text" {
		t.Error("the second check-in's text was not kept on the form")
	}
	if n := countCheckins(t, env, hw); n != 1 {
		t.Errorf("%d check-ins stored, want 1", n)
	}

	// Homework of another pair, another practice, or the partner's alone: 404.
	for _, other := range []int64{
		giveHomework(t, env, "client3a@northside.example", ""),
		giveHomework(t, env, "client1a@riverbank.example", ""),
		giveHomework(t, env, clientA, clientB),
	} {
		for _, p := range []string{fmt.Sprintf("/homework/%d", other), fmt.Sprintf("/homework/%d/checkins/new", other)} {
			if res := c.Get(p); res.Status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", p, res.Status)
			}
		}
		if res := c.PostForm(fmt.Sprintf("/homework/%d/checkins", other), checkinForm(today, "partner")); res.Status != http.StatusNotFound {
			t.Errorf("POST to homework %d of someone else: status %d, want 404", other, res.Status)
		}
		if n := countCheckins(t, env, other); n != 0 {
			t.Errorf("a check-in was stored on homework %d of someone else", other)
		}
	}
}

var xssPayloads = []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`}

// assertEscaped checks that none of the payloads comes back as markup.
func assertEscaped(t *testing.T, page, body string, wantShown bool) {
	t.Helper()
	for _, bad := range []string{"<script>alert(1)", "<img src=x", `href="javascript:`, `src="javascript:`, `href='javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("%s: contains %q unescaped", page, bad)
		}
	}
	if wantShown && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("%s: the escaped payload is not shown at all", page)
	}
}

func TestCheckinTextIsEscapedEverywhere(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	a := env.Login(t, clientA)
	all := strings.Join(xssPayloads, " ")
	form := checkinForm(today, "partner")
	for _, f := range []string{"answer_1", "answer_2", "answer_3", "reflection", "safety_note"} {
		form.Set(f, all)
	}
	form.Set("unsafe", "yes")
	// A form that fails validation shows the payloads again, escaped.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("trust", "99")
	res := a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), bad)
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: status %d", res.Status)
	}
	assertEscaped(t, "the form shown again", res.Body, true)

	if res := a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), form); res.Status != http.StatusSeeOther {
		t.Fatalf("check-in with payloads: status %d\n%s", res.Status, res.Body)
	}
	var id int64
	if err := env.DB.Get(&id, `SELECT id FROM checkins WHERE assignment_id = $1`, hw); err != nil {
		t.Fatal(err)
	}
	pairPath := fmt.Sprintf("/pairs/%d/checkins", env.PairOf(t, clientA))
	pages := []struct {
		who, path string
		c         *webtest.Client
		shown     bool // the payload is on this page (escaped)
	}{
		{"author", fmt.Sprintf("/homework/%d", hw), a, true},
		{"author", fmt.Sprintf("/checkins/%d/edit", id), a, true},
		{"author", "/homework", a, false},
		{"partner", fmt.Sprintf("/homework/%d", hw), env.Login(t, clientB), true},
		{"counselor", pairPath, env.Login(t, counselor), true},
		{"admin", pairPath, env.Login(t, "admin@northside.example"), true},
	}
	for _, p := range pages {
		res := p.c.Get(p.path)
		if res.Status != http.StatusOK {
			t.Errorf("%s GET %s: status %d", p.who, p.path, res.Status)
			continue
		}
		assertEscaped(t, p.who+" "+p.path, res.Body, p.shown)
	}
	// The safety alert email carries none of it.
	var body string
	if err := env.DB.Get(&body, `SELECT subject || body_text || body_html FROM email_log WHERE kind = 'safety_alert'`); err != nil {
		t.Fatalf("no safety alert email: %v", err)
	}
	if strings.Contains(body, "alert(1)") {
		t.Error("the safety alert email carries the client's words")
	}
}

// TestPartnerPagesNeverRevealPrivateCheckins looks at every page the
// partner can open for traces of a private check-in or a safety answer.
func TestPartnerPagesNeverRevealPrivateCheckins(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	a := env.Login(t, clientA)
	private := checkinForm(today, "counselor")
	private.Set("reflection", "PRIVATE-WORDS")
	private.Set("answer_1", "PRIVATE-ANSWER")
	if res := a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), private); res.Status != http.StatusSeeOther {
		t.Fatalf("private check-in: %d", res.Status)
	}
	shared := checkinForm(today.AddDays(-1), "partner")
	shared.Set("reflection", "SHARED-WORDS")
	shared.Set("unsafe", "yes")
	shared.Set("safety_note", "SAFETY-WORDS")
	if res := a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), shared); res.Status != http.StatusSeeOther {
		t.Fatalf("shared check-in: %d", res.Status)
	}
	var privateID, sharedID int64
	_ = env.DB.Get(&privateID, `SELECT id FROM checkins WHERE assignment_id = $1 AND visibility = 'counselor'`, hw)
	_ = env.DB.Get(&sharedID, `SELECT id FROM checkins WHERE assignment_id = $1 AND visibility = 'partner'`, hw)

	b := env.Login(t, clientB)
	page := b.Get(fmt.Sprintf("/homework/%d", hw))
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "SHARED-WORDS") {
		t.Fatalf("partner's homework page: %d, shared check-in shown: %v", page.Status, strings.Contains(page.Body, "SHARED-WORDS"))
	}
	for _, p := range []string{"/homework", fmt.Sprintf("/homework/%d", hw), fmt.Sprintf("/homework/%d/checkins/new", hw), "/settings"} {
		res := b.Get(p)
		if res.Status == http.StatusSeeOther {
			res = b.Get(res.Location)
		}
		low := strings.ToLower(res.Body)
		for _, secret := range []string{"private-words", "private-answer", "safety-words", "do not feel safe.", "safety flag", "counselor only"} {
			if strings.Contains(low, secret) {
				t.Errorf("partner's %s shows %q", p, secret)
			}
		}
		if strings.Contains(res.Body, fmt.Sprintf("checkin-%d", privateID)) {
			t.Errorf("partner's %s carries the private check-in's id", p)
		}
	}
	// Not the partner's to open or change, shared or not; both read alike.
	for _, id := range []int64{privateID, sharedID} {
		if res := b.Get(fmt.Sprintf("/checkins/%d/edit", id)); res.Status != http.StatusNotFound {
			t.Errorf("partner opening check-in %d: status %d", id, res.Status)
		}
		if res := b.PostForm(fmt.Sprintf("/checkins/%d", id), checkinForm(today, "partner")); res.Status != http.StatusNotFound {
			t.Errorf("partner changing check-in %d: status %d", id, res.Status)
		}
	}
	if reflection := openedText(t, env, vault.CheckinReflection, privateID); reflection != "PRIVATE-WORDS" {
		t.Error("the partner's post changed the check-in")
	}
	// The author is told that the counselor knows, but the note itself is
	// not read back: the phone may be picked up by the person they fear.
	if res := a.Get(fmt.Sprintf("/homework/%d", hw)); strings.Contains(res.Body, "SAFETY-WORDS") || !strings.Contains(res.Body, "You told your counselor on") {
		t.Error("the author's homework page reads the safety note back, or does not say that the counselor was told")
	}
	// The counselor sees both and the safety flag.
	res := env.Login(t, counselor).Get(fmt.Sprintf("/pairs/%d/checkins", env.PairOf(t, clientA)))
	for _, want := range []string{"PRIVATE-WORDS", "SHARED-WORDS", "SAFETY-WORDS", "Safety flag"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("counselor's list lacks %q", want)
		}
	}
}

func TestEditingACheckin(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	a := env.Login(t, clientA)
	if res := a.PostForm(fmt.Sprintf("/homework/%d/checkins", hw), checkinForm(today, "counselor")); res.Status != http.StatusSeeOther {
		t.Fatalf("check-in: %d", res.Status)
	}
	var id int64
	_ = env.DB.Get(&id, `SELECT id FROM checkins WHERE assignment_id = $1`, hw)
	// The new-check-in link for a period already done leads to the edit form.
	if res := a.Get(fmt.Sprintf("/homework/%d/checkins/new?period=%s", hw, today)); res.Status != http.StatusSeeOther || res.Location != fmt.Sprintf("/checkins/%d/edit", id) {
		t.Errorf("new form for a done period: %d → %s", res.Status, res.Location)
	}
	edit := a.Get(fmt.Sprintf("/checkins/%d/edit", id))
	if edit.Status != http.StatusOK || textareaValue(edit.Body, "reflection") != "A reflection" || !strings.Contains(edit.Body, "Save changes") {
		t.Fatalf("edit form: %d\n%s", edit.Status, edit.Body)
	}
	changed := checkinForm(today, "partner")
	changed.Set("reflection", "Changed my mind")
	changed.Set("hope", "12")
	if res := a.PostForm(fmt.Sprintf("/checkins/%d", id), changed); res.Status != http.StatusUnprocessableEntity || textareaValue(res.Body, "reflection") != "Changed my mind" {
		t.Errorf("bad edit: %d", res.Status)
	}
	changed.Set("hope", "8")
	if res := a.PostForm(fmt.Sprintf("/checkins/%d", id), changed); res.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", res.Status, res.Body)
	}
	var history []int64
	_ = env.DB.Select(&history, `SELECT id FROM checkin_history WHERE checkin_id = $1`, id)
	if len(history) != 1 || openedText(t, env, vault.HistoryReflection, history[0]) != "A reflection" {
		t.Error("the earlier version is not kept")
	}
	list := env.Login(t, counselor).Get(fmt.Sprintf("/pairs/%d/checkins", env.PairOf(t, clientA)))
	if !strings.Contains(list.Body, "Changed 1 time") || !strings.Contains(list.Body, "Changed my mind") {
		t.Error("the counselor does not see the edit and its history")
	}
	// Reviewed: the form says why it can't change, and a post is refused.
	if _, err := env.DB.Exec(`UPDATE checkins SET reviewed_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if res := a.Get(fmt.Sprintf("/checkins/%d/edit", id)); !strings.Contains(res.Body, "can no longer be changed") || strings.Contains(res.Body, "Save changes") {
		t.Error("a reviewed check-in still offers its form")
	}
	changed.Set("reflection", "Too late")
	if res := a.PostForm(fmt.Sprintf("/checkins/%d", id), changed); res.Status != http.StatusConflict {
		t.Errorf("editing a reviewed check-in: %d", res.Status)
	}
}

func TestSettingsPage(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	a := env.Login(t, clientA)
	res := a.Get("/settings")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `<option value="America/Chicago" selected>`) {
		t.Fatalf("settings page: %d", res.Status)
	}
	bad := url.Values{"timezone": {"Mars/Olympus"}, "reminder_time": {"07:30"}, "quiet_from": {"22:00"}, "reminders": {"on"}}
	res = a.PostForm("/settings", bad)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose your time zone") ||
		!strings.Contains(res.Body, "Enter when quiet hours end") || !strings.Contains(res.Body, `value="22:00"`) {
		t.Errorf("bad settings: %d\n%s", res.Status, res.Body)
	}
	good := url.Values{"timezone": {"Pacific/Auckland"}, "reminder_time": {"07:30"}, "quiet_from": {"21:00"}, "quiet_until": {"06:00"}}
	if res := a.PostForm("/settings", good); res.Status != http.StatusSeeOther {
		t.Fatalf("good settings: %d", res.Status)
	}
	var st struct {
		TZ     string `db:"timezone"`
		On     bool   `db:"reminders_enabled"`
		Minute int    `db:"reminder_minute"`
		From   int    `db:"quiet_start"`
	}
	if err := env.DB.Get(&st, `SELECT timezone, reminders_enabled, reminder_minute, quiet_start FROM users WHERE email = $1`, clientA); err != nil {
		t.Fatal(err)
	}
	if st.TZ != "Pacific/Auckland" || st.On || st.Minute != 450 || st.From != 1260 {
		t.Errorf("stored %+v", st)
	}
	// The client's today now follows Auckland.
	page := a.Get("/homework")
	want := checkin.Today(time.Now(), "Pacific/Auckland").Format("Monday 2 January")
	if !strings.Contains(page.Body, want) {
		t.Errorf("home does not say today is %s in Auckland", want)
	}
}

// TestACheckinSentTwiceLeadsToTheFirst: a check-in form sent again for a
// period the client has meanwhile checked in for (another tab, another
// device) keeps what was typed, links to the check-in already sent, and
// offers only the periods still open; no form offers a period the client
// has checked in for, which had left a form whose every choice was
// refused.
func TestACheckinSentTwiceLeadsToTheFirst(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	a := env.Login(t, clientA)
	path := fmt.Sprintf("/homework/%d/checkins", hw)
	wantStatus(t, "the first check-in for today", a.PostForm(path, checkinForm(today, "counselor")), http.StatusSeeOther)
	first := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1 AND period_start = $2`, hw, today.String())
	offered := []string{`<option value="` + today.String() + `"`, `name="period" value="` + today.String() + `"`}

	res := a.Get(path + "/new?period=" + today.AddDays(-1).String())
	wantStatus(t, "the form for yesterday", res, http.StatusOK)
	wantNotInBody(t, "the form for yesterday", res.Body, offered...)

	again := checkinForm(today, "counselor")
	again.Set("reflection", "Typed in the second tab 4b7e")
	res = a.PostForm(path, again)
	wantStatus(t, "the same period sent again", res, http.StatusConflict)
	wantBody(t, "the same period sent again", res.Body, "You have already checked in for",
		fmt.Sprintf(`href="/checkins/%d/edit"`, first), "Change your check-in for", "Typed in the second tab 4b7e")
	wantNotInBody(t, "the same period sent again", res.Body, offered...)
	if n := countCheckins(t, env, hw); n != 1 {
		t.Fatalf("%d check-ins after sending one period twice", n)
	}
}

// TestACheckinSentAfterTheSessionEndedSaysItWasNotSaved: a client who
// types a long reflection past the idle timeout and sends it is not left
// on a bare sign-in page: it says that what they sent was not saved, and
// signing in leads back to the form it came from. Nothing is saved.
func TestACheckinSentAfterTheSessionEndedSaysItWasNotSaved(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	hw := giveHomework(t, env, clientA, "")
	today := clientToday(t, env, clientA)
	a := env.Login(t, clientA)
	formPath := fmt.Sprintf("/homework/%d/checkins/new?period=%s", hw, today)
	wantStatus(t, "the check-in form", a.Get(formPath), http.StatusOK)
	env.DB.MustExec(`UPDATE user_sessions SET last_seen = now() - interval '31 minutes' WHERE user_id = $1`, env.UserID(t, clientA))

	form := checkinForm(today, "partner")
	form.Set("reflection", "A long reflection typed past the timeout 61c0")
	req, err := http.NewRequest(http.MethodPost, env.URL+fmt.Sprintf("/homework/%d/checkins", hw), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", env.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Referer", env.URL+formPath)
	res := a.Do(req)
	wantRedirect(t, "a check-in sent after the session ended", res, "/login?ended=unsaved&next="+url.QueryEscape(formPath))
	login := a.Get(res.Location)
	wantBody(t, "the sign-in page", login.Body, "so what you last sent was not saved. Sign in, then send it again.",
		`name="next" value="`+html.EscapeString(formPath)+`"`)
	if n := countCheckins(t, env, hw); n != 0 {
		t.Fatalf("%d check-ins saved from a session that had ended", n)
	}
	wantRedirect(t, "signing in again", a.PostForm("/login", url.Values{"email": {clientA}, "password": {"demo-password"}, "next": {formPath}}), formPath)
}
