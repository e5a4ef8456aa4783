package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/vault"
)

// demoMeasureLevels are each partner's weekly answers to Mend's own
// closeness check, oldest first, on its 0–4 scale (pair number → partner A,
// partner B). Pair 1 moves apart: one partner warms up while the other
// stays low, so the dashboard shows the divergence.
var demoMeasureLevels = map[int][2][]int{
	1: {{1, 2, 2, 3, 3}, {1, 1, 1, 0, 0}},
	2: {{2, 2, 3, 3, 3}, {2, 2, 2, 3, 3}},
	3: {{3, 3, 2, 3, 3}, {2, 3, 3, 3, 3}},
	4: {{2, 2, 2, 2, 3}, {2, 3, 2, 3, 2}},
}

// demoMeasures gives every demo pair Mend's own closeness check (active in
// each practice, weekly) with five weeks of answers from both partners.
// It is idempotent: a practice that has the measure is left alone.
func demoMeasures(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	def := measure.Structures()[measure.OwnKey].Definition
	raw, err := json.Marshal(def)
	if err != nil {
		return err
	}
	var practices []struct {
		ID       int64  `db:"id"`
		Timezone string `db:"timezone"`
		AdminID  int64  `db:"admin_id"`
	}
	if err := tx.SelectContext(ctx, &practices, `
		SELECT pr.id, pr.timezone, (SELECT u.id FROM users u WHERE u.practice_id = pr.id AND u.role = 'admin' ORDER BY u.id LIMIT 1) AS admin_id
		FROM practices pr WHERE pr.slug IN ('northside.example', 'riverbank.example')
		  AND NOT EXISTS (SELECT 1 FROM measure_versions mv WHERE mv.practice_id = pr.id AND mv.definition->>'structure' = $1)
		ORDER BY pr.id`, measure.OwnKey); err != nil {
		return fmt.Errorf("demo measures: %w", err)
	}
	for _, pr := range practices {
		var measureID, versionID int64
		if err := tx.GetContext(ctx, &measureID, `INSERT INTO measures (practice_id, active, created_by) VALUES ($1, true, $2) RETURNING id`,
			pr.ID, pr.AdminID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &versionID, `
			INSERT INTO measure_versions (practice_id, measure_id, version, name, definition, created_by)
			VALUES ($1, $2, 1, $3, $4, $5) RETURNING id`, pr.ID, measureID, def.Name, string(raw), pr.AdminID); err != nil {
			return err
		}
		var pairs []struct {
			ID    int64  `db:"id"`
			Label string `db:"label"`
			N     int    `db:"n"`
			A     int64  `db:"a"`
			B     int64  `db:"b"`
		}
		if err := tx.SelectContext(ctx, &pairs, `
			SELECT p.id, p.label, row_number() OVER (ORDER BY p.id) AS n,
			       (SELECT m.user_id FROM pair_members m WHERE m.pair_id = p.id AND m.position = 1) AS a,
			       (SELECT m.user_id FROM pair_members m WHERE m.pair_id = p.id AND m.position = 2) AS b
			FROM pairs p WHERE p.practice_id = $1 ORDER BY p.id`, pr.ID); err != nil {
			return err
		}
		today := checkin.Today(now, pr.Timezone)
		weeks := 5
		for _, p := range pairs {
			var assignmentID int64
			if err := tx.GetContext(ctx, &assignmentID, `
				INSERT INTO measure_assignments (practice_id, pair_id, measure_id, every_days, starts_on, created_by, created_at)
				VALUES ($1, $2, $3, 7, $4, (SELECT counselor_id FROM pairs WHERE id = $2), $5) RETURNING id`,
				pr.ID, p.ID, measureID, today.AddDays(-7*weeks+1), now.AddDate(0, 0, -7*weeks+1)); err != nil {
				return err
			}
			levels, ok := demoMeasureLevels[p.N]
			if !ok {
				levels = demoMeasureLevels[2]
			}
			sl, err := v.Sealer(ctx, tx, vault.PairScope(pr.ID, p.ID))
			if err != nil {
				return err
			}
			for w := 0; w < weeks; w++ {
				day := today.AddDays(-7*(weeks-1-w) - 1)
				for side, user := range []int64{p.A, p.B} {
					l := levels[side][w]
					a := measure.Answers{1: l, 2: l, 3: 4 - l, 4: l, 5: l, 6: 0}
					r := def.Score(a)
					var id int64
					if err := tx.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('measure_responses', 'id'))`); err != nil {
						return err
					}
					b, _ := json.Marshal(a)
					sealed, err := sl.Seal(vault.MeasureAnswers, id, b)
					if err != nil {
						return err
					}
					subs, _ := json.Marshal(r.Subscales)
					if _, err := tx.ExecContext(ctx, `
						INSERT INTO measure_responses (id, practice_id, pair_id, measure_assignment_id, measure_version_id, user_id,
							answers, answered, valid, total, band, severity, most_severe, subscales, critical, answered_on, created_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, $10, $11, $12, $13, false, $14, $15)`,
						id, pr.ID, p.ID, assignmentID, versionID, user, sealed, r.Answered, r.Total, r.Band.Label,
						r.Band.Severity, r.Band.Severity == def.MostSevere(), string(subs), day,
						day.StartIn(checkin.LoadZone(pr.Timezone)).Add(19*time.Hour)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
