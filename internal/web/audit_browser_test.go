package web_test

import (
	"net/http"
	"strings"
	"testing"

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
