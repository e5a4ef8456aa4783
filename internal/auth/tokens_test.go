package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
)

func TestLinksLifecycle(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ctx := context.Background()
	var userID int64
	d.MustExec(`INSERT INTO practices (name, slug) VALUES ('P', 'p.example')`)
	if err := d.Get(&userID, `INSERT INTO users (practice_id, role, email, name) SELECT id, 'counselor', 'c@p.example', 'C' FROM practices RETURNING id`); err != nil {
		t.Fatal(err)
	}
	// PostgreSQL keeps microseconds (rounded): a clock on whole
	// microseconds makes "one second before expiry" exact.
	now := time.Now().Truncate(time.Microsecond)
	links := &auth.Links{DB: d, Clock: mend.Clock{Now: func() time.Time { return now }}}

	raw, err := links.Issue(ctx, d, userID, 0, auth.PurposeInvite)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := links.Check(ctx, raw, auth.PurposeInvite); info.State != auth.LinkValid || info.Email != "c@p.example" {
		t.Fatalf("fresh link: %+v", info)
	}
	// An invitation is not a reset link.
	if info, _ := links.Check(ctx, raw, auth.PurposeReset); info.State != auth.LinkUnknown {
		t.Errorf("invitation checked as a reset link: %s", info.State)
	}
	// Seven days, then expired.
	now = now.Add(auth.InviteTTL - time.Second)
	if info, _ := links.Check(ctx, raw, auth.PurposeInvite); info.State != auth.LinkValid {
		t.Errorf("link one second before its expiry: %s", info.State)
	}
	now = now.Add(time.Second)
	if info, _ := links.Check(ctx, raw, auth.PurposeInvite); info.State != auth.LinkExpired {
		t.Errorf("link at its expiry: %s", info.State)
	}
	if _, err := links.Redeem(ctx, raw, auth.PurposeInvite, "long enough pw", "long enough pw", "", nil); mend.ErrorCode(err) != mend.ENOTFOUND {
		t.Errorf("redeem expired link: %v", err)
	}

	// A new link; two people submitting it at once: one wins.
	raw, err = links.Issue(ctx, d, userID, 0, auth.PurposeInvite)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = links.Redeem(ctx, raw, auth.PurposeInvite, "long enough pw", "long enough pw", "", nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case mend.ErrorMessage(err) != "This link has already been used.":
			t.Errorf("losing redeem: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent redeems succeeded, want exactly 1", ok, len(errs))
	}
	if info, _ := links.Check(ctx, raw, auth.PurposeInvite); info.State != auth.LinkUsed {
		t.Errorf("redeemed link: %s", info.State)
	}
}
