package web_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/jobs"
	"github.com/mend-practice/mend/internal/mail/mailtest"
	"github.com/mend-practice/mend/internal/seed"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Issue 17, items 2, 4, 5, 11, 12 and 14.

// deliverMail runs a worker for env's database that sends its email to an
// SMTP listener in the test, and returns the listener.
func deliverMail(t *testing.T, env *webtest.Env) *mailtest.Listener {
	t.Helper()
	smtp := mailtest.Start(t)
	redisURL, _ := mailtest.RedisDB(t)
	ropt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Config
	cfg.SMTPURL, cfg.RedisURL, cfg.WorkerConcurrency = smtp.URL(), redisURL, 2
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	del, relay, closeMail, err := jobs.NewMail(ropt, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	w := &jobs.Worker{DB: env.DB, Redis: ropt, Logger: log, Concurrency: 2, Mail: del, Relay: relay, RelayEvery: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		closeMail()
	})
	return smtp
}

// inbox is what reached address, by subject.
func inbox(l *mailtest.Listener, address string) map[string][]mailtest.Received {
	out := map[string][]mailtest.Received{}
	for _, m := range l.Messages() {
		for _, to := range m.To {
			if to == address {
				out[m.Header().Get("Subject")] = append(out[m.Header().Get("Subject")], m)
			}
		}
	}
	return out
}

// settle waits until the server's background work is done and every
// queued email has reached the listener or failed (a bound on a hung test,
// not a timing assertion).
func settle(t *testing.T, env *webtest.Env, l *mailtest.Listener) {
	t.Helper()
	env.Server.Wait()
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		if count(t, env, `SELECT count(*) FROM email_delivery WHERE status NOT IN ('sent', 'failed', 'skipped')`) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("email still undelivered after 30 s")
}

func TestTwentyResetRequestsSendOneEmail(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t, behindProxy)
	smtp := deliverMail(t, env)
	email := "client2a@northside.example"
	got := statuses(20, func(i int) webtest.Response {
		return postFrom(env.NewClient(t), env, fmt.Sprintf("203.0.113.%d", i+1), "/password/forgot", url.Values{"email": {email}})
	})
	if got[http.StatusOK] != 20 {
		t.Fatalf("answers: %v, want 20 × 200", got)
	}
	settle(t, env, smtp)
	mails := inbox(smtp, email)["Reset your Mend password"]
	if len(mails) != 1 {
		t.Fatalf("%d reset emails reached %s, want 1", len(mails), email)
	}
	// The one email's link works.
	link := linkIn(t, env, mails[0].Parts()["text/plain"])
	wantStatus(t, "the emailed link", env.NewClient(t).Get(link), http.StatusOK)
	wantBody(t, "the reset email", mails[0].Parts()["text/plain"], "expires in an hour")
}

// TestSecurityNoticesReachThePerson: a changed or reset password, and a
// second factor turned on, off or reset by an admin, are each told to the
// person by email, without the password, the secret or any code.
func TestSecurityNoticesReachThePerson(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	smtp := deliverMail(t, env)

	// Password changed.
	client := "client1a@northside.example"
	c := env.Login(t, client)
	const newPassword = "Plum orchard 7 at dawn"
	wantRedirect(t, "change password", c.PostForm("/account/password", url.Values{
		"current": {seed.DemoPassword}, "password": {newPassword}, "confirm": {newPassword}}), "/account")

	// Password reset.
	other := "client1b@northside.example"
	link, _ := resetLink(t, env, other)
	const resetPassword = "Quiet harbour lights 42"
	wantRedirect(t, "reset", env.NewClient(t).PostForm(link, url.Values{"password": {resetPassword}, "confirm": {resetPassword}}), "/")

	// Second factor on, off, and reset by the admin.
	counselor := "counselor1@northside.example"
	secret, codes, enrolled := enrolMFA(t, env, counselor)
	cc := passwordOnly(t, env, counselor)
	signedAt := time.Now()
	if signedAt.Unix()/30 <= enrolled.Unix()/30 {
		signedAt = enrolled.Add(30 * time.Second)
	}
	wantRedirect(t, "second factor", cc.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, signedAt)}}), "/")
	// Turning it off takes a later code, which the app shows once the
	// clock has reached the step just used.
	for time.Now().Unix()/30 < signedAt.Unix()/30 {
		time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30 * time.Second)))
	}
	wantRedirect(t, "turn off", cc.PostForm("/account/mfa/disable", url.Values{"disable_code": {codeAfter(t, secret, signedAt)}}), "/account")
	staff := "counselor2@northside.example"
	enrolMFA(t, env, staff)
	admin := env.Login(t, "admin@northside.example")
	wantRedirect(t, "admin resets", admin.PostForm(fmt.Sprintf("/admin/staff/%d/mfa/reset", env.UserID(t, staff)), nil), "/admin/security")

	settle(t, env, smtp)
	for _, want := range []struct{ to, subject, says string }{
		{client, "Your Mend password was changed", "password of your Mend account was just changed"},
		{other, "Your Mend password was reset", "reset with a link sent to this address"},
		{counselor, "Two-step sign-in is on for your Mend account", "just turned on"},
		{counselor, "Two-step sign-in is off for your Mend account", "just turned off"},
		{staff, "Your Mend two-step sign-in was reset", "An administrator of your practice just reset"},
	} {
		mails := inbox(smtp, want.to)[want.subject]
		if len(mails) != 1 {
			t.Errorf("%s: %d emails %q, want 1 (inbox: %v)", want.to, len(mails), want.subject, subjects(inbox(smtp, want.to)))
			continue
		}
		body := mails[0].Parts()["text/plain"] + mails[0].Parts()["text/html"]
		wantBody(t, want.subject, body, want.says, "/password/forgot")
		for _, secretText := range append([]string{newPassword, resetPassword, seed.DemoPassword, secret, "/password/reset/"}, codes...) {
			if strings.Contains(body, secretText) {
				t.Errorf("%s: the notice contains %q", want.subject, secretText)
			}
		}
	}
}

func subjects(in map[string][]mailtest.Received) []string {
	var out []string
	for s := range in {
		out = append(out, s)
	}
	return out
}

// TestTOTPSecretCannotBePlanted: whoever once opened the set-up page (say
// with a password that has since been changed) does not hold the factor
// the owner later sets up.
func TestTOTPSecretCannotBePlanted(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "client3a@northside.example"
	secretOn := func(c *webtest.Client) string {
		t.Helper()
		res := c.Get("/account/mfa")
		m := secretRe.FindStringSubmatch(res.Body)
		if res.Status != http.StatusOK || m == nil {
			t.Fatalf("set-up page: %d, no secret", res.Status)
		}
		return strings.ReplaceAll(m[1], " ", "")
	}
	intruder := env.Login(t, email)
	planted := secretOn(intruder)
	if again := secretOn(intruder); again == planted {
		t.Fatal("opening the set-up page again shows the same secret")
	}
	planted = secretOn(intruder)

	// The owner changes the password: the unconfirmed secret is gone.
	owner := env.Login(t, email)
	wantRedirect(t, "change password", owner.PostForm("/account/password", url.Values{
		"current": {seed.DemoPassword}, "password": {"Seven lanterns in a row"}, "confirm": {"Seven lanterns in a row"}}), "/account")
	if n := count(t, env, `SELECT count(*) FROM user_mfa WHERE user_id = $1`, env.UserID(t, email)); n != 0 {
		t.Fatalf("%d second factors still stored after the password change", n)
	}
	ownSecret := secretOn(owner)
	if ownSecret == planted {
		t.Fatal("the owner is shown the secret the intruder saw")
	}
	// The planted secret's code does not confirm the owner's enrolment.
	res := owner.PostForm("/account/mfa", url.Values{"code": {totpCode(t, planted, time.Now())}})
	wantStatus(t, "the intruder's code", res, http.StatusUnprocessableEntity)

	// A reset drops an unconfirmed secret too.
	other := "client3b@northside.example"
	secretOn(env.Login(t, other))
	link, _ := resetLink(t, env, other)
	wantRedirect(t, "reset", env.NewClient(t).PostForm(link, url.Values{"password": {"Nine kites over the bay"}, "confirm": {"Nine kites over the bay"}}), "/")
	if n := count(t, env, `SELECT count(*) FROM user_mfa WHERE user_id = $1`, env.UserID(t, other)); n != 0 {
		t.Fatalf("%d second factors still stored after the reset", n)
	}
}

// TestResetLinksLiveAnHourAndDieWithANewPassword.
func TestResetLinksLiveAnHourAndDieWithANewPassword(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "client4a@northside.example"
	link, _ := resetLink(t, env, email)
	if n := count(t, env, `SELECT count(*) FROM user_tokens WHERE purpose = 'reset' AND expires_at - created_at = interval '1 hour'`); n != 1 {
		t.Fatal("the reset link does not expire an hour after it was made")
	}
	env.DB.MustExec(`UPDATE user_tokens SET created_at = created_at - interval '61 minutes', expires_at = expires_at - interval '61 minutes' WHERE purpose = 'reset'`)
	res := env.NewClient(t).Get(link)
	wantStatus(t, "a reset link after 61 minutes", res, http.StatusGone)
	wantBody(t, "a reset link after 61 minutes", res.Body, "This link has expired")

	// A password change retires the open link.
	link, _ = resetLink(t, env, email)
	wantStatus(t, "a fresh link", env.NewClient(t).Get(link), http.StatusOK)
	c := env.Login(t, email)
	wantRedirect(t, "change password", c.PostForm("/account/password", url.Values{
		"current": {seed.DemoPassword}, "password": {"Eleven quiet mornings"}, "confirm": {"Eleven quiet mornings"}}), "/account")
	res = env.NewClient(t).Get(link)
	wantStatus(t, "the link after a password change", res, http.StatusGone)
	res = env.NewClient(t).PostForm(link, url.Values{"password": {"Twelve loud evenings"}, "confirm": {"Twelve loud evenings"}})
	wantStatus(t, "using the link after a password change", res, http.StatusGone)
	wantRedirect(t, "the changed password still works", login(env.NewClient(t), email, "Eleven quiet mornings"), "/")
}

// recordingConn notes the SQL of every statement sent while answering a
// request (contexts of net/http's server carry ServerContextKey); work the
// server does behind its answers runs on other contexts and is not noted.
type recordingConn struct {
	pqConn
	rec *answerLog
}

type answerLog struct {
	mu   sync.Mutex
	sqls []string
}

func (l *answerLog) note(ctx context.Context, q string) {
	if ctx.Value(http.ServerContextKey) == nil {
		return
	}
	l.mu.Lock()
	l.sqls = append(l.sqls, strings.Join(strings.Fields(q), " "))
	l.mu.Unlock()
}

func (l *answerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sqls
	l.sqls = nil
	return out
}

func (c recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.rec.note(ctx, q)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.rec.note(ctx, q)
	return c.pqConn.ExecContext(ctx, q, args)
}

// PrepareContext notes nothing itself: whether a connection had prepared a
// statement before is the pool's state, not the request's work.
func (c recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.pqConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return recordingStmt{st.(pqStmt), c.rec, q}, nil
}

// recordingStmt notes each execution of a prepared statement.
type recordingStmt struct {
	pqStmt
	rec *answerLog
	q   string
}

func (s recordingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.rec.note(ctx, "EXECUTE "+s.q)
	return s.pqStmt.QueryContext(ctx, args)
}

func (s recordingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.rec.note(ctx, "EXECUTE "+s.q)
	return s.pqStmt.ExecContext(ctx, args)
}

// recordedDB opens dsn through a statement log.
func recordedDB(t *testing.T, dsn string, rec *answerLog) *sqlx.DB {
	t.Helper()
	pc, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	d := sqlx.NewDb(sql.OpenDB(recordingConnector{pc, rec}), "postgres")
	t.Cleanup(func() { d.Close() })
	return d
}

type recordingConnector struct {
	driver.Connector
	rec *answerLog
}

func (c recordingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return recordingConn{conn.(pqConn), c.rec}, nil
}

// TestForgotPasswordAnswersAlikeWithOrWithoutAnAccount compares, without
// any clock, what answering "forgot password" does for an email with an
// account and for one without: the same statements in the same order, and
// the same page. Whatever differs (the link, the email) happens behind the
// answer.
func TestForgotPasswordAnswersAlikeWithOrWithoutAnAccount(t *testing.T) {
	t.Parallel()
	_, dsn := webtest.DemoDB(t)
	rec := &answerLog{}
	d := recordedDB(t, dsn, rec)
	env := webtest.StartWithDB(t, d, dsn)

	answer := func(email string) ([]string, string) {
		env.Server.Wait()
		rec.take()
		res := env.NewClient(t).PostForm("/password/forgot", url.Values{"email": {email}})
		wantStatus(t, "forgot "+email, res, http.StatusOK)
		sqls := rec.take()
		env.Server.Wait()
		return sqls, strings.ReplaceAll(res.Body, email, "EMAIL")
	}
	known, knownPage := answer("client1a@northside.example")
	unknown, unknownPage := answer("nobody-here@northside.example")
	if len(known) == 0 {
		t.Fatal("no statements recorded")
	}
	if strings.Join(known, "\n") != strings.Join(unknown, "\n") {
		t.Errorf("answering runs different statements:\nknown account:\n  %s\nno account:\n  %s",
			strings.Join(known, "\n  "), strings.Join(unknown, "\n  "))
	}
	if knownPage != unknownPage {
		t.Error("the pages differ")
	}
	// The work did happen, behind the answer, for the account only.
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE kind = 'password_reset' AND to_address = 'client1a@northside.example'`); n != 1 {
		t.Errorf("%d reset emails for the account", n)
	}
	if n := count(t, env, `SELECT count(*) FROM email_log WHERE to_address = 'nobody-here@northside.example'`); n != 0 {
		t.Errorf("%d emails for an address without an account", n)
	}
}

// TestAdminsMustHaveASecondFactor: an admin without one is sent to set it
// up before anything else, even where the practice does not require it of
// counselors, and cannot turn it off; a new practice requires it of every
// staff member.
func TestAdminsMustHaveASecondFactor(t *testing.T) {
	t.Parallel()
	env := webtest.Start(t)
	email := "admin@riverbank.example"
	env.DB.MustExec(`DELETE FROM user_mfa WHERE user_id = $1`, env.UserID(t, email))
	if n := count(t, env, `SELECT count(*) FROM practices WHERE slug = 'riverbank.example' AND mfa_required`); n != 0 {
		t.Fatal("the demo practice requires MFA of counselors; this test needs one that does not")
	}
	c := env.NewClient(t)
	wantRedirect(t, "admin signs in", demoLogin(c, email), "/login/mfa")
	wantRedirect(t, "admin page before the set-up", c.Get("/admin"), "/login/mfa")
	res := c.Get("/login/mfa")
	m := secretRe.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("set-up page: %d", res.Status)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	at := time.Now()
	res = c.PostForm("/login/mfa", url.Values{"code": {totpCode(t, secret, at)}})
	if res.Status != http.StatusOK || len(recoveryCodeRe.FindAllString(res.Body, -1)) != 10 {
		t.Fatalf("confirm: %d", res.Status)
	}
	wantStatus(t, "admin page after the set-up", c.Get("/admin"), http.StatusOK)
	res = c.PostForm("/account/mfa/disable", url.Values{"disable_code": {codeAfter(t, secret, at)}})
	wantStatus(t, "admin turns MFA off", res, http.StatusConflict)

	// A new practice requires it of counselors.
	practice := env.ID(t, `INSERT INTO practices (name, slug) VALUES ('Harbor Counseling', 'harbor.example') RETURNING id`)
	hash := ""
	if err := env.DB.Get(&hash, `SELECT password_hash FROM users WHERE email = 'counselor1@riverbank.example'`); err != nil {
		t.Fatal(err)
	}
	env.DB.MustExec(`INSERT INTO users (practice_id, role, email, name, password_hash) VALUES ($1, 'counselor', 'counselor1@harbor.example', 'Noor Haddad', $2)`, practice, hash)
	c = env.NewClient(t)
	wantRedirect(t, "a new practice's counselor signs in", demoLogin(c, "counselor1@harbor.example"), "/login/mfa")
	wantBody(t, "set-up page", c.Get("/login/mfa").Body, "Your practice asks everyone on staff")
}
