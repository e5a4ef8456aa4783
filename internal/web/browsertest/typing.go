package browsertest

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
)

// ClickLink follows the first link whose text starts with text (ignoring
// surrounding space; text kept for screen readers only counts too) and
// returns the status of the page it leads to.
func (p *Tab) ClickLink(text string) int {
	p.t.Helper()
	sel := fmt.Sprintf(`//a[starts-with(normalize-space(.), %s)]`, xpathLiteral(text))
	p.do("find link "+text, chromedp.WaitVisible(sel))
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("browser: click link %q: %v (page %s)", text, err, p.safeLocation())
	}
	return int(res.Status)
}

// Type types value into the form field named as in Fill, after emptying it
// with script. Fill's Clear fails on an empty textarea (it has no text node
// to clear), which a fresh form's textareas are.
func (p *Tab) Type(field, value string) {
	p.t.Helper()
	sel := fieldXPath(field)
	run(p, "empty "+field, chromedp.Evaluate[bool](fmt.Sprintf(
		`(function(){ const e = document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; e.value = ""; return true; })()`,
		jsString(sel))))
	p.do("type into "+field, chromedp.SendKeys(sel, value))
}
