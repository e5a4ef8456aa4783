package checkin_test

import (
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/mend/mendtest"
)

// TestSharedOnHomeworkForOneReachesThePartner: from the partner's side, a
// check-in shared on homework assigned to the author alone is listed (with
// the step's title and the author's name), marked new until opened, and
// counted; a private one on the same homework, the author's own, and other
// pairs' shared check-ins are not. The homework itself stays the author's.
func TestSharedOnHomeworkForOneReachesThePartner(t *testing.T) {
	f := newFx(t)
	today := checkin.D(2026, 3, 11)
	alone := f.assign("x", "xa", checkin.D(2026, 3, 9), checkin.D(2026, 3, 22), checkin.Daily)
	xa, xb := f.scope("xa"), f.scope("xb")
	in := good(today, checkin.ToPartner)
	in.Reflection = "SHARED-ON-MINE-ALONE"
	shared, err := f.store.Create(ctx, xa, alone, in)
	if err != nil {
		t.Fatal(err)
	}
	priv := good(today.AddDays(-1), checkin.ToCounselor)
	priv.Reflection = "PRIVATE-ON-MINE-ALONE"
	private, err := f.store.Create(ctx, xa, alone, priv)
	if err != nil {
		t.Fatal(err)
	}
	// Another pair's shared check-in never reaches xb.
	other := f.assign("y", "", checkin.D(2026, 3, 9), checkin.D(2026, 3, 22), checkin.Daily)
	if _, err := f.store.Create(ctx, f.scope("ya"), other, good(today, checkin.ToPartner)); err != nil {
		t.Fatal(err)
	}

	list, err := f.store.SharedWithMe(ctx, xb, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != shared || !list[0].New {
		t.Fatalf("partner's shared list = %+v, want only check-in %d, new", list, shared)
	}
	if got := list[0]; got.HomeworkTitle != "Listen" || got.UserName != "Name xa" || got.Reflection != "SHARED-ON-MINE-ALONE" {
		t.Errorf("shared item shows title %q, author %q, reflection %q", got.HomeworkTitle, got.UserName, got.Reflection)
	}
	if n, err := f.store.UnreadShared(ctx, xb); err != nil || n != 1 {
		t.Errorf("unread count %d, %v; want 1", n, err)
	}
	// The author's own list is empty: nothing of theirs is "shared with" them.
	if own, err := f.store.SharedWithMe(ctx, xa, 20, 0); err != nil || len(own) != 0 {
		t.Errorf("author's shared-with-me list = %v, %v; want empty", own, err)
	}
	// The private one cannot be opened by the partner; the homework neither.
	_, err = f.store.ReadShared(ctx, xb, private)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = f.store.Detail(ctx, xb, alone)
	mendtest.WantCode(t, err, mend.ENOTFOUND)

	got, err := f.store.ReadShared(ctx, xb, shared)
	if err != nil || !strings.Contains(got.Reflection, "SHARED-ON-MINE-ALONE") {
		t.Fatalf("opening the shared check-in: %+v, %v", got, err)
	}
	if n, _ := f.store.UnreadShared(ctx, xb); n != 0 {
		t.Errorf("unread count %d after opening it, want 0", n)
	}
	if list, _ := f.store.SharedWithMe(ctx, xb, 20, 0); len(list) != 1 || list[0].New {
		t.Errorf("after opening, the item is still new: %+v", list)
	}
	// Staff and the other practice get nothing.
	_, err = f.store.ReadShared(ctx, f.scope("zb"), shared)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
	_, err = f.store.ReadShared(ctx, f.scope("c1"), shared)
	mendtest.WantCode(t, err, mend.ENOTFOUND)
}

// TestSafetyNoteIsNotReadBackByItsAuthor: once sent, the author's own
// pages get the flag and when the counselor was told, never the note; an
// edit keeps the note for the counselor as sent.
func TestSafetyNoteIsNotReadBackByItsAuthor(t *testing.T) {
	f := newFx(t)
	today := checkin.D(2026, 3, 11)
	hw := f.assign("x", "", checkin.D(2026, 3, 9), checkin.D(2026, 3, 22), checkin.Daily)
	xa := f.scope("xa")
	in := good(today, checkin.ToCounselor)
	in.Unsafe, in.SafetyNote = true, "NOTE-ONLY-FOR-COUNSELOR"
	id, err := f.store.Create(ctx, xa, hw, in)
	if err != nil {
		t.Fatal(err)
	}
	own, err := f.store.Own(ctx, xa, id)
	if err != nil {
		t.Fatal(err)
	}
	if !own.SafetyFlag || own.SafetyNote != "" || !own.SafetyToldAt.Valid {
		t.Errorf("author reads flag %v, note %q, told %v; want flag, no note, a time", own.SafetyFlag, own.SafetyNote, own.SafetyToldAt)
	}
	list, err := f.store.ForAssignment(ctx, xa, hw)
	if err != nil || len(list) != 1 || list[0].SafetyNote != "" {
		t.Errorf("author's list carries the note: %+v, %v", list, err)
	}
	// Editing without the safety fields keeps flag and note.
	edit := good(today, checkin.ToCounselor)
	edit.Reflection = "Changed"
	if _, err := f.store.Update(ctx, xa, id, edit); err != nil {
		t.Fatal(err)
	}
	staff, err := f.store.ForAssignment(ctx, f.scope("c1"), hw)
	if err != nil || len(staff) != 1 || !staff[0].SafetyFlag || staff[0].SafetyNote != "NOTE-ONLY-FOR-COUNSELOR" {
		t.Errorf("counselor after the edit: %+v, %v", staff, err)
	}
}
