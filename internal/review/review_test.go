package review_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/review"
)

func TestFeedbackReachesTheRightClients(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	aShared := f.checkin(t, hw, a, day0.AddDays(-4), day0.AddDays(-4), rating{5, 5, 5}, "partner")
	bPrivate := f.checkin(t, hw, b, day0.AddDays(-4), day0.AddDays(-4), rating{5, 5, 5}, "counselor")

	if err := f.reviews.AddFeedback(ctx, f.A, aShared, review.FeedbackInput{Body: "For A alone.", Audience: review.ToClient}); err != nil {
		t.Fatal(err)
	}
	if err := f.reviews.AddFeedback(ctx, f.A, bPrivate, review.FeedbackInput{Body: "For B alone.", Audience: review.ToClient}); err != nil {
		t.Fatal(err)
	}
	if err := f.reviews.AddFeedback(ctx, f.A, bPrivate, review.FeedbackInput{Body: "For both, on B's private check-in.", Audience: review.ToBoth}); err != nil {
		t.Fatal(err)
	}
	read := func(pos int) []review.ClientFeedback {
		fb, err := f.reviews.LatestFeedback(ctx, f.ClientScope(p, pos), 10)
		if err != nil {
			t.Fatal(err)
		}
		return fb
	}
	bodies := func(fb []review.ClientFeedback) string {
		var s []string
		for _, x := range fb {
			s = append(s, x.Body)
		}
		return strings.Join(s, " | ")
	}
	aSees, bSees := read(1), read(2)
	if got := bodies(aSees); got != "For both, on B's private check-in. | For A alone." {
		t.Errorf("A reads %q; want the feedback to both and to A, never B's", got)
	}
	if got := bodies(bSees); got != "For both, on B's private check-in. | For B alone." {
		t.Errorf("B reads %q; want the feedback to both and to B, never A's", got)
	}
	// Feedback to both on B's private check-in tells A nothing about it.
	if aSees[0].AboutTitle.Valid || aSees[0].AboutName.Valid || aSees[0].AboutStart != nil {
		t.Errorf("A is told which private check-in of B the feedback answers: %+v", aSees[0])
	}
	if !aSees[1].AboutMine || !aSees[1].AboutTitle.Valid {
		t.Errorf("A's own feedback should say it is about A's check-in: %+v", aSees[1])
	}
	// Another pair's client reads none of it.
	other := f.Pair(t, f.A, "mutual", "mutual")
	if fb, _ := f.reviews.LatestFeedback(ctx, f.ClientScope(other, 1), 10); len(fb) != 0 {
		t.Errorf("a client of another pair reads %q", bodies(fb))
	}
}

func TestFeedbackValidationStoresNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	c := f.checkin(t, hw, p.Members[0].UserID, day0.AddDays(-4), day0.AddDays(-4), rating{5, 5, 5}, "partner")
	for _, in := range []review.FeedbackInput{
		{Body: "   ", Audience: review.ToClient, Reviewed: true},
		{Body: strings.Repeat("é", review.MaxFeedback+1), Audience: review.ToBoth, Reviewed: true},
		{Body: "Fine words.", Audience: "everyone", Reviewed: true},
	} {
		err := f.reviews.AddFeedback(ctx, f.A, c, in)
		if mend.ErrorCode(err) != mend.EINVALID || len(mend.Fields(err)) != 1 {
			t.Errorf("%q/%q: %v, want one field error", in.Body[:min(10, len(in.Body))], in.Audience, err)
		}
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback`); n != 0 {
		t.Errorf("%d feedback stored from invalid forms", n)
	}
	if n := f.Count(t, `SELECT count(*) FROM checkins WHERE reviewed_at IS NOT NULL`); n != 0 {
		t.Errorf("an invalid form marked the check-in reviewed")
	}
	// Another counselor, an admin and a client cannot write feedback, even
	// a valid one: the check-in is not found for them.
	for _, sc := range []mend.Scope{f.B, f.Admin, f.ClientScope(p, 1), f.OtherCounselor} {
		err := f.reviews.AddFeedback(ctx, sc, c, review.FeedbackInput{Body: "Hello.", Audience: review.ToClient})
		if mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("feedback as %s %d: %v, want not found", sc.Role, sc.UserID, err)
		}
		if err := f.reviews.MarkReviewed(ctx, sc, c, 0); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("mark reviewed as %s %d: %v, want not found", sc.Role, sc.UserID, err)
		}
	}
}

func TestReviewClosesTheEditWindowAndIsAudited(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	client := f.ClientScope(p, 1)
	client.Timezone = "UTC"
	c := f.checkin(t, hw, client.UserID, day0, day0, rating{5, 5, 5}, "partner")
	edit := checkin.Input{Period: day0.String(), Status: "done", Trust: "6", Communication: "6", Hope: "6",
		Answers: []string{"Better."}, Visibility: "partner"}
	if _, err := f.checkins.Update(ctx, client, c, edit); err != nil {
		t.Fatalf("today's check-in should be editable before review: %v", err)
	}
	if err := f.reviews.AddFeedback(ctx, f.A, c, review.FeedbackInput{Body: "Thanks.", Audience: review.ToClient, Reviewed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.checkins.Update(ctx, client, c, edit); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("edit after review: %v, want a conflict (the counselor has read it)", err)
	}
	pg, err := f.reviews.Review(ctx, f.A, c)
	if err != nil {
		t.Fatal(err)
	}
	if !pg.Checkin.ReviewedAt.Valid || pg.ReviewedByName != f.A.Name || len(pg.Feedback) != 1 || !pg.CanReview {
		t.Errorf("review page: reviewed %v by %q, %d feedback, can review %v", pg.Checkin.ReviewedAt, pg.ReviewedByName, len(pg.Feedback), pg.CanReview)
	}
	if len(pg.Checkin.History) != 1 {
		t.Errorf("edit history: %d versions, want 1", len(pg.Checkin.History))
	}
	for _, action := range []string{"feedback.create", "checkin.review", "checkin.read"} {
		if n := f.Count(t, `SELECT count(*) FROM audit_log WHERE action = $1 AND user_id = $2 AND client_id = $3`,
			action, f.A.UserID, client.UserID); n == 0 {
			t.Errorf("no %s audit entry", action)
		}
	}
	// An admin reads the page but may not review.
	pg, err = f.reviews.Review(ctx, f.Admin, c)
	if err != nil || pg.CanReview {
		t.Errorf("admin: %v, can review %v", err, pg.CanReview)
	}
	for _, sc := range []mend.Scope{f.B, f.OtherAdmin, client} {
		if _, err := f.reviews.Review(ctx, sc, c); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("review page as %s %d: %v, want not found", sc.Role, sc.UserID, err)
		}
	}
}

func TestPartnerCheckinForTheSamePeriod(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	daily := f.homework(t, p, "daily", nil, day0.AddDays(-10), day0.AddDays(5), 0)
	weekly := f.homework(t, p, "weekly", []int64{5}, day0.AddDays(-13), day0.AddDays(14), b)
	mine := f.checkin(t, daily, a, day0.AddDays(-4), day0.AddDays(-4), rating{5, 5, 5}, "partner")
	sameDay := f.checkin(t, daily, b, day0.AddDays(-4), day0.AddDays(-4), rating{3, 3, 3}, "counselor")
	week := f.checkin(t, weekly, b, day0.AddDays(-6), day0.AddDays(0), rating{4, 4, 4}, "partner")
	f.checkin(t, daily, b, day0.AddDays(-3), day0.AddDays(-3), rating{4, 4, 4}, "partner") // another day
	pg, err := f.reviews.Review(context.Background(), f.A, mine)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range pg.Partner {
		got = append(got, c.ID)
	}
	if len(got) != 2 || !(got[0] == week && got[1] == sameDay) && !(got[0] == sameDay && got[1] == week) {
		t.Errorf("partner's check-ins beside %d: %v, want the same day's %d and the week's %d", mine, got, sameDay, week)
	}
}

func TestAcknowledgeSafetyFlag(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-5), day0.AddDays(5), 0)
	c := f.checkin(t, hw, p.Members[0].UserID, day0.AddDays(-1), day0.AddDays(-1), rating{2, 2, 2}, "counselor")
	var alert int64
	if err := f.DB.Get(&alert, `INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id) VALUES ($1, $2, $3, $4) RETURNING id`,
		p.PracticeID, p.ID, c, f.A.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.Acknowledge(ctx, f.A, alert, "  "); mend.Fields(err)["note"] == "" {
		t.Errorf("empty note: %v, want a message on the note", err)
	}
	for _, sc := range []mend.Scope{f.B, f.OtherAdmin, f.ClientScope(p, 1), f.ClientScope(p, 2)} {
		if _, err := f.reviews.Acknowledge(ctx, sc, alert, "Seen."); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("acknowledge as %s %d: %v, want not found", sc.Role, sc.UserID, err)
		}
	}
	got, err := f.reviews.Acknowledge(ctx, f.A, alert, "Called her; she is staying with her sister.")
	if err != nil || got.CheckinID != c {
		t.Fatalf("acknowledge: %+v, %v", got, err)
	}
	if _, err := f.reviews.Acknowledge(ctx, f.Admin, alert, "Again."); mend.ErrorCode(err) != mend.ECONFLICT {
		t.Errorf("second acknowledgement: %v, want a conflict", err)
	}
	pg, err := f.reviews.Review(ctx, f.A, c)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Alert == nil || !pg.Alert.AcknowledgedAt.Valid || pg.Alert.AckNote != "Called her; she is staying with her sister." || pg.Alert.AckByName.String != f.A.Name {
		t.Errorf("alert after acknowledgement: %+v", pg.Alert)
	}
	if n := f.Count(t, `SELECT count(*) FROM audit_log WHERE action = 'safety_alert.acknowledge' AND object_id = $1 AND client_id = $2`,
		alert, p.Members[0].UserID); n != 1 {
		t.Errorf("%d audit entries for the acknowledgement, want 1", n)
	}
}

func TestReviewNextWalksTheQueue(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	a, b := p.Members[0].UserID, p.Members[1].UserID
	hw := f.homework(t, p, "daily", nil, day0.AddDays(-9), day0.AddDays(5), 0)
	first := f.checkin(t, hw, a, day0.AddDays(-5), day0.AddDays(-5), rating{5, 5, 5}, "partner")
	second := f.checkin(t, hw, b, day0.AddDays(-4), day0.AddDays(-4), rating{5, 5, 5}, "partner")
	flagged := f.checkin(t, hw, a, day0.AddDays(-3), day0.AddDays(-3), rating{5, 5, 5}, "partner")
	if _, err := f.DB.Exec(`UPDATE checkins SET safety_flag = true WHERE id = $1`, flagged); err != nil {
		t.Fatal(err)
	}
	// Another counselor's check-in never shows up in A's queue.
	q := f.Pair(t, f.B, "mutual", "mutual")
	f.checkin(t, f.homework(t, q, "daily", nil, day0.AddDays(-9), day0, 0), q.Members[0].UserID, day0.AddDays(-9), day0.AddDays(-9), rating{5, 5, 5}, "partner")

	next := func(after int64) int64 {
		id, err := f.reviews.Next(ctx, f.A, after)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	// Flagged first, then oldest first; skipping past the end wraps round.
	if got := next(0); got != flagged {
		t.Errorf("first: %d, want the flagged %d", got, flagged)
	}
	if got := next(flagged); got != first {
		t.Errorf("after the flagged one: %d, want the oldest %d", got, first)
	}
	if got := next(first); got != second {
		t.Errorf("after %d: %d, want %d", first, got, second)
	}
	if got := next(second); got != flagged {
		t.Errorf("after the last: %d, want to wrap round to %d", got, flagged)
	}
	// Reviewing moves on from the reviewed one.
	if err := f.reviews.MarkReviewed(ctx, f.A, flagged, 0); err != nil {
		t.Fatal(err)
	}
	if got := next(flagged); got != first {
		t.Errorf("after reviewing the flagged one: %d, want %d", got, first)
	}
	for _, id := range []int64{first, second} {
		if err := f.reviews.MarkReviewed(ctx, f.A, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := next(second); got != 0 {
		t.Errorf("empty queue: %d, want 0", got)
	}
}
