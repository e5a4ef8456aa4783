package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
