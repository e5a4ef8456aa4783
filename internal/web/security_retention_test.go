package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"

	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// TestClosedPairArchiveAndPurge walks the retention pages: the counselor
// closes a demo pair and downloads its archive (decrypted, audited); the
// admin sees it on the security page and is refused while the retention
// period runs; once it has passed (the test moves the closing back), a
// wrong label changes nothing (the message and the typed value show) and
// the right one purges the pair.
func TestClosedPairArchiveAndPurge(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	pairID := env.PairOf(t, clientA)
	counselorC := env.Login(t, counselor)
	wantStatus(t, "close", counselorC.PostForm(fmt.Sprintf("/pairs/%d/close", pairID), url.Values{}), http.StatusSeeOther)
	page := counselorC.Get(fmt.Sprintf("/pairs/%d", pairID))
	if !strings.Contains(page.Body, fmt.Sprintf(`href="/pairs/%d/archive"`, pairID)) {
		t.Error("the closed pair's page does not offer the archive")
	}

	res := counselorC.Get(fmt.Sprintf("/pairs/%d/archive", pairID))
	wantStatus(t, "archive", res, http.StatusOK)
	if res.Header.Get("Content-Type") != "application/zip" || !strings.Contains(res.Header.Get("Content-Disposition"), ".zip") {
		t.Errorf("archive headers: %v", res.Header)
	}
	files := unzip(t, res.Body)
	var a retention.Archive
	if err := json.Unmarshal(files[retention.ArchiveJSONName], &a); err != nil {
		t.Fatalf("%s: %v (files: %d)", retention.ArchiveJSONName, err, len(files))
	}
	if a.Pair.ID != pairID || len(a.Members) != 2 || len(a.Checkins) == 0 || len(a.Homework) == 0 || len(a.Feedback) == 0 {
		t.Fatalf("archive: pair %d, %d members, %d check-ins, %d homework, %d feedback",
			a.Pair.ID, len(a.Members), len(a.Checkins), len(a.Homework), len(a.Feedback))
	}
	// The demo's safety note, reflections and feedback come decrypted.
	js := string(files[retention.ArchiveJSONName])
	if !strings.Contains(js, "felt uneasy at home") || !strings.Contains(js, "Alongside the plan") || a.Feedback[0].Body == "" {
		t.Error("the archive lacks the demo pair's decrypted text")
	}
	// The report covers the pair's whole life: its first check-in's
	// ratings are in the chart tables.
	text := pdfText(t, files[retention.ArchiveReportName])
	for _, want := range []string{"Progress report: Maya & Daniel", "Maya Brooks", "Daniel Brooks", "Check-in completion"} {
		if !strings.Contains(text, want) {
			t.Errorf("the archive's report lacks %q:\n%s", want, text)
		}
	}
	var audited int
	if err := env.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'pair.exported' AND object_id = $1`, pairID); err != nil || audited != 2 {
		t.Errorf("export audited %d times (%v), want once per client", audited, err)
	}

	admin := env.Login(t, "admin@northside.example")
	sec := admin.Get("/admin/security")
	if !strings.Contains(sec.Body, "Maya &amp; Daniel") || !strings.Contains(sec.Body, `value="2557"`) {
		t.Error("the security page lacks the closed pair or the retention setting")
	}
	purgePath := fmt.Sprintf("/admin/pairs/%d/purge", pairID)
	early := admin.Get(purgePath)
	if early.Status != http.StatusOK || !strings.Contains(early.Body, "must be kept until") || strings.Contains(early.Body, `name="label"`) {
		t.Errorf("purge page within the retention period: %d", early.Status)
	}
	res = admin.PostForm(purgePath, url.Values{"label": {"Maya & Daniel"}})
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, "must be kept until") {
		t.Errorf("purge within the retention period: %d", res.Status)
	}
	// A bad retention setting is refused next to the field, typed value kept.
	res = admin.PostForm("/admin/security/retention", url.Values{"retention_days": {"forever"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Enter a whole number of days") || !strings.Contains(res.Body, `value="forever"`) {
		t.Errorf("bad retention: %d", res.Status)
	}

	if _, err := env.DB.Exec(`UPDATE pairs SET closed_at = now() - interval '8 years' WHERE id = $1`, pairID); err != nil {
		t.Fatal(err)
	}
	confirm := admin.Get(purgePath)
	for _, want := range []string{"Check-ins", "Encryption keys (destroyed)", "Maya Brooks", `name="label"`} {
		if !strings.Contains(confirm.Body, want) {
			t.Errorf("the confirmation page lacks %q", want)
		}
	}
	res = admin.PostForm(purgePath, url.Values{"label": {"Maya and Daniel"}})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Type the pair&#39;s label exactly") || !strings.Contains(res.Body, `value="Maya and Daniel"`) {
		t.Errorf("purge with a wrong label: %d", res.Status)
	}
	if n := count(t, env, `SELECT count(*) FROM checkins WHERE pair_id = $1`, pairID); n == 0 {
		t.Fatal("a refused purge deleted check-ins")
	}
	res = admin.PostForm(purgePath, url.Values{"label": {"Maya & Daniel"}})
	if res.Status != http.StatusSeeOther || res.Location != "/admin/security" {
		t.Fatalf("purge: %d → %s", res.Status, res.Location)
	}
	if body := admin.Get("/admin/security").Body; !strings.Contains(body, "is purged") {
		t.Error("no confirmation after the purge")
	}
	if res := admin.Get(fmt.Sprintf("/pairs/%d", pairID)); res.Status != http.StatusNotFound {
		t.Errorf("the purged pair's page: %d", res.Status)
	}
	if n := count(t, env, `SELECT count(*) FROM data_keys WHERE pair_id = $1`, pairID); n != 0 {
		t.Errorf("%d data keys of the purged pair left", n)
	}
	// The purged pair's clients can no longer sign in.
	for _, email := range []string{clientA, "client1b@northside.example"} {
		if n := count(t, env, `SELECT count(*) FROM users WHERE email = $1`, email); n != 0 {
			t.Errorf("%s still has an account", email)
		}
	}
}

// unzip reads a downloaded zip into its files by name.
func unzip(t *testing.T, body string) map[string][]byte {
	t.Helper()
	z, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// pdfText parses a PDF back and returns its text.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(20, len(b))])
	}
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the PDF does not parse: %v", err)
	}
	tr, err := r.GetPlainText()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
