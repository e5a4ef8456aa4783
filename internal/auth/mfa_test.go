package auth_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/vault"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// mfaFixture is a practice with a counselor and an admin, and an MFA store
// on a clock the test moves.
type mfaFixture struct {
	db        *sqlx.DB
	mfa       *auth.MFA
	clock     *clock
	counselor mend.Scope
	admin     mend.Scope
}

func newMFAFixture(t *testing.T) mfaFixture {
	t.Helper()
	t.Parallel()
	d, _ := dbtest.New(t)
	var practice int64
	must(t, d.Get(&practice, `INSERT INTO practices (name, slug) VALUES ('P', 'p.example') RETURNING id`))
	user := func(role, email string) mend.Scope {
		var id int64
		must(t, d.Get(&id, `INSERT INTO users (practice_id, role, email, name) VALUES ($1, $2, $3, $3) RETURNING id`, practice, role, email))
		return mend.Scope{PracticeID: practice, UserID: id, Role: mend.Role(role), Email: email, Name: email, IP: "192.0.2.9"}
	}
	key, err := vault.GenerateMasterKey()
	must(t, err)
	raw, err := vault.ParseMasterKey(key)
	must(t, err)
	v, err := vault.New(d, raw)
	must(t, err)
	// A fixed instant in the middle of a 30-second step.
	c := &clock{t: time.Unix(1_800_000_015, 0)}
	return mfaFixture{
		db: d, clock: c,
		mfa:       &auth.MFA{DB: d, Vault: v, Throttle: auth.DefaultThrottle(), Clock: mend.Clock{Now: c.now}},
		counselor: user("counselor", "c@p.example"),
		admin:     user("admin", "a@p.example"),
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := auth.CodeAt(secret, at)
	must(t, err)
	return c
}

// enrol sets MFA up for sc at the fixture's current time and returns the
// secret and recovery codes.
func (f mfaFixture) enrol(t *testing.T, sc mend.Scope) (string, []string) {
	t.Helper()
	en, err := f.mfa.BeginEnrolment(ctx, sc)
	must(t, err)
	codes, err := f.mfa.ConfirmEnrolment(ctx, sc, code(t, en.Secret, f.clock.now()))
	must(t, err)
	return en.Secret, codes
}

func TestTOTPEnrolment(t *testing.T) {
	f := newMFAFixture(t)
	sc := f.counselor
	en, err := f.mfa.BeginEnrolment(ctx, sc)
	must(t, err)
	if !bytes.HasPrefix(en.QRCode, []byte("\x89PNG")) {
		t.Fatal("the QR code is not a PNG")
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/Mend:c@p.example?") || !strings.Contains(en.URL, "secret=") {
		t.Fatalf("otpauth URL %q", en.URL)
	}
	// Each opening of the set-up page is a new enrolment with a new secret
	// (whoever saw an earlier one must not hold the factor); the page after
	// a mistyped code shows the one just scanned.
	first := en
	en, err = f.mfa.BeginEnrolment(ctx, sc)
	must(t, err)
	if en.Secret == first.Secret {
		t.Fatal("opening the set-up page again showed the same secret")
	}
	_, err = f.mfa.ConfirmEnrolment(ctx, sc, code(t, first.Secret, f.clock.now()))
	mendtest.WantCode(t, err, mend.EINVALID)
	pending, err := f.mfa.PendingEnrolment(ctx, sc)
	must(t, err)
	if pending.Secret != en.Secret {
		t.Fatal("the page after a mistyped code shows another secret than the one just scanned")
	}
	// The secret is stored encrypted: neither its base32 nor anything
	// readable is in the row.
	var stored []byte
	must(t, f.db.Get(&stored, `SELECT secret FROM user_mfa WHERE user_id = $1`, sc.UserID))
	if bytes.Contains(stored, []byte(strings.ReplaceAll(en.Secret, " ", ""))) {
		t.Fatal("the TOTP secret is stored in the clear")
	}
	// Not on until a code from the app proves it was set up.
	st, err := f.mfa.Status(ctx, sc)
	must(t, err)
	if st.Enabled {
		t.Fatal("MFA on before confirmation")
	}
	_, err = f.mfa.ConfirmEnrolment(ctx, sc, "123456")
	mendtest.WantCode(t, err, mend.EINVALID)
	codes, err := f.mfa.ConfirmEnrolment(ctx, sc, code(t, en.Secret, f.clock.now()))
	must(t, err)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$`).MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q malformed or repeated", c)
		}
		seen[c] = true
	}
	var plain int
	must(t, f.db.Get(&plain, `SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1 AND position($2::bytea in code_hash) > 0`, sc.UserID, []byte(codes[0])))
	if plain != 0 {
		t.Fatal("a recovery code is stored in the clear")
	}
	st, err = f.mfa.Status(ctx, sc)
	must(t, err)
	if !st.Enabled || st.RecoveryLeft != 10 {
		t.Fatalf("status %+v after enrolment", st)
	}
	_, err = f.mfa.BeginEnrolment(ctx, sc)
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

func TestTOTPCodeIsAcceptedOnce(t *testing.T) {
	f := newMFAFixture(t)
	sc := f.counselor
	secret, _ := f.enrol(t, sc)
	t0 := f.clock.now()

	// The code that confirmed the enrolment cannot also sign in.
	mendtest.WantCode(t, f.mfa.Verify(ctx, sc, code(t, secret, t0)), mend.EINVALID)
	// The next step's code works once (a phone a little ahead is fine)...
	next := code(t, secret, t0.Add(30*time.Second))
	must(t, f.mfa.Verify(ctx, sc, next))
	err := f.mfa.Verify(ctx, sc, next)
	mendtest.WantCode(t, err, mend.EINVALID)
	if msg := mend.Fields(err)["code"]; !strings.Contains(msg, "already been used") {
		t.Fatalf("replay message %q", msg)
	}
	// ...and an older step's code is refused after a newer one was used.
	f.clock.set(t0.Add(30 * time.Second))
	mendtest.WantCode(t, f.mfa.Verify(ctx, sc, code(t, secret, t0)), mend.EINVALID)
	// Codes too far from now are refused.
	mendtest.WantCode(t, f.mfa.Verify(ctx, sc, code(t, secret, t0.Add(5*time.Minute))), mend.EINVALID)
}

func TestTOTPConcurrentUseOfOneCode(t *testing.T) {
	f := newMFAFixture(t)
	sc := f.counselor
	secret, _ := f.enrol(t, sc)
	f.clock.set(f.clock.now().Add(60 * time.Second))
	c := code(t, secret, f.clock.now())
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- f.mfa.Verify(ctx, sc, c)
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
		} else if mend.ErrorCode(err) != mend.EINVALID && mend.ErrorCode(err) != mend.ETHROTTLED {
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses of one code succeeded, want exactly 1", ok, n)
	}
}

func TestRecoveryCodes(t *testing.T) {
	f := newMFAFixture(t)
	sc := f.counselor
	secret, codes := f.enrol(t, sc)
	left, err := f.mfa.UseRecoveryCode(ctx, sc, codes[0])
	must(t, err)
	if left != 9 {
		t.Fatalf("%d left, want 9", left)
	}
	_, err = f.mfa.UseRecoveryCode(ctx, sc, codes[0])
	mendtest.WantCode(t, err, mend.EINVALID)
	// Typed in capitals without dashes, as people do.
	typed := strings.ToUpper(strings.ReplaceAll(codes[1], "-", " "))
	if left, err = f.mfa.UseRecoveryCode(ctx, sc, typed); err != nil || left != 8 {
		t.Fatalf("typed %q: left %d, %v", typed, left, err)
	}
	// Two concurrent uses of one code: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.mfa.UseRecoveryCode(ctx, sc, codes[2]); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one recovery code succeeded, want 1", wins)
	}
	// The losers counted as wrong codes; wait out the throttle.
	_, err = f.db.Exec(`DELETE FROM login_failures`)
	must(t, err)
	// New codes need a current code, and retire the old ones.
	_, err = f.mfa.RegenerateRecoveryCodes(ctx, sc, "000000")
	mendtest.WantCode(t, err, mend.EINVALID)
	fresh, err := f.mfa.RegenerateRecoveryCodes(ctx, sc, code(t, secret, f.clock.now().Add(30*time.Second)))
	must(t, err)
	if len(fresh) != 10 {
		t.Fatalf("%d new codes", len(fresh))
	}
	_, err = f.mfa.UseRecoveryCode(ctx, sc, codes[3])
	mendtest.WantCode(t, err, mend.EINVALID)
	if left, err := f.mfa.UseRecoveryCode(ctx, sc, fresh[0]); err != nil || left != 9 {
		t.Fatalf("a new code: left %d, %v", left, err)
	}
}

func TestRecoveryCodeOfAnotherUserFails(t *testing.T) {
	f := newMFAFixture(t)
	f.enrol(t, f.counselor)
	_, adminCodes := f.enrol(t, f.admin)
	_, err := f.mfa.UseRecoveryCode(ctx, f.counselor, adminCodes[0])
	mendtest.WantCode(t, err, mend.EINVALID)
	if _, err := f.mfa.UseRecoveryCode(ctx, f.admin, adminCodes[0]); err != nil {
		t.Fatalf("the admin's own code: %v", err)
	}
}

func TestWrongCodesAreThrottled(t *testing.T) {
	f := newMFAFixture(t)
	sc := f.counselor
	secret, _ := f.enrol(t, sc)
	for range auth.DefaultThrottle().PerFactor {
		mendtest.WantCode(t, f.mfa.Verify(ctx, sc, "000000"), mend.EINVALID)
	}
	// Even the right code is refused now: guessing is capped.
	mendtest.WantCode(t, f.mfa.Verify(ctx, sc, code(t, secret, f.clock.now().Add(30*time.Second))), mend.ETHROTTLED)
	_, err := f.mfa.UseRecoveryCode(ctx, sc, "aaaa-bbbb-cccc-dddd")
	mendtest.WantCode(t, err, mend.ETHROTTLED)
}

func TestDisableAndReset(t *testing.T) {
	f := newMFAFixture(t)
	secret, _ := f.enrol(t, f.counselor)
	// Required by the practice: staff cannot turn it off.
	must(t, f.mfa.SetMFARequired(ctx, f.admin, true))
	mendtest.WantCode(t, f.mfa.Disable(ctx, f.counselor, code(t, secret, f.clock.now().Add(30*time.Second))), mend.ECONFLICT)
	must(t, f.mfa.SetMFARequired(ctx, f.admin, false))
	mendtest.WantCode(t, f.mfa.Disable(ctx, f.counselor, "000000"), mend.EINVALID)
	must(t, f.mfa.Disable(ctx, f.counselor, code(t, secret, f.clock.now().Add(30*time.Second))))
	st, err := f.mfa.Status(ctx, f.counselor)
	must(t, err)
	if st.Enabled || st.RecoveryLeft != 0 {
		t.Fatalf("after disabling: %+v", st)
	}

	// An admin resets a staff member's MFA, in their practice only.
	f.enrol(t, f.counselor)
	name, err := f.mfa.Reset(ctx, f.admin, f.counselor.UserID)
	must(t, err)
	if name != f.counselor.Name {
		t.Fatalf("reset returned %q", name)
	}
	st, _ = f.mfa.Status(ctx, f.counselor)
	if st.Enabled {
		t.Fatal("MFA still on after reset")
	}
	_, err = f.mfa.Reset(ctx, f.admin, f.counselor.UserID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	foreign := f.admin
	foreign.PracticeID++
	_, err = f.mfa.Reset(ctx, foreign, f.counselor.UserID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}
