package review_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/report"
	"github.com/mend-practice/mend/internal/review"
	"github.com/mend-practice/mend/internal/vault"
)

func TestExportCSV(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(5), 0)
	f.daily(t, hw, a, day0.AddDays(-5), rating{7, 6, 5}, rating{6, 6, 5})
	c := f.checkin(t, hw, b, day0.AddDays(-5), day0.AddDays(-5), rating{4, 3, 2}, "counselor")
	if _, err := f.DB.Exec(`UPDATE checkins SET safety_flag = true WHERE id = $1`, c); err != nil {
		t.Fatal(err)
	}
	f.seal(t, vault.CheckinReflection, c, `=HYPERLINK("http://evil")`)
	f.seal(t, vault.CheckinSafetyNote, c, "Scared.")
	f.checkin(t, hw, a, day0.AddDays(-30), day0.AddDays(-30), rating{1, 1, 1}, "partner") // outside the range
	rg := review.Range{From: day0.AddDays(-14), To: day0}

	read := func(sc mend.Scope) [][]string {
		t.Helper()
		var buf bytes.Buffer
		if err := f.reviews.ExportCSV(ctx, sc, p.ID, rg, &buf); err != nil {
			t.Fatalf("export as %s: %v", sc.Role, err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("the export is not valid CSV: %v", err)
		}
		return recs
	}
	recs := read(f.A)
	wantHead := []string{"checkin_id", "pair", "client", "client_side", "homework", "period_start", "period_end", "status", "late",
		"trust", "communication", "hope", "shared_with_partner", "sent_at", "changed_at", "reviewed_at", "feedback_count",
		"answers", "reflection", "safety_flag", "safety_note"}
	if strings.Join(recs[0], ",") != strings.Join(wantHead, ",") {
		t.Fatalf("counselor's columns:\n %v\nwant\n %v", recs[0], wantHead)
	}
	if len(recs) != 4 {
		t.Fatalf("%d rows, want 3 check-ins in the range and a header", len(recs)-1)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	// Oldest period first; the two members of the same day by position.
	first, second := recs[1], recs[2]
	if first[col["client"]] != p.Members[0].Name || second[col["client"]] != p.Members[1].Name || first[col["period_start"]] != day0.AddDays(-5).String() {
		t.Errorf("row order: %v / %v", first, second)
	}
	if first[col["trust"]] != "7" || first[col["client_side"]] != "Was hurt" || first[col["shared_with_partner"]] != "yes" {
		t.Errorf("first row: %v", first)
	}
	if second[col["safety_flag"]] != "yes" || second[col["safety_note"]] != "Scared." || second[col["shared_with_partner"]] != "no" {
		t.Errorf("the counselor's export lacks the safety answer: %v", second)
	}
	if got := second[col["reflection"]]; got != `'=HYPERLINK("http://evil")` {
		t.Errorf("a reflection that looks like a formula is exported as %q; want it defused with a leading quote", got)
	}
	if id, _ := strconv.ParseInt(second[col["checkin_id"]], 10, 64); id != c {
		t.Errorf("checkin_id %s, want %d", second[col["checkin_id"]], c)
	}

	// An admin's export leaves out what clients wrote.
	adm := read(f.Admin)
	if len(adm[0]) != len(wantHead)-4 || strings.Contains(strings.Join(adm[0], ","), "reflection") {
		t.Errorf("admin's columns: %v; want no answers, reflection or safety columns", adm[0])
	}
	for _, row := range adm {
		for _, v := range row {
			if strings.Contains(v, "Scared") || strings.Contains(v, "HYPERLINK") || strings.Contains(v, "We talked") {
				t.Errorf("admin's export holds client text: %v", row)
			}
		}
	}
	// Out of scope: not found, nothing written. Every export is audited.
	var buf bytes.Buffer
	for _, sc := range []mend.Scope{f.B, f.OtherAdmin, f.ClientScope(p, 1)} {
		if err := f.reviews.ExportCSV(ctx, sc, p.ID, rg, &buf); mend.ErrorCode(err) != mend.ENOTFOUND || buf.Len() != 0 {
			t.Errorf("export as %s %d: %v (%d bytes)", sc.Role, sc.UserID, err, buf.Len())
		}
	}
	if n := f.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'export.csv' AND object_id = $1`, p.ID); n != 4 {
		t.Errorf("%d export audit entries, want 4 (two exports, two clients each)", n)
	}
}

func TestReportPDF(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	label := "Zoë & Łukasz"
	if _, err := f.DB.Exec(`UPDATE pairs SET label = $2 WHERE id = $1`, p.ID, label); err != nil {
		t.Fatal(err)
	}
	var planID int64
	if err := f.DB.Get(&planID, `SELECT id FROM plans WHERE key = 'core-path'`); err != nil {
		t.Fatal(err)
	}
	hws := homework.NewStore(f.DB, f.vault)
	hws.Now = func() time.Time { return f.now }
	if _, err := hws.ApplyPlan(ctx, f.A, p.ID, homework.PlanInput{PlanID: strconv.FormatInt(planID, 10),
		StartsOn: day0.AddDays(-10).String(), Cadence: "daily"}); err != nil {
		t.Fatalf("apply plan: %v", err)
	}
	var hw int64
	var stepTitle string
	if err := f.DB.Get(&hw, `SELECT id FROM assignments WHERE pair_id = $1 ORDER BY starts_on LIMIT 1`, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.DB.Get(&stepTitle, `
		SELECT v.title FROM pair_plan_steps s JOIN pair_plans pp ON pp.id = s.pair_plan_id
		JOIN step_versions v ON v.id = s.step_version_id WHERE pp.pair_id = $1 ORDER BY s.position DESC LIMIT 1`, p.ID); err != nil {
		t.Fatal(err)
	}
	f.daily(t, hw, p.Members[0].UserID, day0.AddDays(-10), rating{7, 6, 5}, rating{6, 6, 5}, rating{5, 5, 5})
	f.daily(t, hw, p.Members[1].UserID, day0.AddDays(-10), rating{3, 4, 5}, rating{4, 4, 5}, rating{5, 5, 6})
	c := f.checkin(t, hw, p.Members[0].UserID, day0.AddDays(-7), day0.AddDays(-7), rating{5, 5, 5}, "partner")
	f.seal(t, vault.CheckinReflection, c, "SECRET-REFLECTION")
	if err := f.reviews.AddFeedback(ctx, f.A, c, review.FeedbackInput{Body: "Steady progress, well done.", Audience: review.ToBoth}); err != nil {
		t.Fatal(err)
	}

	d, err := f.reviews.Report(ctx, f.A, p.ID, review.Range{From: day0.AddDays(-20), To: day0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := report.PDF(d)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("MEND_SCREENSHOTS"); dir != "" { // keep it to look at
		_ = os.WriteFile(filepath.Join(dir, "report.pdf"), b, 0o644)
	}
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
	raw, _ := io.ReadAll(tr)
	text := string(raw)
	// ledongthuc/pdf decodes Latin-1 text of embedded fonts faithfully
	// but not beyond (it reads "Ł" as "A"), so the label is checked up to
	// there here and in full with poppler's pdftotext where installed.
	for _, want := range []string{"Progress report: Zoë & ", stepTitle, p.Members[0].Name, p.Members[1].Name,
		"Steady progress, well done.", "Check-in completion",
		// The three ratings side by side, and the pair's figures.
		"Trust, side by side", "Communication, side by side", "Hope, side by side",
		"In 1 of 3, their ratings were 3 or more apart.", "Trust from 7 to 5", "Trust from 3 to 5",
		"100% (4 of 4 periods)", "100% (3 of 3 periods)", "the current period once the client has checked in for it"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if bin, err := exec.LookPath("pdftotext"); err == nil {
		cmd := exec.Command(bin, "-", "-")
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "Progress report: "+label) {
			t.Errorf("pdftotext does not find the label %q (%v):\n%s", label, err, out)
		}
	} else {
		t.Logf("pdftotext not installed: the label's non-Latin-1 letters were not read back")
	}
	// No section heading (13 pt) is the last thing on its page: body text
	// (anything but the 8 pt page number and footnote) follows it there.
	for i := 1; i <= r.NumPage(); i++ {
		lowest, below := 1e9, false
		texts := r.Page(i).Content().Text
		for _, tx := range texts {
			if tx.FontSize > 12.5 && tx.FontSize < 13.5 && tx.Y < lowest {
				lowest = tx.Y
			}
		}
		for _, tx := range texts {
			if tx.FontSize > 8.5 && tx.Y < lowest-2 {
				below = true
			}
		}
		if lowest < 1e9 && !below {
			t.Errorf("page %d ends with a section heading", i)
		}
	}
	if strings.Contains(text, "SECRET-REFLECTION") {
		t.Errorf("the PDF holds a client's reflection")
	}
	if n := f.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'export.pdf' AND object_id = $1`, p.ID); n != 2 {
		t.Errorf("%d export audit entries, want 2 (one per client)", n)
	}
	if _, err := f.reviews.Report(ctx, f.B, p.ID, d.Range); mend.ErrorCode(err) != mend.ENOTFOUND {
		t.Errorf("report for another counselor: %v, want not found", err)
	}
}
