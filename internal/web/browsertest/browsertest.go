// Package browsertest drives a real headless Chromium against a Mend server
// (usually one from webtest.Start) so that tests can do what a person does:
// open a page, fill a field by its label, press a button by its text, read
// what the page says, and take a screenshot to look at.
//
// One browser serves all the tests of a package: it starts the first time a
// test opens a tab and is closed by Close, which the package's TestMain
// calls (webtest.Main(m, browsertest.Close)). Each test gets its own tab in
// its own browser context, so cookies never leak between tests running in
// parallel.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mend-practice/mend/internal/db/dbtest"
)

// DefaultChromium is where Debian's chromium package puts the browser;
// MEND_CHROMIUM overrides it (another OS, another build).
const DefaultChromium = "/usr/bin/chromium"

func chromiumPath() string {
	if p := os.Getenv("MEND_CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// StepTimeout bounds each browser step (a navigation, a click and the page
// it leads to, a read). It is generous because CI runs on two busy cores;
// a step that takes this long is broken, not slow.
const StepTimeout = 30 * time.Second

// browser is the package's one Chromium, started lazily. A test package
// is one process, so this is one browser per test package.
type browser struct {
	once        sync.Once
	ctx         context.Context // the browser's own chromedp context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
	err         error
}

var shared browser

// start launches Chromium. Its first Run happens on a context without a
// deadline: in chromedp the first Run binds the browser's life to that
// context, so per-step timeouts must come after it.
func (b *browser) start() {
	exe := chromiumPath()
	if _, err := os.Stat(exe); err != nil {
		b.err = errMissing{err}
		return
	}
	b.dir, b.err = os.MkdirTemp("", "mend-chromium-")
	if b.err != nil {
		return
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(b.dir),
		chromedp.NoSandbox, // tests run as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), // no calls home on a closed network
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	}
	opts = append(chromedp.DefaultExecAllocatorOptions[:], opts...)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		acancel()
		os.RemoveAll(b.dir)
		b.err = fmt.Errorf("starting %s: %w", exe, err)
		return
	}
	b.ctx, b.cancel, b.allocCancel = ctx, cancel, acancel
}

type errMissing struct{ error }

// Close stops the package's browser if a test started it. Call it from
// TestMain after m.Run.
func Close() {
	b := &shared
	if b.ctx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	_ = chromedp.Cancel(ctx)
	b.cancel()
	b.allocCancel()
	os.RemoveAll(b.dir)
}

// Tab is one browser tab, in a browser context of its own, pointed at one
// server. Its methods fail the test on error; they are meant to be called
// from the test's goroutine.
type Tab struct {
	t    testing.TB
	ctx  context.Context
	base *url.URL
	dir  string // where screenshots go, chosen at the first one
}

// Open returns a new tab for baseURL (e.g. webtest.Env.URL). Without
// Chromium the test is skipped, or fails under CI=true.
func Open(t testing.TB, baseURL string) *Tab {
	t.Helper()
	shared.once.Do(shared.start)
	if err := shared.err; err != nil {
		var missing errMissing
		if errors.As(err, &missing) {
			dbtest.RequireService(t, "Chromium", err)
		}
		t.Fatal(err)
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The tab's first Run creates it; like the browser, it must not run
	// under a step deadline.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: open tab: %v", err)
	}
	return &Tab{t: t, ctx: ctx, base: base}
}

// do runs steps under the step timeout.
func (p *Tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %s: %v (page %s)", what, err, p.safeLocation())
	}
}

func run[T any](p *Tab, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("browser: %s: %v (page %s)", what, err, p.safeLocation())
	}
	return v
}

// WaitLocation waits up to d for the tab's address to become want, through
// a navigation a script started (a read made while the page is being
// replaced fails, and is tried again), and returns the last address read.
func (p *Tab) WaitLocation(want string, d time.Duration) string {
	p.t.Helper()
	deadline, last := time.Now().Add(d), ""
	for {
		ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil {
			if last = loc; loc == want {
				return loc
			}
		}
		if time.Now().After(deadline) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *Tab) safeLocation() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown"
	}
	return loc
}

// Go opens path (relative to the server, with its query and #fragment if
// any) as if typed in the address bar, follows redirects, and returns the
// final page's HTTP status.
func (p *Tab) Go(path string) int {
	p.t.Helper()
	fragment := ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, fragment = path[:i], path[i+1:]
	}
	u := p.base.ResolveReference(&url.URL{Path: path, Fragment: fragment})
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u = p.base.ResolveReference(&url.URL{Path: path[:i], RawQuery: path[i+1:], Fragment: fragment})
	}
	res := run(p, "open "+path, chromedp.NavigateResponse(u.String()))
	if res == nil { // the page already open, only scrolled to the fragment
		p.t.Fatalf("browser: open %s: no response: it is the page already open", u.RequestURI())
	}
	return int(res.Status)
}

// Fill types value into the form field whose label reads field exactly
// (ignoring surrounding space) or, failing that, whose name is field. The
// field's old value is cleared first. A select gets the option whose value
// is value.
func (p *Tab) Fill(field, value string) {
	p.t.Helper()
	sel := fieldXPath(field)
	nodes := run(p, "find field "+field, chromedp.Nodes(sel))
	if strings.EqualFold(nodes[0].NodeName, "select") {
		// Typing into a select is unreliable; choose the option by value.
		p.do("choose "+value+" in "+field, chromedp.SetValue(sel, value))
		if got := p.Value(field); got != value {
			p.t.Fatalf("browser: %s has no option %q", field, value)
		}
		return
	}
	// Clear, not SetValue(sel, ""): chromedp v0.23.0 drops an empty string
	// argument (omitempty on CallArgument.Value), so SetValue "" fails.
	p.do("fill "+field,
		chromedp.Clear(sel),
		chromedp.SendKeys(sel, value),
	)
}

// Click presses the button (or submit input) whose text reads text, and
// waits for the page it leads to; it returns that page's HTTP status
// (after redirects). Use it for buttons that submit a form or follow a link.
func (p *Tab) Click(text string) int {
	p.t.Helper()
	sel := buttonXPath(text)
	// The button must be there before the click starts waiting for a page.
	p.do("find button "+text, chromedp.WaitVisible(sel))
	ctx, cancel := context.WithTimeout(p.ctx, StepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("browser: click %q: %v (page %s)", text, err, p.safeLocation())
	}
	return int(res.Status)
}

// H1 is the text of the page's first h1.
func (p *Tab) H1() string {
	p.t.Helper()
	return strings.TrimSpace(run(p, "read h1", chromedp.Text(chromedp.CSS("h1"))))
}

// Text is all the text a person sees on the page.
func (p *Tab) Text() string {
	p.t.Helper()
	return run(p, "read page text", chromedp.Evaluate[string](`document.body.innerText`))
}

// TextOf is the visible text of the first element matching a CSS selector,
// or "" if there is none.
func (p *Tab) TextOf(css string) string {
	p.t.Helper()
	return run(p, "read "+css, chromedp.Evaluate[string](
		`(function(s){ const e = document.querySelector(s); return e ? e.innerText : ""; })(`+jsString(css)+`)`))
}

// Texts is the visible text of every element matching a CSS selector, in
// page order (to check each row of a list, not just the first).
func (p *Tab) Texts(css string) []string {
	p.t.Helper()
	return run(p, "read every "+css, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(`+jsString(css)+`), e => e.innerText)`))
}

// Value is the current value of the form field named as in Fill.
func (p *Tab) Value(field string) string {
	p.t.Helper()
	return run(p, "read field "+field, chromedp.Value(fieldXPath(field)))
}

// Path is the path of the page the tab shows.
func (p *Tab) Path() string {
	p.t.Helper()
	return run(p, "read location", chromedp.Evaluate[string](`location.pathname`))
}

// Loaded reports whether the current document has been parsed whole: the
// location changes as soon as a navigation commits, before the new page's
// body is all there.
func (p *Tab) Loaded() bool {
	p.t.Helper()
	return run(p, "read ready state", chromedp.Evaluate[string](`document.readyState`)) != "loading"
}

// ScrollWidth is the page's width in CSS pixels; wider than the viewport
// means it scrolls sideways.
func (p *Tab) ScrollWidth() int {
	p.t.Helper()
	return run(p, "read page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
}

// Title is the document title.
func (p *Tab) Title() string {
	p.t.Helper()
	return run(p, "read title", chromedp.Title())
}

// Cookie returns the browser's cookie called name for the server, or nil.
func (p *Tab) Cookie(name string) *network.Cookie {
	p.t.Helper()
	res := run(p, "read cookies", chromedp.Action[*network.GetCookiesResult](
		func(ctx context.Context, t *chromedp.Target) (*network.GetCookiesResult, error) {
			r, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base.String()}})
			return &r, err
		}))
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SetViewport resizes the page's viewport to a desktop window of w×h CSS
// pixels.
func (p *Tab) SetViewport(w, h int) {
	p.t.Helper()
	p.do(fmt.Sprintf("viewport %dx%d", w, h), chromedp.EmulateViewport(int64(w), int64(h)))
}

// SetPhone makes the tab a 375×812 portrait phone with touch, as the
// mobile layouts are checked at.
func (p *Tab) SetPhone() {
	p.t.Helper()
	p.do("phone viewport", chromedp.EmulateViewport(375, 812,
		chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// Screenshot saves a PNG of the whole page and returns its path: in
// $MEND_SCREENSHOTS when set (to keep them for people to look at), else
// in the test's temporary directory.
func (p *Tab) Screenshot(name string) string {
	p.t.Helper()
	png := run(p, "screenshot", chromedp.FullScreenshot(100))
	if p.dir == "" {
		p.dir = os.Getenv("MEND_SCREENSHOTS")
		if p.dir == "" {
			p.dir = p.t.TempDir()
		} else if err := os.MkdirAll(p.dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	file := filepath.Join(p.dir, fileSafe(p.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", file)
	return file
}

// fieldXPath finds an input, textarea or select by its label's text or by
// its name.
func fieldXPath(field string) string {
	lit := xpathLiteral(field)
	return fmt.Sprintf(`//*[(self::input or self::textarea or self::select) and `+
		`(@id = //label[normalize-space(.) = %[1]s]/@for or ancestor::label[normalize-space(.) = %[1]s] or @name = %[1]s)]`, lit)
}

// buttonXPath finds a button or submit input by the text it shows.
func buttonXPath(text string) string {
	lit := xpathLiteral(text)
	return fmt.Sprintf(`//*[(self::button and normalize-space(.) = %[1]s) or `+
		`(self::input and (@type = "submit" or @type = "button") and normalize-space(@value) = %[1]s)]`, lit)
}

// xpathLiteral quotes s for XPath 1.0, which has no escapes.
func xpathLiteral(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	for i, part := range parts {
		parts[i] = `"` + part + `"`
	}
	return "concat(" + strings.Join(parts, `, '"', `) + ")"
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
