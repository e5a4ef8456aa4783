package web_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// invite has the admin invite a counselor and returns the link's path.
func invite(t *testing.T, env *webtest.Env, admin *webtest.Client, name, email string) string {
	t.Helper()
	res := admin.PostForm("/admin/counselors", url.Values{"name": {name}, "email": {email}, "timezone": {"America/Chicago"}})
	wantStatus(t, "invite "+email, res, http.StatusCreated)
	wantBody(t, "invitation page", res.Body, name, email, "can be shown again in Mend until then")
	return linkIn(t, env, res.Body)
}

func TestInvitationLinkWorksOnceAndIsStoredHashed(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	link := invite(t, env, admin, "Priya Shah", "priya@northside.example")
	token := tokenOf(link)
	if !strings.HasPrefix(link, "/invite/") || len(token) < 40 {
		t.Fatalf("link %q: want /invite/<at least 40 random characters>", link)
	}

	// The account exists without a password; the database holds only the
	// token's hash.
	id := env.UserID(t, "priya@northside.example")
	var row struct {
		Role     string `db:"role"`
		Timezone string `db:"timezone"`
		HasHash  bool   `db:"has_hash"`
	}
	if err := env.DB.Get(&row, `SELECT role, timezone, password_hash IS NOT NULL AS has_hash FROM users WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if row.Role != "counselor" || row.Timezone != "America/Chicago" || row.HasHash {
		t.Errorf("invited account: %+v, want a counselor in America/Chicago without a password", row)
	}
	var hashes [][]byte
	if err := env.DB.Select(&hashes, `SELECT token_hash FROM user_tokens WHERE user_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(token))
	if len(hashes) != 1 || !bytes.Equal(hashes[0], want[:]) {
		t.Errorf("user_tokens holds %x, want only the SHA-256 of the token", hashes)
	}
	if n := count(t, env, `SELECT count(*) FROM user_tokens t WHERE position($1 in t::text) > 0`, token); n != 0 {
		t.Error("a user_tokens row contains the raw token")
	}

	// The email is in the log with the link and nothing about any client.
	var mail struct {
		ID   int64  `db:"id"`
		To   string `db:"to_address"`
		Text string `db:"body_text"`
		HTML string `db:"body_html"`
	}
	if err := env.DB.Get(&mail, `SELECT id, to_address, body_text, body_html FROM email_log WHERE kind = 'invitation' AND user_id = $1`, id); err != nil {
		t.Fatalf("invitation email not in the log: %v", err)
	}
	if mail.To != "priya@northside.example" || !strings.Contains(mail.Text, env.URL+link) || !strings.Contains(mail.HTML, env.URL+link) {
		t.Errorf("invitation email to %q lacks the link:\n%s", mail.To, mail.Text)
	}
	var clientNames []string
	if err := env.DB.Select(&clientNames, `SELECT name FROM users WHERE role = 'client' UNION ALL SELECT label FROM pairs`); err != nil {
		t.Fatal(err)
	}
	wantNotInBody(t, "invitation email", mail.Text+mail.HTML, clientNames...)

	// Shown once: neither the staff page nor the mail log gives it again.
	wantBody(t, "staff page", admin.Get("/admin").Body, "Priya Shah", "Invited")
	wantNotInBody(t, "staff page", admin.Get("/admin").Body, token)
	res := admin.Get(fmt.Sprintf("/admin/mail/%d", mail.ID))
	wantStatus(t, "mail log message", res, http.StatusOK)
	wantNotInBody(t, "mail log message", res.Body, token)
	wantBody(t, "mail log message", res.Body, "/invite/[link hidden]")

	// The invitee sets a password; bad input keeps them on the form.
	c := env.NewClient(t)
	res = c.Get(link)
	wantStatus(t, "open invitation", res, http.StatusOK)
	wantBody(t, "invitation form", res.Body, "Welcome to Mend, Priya Shah", "Avery Admin", "Northside Counseling", "priya@northside.example")
	res = c.PostForm(link, url.Values{"password": {"too-short"}, "confirm": {"too-short"}})
	wantStatus(t, "short password", res, http.StatusUnprocessableEntity)
	wantBody(t, "short password", res.Body, "Use at least 12 characters", `id="f-password-error"`)
	wantNotInBody(t, "short password", res.Body, "too-short")
	res = c.PostForm(link, url.Values{"password": {"correct horse battery"}, "confirm": {"correct horse staple"}})
	wantStatus(t, "mismatched passwords", res, http.StatusUnprocessableEntity)
	wantBody(t, "mismatched passwords", res.Body, "The two passwords do not match.", `id="f-confirm-error"`)
	res = c.PostForm(link, url.Values{"password": {"correct horse battery"}, "confirm": {"correct horse battery"}})
	wantRedirect(t, "accept invitation", res, "/")
	wantRedirect(t, "signed in after accepting", c.Get("/"), "/dashboard")
	wantBody(t, "dashboard after accepting", c.Get("/dashboard").Body, "Welcome to Mend. Your password is set.")

	// Once only.
	res = env.NewClient(t).Get(link)
	wantStatus(t, "used link", res, http.StatusGone)
	wantBody(t, "used link", res.Body, "already been used")
	res = env.NewClient(t).PostForm(link, url.Values{"password": {"another long password"}, "confirm": {"another long password"}})
	wantStatus(t, "used link, posted again", res, http.StatusGone)
	wantRedirect(t, "sign in with the chosen password", login(env.NewClient(t), "priya@northside.example", "correct horse battery"), "/")
	wantStatus(t, "the second post changed nothing", login(env.NewClient(t), "priya@northside.example", "another long password"), http.StatusUnauthorized)

	// Accepted: a new invitation makes no sense.
	res = admin.PostForm(fmt.Sprintf("/admin/staff/%d/invitation", id), nil)
	wantStatus(t, "reinvite an active counselor", res, http.StatusConflict)
	wantBody(t, "reinvite an active counselor", res.Body, "already accepted")
}

func TestExpiredInvitationExplainsItselfAndCanBeRenewed(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	old := invite(t, env, admin, "Lee Park", "lee@northside.example")
	id := env.UserID(t, "lee@northside.example")
	env.DB.MustExec(`UPDATE user_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, id)

	res := env.NewClient(t).Get(old)
	wantStatus(t, "expired link", res, http.StatusGone)
	wantBody(t, "expired link", res.Body, "This link has expired", "Avery Admin")
	res = env.NewClient(t).PostForm(old, url.Values{"password": {"a long enough password"}, "confirm": {"a long enough password"}})
	wantStatus(t, "expired link, posted", res, http.StatusGone)

	// The admin sees the invitation is pending and makes a new link.
	wantBody(t, "staff page", admin.Get("/admin").Body, fmt.Sprintf(`action="/admin/staff/%d/invitation"`, id))
	res = admin.PostForm(fmt.Sprintf("/admin/staff/%d/invitation", id), nil)
	wantStatus(t, "new invitation", res, http.StatusOK)
	renewed := linkIn(t, env, res.Body)
	if renewed == old {
		t.Fatal("the new link is the old one")
	}
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE kind = 'invitation' AND user_id = $1`, id); n != 2 {
		t.Errorf("%d invitation emails, want 2 (one per link)", n)
	}

	// A link sent in between stops working when a newer one is made.
	res = admin.PostForm(fmt.Sprintf("/admin/staff/%d/invitation", id), nil)
	newest := linkIn(t, env, res.Body)
	wantStatus(t, "superseded link", env.NewClient(t).Get(renewed), http.StatusGone)
	wantStatus(t, "expired link after renewal", env.NewClient(t).Get(old), http.StatusGone)

	c := env.NewClient(t)
	wantStatus(t, "newest link", c.Get(newest), http.StatusOK)
	wantRedirect(t, "accept newest link", c.PostForm(newest, url.Values{"password": {"a long enough password"}, "confirm": {"a long enough password"}}), "/")

	// A link nobody issued says so.
	res = env.NewClient(t).Get("/invite/" + strings.Repeat("A", 43))
	wantStatus(t, "unknown link", res, http.StatusNotFound)
	wantBody(t, "unknown link", res.Body, "This link is not valid")
}

func TestInviteCounselorRejectsBadInputAndStoresNothing(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	admin := env.Login(t, "admin@northside.example")
	users := count(t, env, `SELECT count(*) FROM users`)
	cases := []struct {
		what, name, email, timezone, field, message string
	}{
		{"bad email", "Nina Voss", "nina-at-example", "UTC", "email", "Enter an email address like name@example.com."},
		{"empty name", "   ", "nina@northside.example", "UTC", "name", "Enter a name."},
		{"unknown time zone", "Nina Voss", "nina@northside.example", "Mars/Olympus", "timezone", "Choose a time zone from the list."},
		{"server's zone", "Nina Voss", "nina@northside.example", "Local", "timezone", "Choose a time zone from the list."},
		{"email in use here", "Nina Voss", "Counselor1@northside.example", "UTC", "email", "Someone in this practice already has this email address."},
	}
	for _, tc := range cases {
		res := admin.PostForm("/admin/counselors", url.Values{"name": {tc.name}, "email": {tc.email}, "timezone": {tc.timezone}})
		wantStatus(t, tc.what, res, http.StatusUnprocessableEntity)
		wantBody(t, tc.what, res.Body,
			fmt.Sprintf(`<p class="error" id="f-%s-error">%s</p>`, tc.field, tc.message),
			`Please correct the highlighted fields.`,
			"Sam Okafor, LMFT", // the staff list is still there
		)
		if strings.TrimSpace(tc.name) != "" {
			wantBody(t, tc.what+": typed name kept", res.Body, `value="`+tc.name+`"`)
		}
		wantBody(t, tc.what+": typed email kept", res.Body, `value="`+tc.email+`"`)
		if n := count(t, env, `SELECT count(*) FROM users`); n != users {
			t.Errorf("%s: %d users, want %d", tc.what, n, users)
		}
	}
	if n := count(t, env, `SELECT count(*) FROM user_tokens`) + count(t, env, `SELECT count(*) FROM email_log`); n != 0 {
		t.Errorf("rejected invitations left %d links or emails", n)
	}
}
