package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

func TestLogsCarryNoPasswordsOrTokens(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	secrets := []string{"Wrong-Password-123", "Invitee-Password-456", "Reset-Password-789", "demo-password"}

	login(env.NewClient(t), "admin@northside.example", "Wrong-Password-123")
	admin := env.Login(t, "admin@northside.example")
	link := invite(t, env, admin, "Logan Gray", "logan@northside.example")
	c := env.NewClient(t)
	wantRedirect(t, "accept", c.PostForm(link, url.Values{"password": {"Invitee-Password-456"}, "confirm": {"Invitee-Password-456"}}), "/")
	reset, _ := resetLink(t, env, "logan@northside.example")
	wantRedirect(t, "reset", c.PostForm(reset, url.Values{"password": {"Reset-Password-789"}, "confirm": {"Reset-Password-789"}}), "/")
	env.NewClient(t).Get(link)  // a used link
	env.NewClient(t).Get(reset) // and another
	env.DB.MustExec(`DROP TABLE email_log CASCADE`)
	wantStatus(t, "internal error", admin.Get("/admin/mail"), http.StatusInternalServerError)

	logs := env.Logs.String()
	// The logs are really there: requests by route template, the error.
	for _, want := range []string{"route=/invite/:token", "route=/password/reset/:token", "route=/login", `msg="internal error"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range append(secrets, tokenOf(link), tokenOf(reset), sessionCookie(admin)) {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
