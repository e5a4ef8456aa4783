package web

import "testing"

func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	for next, want := range map[string]string{
		"/admin":                 "/admin",
		"/admin/mail?page=2":     "/admin/mail?page=2",
		"":                       "/",
		"admin":                  "/",
		"https://evil.example/":  "/",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"/\t/evil.example":       "/",
		"/\n/evil.example":       "/",
		"/login?next=/admin":     "/",
		"/%2F%2Fevil.example":    "/%2F%2Fevil.example", // a path on this site
		"javascript:alert(1)":    "/",
		"/ok#//evil.example":     "/ok#//evil.example",
		"http:/evil.example":     "/",
		"/admin\r\nSet-Cookie:x": "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestMailLogHidesOneTimeLinks(t *testing.T) {
	body := "Choose a password:\n\nhttps://mend.example/invite/abcDEF123_-xyz\n\nor https://mend.example/password/reset/Zz9-_q\nSee https://mend.example/homework"
	got := redactLinks(body)
	want := "Choose a password:\n\nhttps://mend.example/invite/[link hidden]\n\nor https://mend.example/password/reset/[link hidden]\nSee https://mend.example/homework"
	if got != want {
		t.Errorf("redactLinks:\n%s\nwant\n%s", got, want)
	}
}
