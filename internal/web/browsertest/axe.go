package browsertest

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.14.1 (npm package axe-core, file axe.min.js;
// licence MPL-2.0 in testdata/axe-core.LICENSE), injected into the page
// under test by Axe. Vendored so that tests need no network and run the
// same rules everywhere.
//
//go:embed testdata/axe.min.js
var axeSource string

// AxeViolation is one axe-core rule a page breaks, with the elements that
// break it.
type AxeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
}

// axeRun runs axe on the document and returns its violations, each with
// the CSS selectors of (at most five of) its elements.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  return r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || "", help: v.help,
      targets: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" "); })};
  });
})`

// Axe runs axe-core on the page as it is now and returns every violation.
func (p *Tab) Axe() []AxeViolation {
	p.t.Helper()
	run(p, "inject axe-core", chromedp.Evaluate[bool](`(function(){ if (!window.axe) { `+axeSource+`
; } return true; })()`))
	return run(p, "run axe-core", chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
}

// SeriousAxe is Axe's violations of impact serious or critical: what a
// page must not have.
func (p *Tab) SeriousAxe() []AxeViolation {
	p.t.Helper()
	var out []AxeViolation
	for _, v := range p.Axe() {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}

// Links are the absolute URLs of the page's links, in page order.
func (p *Tab) Links() []string {
	p.t.Helper()
	return run(p, "read links", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("a[href]")).map(function (a) { return a.href; })`))
}

// Eval evaluates a JavaScript expression on the page and returns its
// value as a string (for reads that have no method of their own).
func (p *Tab) Eval(expr string) string {
	p.t.Helper()
	return run(p, "evaluate "+expr, chromedp.Evaluate[string](`String(`+expr+`)`))
}

// Press clicks the element a CSS selector finds without waiting for a
// page to load (for script-driven navigation such as the quick exit).
func (p *Tab) Press(css string) {
	p.t.Helper()
	p.do("press "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}
