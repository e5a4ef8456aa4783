package seed

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/vault"
)

// Demo data for the review area: every section of both northside
// counselors' dashboards has something in it, reviews and feedback exist,
// and the clients' homes show feedback.
//
//   - counselor1: pair 1 (Maya & Daniel) with Maya's trust falling over her
//     last three check-ins and her unacknowledged safety flag (from the
//     check-ins seed); pair 2 (Helen & Tom) with the partners' latest
//     ratings far apart.
//   - counselor2: pair 3 (Jordan & Alex) where Alex has missed the last two
//     periods, and Jordan's unacknowledged safety flag; pair 4 (Rosa & Lin)
//     with a one-off homework for Rosa past its due date.
//   - Check-ins older than a week are reviewed, some with feedback (to one
//     client or to both); the last week's wait for review.
//
// It runs once per database: when any demo feedback exists, it changes
// nothing.

// reviewedAfter is how old a demo check-in must be to be reviewed already.
const reviewedAfter = 7 * 24 * time.Hour

type demoFeedback struct {
	pair     int    // northside pair number (riverbank: 0)
	author   string // "a" or "b": whose check-in it answers
	audience string // "client" or "both"
	nth      int    // 0: the author's latest reviewed check-in, 1: the one before, …
	body     string
}

var demoFeedbacks = []demoFeedback{
	{1, "a", "client", 0, "Maya, thank you for writing so openly about a hard week. Naming what hurts is part of the work, not a step back. Let's look at Sunday evenings together next session."},
	{1, "b", "both", 0, "You both kept the evening check-ins going even on the busy days. That steadiness is exactly what rebuilds trust, one small promise at a time."},
	{1, "b", "client", 1, "Daniel, you noticed yourself getting defensive and said so. That's real progress. Next time, try pausing for a breath before you answer."},
	{2, "a", "both", 0, "Helen and Tom, you are seeing the same weeks quite differently right now. That is common at this stage; let's give it room in our next session."},
	{3, "a", "client", 0, "Jordan, the way you wrote your thoughts down first seems to help you. Keep that habit."},
	{4, "b", "both", 0, "Rosa and Lin, thank you both for staying with the conversation when old arguments came up. Pausing as agreed was the right call."},
	{0, "a", "both", 0, "Chris and Taylor, a steady few weeks. Celebrate the small wins: they add up."},
}

func demoReview(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	var done bool
	if err := tx.GetContext(ctx, &done, `
		SELECT EXISTS (SELECT 1 FROM feedback f JOIN practices pr ON pr.id = f.practice_id
		               WHERE pr.slug IN ('northside.example', 'riverbank.example'))`); err != nil {
		return err
	}
	if done {
		return nil
	}
	if err := demoFallbackHomework(ctx, tx, v, now); err != nil {
		return fmt.Errorf("demo homework: %w", err)
	}
	if err := demoCheckins(ctx, tx, v, now); err != nil {
		return err
	}
	steps := []func(context.Context, *sqlx.Tx, *vault.Vault, time.Time) error{
		demoFalling, demoDiverging, demoMissing, demoOverdue, demoSecondFlag, demoReviewed,
	}
	for _, step := range steps {
		if err := step(ctx, tx, v, now); err != nil {
			return err
		}
	}
	return nil
}

// demoPairID is the pair of northside's client<n>a (riverbank's for n = 0).
func demoPairID(ctx context.Context, tx *sqlx.Tx, n int) (int64, error) {
	email := fmt.Sprintf("client%da@northside.example", n)
	if n == 0 {
		email = "client1a@riverbank.example"
	}
	var id int64
	err := tx.GetContext(ctx, &id, `
		SELECT m.pair_id FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE u.email = $1 ORDER BY m.current DESC, m.pair_id DESC LIMIT 1`, email)
	return id, err
}

// pairPractice is a demo pair's practice (0 if the pair is gone, which makes
// sealing fail loudly).
func pairPractice(ctx context.Context, tx *sqlx.Tx, pairID int64) int64 {
	var id int64
	_ = tx.GetContext(ctx, &id, `SELECT practice_id FROM pairs WHERE id = $1`, pairID)
	return id
}

// demoMemberID is the user id of member "a" or "b" of a demo pair.
func demoMemberID(ctx context.Context, tx *sqlx.Tx, pairID int64, ab string) (int64, error) {
	pos := 1
	if ab == "b" {
		pos = 2
	}
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT user_id FROM pair_members WHERE pair_id = $1 AND position = $2`, pairID, pos)
	return id, err
}

// demoFallbackHomework gives a demo pair that has no homework at all a
// daily homework running from five weeks ago to two weeks ahead, so that
// the demo has check-ins to review even before the pairs area seeds
// plans. (When it does, every pair has homework and this does nothing.)
func demoFallbackHomework(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	var rows []demoNoteRow
	if err := tx.SelectContext(ctx, &rows, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, created_by, created_at)
		SELECT p.practice_id, p.id, (SELECT s.current_version_id FROM steps s WHERE s.key = 'open-honest-communication'),
		       d.today - 35, d.today + 14, 'daily', p.counselor_id, $1::timestamptz - interval '36 days'
		FROM pairs p
		JOIN practices pr ON pr.id = p.practice_id
		CROSS JOIN LATERAL (SELECT ($1::timestamptz AT TIME ZONE pr.timezone)::date AS today) d
		WHERE pr.slug IN ('northside.example', 'riverbank.example')
		  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.pair_id = p.id)
		RETURNING id, practice_id, pair_id`, now); err != nil {
		return err
	}
	return sealNotes(ctx, tx, v, rows, "Ten quiet minutes each evening: one speaks, one listens, then switch.")
}

// demoNoteRow is a homework the demo just inserted, to seal its note for.
type demoNoteRow struct {
	ID         int64 `db:"id"`
	PracticeID int64 `db:"practice_id"`
	PairID     int64 `db:"pair_id"`
}

// sealNotes gives the homework rows their note, encrypted for each row as
// the homework store would.
func sealNotes(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, rows []demoNoteRow, note string) error {
	for _, r := range rows {
		ct, err := v.SealText(ctx, tx, vault.PairScope(r.PracticeID, r.PairID), vault.AssignmentNote, r.ID, note)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assignments SET note = $2 WHERE id = $1`, r.ID, ct); err != nil {
			return err
		}
	}
	return nil
}

// setLatest sets ratings on a member's latest check-ins, latest first.
func setLatest(ctx context.Context, tx *sqlx.Tx, pairID, userID int64, ratings [][3]int) error {
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `
		SELECT id FROM checkins WHERE pair_id = $1 AND user_id = $2
		ORDER BY period_start DESC, id DESC LIMIT $3`, pairID, userID, len(ratings)); err != nil {
		return err
	}
	for i, id := range ids {
		r := ratings[i]
		if _, err := tx.ExecContext(ctx, `
			UPDATE checkins SET trust_rating = $2, communication_rating = $3, hope_rating = $4 WHERE id = $1`,
			id, r[0], r[1], r[2]); err != nil {
			return err
		}
	}
	return nil
}

// demoFalling: Maya's trust falls 7 → 5 → 3 over her last three check-ins;
// Daniel's holds, so the pair is not "far apart" too.
func demoFalling(ctx context.Context, tx *sqlx.Tx, _ *vault.Vault, _ time.Time) error {
	p, err := demoPairID(ctx, tx, 1)
	if err != nil {
		return err
	}
	a, err := demoMemberID(ctx, tx, p, "a")
	if err != nil {
		return err
	}
	b, err := demoMemberID(ctx, tx, p, "b")
	if err != nil {
		return err
	}
	if err := setLatest(ctx, tx, p, a, [][3]int{{3, 4, 5}, {5, 5, 5}, {7, 6, 6}}); err != nil {
		return err
	}
	return setLatest(ctx, tx, p, b, [][3]int{{5, 5, 6}, {5, 6, 6}, {6, 5, 6}})
}

// demoDiverging: Helen's latest ratings are high, Tom's low.
func demoDiverging(ctx context.Context, tx *sqlx.Tx, _ *vault.Vault, _ time.Time) error {
	p, err := demoPairID(ctx, tx, 2)
	if err != nil {
		return err
	}
	a, err := demoMemberID(ctx, tx, p, "a")
	if err != nil {
		return err
	}
	b, err := demoMemberID(ctx, tx, p, "b")
	if err != nil {
		return err
	}
	if err := setLatest(ctx, tx, p, a, [][3]int{{8, 7, 8}, {7, 7, 7}, {7, 6, 7}}); err != nil {
		return err
	}
	return setLatest(ctx, tx, p, b, [][3]int{{3, 4, 4}, {4, 4, 4}, {4, 5, 4}})
}

// demoMissing: Alex (pair 3) has not checked in for the last week.
func demoMissing(ctx context.Context, tx *sqlx.Tx, _ *vault.Vault, now time.Time) error {
	p, err := demoPairID(ctx, tx, 3)
	if err != nil {
		return err
	}
	b, err := demoMemberID(ctx, tx, p, "b")
	if err != nil {
		return err
	}
	var tz string
	if err := tx.GetContext(ctx, &tz, `SELECT timezone FROM users WHERE id = $1`, b); err != nil {
		return err
	}
	since := checkin.DateIn(now, checkin.LoadZone(tz)).AddDays(-7)
	_, err = tx.ExecContext(ctx, `
		DELETE FROM checkins c WHERE c.pair_id = $1 AND c.user_id = $2 AND c.period_end >= $3
		  AND NOT EXISTS (SELECT 1 FROM safety_alerts sa WHERE sa.checkin_id = c.id)`, p, b, since)
	return err
}

// demoOverdue: a one-off homework for Rosa (pair 4), due four days ago,
// still open and without her check-in.
func demoOverdue(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	p, err := demoPairID(ctx, tx, 4)
	if err != nil {
		return err
	}
	a, err := demoMemberID(ctx, tx, p, "a")
	if err != nil {
		return err
	}
	var rows []demoNoteRow
	if err := tx.SelectContext(ctx, &rows, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, created_by, created_at)
		SELECT p.practice_id, p.id, (SELECT s.current_version_id FROM steps s WHERE s.key = 'vulnerability'),
		       $2, d.today - 12, d.today - 4, 'once', p.counselor_id, $3::timestamptz - interval '12 days'
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id
		CROSS JOIN LATERAL (SELECT ($3::timestamptz AT TIME ZONE pr.timezone)::date AS today) d
		WHERE p.id = $1
		RETURNING id, practice_id, pair_id`, p, a, now); err != nil {
		return err
	}
	return sealNotes(ctx, tx, v, rows, "Write the letter we talked about. Bring it to our next session; you decide whether to share it.")
}

// demoSecondFlag: Jordan (pair 3, counselor2) flagged their latest
// check-in, so counselor2's dashboard has a safety flag too.
func demoSecondFlag(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, _ time.Time) error {
	p, err := demoPairID(ctx, tx, 3)
	if err != nil {
		return err
	}
	a, err := demoMemberID(ctx, tx, p, "a")
	if err != nil {
		return err
	}
	var id int64
	err = tx.GetContext(ctx, &id, `
		SELECT id FROM checkins WHERE pair_id = $1 AND user_id = $2 ORDER BY period_start DESC, id DESC LIMIT 1`, p, a)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	note, err := v.SealText(ctx, tx, vault.PairScope(pairPractice(ctx, tx, p), p), vault.CheckinSafetyNote, id,
		"Things got loud at home on Friday. I left for a walk and I am fine now, but I would like to talk about it.")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE checkins SET safety_flag = true, visibility = 'counselor', safety_note = $2 WHERE id = $1`, id, note); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id, created_at)
		SELECT c.practice_id, c.pair_id, c.id, p.counselor_id, c.created_at
		FROM checkins c JOIN pairs p ON p.id = c.pair_id WHERE c.id = $1
		ON CONFLICT (checkin_id) DO NOTHING`, id)
	return err
}

// demoReviewed marks check-ins sent more than a week ago reviewed by the
// pair's counselor (a day after they came in), and adds the feedback.
func demoReviewed(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE checkins c SET reviewed_at = c.created_at + interval '20 hours', reviewed_by = p.counselor_id
		FROM pairs p, practices pr
		WHERE p.id = c.pair_id AND pr.id = p.practice_id AND pr.slug IN ('northside.example', 'riverbank.example')
		  AND c.reviewed_at IS NULL AND c.created_at < $1 AND p.counselor_id IS NOT NULL`, now.Add(-reviewedAfter)); err != nil {
		return err
	}
	for _, f := range demoFeedbacks {
		p, err := demoPairID(ctx, tx, f.pair)
		if err != nil {
			return err
		}
		author, err := demoMemberID(ctx, tx, p, f.author)
		if err != nil {
			return err
		}
		var recipient sql.NullInt64
		if f.audience == "client" {
			recipient = sql.NullInt64{Int64: author, Valid: true}
		}
		// The feedback's id comes first: its body is sealed for that row.
		var id int64
		if err := tx.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('feedback', 'id'))`); err != nil {
			return err
		}
		body, err := v.SealText(ctx, tx, vault.PairScope(pairPractice(ctx, tx, p), p), vault.FeedbackBody, id, f.body)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO feedback (id, practice_id, pair_id, checkin_id, counselor_id, audience, recipient_id, body, created_at)
			SELECT $7, c.practice_id, c.pair_id, c.id, c.reviewed_by, $3, $4, $5, c.reviewed_at
			FROM checkins c
			WHERE c.pair_id = $1 AND c.user_id = $2 AND c.reviewed_at IS NOT NULL
			ORDER BY c.period_start DESC, c.id DESC
			LIMIT 1 OFFSET $6`, p, author, f.audience, recipient, body, f.nth, id); err != nil {
			return err
		}
	}
	return nil
}
