package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// wantSecurityHeaders checks the headers every response must carry.
func wantSecurityHeaders(t *testing.T, what string, res webtest.Response, page bool) {
	t.Helper()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") ||
		!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(csp, "default-src 'self'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, v)
	}
	if v := h.Get("Referrer-Policy"); v != "same-origin" && v != "no-referrer" && v != "strict-origin-when-cross-origin" {
		t.Errorf("%s: Referrer-Policy %q", what, v)
	}
	if page && !strings.Contains(strings.Join(h.Values("Cache-Control"), ","), "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, h.Values("Cache-Control"))
	}
	if v := h.Get("Strict-Transport-Security"); v != "" {
		t.Errorf("%s: HSTS %q over plain http", what, v)
	}
}

func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	anon := env.NewClient(t)
	admin := env.Login(t, "admin@northside.example")

	res := anon.Get("/no/such/page")
	wantStatus(t, "unknown page", res, http.StatusNotFound)
	wantSecurityHeaders(t, "404", res, true)
	wantBody(t, "404", res.Body, "Not found")

	res = anon.Get("/admin")
	wantStatus(t, "redirect", res, http.StatusSeeOther)
	wantSecurityHeaders(t, "redirect", res, true)

	res = anon.Get("/login")
	wantStatus(t, "login page", res, http.StatusOK)
	wantSecurityHeaders(t, "login page", res, true)

	res = admin.Get("/admin")
	wantStatus(t, "admin page", res, http.StatusOK)
	wantSecurityHeaders(t, "admin page", res, true)

	res = anon.Get("/static/app.css")
	wantStatus(t, "static file", res, http.StatusOK)
	wantSecurityHeaders(t, "static file", res, false)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css served as %q", ct)
	}

	res = anon.Get("/static/")
	wantStatus(t, "static directory listing", res, http.StatusNotFound)
	wantSecurityHeaders(t, "static 404", res, true)

	// An internal error: the store call fails because its table is gone.
	env.DB.MustExec(`DROP TABLE email_log CASCADE`)
	res = admin.Get("/admin/mail")
	wantStatus(t, "page whose query fails", res, http.StatusInternalServerError)
	wantSecurityHeaders(t, "500", res, true)
	wantBody(t, "500", res.Body, "Something went wrong", "Please try again.")
	wantNotInBody(t, "500", strings.ToLower(res.Body), "pq:", "sql", "relation", "email_log", "does not exist", "goroutine", ".go:")
}

// inlineCode finds what the CSP would block: inline scripts, style
// elements and attributes, inline event handlers.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<script>|<style|\sstyle=|\son[a-z]+=`)

func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	anon := env.NewClient(t)
	admin := env.Login(t, "admin@northside.example")
	pages := map[string]webtest.Response{
		"login":           anon.Get("/login"),
		"failed login":    login(anon, "admin@northside.example", "wrong"),
		"forgot":          anon.Get("/password/forgot"),
		"forgot sent":     anon.PostForm("/password/forgot", url.Values{"email": {"x@example.com"}}),
		"link not valid":  anon.Get("/invite/nope"),
		"not found":       anon.Get("/nope"),
		"admin":           admin.Get("/admin"),
		"admin invite":    admin.PostForm("/admin/counselors", url.Values{"name": {"A B"}, "email": {"ab@northside.example"}, "timezone": {"UTC"}}),
		"admin bad input": admin.PostForm("/admin/counselors", url.Values{"name": {""}, "email": {"x"}, "timezone": {"UTC"}}),
		"mail log":        admin.Get("/admin/mail"),
		"dashboard":       env.Login(t, "counselor1@northside.example").Get("/dashboard"),
		"homework":        env.Login(t, "client1a@northside.example").Get("/homework"),
	}
	for name, res := range pages {
		if m := inlineCode.FindString(res.Body); m != "" {
			t.Errorf("%s page (status %d) has inline code the CSP blocks: %q", name, res.Status, m)
		}
		if !strings.Contains(res.Body, `<html lang="en">`) {
			t.Errorf("%s page (status %d) is not a full page", name, res.Status)
		}
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	form := url.Values{"email": {"admin@northside.example"}, "password": {"demo-password"}}

	post := func(c *webtest.Client, path string, form url.Values, headers map[string]string) webtest.Response {
		req, err := http.NewRequest(http.MethodPost, env.URL+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return c.Do(req)
	}

	for name, headers := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"foreign Origin only":       {"Origin": "https://evil.example"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site"},
	} {
		c := env.NewClient(t)
		res := post(c, "/login", form, headers)
		wantStatus(t, name, res, http.StatusForbidden)
		wantSecurityHeaders(t, name, res, true)
		wantBody(t, name, res.Body, "another website")
		if sessionCookie(c) != "" {
			t.Errorf("%s: refused login set a session cookie", name)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM audit_log WHERE action = 'login'`); n != 0 {
		t.Errorf("refused cross-origin logins wrote %d login audit rows", n)
	}

	// A signed-in admin's browser tricked into posting from another site
	// creates nobody.
	admin := env.Login(t, "admin@northside.example")
	invite := url.Values{"name": {"Mallory"}, "email": {"mallory@northside.example"}, "timezone": {"UTC"}}
	res := post(admin, "/admin/counselors", invite, map[string]string{"Sec-Fetch-Site": "cross-site"})
	wantStatus(t, "cross-site invite", res, http.StatusForbidden)
	if n := count(t, env, `SELECT count(*) FROM users WHERE email = 'mallory@northside.example'`); n != 0 {
		t.Fatal("a cross-site post created an account")
	}
	// The same post from Mend's own page works (so the refusal above is
	// about the origin, not the form).
	res = post(admin, "/admin/counselors", invite, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": env.URL})
	wantStatus(t, "same-origin invite", res, http.StatusCreated)
}
