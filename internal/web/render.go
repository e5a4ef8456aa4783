package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/reveal"
)

// pageName names a page template (templates/pages/<name>.html). Each is a
// tpl… constant beside the handlers that render it;
// TestEveryPageNameHasATemplate checks that each names a template and that
// no page is named by a bare string.
type pageName string

// renderer holds one template set per page: layout + partials + the page,
// so that pages' blocks never overwrite each other.
//
// Each set is parsed at start, to refuse a broken template before the
// server listens, and dropped; it is parsed again, once, when its page is
// first served. A parsed set holds about 280 KB (the layout and every
// partial are copied into each of the 56), so a process keeps only the
// pages it serves: the web process is meant to stay near MemoryLimit.
type renderer struct {
	fsys  fs.FS
	pages map[pageName]*pageSet
	// buffers are reused between pages: a page is rendered whole before a
	// byte is sent (so a template error can still be a clean 500), and a
	// dashboard of 150 pairs is over 100 KB that would otherwise be
	// allocated, grown and collected per request.
	buffers sync.Pool
}

// pageSet is one page's template set, parsed at its first use.
type pageSet struct {
	files []string
	once  sync.Once
	t     *template.Template
	err   error
}

func newRenderer(fsys fs.FS) (*renderer, error) {
	partials, err := fs.Glob(fsys, "partials/*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	r := &renderer{fsys: fsys, pages: map[pageName]*pageSet{}}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "pages/"), ".html")
		set := append([]string{"layout.html"}, partials...)
		set = append(set, f)
		if _, err := parsePage(fsys, name, set); err != nil {
			return nil, err
		}
		r.pages[pageName(name)] = &pageSet{files: set}
	}
	return r, nil
}

// parsePage parses one page's set.
func parsePage(fsys fs.FS, name string, files []string) (*template.Template, error) {
	t, err := template.New(name).Funcs(templateFuncs).ParseFS(fsys, files...)
	if err != nil {
		return nil, fmt.Errorf("web: template %s: %w", files[len(files)-1], err)
	}
	return t, nil
}

var templateFuncs = template.FuncMap{
	// date shows a calendar date. An instant has no date until a timezone
	// is chosen: day shows it in one (the viewer's), as datetime does. date
	// refuses an instant, so a template that passes one fails its tests
	// rather than showing the date in UTC (an evening check-in in Chicago
	// dated the next day).
	"date": func(d checkin.Date) string { return d.Format("Mon 2 Jan 2006") },
	"day":  func(t time.Time, tz string) string { return t.In(checkin.LoadZone(tz)).Format("Mon 2 Jan 2006") },
	"datetime": func(t time.Time, tz string) string {
		return t.In(checkin.LoadZone(tz)).Format("2 Jan 2006, 15:04 MST")
	},
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"add":         func(a, b int) int { return a + b },
	"path":        pathTo,
	"reasonPath":  reasonPath,
	"revealRule":  reveal.RuleText,
	"revealRules": func() any { return library.RevealRules },
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
	},
}

// Form is the one way a page form keeps what was typed and shows a message
// next to each field that needs correcting.
type Form struct {
	Values url.Values
	Errors map[string]string
}

// Get returns what was typed in a field.
func (f *Form) Get(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Error returns the message for a field, or "".
func (f *Form) Error(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// HasErrors reports whether any field has a message.
func (f *Form) HasErrors() bool { return f != nil && len(f.Errors) > 0 }

// formOf parses the request's form; a body that is too large or malformed
// is a field-less validation error, and a field holding characters that
// cannot be stored (refuseOddInput) a message beside that field.
func formOf(c *gin.Context) (*Form, error) {
	if err := c.Request.ParseForm(); err != nil {
		return &Form{Values: url.Values{}}, mend.Errorf(mend.EINVALID, "The form could not be read. It may be too large.")
	}
	form := &Form{Values: c.Request.PostForm}
	if refused, ok := c.Get(unstorableKey); ok {
		return form, refused.(*mend.Error)
	}
	return form, nil
}

// H is a page's data; render adds Scope, Flash and Path.
type H map[string]any

const flashKey = "flash"

// flash stores a one-time message shown on the next page.
func (s *Server) flash(c *gin.Context, msg string) {
	s.sessions.Put(c.Request.Context(), flashKey, msg)
}

// render executes a page. It pops the flash first: session changes must
// happen before the body is written.
func (s *Server) render(c *gin.Context, status int, page pageName, data H) {
	s.renderAround(c, status, page, data, nil)
}

// keptBodyMarker stands for a kept, already rendered body while the page
// around it is rendered (see renderAround). Everything else in a layout is
// escaped by html/template, so no name or message can contain it.
const keptBodyMarker = "<!--mend:kept-body-->"

// renderAround renders a page whose template writes {{.Body}} once, with
// kept (HTML rendered earlier by executeBlock) in its place. The page is
// rendered around a marker and kept is written between the two parts,
// because passing it through the template would copy it twice and
// allocate a buffer as large as itself on every request (text/template
// prints a value through fmt). kept nil is an ordinary render.
func (s *Server) renderAround(c *gin.Context, status int, page pageName, data H, kept []byte) {
	s.writeAround(c, status, page, data, kept, nil)
}

// writeAround is renderAround; when the page shows no flash message, whole
// (if not nil) is given the page's parts before and after kept, as they
// will be written, before they are.
func (s *Server) writeAround(c *gin.Context, status int, page pageName, data H, kept []byte, whole func(before, after []byte)) {
	if data == nil {
		data = H{}
	}
	data["Scope"] = scopeOf(c)
	data["Path"] = c.Request.URL.Path
	data["Nav"] = s.nav(c)
	// Checked as an absolute http(s) URL when the config is loaded: the
	// operator's own setting, trusted as a link target.
	data["QuickExit"] = template.URL(s.cfg.QuickExitURL)
	if _, ok := data["Flash"]; !ok && s.sessions.Exists(c.Request.Context(), flashKey) {
		data["Flash"] = s.sessions.PopString(c.Request.Context(), flashKey)
	}
	if kept != nil {
		data["Body"] = template.HTML(keptBodyMarker)
	}
	b, err := s.execute(page, data)
	if err == nil && kept != nil && !bytes.Contains(b.Bytes(), []byte(keptBodyMarker)) {
		s.pages.release(b)
		err = fmt.Errorf("page %s does not write .Body", page)
	}
	if err != nil {
		s.log.Error("render", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "Something went wrong on our side.")
		return
	}
	defer s.pages.release(b)
	// No Content-Length: scs saves the session at the first write and, if
	// that fails, writes its error page instead; a length set here would
	// then be wrong.
	before, after := b.Bytes(), []byte(nil)
	if kept != nil {
		before, after, _ = bytes.Cut(before, []byte(keptBodyMarker))
	}
	if flash, _ := data["Flash"].(string); whole != nil && kept != nil && flash == "" {
		whole(before, after)
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	for _, part := range [][]byte{before, kept, after} {
		if len(part) == 0 {
			continue
		}
		if _, err := c.Writer.Write(part); err != nil {
			return // the client went away
		}
	}
}

// execute renders a page into a pooled buffer, which the caller hands
// back with release once it is written.
func (s *Server) execute(page pageName, data H) (*bytes.Buffer, error) {
	t, err := s.pages.page(page)
	if err != nil {
		return nil, err
	}
	if _, ok := data["Form"]; !ok {
		data["Form"] = &Form{Values: url.Values{}}
	}
	buf, _ := s.pages.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	if err := t.ExecuteTemplate(buf, "layout", data); err != nil {
		s.pages.release(buf)
		return nil, err
	}
	return buf, nil
}

// release returns a buffer from execute to the pool.
func (r *renderer) release(b *bytes.Buffer) {
	b.Reset()
	r.buffers.Put(b)
}

// executeBlock renders one named block of a page's template set on its own
// (a part of a page that is kept and reused, see keptBodies); the
// block's output was escaped by html/template as it was written, and
// renderAround writes it into the page.
func (s *Server) executeBlock(page pageName, block string, data any) ([]byte, error) {
	t, err := s.pages.page(page)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// page returns a page's template set.
func (r *renderer) page(name pageName) (*template.Template, error) {
	p, ok := r.pages[name]
	if !ok {
		return nil, fmt.Errorf("no page template %q", name)
	}
	p.once.Do(func() { p.t, p.err = parsePage(r.fsys, string(name), p.files) })
	return p.t, p.err
}

// errorPage writes the error page outside gin (for the cross-origin and
// session layers, which run before it), as seen by a signed-out visitor.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	b, err := s.execute(tplError, H{
		"Scope": mend.Scope{Role: mend.RoleAnonymous}, "Path": r.URL.Path,
		"Title": title, "Status": status, "Message": msg,
	})
	if err != nil {
		s.log.Error("render", "page", tplError, "err", err)
		http.Error(w, msg, status)
		return
	}
	defer s.pages.release(b)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// redirect sends the browser to path after a form post (303: see other).
func (s *Server) redirect(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
}

// attachment sends a download; it is never cached (no-store comes from
// the security headers).
func attachment(c *gin.Context, name, contentType string, body []byte) {
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	c.Data(http.StatusOK, contentType, body)
}
