package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/browsertest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestBrowserAuditLogShowsEveryColumnAt1280: on a 1,280 px screen the
// admin reads each audit entry whole: the Client, Outcome and IP columns
// are inside the table's visible width, with no sideways scrolling of the
// table (they were once cut off past its right edge). On a phone the page
// does not scroll sideways; the table scrolls inside its own region.
func TestBrowserAuditLogShowsEveryColumnAt1280(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := signInAt(t, env, "admin@northside.example", 1280)
	if status := tab.Go("/admin/audit"); status != http.StatusOK {
		t.Fatalf("audit log: status %d", status)
	}
	for _, col := range []string{"Client", "Outcome", "IP"} {
		// How far the column's heading reaches past the visible part of
		// the table (0 or less: it is all in view).
		past := tab.Eval(`(function(){
			var wrap = document.querySelector(".audit-table").closest(".table-wrap");
			var th = Array.from(document.querySelectorAll(".audit-table th")).find(function (h) { return h.textContent.trim() === ` + "`" + col + "`" + `; });
			if (!th) { return "missing"; }
			return Math.ceil(th.getBoundingClientRect().right - wrap.getBoundingClientRect().right);
		})()`)
		if past == "missing" {
			t.Errorf("the audit log has no %s column", col)
		} else if past != "0" && !strings.HasPrefix(past, "-") {
			t.Errorf("at 1280 px the %s column ends %s px past the table's visible edge", col, past)
		}
	}
	if hidden := tab.Eval(`(function(){ var w = document.querySelector(".audit-table").closest(".table-wrap"); return w.scrollWidth - w.clientWidth; })()`); hidden != "0" {
		t.Errorf("at 1280 px the audit table hides %s px to the right", hidden)
	}
	if ip := tab.TextOf(".audit-ip"); ip == "" {
		t.Errorf("the first entry shows no IP address")
	}
	lookAt(t, tab, "admin-audit")
}

// TestBrowserClientPagesAt1280: a client on a 1,280 px screen sees the top
// bar on one line (the links, the quick exit and "Sign out" once wrapped
// to a second line), a "Check in" button of a button's size rather than a
// bar across the page, and the check-in form at a readable width.
func TestBrowserClientPagesAt1280(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := signInAt(t, env, "client1a@northside.example", 1280)
	oneLine := func(page string) {
		t.Helper()
		// The quick exit and "Sign out" sit on the links' line: their tops
		// are within a few pixels of each other.
		gap := tab.Eval(`(function(){
			var a = document.querySelector(".topbar nav a").getBoundingClientRect();
			var b = document.querySelector(".topbar .signout button").getBoundingClientRect();
			var q = document.querySelector(".topbar .quick-exit").getBoundingClientRect();
			return Math.round(Math.max(Math.abs(b.top + b.height/2 - (a.top + a.height/2)), Math.abs(q.top + q.height/2 - (a.top + a.height/2))));
		})()`)
		if n, err := strconv.Atoi(gap); err != nil || n > 12 {
			t.Errorf("%s at 1280 px: the top bar wraps (its items' middles are %s px apart)", page, gap)
		}
	}
	hw := giveHomework(t, env, "client1a@northside.example", "")
	for _, page := range []string{"/homework", fmt.Sprintf("/homework/%d", hw), fmt.Sprintf("/homework/%d/checkins/new", hw)} {
		if status := tab.Go(page); status != http.StatusOK {
			t.Fatalf("%s: status %d", page, status)
		}
		oneLine(page)
		tab.Screenshot(strings.ReplaceAll(page, "/", "-") + "-1280")
	}
	tab.Go(fmt.Sprintf("/homework/%d", hw))
	if w := px(t, tab, `document.querySelector(".cta .button.wide").getBoundingClientRect().width`); w > 600 {
		t.Errorf("the Check in button is %d px wide at 1280 px", w)
	}
	tab.Go(fmt.Sprintf("/homework/%d/checkins/new", hw))
	if w := px(t, tab, `document.querySelector(".checkin-form").getBoundingClientRect().width`); w > 800 {
		t.Errorf("the check-in form is %d px wide at 1280 px", w)
	}
}

// px evaluates a length in CSS pixels on the tab's page.
func px(t *testing.T, tab *browsertest.Tab, expr string) int {
	t.Helper()
	v := tab.Eval("Math.round(" + expr + ")")
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %q is not a number", expr, v)
	}
	return n
}

// TestBrowserPairCreatedWithoutAMailServer: in a demo without SMTP the
// counselor creating a pair on a phone reads that the invitations were
// not sent and why, with each link and a "Copy link" button beside it;
// the page fits the phone.
func TestBrowserPairCreatedWithoutAMailServer(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	tab := signInAt(t, env, "counselor1@northside.example", phoneWidth)
	tab.Go("/pairs/new")
	// Eli is a client at Riverbank too: to Northside that is an address like
	// any other (issue 17, item 7).
	text := createNoaAndEli(t, tab, "client1b@riverbank.example")
	for _, want := range []string{"The invitations were not sent: no mail server is set up.", "No email went to noa@example.com", "No email went to client1b@riverbank.example"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "is queued for") {
		t.Error("the page says an email is queued")
	}
	if n := tab.Eval(`document.querySelectorAll("button[data-copy]:not([hidden])").length`); n != "2" {
		t.Errorf("%s visible Copy link buttons, want 2", n)
	}
	lookAt(t, tab, "pair-created-without-mail")
	first := inviteLinkRE.FindAllString(text, -1)

	// Later, from the pair page, the counselor copies Noa's link again.
	tab.Follow("Go to the pair")
	if status := tab.ClickLink("Copy invitation link"); status != http.StatusOK {
		t.Fatalf("copy invitation link: status %d\n%s", status, tab.Text())
	}
	again := tab.Text()
	if !strings.Contains(again, "Invitation link for Noa Levin") || len(first) != 2 || !strings.Contains(again, first[0]) {
		t.Errorf("the link shown again is not Noa's first link %v:\n%s", first, again)
	}
	lookAt(t, tab, "invitation-link-again")
}
