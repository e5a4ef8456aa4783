package web_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestKeptClientPagesShowEachChangeAtOnce: a client's home and homework
// pages are kept between requests (two statements, see
// TestPagesRunFewStatements), yet what changes on them is there at the
// next request: the partner's shared check-in (its words on the homework
// page, a new item on the home), the client's own check-in, and the
// counselor's feedback. The partner's kept pages never show what the
// client kept for the counselor.
func TestKeptClientPagesShowEachChangeAtOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const partner = "client1b@northside.example"
	a, b, co := env.Login(t, clientA), env.Login(t, partner), env.Login(t, counselor)
	hw := giveHomework(t, env, clientA, "")
	page := fmt.Sprintf("/homework/%d", hw)
	show := func(c *webtest.Client, path string) string {
		t.Helper()
		var body string
		for range 2 { // the second is served from what was kept
			res := c.Get(path)
			wantPage(t, res, http.StatusOK)
			body = res.Body
		}
		return body
	}
	show(a, "/homework")
	wantNotInBody(t, "A's homework page before anything", show(a, page), "Bo wrote this for both of us")
	show(b, page)

	// The partner shares a check-in through their own form.
	today := clientToday(t, env, partner)
	wantStatus(t, "B's check-in", b.PostForm(page+"/checkins", url.Values{"period": {today.String()}, "status": {"done"},
		"trust": {"6"}, "communication": {"5"}, "hope": {"7"}, "answer_1": {"An answer"},
		"reflection": {"Bo wrote this for both of us"}, "visibility": {"partner"}}), http.StatusSeeOther)
	shared := env.ID(t, `SELECT id FROM checkins WHERE assignment_id = $1 AND user_id = $2`, hw, env.UserID(t, partner))
	wantBody(t, "A's homework page after B shared", a.Get(page).Body, "Bo wrote this for both of us")
	wantBody(t, "A's home after B shared", a.Get("/homework").Body, fmt.Sprintf(`href="/shared/%d"`, shared))

	// A's own check-in, kept for the counselor: on A's page at once, never
	// on B's.
	mine := giveCheckin(t, env, clientA, hw, clientToday(t, env, clientA).AddDays(-1), "counselor", "Only the counselor reads this one")
	wantBody(t, "A's homework page after A's check-in", a.Get(page).Body, "Only the counselor reads this one")
	wantNotInBody(t, "B's homework page after A's private check-in", show(b, page), "Only the counselor reads this one")

	// The counselor's feedback on it: on A's home at once.
	wantStatus(t, "feedback", co.PostForm(fmt.Sprintf("/review/checkins/%d/feedback", mine),
		url.Values{"body": {"Feedback planted for the kept home"}, "audience": {"both"}}), http.StatusSeeOther)
	wantBody(t, "A's home after feedback", a.Get("/homework").Body, "Feedback planted for the kept home")
	wantNotInBody(t, "B's homework page after feedback", show(b, page), "Only the counselor reads this one")
}

// TestEveryShowingOfAClientPageIsAudited: a kept home or homework page is
// still a read of the partner's shared check-ins, so each showing, the
// first (read afresh) and the next ones (kept), is in the audit log.
func TestEveryShowingOfAClientPageIsAudited(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	const partner = "client1b@northside.example"
	hw := giveHomework(t, env, clientA, "")
	giveCheckin(t, env, partner, hw, clientToday(t, env, partner).AddDays(-1), "partner", "Shared, read three times.")
	a := env.Login(t, clientA)
	reads := func(objectType string, objectID int64) int {
		return count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'checkin.read' AND object_type = $1
			AND coalesce(object_id, 0) = $2 AND user_id = $3 AND client_id = $4`,
			objectType, objectID, env.UserID(t, clientA), env.UserID(t, partner))
	}
	homeBefore, pageBefore := reads("shared", 0), reads("assignment", hw)
	for range 3 {
		wantPage(t, a.Get("/homework"), http.StatusOK)
		wantPage(t, a.Get(fmt.Sprintf("/homework/%d", hw)), http.StatusOK)
	}
	if n := reads("shared", 0) - homeBefore; n != 3 {
		t.Errorf("%d reads of the partner's shared check-ins audited after three showings of the home, want 3", n)
	}
	if n := reads("assignment", hw) - pageBefore; n != 3 {
		t.Errorf("%d reads of the homework's check-ins audited after three showings of its page, want 3", n)
	}
}

// TestKeptReviewPageShowsEachChangeAtOnce: the counselor's review page is
// kept (sealed) between requests, yet the client's edit, new feedback and
// a reviewer's new name are on it at the next request; each showing is
// audited; and it reads no table whose changes do not move the stamp.
func TestKeptReviewPageShowsEachChangeAtOnce(t *testing.T) {
	t.Parallel()
	env, log := startLogged(t)
	hw := giveHomework(t, env, clientA, "")
	day := clientToday(t, env, clientA)
	id := giveCheckin(t, env, clientA, hw, day, "counselor", "The first words of this check-in")
	co := env.Login(t, counselor)
	path := fmt.Sprintf("/review/checkins/%d", id)
	before := log.len()
	wantBody(t, "review page", co.Get(path).Body, "The first words of this check-in")
	wantStampedTables(t, env, "the review page", log.since(before))
	wantBody(t, "review page, kept", co.Get(path).Body, "The first words of this check-in")

	a := env.Login(t, clientA)
	wantStatus(t, "the client's edit", a.PostForm(fmt.Sprintf("/checkins/%d", id), url.Values{"period": {day.String()}, "status": {"done"},
		"trust": {"6"}, "communication": {"5"}, "hope": {"7"}, "answer_1": {"An answer"},
		"reflection": {"Words changed after the page was kept"}, "visibility": {"counselor"}, "version": {"1"}}), http.StatusSeeOther)
	wantBody(t, "review page after the client's edit", co.Get(path).Body, "Words changed after the page was kept")

	wantStatus(t, "feedback", co.PostForm(path+"/feedback", url.Values{"body": {"Feedback seen at once"}, "audience": {"client"}}), http.StatusSeeOther)
	wantBody(t, "review page after feedback", co.Get(path).Body, "Feedback seen at once")
	if _, err := env.DB.Exec(`UPDATE users SET name = 'Renamed Reviewer' WHERE email = $1`, counselor); err != nil {
		t.Fatal(err)
	}
	wantBody(t, "review page after the counselor's new name", co.Get(path).Body, `<p class="feedback-meta">Renamed Reviewer · `)

	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'checkin.read' AND object_type = 'checkin' AND object_id = $1
		AND user_id = $2 AND client_id = $3`, id, env.UserID(t, counselor), env.UserID(t, clientA)); n < 4 {
		t.Errorf("%d reads of the check-in audited after four showings of its review page, want at least 4", n)
	}
}

// TestKeptPageShowsAFlashMessageOnce: a kept page is sent whole when no
// message waits, yet a message set by the request before is on the next
// showing, and only on that one.
func TestKeptPageShowsAFlashMessageOnce(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	if _, err := env.DB.Exec(`UPDATE checkins SET reviewed_at = now() WHERE reviewed_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	co := env.Login(t, counselor)
	for range 3 { // kept, then kept whole
		wantNotInBody(t, "dashboard", co.Get("/dashboard").Body, "Nothing else is waiting for review.")
	}
	wantRedirect(t, "next check-in to review", co.Get("/review/next"), "/dashboard")
	wantBody(t, "dashboard after the message", co.Get("/dashboard").Body, "Nothing else is waiting for review.")
	wantNotInBody(t, "dashboard after the message was shown", co.Get("/dashboard").Body, "Nothing else is waiting for review.")
}

// TestKeptPairPageShowsEachChangeAtOnce: the counselor's pair page is kept
// between requests, yet homework given, a pause (with its event) and a
// client's consent are on it at the next request; each showing is
// audited; and it reads no table whose changes do not move the stamp.
func TestKeptPairPageShowsEachChangeAtOnce(t *testing.T) {
	t.Parallel()
	env, log := startLogged(t)
	co := env.Login(t, counselor)
	id := env.PairOf(t, clientA)
	path := fmt.Sprintf("/pairs/%d", id)
	before := log.len()
	wantPage(t, co.Get(path), http.StatusOK)
	wantStampedTables(t, env, "the pair page", log.since(before))
	wantNotInBody(t, "pair page, kept", co.Get(path).Body, "Paused")

	hw := giveHomework(t, env, clientA, "")
	title := textOf(t, env, `SELECT v.title FROM assignments a JOIN step_versions v ON v.id = a.step_version_id WHERE a.id = $1`, hw)
	wantBody(t, "pair page after homework was given", co.Get(path).Body, fmt.Sprintf(`href="/assignments/%d"`, hw), title)

	wantStatus(t, "pause", co.PostForm(path+"/pause", url.Values{}), http.StatusSeeOther)
	wantBody(t, "pair page after the pause", co.Get(path).Body, "Paused")

	if _, err := env.DB.Exec(`INSERT INTO consent_versions (practice_id, version, body)
		SELECT practice_id, max(version) + 1, 'A new consent text.' FROM consent_versions WHERE practice_id = (SELECT practice_id FROM pairs WHERE id = $1) GROUP BY practice_id`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Exec(`INSERT INTO consent_acceptances (practice_id, version, user_id)
		SELECT practice_id, max(version), $1 FROM consent_versions WHERE practice_id = (SELECT practice_id FROM pairs WHERE id = $2) GROUP BY practice_id`,
		env.UserID(t, clientA), id); err != nil {
		t.Fatal(err)
	}
	version := textOf(t, env, `SELECT max(version)::text FROM consent_acceptances WHERE user_id = $1`, env.UserID(t, clientA))
	wantBody(t, "pair page after a consent", co.Get(path).Body, "accepted version "+version)

	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'pair.read' AND object_id = $1 AND user_id = $2 AND client_id = $3`,
		id, env.UserID(t, counselor), env.UserID(t, clientA)); n < 5 {
		t.Errorf("%d reads of the pair audited after five showings of its page, want at least 5", n)
	}
}

// textOf returns the one text value query reads.
func textOf(t *testing.T, env *webtest.Env, query string, args ...any) string {
	t.Helper()
	var s string
	if err := env.DB.Get(&s, query, args...); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestKeptPageIsSentCompressedToWhoTakesIt: a kept page goes gzip-compressed
// to a browser that takes gzip (and says the page varies by it), and as it
// is to one that does not; both are the same page.
func TestKeptPageIsSentCompressedToWhoTakesIt(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	for _, who := range []string{counselor, clientA} {
		c := env.Login(t, who)
		path := map[string]string{counselor: "/dashboard", clientA: "/homework"}[who]
		get := func(encoding string) webtest.Response {
			t.Helper()
			req, err := http.NewRequest(http.MethodGet, env.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", encoding)
			res := c.Do(req)
			wantPage(t, res, http.StatusOK)
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s %s: Vary %q, want Accept-Encoding", who, path, res.Header.Get("Vary"))
			}
			return res
		}
		plain := get("identity") // read, then kept whole
		plain = get("identity")
		if enc := plain.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("%s %s without gzip: Content-Encoding %q", who, path, enc)
		}
		packed := get("br;q=1, gzip;q=0.5")
		if enc := packed.Header.Get("Content-Encoding"); enc != "gzip" {
			t.Fatalf("%s %s with gzip: Content-Encoding %q, want gzip", who, path, enc)
		}
		z, err := gzip.NewReader(strings.NewReader(packed.Body))
		if err != nil {
			t.Fatal(err)
		}
		unpacked, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		if string(unpacked) != plain.Body || !strings.Contains(plain.Body, "</html>") {
			t.Errorf("%s %s: the compressed page is not the page (%d bytes unpacked, %d plain)", who, path, len(unpacked), len(plain.Body))
		}
		// Sent whole, each with its length (the connection is not held
		// open in chunks for a page that is ready).
		for _, r := range []webtest.Response{plain, packed} {
			if n := r.Header.Get("Content-Length"); n != strconv.Itoa(len(r.Body)) {
				t.Errorf("%s %s: Content-Length %q for %d bytes", who, path, n, len(r.Body))
			}
		}
		if len(packed.Body) >= len(plain.Body)/2 {
			t.Errorf("%s %s: compressed to %d bytes of %d", who, path, len(packed.Body), len(plain.Body))
		}
	}
}
