package browsertest

import (
	"context"
	"fmt"

	"github.com/chromedp/chromedp"
)

// Choose ticks the radio button or checkbox named name whose label
// contains label (a label may add details after its name), by clicking the
// label as a person would; that also works for inputs drawn by their label.
func (p *Tab) Choose(name, label string) {
	p.t.Helper()
	sel := fmt.Sprintf(`//label[contains(normalize-space(.), %[2]s) and (.//input[@name = %[1]s] or @for = //input[@name = %[1]s]/@id)]`,
		xpathLiteral(name), xpathLiteral(label))
	p.do("choose "+label+" for "+name, chromedp.Click(sel, chromedp.NodeVisible))
}

// Follow clicks the link whose text reads text and waits for the page it
// leads to; it returns that page's HTTP status (after redirects).
func (p *Tab) Follow(text string) int {
	p.t.Helper()
	sel := fmt.Sprintf(`//a[normalize-space(.) = %s]`, xpathLiteral(text))
	p.do("find link "+text, chromedp.WaitVisible(sel))
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("browser: follow %q: %v (page %s)", text, err, p.safeLocation())
	}
	return int(res.Status)
}
