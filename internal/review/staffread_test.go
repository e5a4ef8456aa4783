package review_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/review"
)

// TestEveryStaffReadOfACheckinIsDecrypted plants a unique sentence in
// every sealed field of a check-in (each answer, the reflection, the safety
// note, and the same in the earlier version of an edit) and in the
// partner's check-in, written the way clients write them, then reads them
// as the counselor and as the admin through every path staff read
// check-ins by: each sentence must come back as typed. The review page
// once showed ratings and nothing the client wrote because its path
// forgot to open the sealed columns; this fails if any path does that
// again. A second part lists the stores' methods that return check-in text
// and fails when one is added without being read here.
func TestEveryStaffReadOfACheckinIsDecrypted(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	var questions int
	if err := f.DB.Get(&questions, `
		SELECT jsonb_array_length(v.questions) FROM assignments a JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.id = $1`, hw); err != nil {
		t.Fatal(err)
	}
	if questions == 0 {
		t.Fatal("the step has no questions to answer")
	}
	// sentences makes the unique sentences of one version of a check-in.
	sentences := func(who string) (answers []string, reflection, note string) {
		for i := range questions {
			answers = append(answers, fmt.Sprintf("%s answers question %d with a marmalade comet.", who, i+1))
		}
		return answers, who + " reflects on a velvet lighthouse.", who + " notes a quiet thunderstorm."
	}
	input := func(who, visibility string, unsafe bool) checkin.Input {
		answers, reflection, note := sentences(who)
		in := checkin.Input{Period: day0.String(), Status: "done", Trust: "4", Communication: "5", Hope: "6",
			Answers: answers, Reflection: reflection, Visibility: visibility}
		if unsafe {
			in.Unsafe, in.SafetyNote = true, note
		}
		return in
	}
	a, b := f.ClientScope(p, 1), f.ClientScope(p, 2)
	a.Timezone, b.Timezone = "UTC", "UTC"
	mine, err := f.checkins.Create(ctx, a, hw, input("Alba-first", "counselor", true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.checkins.Update(ctx, a, mine, input("Alba-edited", "counselor", true)); err != nil {
		t.Fatal(err)
	}
	partner, err := f.checkins.Create(ctx, b, hw, input("Bruno", "partner", true))
	if err != nil {
		t.Fatal(err)
	}
	want := func(whos ...string) []string {
		var out []string
		for _, who := range whos {
			answers, reflection, note := sentences(who)
			out = append(append(out, answers...), reflection, note)
		}
		return out
	}
	// A safety answer, once sent, stays as sent: the edit keeps the first
	// version's note, so the edited version's own note is never stored.
	_, _, firstNote := sentences("Alba-first")
	editedAnswers, editedReflection, _ := sentences("Alba-edited")
	edited := append(append([]string{}, editedAnswers...), editedReflection)
	current := append(append(edited, firstNote), want("Bruno")...)
	everything := append(append([]string{}, edited...), want("Alba-first", "Bruno")...)

	// dump is everything a result holds, as text: a sealed field that was
	// not opened shows as bytes, never as the sentence.
	dump := func(v any) string { return fmt.Sprintf("%+v", v) }
	retained := retention.NewStore(f.DB, f.vault, &audit.Log{DB: f.DB}, nil, f.checkins)
	type path struct {
		name string
		read func(sc mend.Scope) (string, error)
		want []string
		// counselorOnly: the admin's read leaves the client's words out
		// by design (the CSV export), so only the counselor's is checked.
		counselorOnly bool
	}
	paths := []path{
		{name: "checkin.Store.ForPair", want: everything, read: func(sc mend.Scope) (string, error) {
			l, err := f.checkins.ForPair(ctx, sc, p.ID, checkin.PairFilter{}, paging.First())
			return dump(l), err
		}},
		{name: "checkin.Store.ForPair (filtered by client)", want: append(append([]string{}, edited...), want("Alba-first")...), read: func(sc mend.Scope) (string, error) {
			l, err := f.checkins.ForPair(ctx, sc, p.ID, checkin.PairFilter{ClientID: a.UserID, HomeworkID: hw, Review: checkin.ReviewWaiting}, paging.First())
			return dump(l), err
		}},
		{name: "checkin.Store.ForReview", want: everything, read: func(sc mend.Scope) (string, error) {
			c, others, err := f.checkins.ForReview(ctx, sc, mine)
			return dump(c) + dump(others), err
		}},
		{name: "checkin.Store.ForReview (the partner's)", want: everything, read: func(sc mend.Scope) (string, error) {
			c, others, err := f.checkins.ForReview(ctx, sc, partner)
			return dump(c) + dump(others), err
		}},
		{name: "checkin.Store.ForAssignment", want: everything, read: func(sc mend.Scope) (string, error) {
			cs, err := f.checkins.ForAssignment(ctx, sc, hw)
			return dump(cs), err
		}},
		{name: "checkin.Store.ForExport", want: everything, read: func(sc mend.Scope) (string, error) {
			cs, err := f.checkins.ForExport(ctx, sc, p.ID, day0.AddDays(-10), day0)
			return dump(cs), err
		}},
		{name: "checkin.Store.ForArchive", want: everything, read: func(sc mend.Scope) (string, error) {
			cs, err := f.checkins.ForArchive(ctx, sc, p.ID)
			return dump(cs), err
		}},
		{name: "review.Store.Review", want: everything, read: func(sc mend.Scope) (string, error) {
			pg, err := f.reviews.Review(ctx, sc, mine)
			return dump(pg), err
		}},
		{name: "review.Store.PairCheckins", want: everything, read: func(sc mend.Scope) (string, error) {
			tab, err := f.reviews.PairCheckins(ctx, sc, p.ID, checkin.PairFilter{}, paging.First())
			return dump(tab), err
		}},
		{name: "review.Store.ExportCSV", want: current, counselorOnly: true, read: func(sc mend.Scope) (string, error) {
			var buf bytes.Buffer
			err := f.reviews.ExportCSV(ctx, sc, p.ID, review.Range{From: day0.AddDays(-10), To: day0}, &buf)
			return buf.String(), err
		}},
	}
	check := func(paths []path) {
		for _, pt := range paths {
			for _, sc := range []mend.Scope{f.A, f.Admin} {
				if pt.counselorOnly && sc.Role == mend.RoleAdmin {
					continue
				}
				got, err := pt.read(sc)
				if err != nil {
					t.Errorf("%s as %s: %v", pt.name, sc.Role, err)
					continue
				}
				for _, s := range pt.want {
					if !strings.Contains(got, s) {
						t.Errorf("%s as %s does not give back %q: the sealed field came back unopened", pt.name, sc.Role, s)
					}
				}
			}
		}
	}
	check(paths)

	// The archive of a closed pair is a staff read too.
	if _, err := f.Pairs.Close(ctx, f.A, p.ID); err != nil {
		t.Fatal(err)
	}
	archive := path{name: "retention.Store.Export", want: everything, read: func(sc mend.Scope) (string, error) {
		ar, err := retained.Export(ctx, sc, p.ID)
		return dump(ar), err
	}}
	check([]path{archive})

	// Every exported method of the stores that hands out a check-in's text
	// (a result holding checkin.Answers) is read above, or is the client's
	// own (client paths, not staff ones: Own is a client's own check-in,
	// SharedWithMe and ReadShared what the partner shared; their scoping is
	// tested in internal/checkin).
	read := map[string]bool{"checkin.Store.Own": true, "checkin.Store.SharedWithMe": true, "checkin.Store.ReadShared": true}
	for _, pt := range append(paths, archive) {
		read[strings.SplitN(pt.name, " ", 2)[0]] = true
	}
	var missing []string
	for _, store := range []any{f.checkins, f.reviews, retained} {
		typ := reflect.TypeOf(store)
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			name := typ.Elem().String() + "." + m.Name
			holds := false
			for o := range m.Type.NumOut() {
				holds = holds || carriesAnswers(m.Type.Out(o), map[reflect.Type]bool{})
			}
			if holds && !read[name] {
				missing = append(missing, name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("these methods hand out check-in text and are not read by this test: %v", missing)
	}
}

// carriesAnswers reports whether values of t hold check-in answers (and so,
// by the stores' shape, a check-in's text).
func carriesAnswers(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == reflect.TypeOf(checkin.Answers{}) {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return carriesAnswers(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if carriesAnswers(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// TestMarkReviewedOnlyWhatWasRead: "Mark reviewed" ends the client's
// chance to change a check-in, so it must be about the words the counselor
// read. A client who edits the check-in after the counselor's page was
// drawn makes the page's "Mark reviewed" (and feedback that marks it) a
// conflict that says so, and nothing is marked or stored; marking the
// version now shown works.
func TestMarkReviewedOnlyWhatWasRead(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	a := f.ClientScope(p, 1)
	a.Timezone = "UTC"
	in := checkin.Input{Period: day0.String(), Status: "done", Trust: "4", Communication: "5", Hope: "6",
		Reflection: "The first words.", Visibility: "counselor"}
	id, err := f.checkins.Create(ctx, a, hw, in)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := f.reviews.Review(ctx, f.A, id)
	if err != nil {
		t.Fatal(err)
	}
	seen := pg.Checkin.Version
	in.Reflection = "Words the counselor has not read yet."
	if _, err := f.checkins.Update(ctx, a, id, in); err != nil {
		t.Fatal(err)
	}
	err = f.reviews.MarkReviewed(ctx, f.A, id, seen)
	if mend.ErrorCode(err) != mend.ECONFLICT || !strings.Contains(mend.ErrorMessage(err), "changed this check-in after you opened it") {
		t.Fatalf("marking an unread version reviewed: %v", err)
	}
	err = f.reviews.AddFeedback(ctx, f.A, id, review.FeedbackInput{Body: "Well done.", Audience: review.ToClient, Reviewed: true, Seen: seen})
	if mend.ErrorCode(err) != mend.ECONFLICT {
		t.Fatalf("feedback marking an unread version reviewed: %v", err)
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback WHERE checkin_id = $1`, id); n != 0 {
		t.Errorf("%d feedback stored with the refused review", n)
	}
	pg, err = f.reviews.Review(ctx, f.A, id)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Checkin.ReviewedAt.Valid || pg.Checkin.Reflection != in.Reflection {
		t.Fatalf("after the refusal: reviewed %v, reflection %q", pg.Checkin.ReviewedAt.Valid, pg.Checkin.Reflection)
	}
	if err := f.reviews.MarkReviewed(ctx, f.A, id, pg.Checkin.Version); err != nil {
		t.Fatalf("marking the version read: %v", err)
	}
	// The client sees it is read and can no longer change it.
	own, err := f.checkins.Own(ctx, a, id)
	if err != nil || !strings.Contains(own.EditableReason, "counselor has read") {
		t.Errorf("the client's view after the review: %q, %v", own.EditableReason, err)
	}
}
