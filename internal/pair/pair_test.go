package pair_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/pair/pairtest"
)

var ctx = context.Background()

func TestCreateInvitesBothClients(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	in := f.NewPair("broke_trust", "was_hurt")
	c, err := f.Pairs.Create(ctx, f.A, in, f.Notify)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Invitations) != 2 {
		t.Fatalf("%d invitations", len(c.Invitations))
	}
	links := &auth.Links{DB: f.DB}
	for i, inv := range c.Invitations {
		info, err := links.Check(ctx, inv.Token, auth.PurposeInvite)
		if err != nil || info.State != auth.LinkValid || info.Role != "client" || info.InviterName != "Counselor A" {
			t.Fatalf("invitation %d: %+v %v", i, info, err)
		}
	}
	var mails []string
	if err := f.DB.Select(&mails, `SELECT to_address FROM email_log WHERE kind = 'invitation' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(mails, ",") != in.A.Email+","+in.B.Email {
		t.Fatalf("emails queued to %v", mails)
	}
	p, err := f.Pairs.Get(ctx, f.A, c.PairID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Label != in.Label || p.Status != pair.StatusActive || len(p.Members) != 2 ||
		p.Members[0].Side != "broke_trust" || p.Members[1].Side != "was_hurt" || p.Members[0].Activated {
		t.Fatalf("pair %+v", p)
	}
	ev, _ := f.Pairs.Events(ctx, f.A, p.ID, paging.First())
	if len(ev.Items) != 1 || ev.Items[0].Kind != pair.EventCreated || ev.Items[0].ActorName.String != "Counselor A" {
		t.Fatalf("events %+v", ev.Items)
	}
}

// An address with an account at another practice is a new person here:
// the other practice's account is neither named nor touched.
func TestCreateNeverLooksAtAnotherPractice(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	in := f.NewPair("mutual", "mutual")
	in.A.Email = "c@two.example" // staff at practice two
	c, err := f.Pairs.Create(ctx, f.A, in, f.Notify)
	if err != nil {
		t.Fatalf("create with an address used at another practice: %v", err)
	}
	if len(c.Invitations) != 2 {
		t.Fatalf("%d invitations, want 2", len(c.Invitations))
	}
	if n := f.Count(t, `SELECT count(*) FROM users WHERE email = 'c@two.example'`); n != 2 {
		t.Fatalf("%d accounts with the address, want one per practice", n)
	}
	if n := f.Count(t, `SELECT count(*) FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE u.email = 'c@two.example' AND u.practice_id <> (SELECT practice_id FROM pairs WHERE id = m.pair_id)`); n != 0 {
		t.Fatalf("%d members belong to another practice than their pair", n)
	}
}

func TestCreateValidatesAndStoresNothingOnError(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	before := f.Count(t, `SELECT count(*) FROM users`)
	cases := []struct {
		name  string
		edit  func(*pair.NewPair)
		field string
	}{
		{"no label", func(p *pair.NewPair) { p.Label = " " }, "label"},
		{"bad kind", func(p *pair.NewPair) { p.Kind = "rivals" }, "kind"},
		{"no name", func(p *pair.NewPair) { p.A.Name = "" }, "a_name"},
		{"bad email", func(p *pair.NewPair) { p.B.Email = "not-an-email" }, "b_email"},
		{"bad side", func(p *pair.NewPair) { p.B.Side = "" }, "b_side"},
		{"bad timezone", func(p *pair.NewPair) { p.A.Timezone = "Mars/Olympus" }, "a_timezone"},
		{"same email", func(p *pair.NewPair) { p.B.Email = p.A.Email }, "b_email"},
		{"staff email", func(p *pair.NewPair) { p.B.Email = "b@one.example" }, "b_email"},
	}
	for _, c := range cases {
		in := f.NewPair("mutual", "mutual")
		c.edit(&in)
		_, err := f.Pairs.Create(ctx, f.A, in, f.Notify)
		mendtest.WantCode(t, err, mend.EINVALID)
		if mend.Fields(err)[c.field] == "" {
			t.Errorf("%s: no message on %s: %v", c.name, c.field, mend.Fields(err))
		}
	}
	if n := f.Count(t, `SELECT count(*) FROM pairs`); n != 0 {
		t.Fatalf("%d pairs stored", n)
	}
	if n := f.Count(t, `SELECT count(*) FROM users`); n != before {
		t.Fatalf("users %d → %d", before, n)
	}
	if n := f.Count(t, `SELECT count(*) FROM email_log`); n != 0 {
		t.Fatalf("%d emails queued", n)
	}
	// Only counselors create pairs.
	_, err := f.Pairs.Create(ctx, f.Admin, f.NewPair("mutual", "mutual"), f.Notify)
	mendtest.WantCode(t, err, mend.EFORBIDDEN)
}

func TestAClientIsInOneOpenPairAtATime(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	first := f.Pair(t, f.A, "broke_trust", "was_hurt")
	in := f.NewPair("mutual", "mutual")
	in.B.Email = first.Members[1].Email
	_, err := f.Pairs.Create(ctx, f.B, in, f.Notify)
	mendtest.WantCode(t, err, mend.EINVALID)
	if !strings.Contains(mend.Fields(err)["b_email"], "already in an active or paused pair") {
		t.Fatalf("fields %v", mend.Fields(err))
	}
	// Nothing of the refused pair was kept, not even the other client.
	if n := f.Count(t, `SELECT count(*) FROM users WHERE email = $1`, in.A.Email); n != 0 {
		t.Fatal("the refused pair's first client was stored")
	}
	// A paused pair still counts.
	if _, err := f.Pairs.Pause(ctx, f.A, first.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Pairs.Create(ctx, f.B, in, f.Notify)
	mendtest.WantCode(t, err, mend.EINVALID)
	// Once the pair is closed, the client can join a new pair with the
	// same account.
	if _, err := f.Pairs.Close(ctx, f.A, first.ID); err != nil {
		t.Fatal(err)
	}
	c, err := f.Pairs.Create(ctx, f.B, in, f.Notify)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Pairs.Get(ctx, f.B, c.PairID)
	if p.Members[1].UserID != first.Members[1].UserID {
		t.Fatal("a new account was made for a returning client")
	}
	// A returning client who has a password gets no new link.
	if _, err := f.DB.Exec(`UPDATE users SET password_hash = 'x' WHERE id = $1`, first.Members[0].UserID); err != nil {
		t.Fatal(err)
	}
	again := f.NewPair("mutual", "mutual")
	again.A.Email = first.Members[0].Email
	c, err = f.Pairs.Create(ctx, f.A, again, f.Notify)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Invitations) != 1 || len(c.Returning) != 1 {
		t.Fatalf("returning client: %d invitations, %v", len(c.Invitations), c.Returning)
	}
}

func TestPauseResumeClose(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	p := f.Pair(t, f.A, "mutual", "mutual")
	_, err := f.Pairs.Resume(ctx, f.A, p.ID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	if got, err := f.Pairs.Pause(ctx, f.A, p.ID); err != nil || got.Status != pair.StatusPaused {
		t.Fatalf("pause: %v %v", got.Status, err)
	}
	_, err = f.Pairs.Pause(ctx, f.A, p.ID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	if got, err := f.Pairs.Resume(ctx, f.A, p.ID); err != nil || got.Status != pair.StatusActive {
		t.Fatalf("resume: %v %v", got.Status, err)
	}
	if _, err := f.Pairs.Close(ctx, f.A, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Pairs.Resume(ctx, f.A, p.ID)
	mendtest.WantCode(t, err, mend.ECONFLICT)
	got, _ := f.Pairs.Get(ctx, f.A, p.ID)
	if got.Status != pair.StatusClosed || !got.ClosedAt.Valid || got.Members[0].Current {
		t.Fatalf("closed pair %+v", got)
	}
	ev, _ := f.Pairs.Events(ctx, f.A, p.ID, paging.First())
	var kinds []string
	for _, e := range ev.Items {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "closed,resumed,paused,created" {
		t.Fatalf("history %v", kinds)
	}
	// Another counselor cannot change it.
	q := f.Pair(t, f.A, "mutual", "mutual")
	_, err = f.Pairs.Pause(ctx, f.B, q.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}

func TestAdminReassignsWithHistory(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	p := f.Pair(t, f.A, "mutual", "mutual")
	_, err := f.Pairs.Reassign(ctx, f.A, p.ID, "0")
	mendtest.WantCode(t, err, mend.EFORBIDDEN)
	_, err = f.Pairs.Reassign(ctx, f.OtherAdmin, p.ID, itoa(f.B.UserID))
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	for _, to := range []string{"", "abc", "999999", "0"} {
		_, err = f.Pairs.Reassign(ctx, f.Admin, p.ID, to)
		mendtest.WantCode(t, err, mend.EINVALID)
	}
	other := f.OtherCounselor.UserID
	_, err = f.Pairs.Reassign(ctx, f.Admin, p.ID, itoa(other))
	mendtest.WantCode(t, err, mend.EINVALID)
	_, err = f.Pairs.Reassign(ctx, f.Admin, p.ID, itoa(f.A.UserID))
	mendtest.WantCode(t, err, mend.EINVALID)
	if _, err := f.Pairs.Reassign(ctx, f.Admin, p.ID, itoa(f.B.UserID)); err != nil {
		t.Fatal(err)
	}
	_, err = f.Pairs.Get(ctx, f.A, p.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	got, err := f.Pairs.Get(ctx, f.B, p.ID)
	if err != nil || got.CounselorName.String != "Counselor B" {
		t.Fatalf("new counselor: %v %v", got.CounselorName, err)
	}
	ev, _ := f.Pairs.Events(ctx, f.B, p.ID, paging.First())
	if ev.Items[0].Text() != "Reassigned from Counselor A to Counselor B" || ev.Items[0].ActorName.String != "Ada Admin" {
		t.Fatalf("history: %q by %q", ev.Items[0].Text(), ev.Items[0].ActorName.String)
	}
	// The other practice's admin cannot see or reassign it.
	_, err = f.Pairs.Get(ctx, f.OtherAdmin, p.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestReinvite(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	p := f.Pair(t, f.A, "mutual", "mutual")
	inv, err := f.Pairs.Reinvite(ctx, f.A, p.ID, "2", f.Notify)
	if err != nil {
		t.Fatal(err)
	}
	if inv.UserID != p.Members[1].UserID {
		t.Fatalf("reinvited %d", inv.UserID)
	}
	if n := f.Count(t, `SELECT count(*) FROM email_log WHERE user_id = $1`, inv.UserID); n != 2 {
		t.Fatalf("%d emails to the member", n)
	}
	_, err = f.Pairs.Reinvite(ctx, f.A, p.ID, "3", f.Notify)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = f.Pairs.Reinvite(ctx, f.B, p.ID, "1", f.Notify)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	if _, err := f.DB.Exec(`UPDATE users SET password_hash = 'x' WHERE id = $1`, p.Members[0].UserID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Pairs.Reinvite(ctx, f.A, p.ID, "1", f.Notify)
	mendtest.WantCode(t, err, mend.ECONFLICT)
}

func TestListIsScopedAndPaged(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	for range 3 {
		f.Pair(t, f.A, "mutual", "mutual")
	}
	b := f.Pair(t, f.B, "mutual", "mutual")
	closed := f.Pair(t, f.A, "mutual", "mutual")
	if _, err := f.Pairs.Close(ctx, f.A, closed.ID); err != nil {
		t.Fatal(err)
	}
	count := func(sc mend.Scope, filter string) int {
		page, err := f.Pairs.List(ctx, sc, filter, paging.First())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			if len(p.Members) != 2 {
				t.Fatalf("pair %d listed with %d members", p.ID, len(p.Members))
			}
		}
		return len(page.Items)
	}
	if n := count(f.A, pair.FilterOpen); n != 3 {
		t.Fatalf("A sees %d open pairs", n)
	}
	if n := count(f.A, pair.FilterClosed); n != 1 {
		t.Fatalf("A sees %d closed pairs", n)
	}
	if n := count(f.Admin, pair.FilterAll); n != 5 {
		t.Fatalf("admin sees %d pairs", n)
	}
	if n := count(f.OtherAdmin, pair.FilterAll); n != 0 {
		t.Fatalf("another practice's admin sees %d pairs", n)
	}
	if n := count(f.ClientScope(b, 1), pair.FilterAll); n != 1 {
		t.Fatalf("client sees %d pairs", n)
	}
	// A client sees their own pair only.
	_, err := f.Pairs.Get(ctx, f.ClientScope(b, 1), closed.ID)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	if _, err := f.Pairs.Get(ctx, f.ClientScope(b, 1), b.ID); err != nil {
		t.Fatalf("client reads their own pair: %v", err)
	}
	p1, _ := f.Pairs.List(ctx, f.Admin, pair.FilterAll, paging.Request{Number: 1, Size: 2})
	p3, _ := f.Pairs.List(ctx, f.Admin, pair.FilterAll, paging.Request{Number: 3, Size: 2})
	if len(p1.Items) != 2 || !p1.HasNext || p1.HasPrev() || len(p3.Items) != 1 || p3.HasNext || !p3.HasPrev() {
		t.Fatalf("pages: %d/%v, %d/%v", len(p1.Items), p1.HasNext, len(p3.Items), p3.HasNext)
	}
}
