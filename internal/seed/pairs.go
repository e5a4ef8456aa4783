package seed

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

// demoPlanDaysAgo is, per demo pair (in order), how many days ago the
// built-in plan started: with its 7-, 7- and 5-day first steps, each pair is
// on step 2 or 3 with the earlier steps completed, at different points.
var demoPlanDaysAgo = []int{10, 16, 12, 18, 15}

// demoHomework puts every demo pair on the built-in plan and gives two pairs
// an extra piece of homework for one member. A pair that already has a
// plan is left alone, so running the seed again changes nothing.
func demoHomework(ctx context.Context, tx *sqlx.Tx, hw *homework.Store) error {
	var pairs []struct {
		ID          int64  `db:"id"`
		PracticeID  int64  `db:"practice_id"`
		CounselorID int64  `db:"counselor_id"`
		HasPlan     bool   `db:"has_plan"`
		Timezone    string `db:"timezone"`
	}
	slugs := make([]string, 0, len(demoPractices))
	for _, p := range demoPractices {
		slugs = append(slugs, p.Slug)
	}
	if err := tx.SelectContext(ctx, &pairs, `
		SELECT p.id, p.practice_id, p.counselor_id, pr.timezone,
		       EXISTS (SELECT 1 FROM pair_plans pp WHERE pp.pair_id = p.id) AS has_plan
		FROM pairs p JOIN practices pr ON pr.id = p.practice_id
		WHERE pr.slug = ANY($1) AND p.counselor_id IS NOT NULL
		ORDER BY pr.id, p.id`, pq.Array(slugs)); err != nil {
		return err
	}
	var planID int64
	if err := tx.GetContext(ctx, &planID, `SELECT id FROM plans WHERE key = $1 AND practice_id IS NULL`, library.BuiltinPlanKey); err != nil {
		return fmt.Errorf("seed: the built-in plan is missing (run migrations first): %w", err)
	}
	for i, p := range pairs {
		if p.HasPlan {
			continue
		}
		sc := mend.Scope{PracticeID: p.PracticeID, UserID: p.CounselorID, Role: mend.RoleCounselor}
		loc, err := time.LoadLocation(p.Timezone)
		if err != nil {
			loc = time.UTC
		}
		ago := demoPlanDaysAgo[i%len(demoPlanDaysAgo)]
		startsOn := checkin.DateIn(time.Now(), loc).AddDays(-ago).String()
		cadence, weekdays := homework.CadenceDaily, []string(nil)
		if i%2 == 1 {
			cadence, weekdays = homework.CadenceWeekly, []string{"1", "4"}
		}
		if _, err := hw.ApplyPlanTx(ctx, tx, sc, p.ID, homework.PlanInput{
			PlanID: strconv.FormatInt(planID, 10), StartsOn: startsOn, Cadence: cadence, Weekdays: weekdays,
			ConfirmDates: true, // the demo's plans began weeks ago
		}); err != nil {
			return fmt.Errorf("seed: plan for pair %d: %w", p.ID, err)
		}
		// Make the pair's story plausible: created two days before its plan
		// started, the plan applied on its first day.
		created := time.Now().AddDate(0, 0, -ago-2)
		if _, err := tx.ExecContext(ctx, `UPDATE pairs SET created_at = $2 WHERE id = $1`, p.ID, created); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pair_events SET at = $2 WHERE pair_id = $1 AND kind = 'plan_applied'`,
			p.ID, time.Now().AddDate(0, 0, -ago)); err != nil {
			return err
		}
		// The plan's homework was given then too (the attention rules
		// ignore periods before a homework was assigned).
		if _, err := tx.ExecContext(ctx, `UPDATE assignments SET created_at = $2 WHERE pair_id = $1`,
			p.ID, time.Now().AddDate(0, 0, -ago)); err != nil {
			return err
		}
		if err := pair.RecordEvent(ctx, tx, pair.Event{PracticeID: p.PracticeID, PairID: p.ID, Kind: pair.EventCreated, ActorID: p.CounselorID}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pair_events SET at = $2 WHERE pair_id = $1 AND kind = 'created'`, p.ID, created); err != nil {
			return err
		}
		if i%2 == 0 {
			if err := demoExtraHomework(ctx, tx, hw, sc, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoExtraHomework gives the pair's member who was hurt (or the first
// member) "Rebuild trust in yourself", weekly, alongside the plan.
func demoExtraHomework(ctx context.Context, tx *sqlx.Tx, hw *homework.Store, sc mend.Scope, pairID int64) error {
	var stepID, memberID int64
	if err := tx.GetContext(ctx, &stepID, `SELECT id FROM steps WHERE key = 'rebuilding-self-trust' AND practice_id IS NULL`); err != nil {
		return err
	}
	if err := tx.GetContext(ctx, &memberID, `
		SELECT user_id FROM pair_members WHERE pair_id = $1 ORDER BY side = 'was_hurt' DESC, position LIMIT 1`, pairID); err != nil {
		return err
	}
	_, err := hw.AssignTx(ctx, tx, sc, pairID, homework.Input{
		StepID: strconv.FormatInt(stepID, 10), For: strconv.FormatInt(memberID, 10),
		Cadence: homework.CadenceWeekly, Weekdays: []string{"3"},
		Note: "Alongside the plan: a little time each week for yourself.",
	})
	return err
}
