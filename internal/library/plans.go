package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// Plan is a plan template: an ordered list of steps with durations.
type Plan struct {
	ID          int64          `db:"id"`
	PracticeID  sql.NullInt64  `db:"practice_id"`
	Key         sql.NullString `db:"key"`
	Name        string         `db:"name"`
	Description string         `db:"description"`
	UpdatedAt   time.Time      `db:"updated_at"`
	StepCount   int            `db:"step_count"`
	TotalDays   int            `db:"total_days"`
	Steps       []PlanStep     `db:"-"`
}

// BuiltIn reports whether the plan ships with Mend (read-only).
func (p Plan) BuiltIn() bool { return !p.PracticeID.Valid }

// PlanStep is one step of a plan, with the step's current wording.
type PlanStep struct {
	Position  int    `db:"position"`
	StepID    int64  `db:"step_id"`
	VersionID int64  `db:"version_id"`
	Title     string `db:"title"`
	Summary   string `db:"summary"`
	Days      int    `db:"days"`
	StartDay  int    `db:"-"` // 1-based day of the plan this step starts on
}

const planColumns = `
	p.id, p.practice_id, p.key, p.name, p.description, p.updated_at,
	(SELECT count(*) FROM plan_steps ps WHERE ps.plan_id = p.id) AS step_count,
	(SELECT coalesce(sum(ps.days), 0) FROM plan_steps ps WHERE ps.plan_id = p.id) AS total_days`

// Plans returns a page of the plans the caller's practice can use:
// built-in ones first, then the practice's by name.
func (s *Store) Plans(ctx context.Context, sc mend.Scope, pr paging.Request) (paging.Page[Plan], error) {
	if err := staff(sc); err != nil {
		return paging.Page[Plan]{}, err
	}
	var rows []Plan
	err := s.DB.SelectContext(ctx, &rows, `SELECT `+planColumns+`
		FROM plans p
		WHERE (p.practice_id IS NULL OR p.practice_id = $1) AND p.archived_at IS NULL
		ORDER BY p.practice_id IS NOT NULL, lower(p.name), p.id
		LIMIT $2 OFFSET $3`, sc.PracticeID, pr.Limit(), pr.Offset())
	if err != nil {
		return paging.Page[Plan]{}, fmt.Errorf("library: list plans: %w", err)
	}
	return paging.Of(pr, rows), nil
}

// PlanOptions lists every usable plan (for a select).
func (s *Store) PlanOptions(ctx context.Context, sc mend.Scope) ([]Plan, error) {
	if err := staff(sc); err != nil {
		return nil, err
	}
	var rows []Plan
	err := s.DB.SelectContext(ctx, &rows, `SELECT `+planColumns+`
		FROM plans p
		WHERE (p.practice_id IS NULL OR p.practice_id = $1) AND p.archived_at IS NULL
		ORDER BY p.practice_id IS NOT NULL, lower(p.name), p.id LIMIT 500`, sc.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("library: plan options: %w", err)
	}
	return rows, nil
}

// Plan returns one plan with its steps.
func (s *Store) Plan(ctx context.Context, sc mend.Scope, id int64) (Plan, error) {
	if err := staff(sc); err != nil {
		return Plan{}, mend.NotFound("Plan")
	}
	return LoadPlan(ctx, s.DB, sc, id)
}

// LoadPlan reads a plan the caller's practice can use, with its steps at
// their current versions (q may be a transaction: applying a plan
// snapshots exactly what it reads here).
func LoadPlan(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) (Plan, error) {
	var p Plan
	err := sqlx.GetContext(ctx, q, &p, `SELECT `+planColumns+`
		FROM plans p WHERE p.id = $1 AND (p.practice_id IS NULL OR p.practice_id = $2) AND p.archived_at IS NULL`,
		id, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, mend.NotFound("Plan")
	}
	if err != nil {
		return Plan{}, fmt.Errorf("library: get plan: %w", err)
	}
	err = sqlx.SelectContext(ctx, q, &p.Steps, `
		SELECT ps.position, ps.step_id, v.id AS version_id, v.title, v.summary, ps.days
		FROM plan_steps ps JOIN steps s ON s.id = ps.step_id JOIN step_versions v ON v.id = s.current_version_id
		WHERE ps.plan_id = $1 ORDER BY ps.position`, id)
	if err != nil {
		return Plan{}, fmt.Errorf("library: plan steps: %w", err)
	}
	day := 1
	for i := range p.Steps {
		p.Steps[i].StartDay = day
		day += p.Steps[i].Days
	}
	return p, nil
}

// PlanInput is a plan as typed: a name, a description and rows of (step,
// days). Empty rows are skipped; a row with a step and no days uses the
// step's suggested duration.
type PlanInput struct {
	Name, Description string
	Rows              []PlanRow
}

// PlanRow is one typed row of the plan form.
type PlanRow struct {
	Step, Days string
}

// Field names of a plan row's inputs, for messages next to them.
func RowStepField(i int) string { return "step-" + strconv.Itoa(i) }

// RowDaysField is the field name of a row's days input.
func RowDaysField(i int) string { return "days-" + strconv.Itoa(i) }

const maxPlanSteps = 40

type parsedRow struct {
	stepID int64
	days   int
}

// parse validates a plan against the steps the practice can use.
func (in *PlanInput) parse(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope) ([]parsedRow, error) {
	var fe mend.FieldErrors
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	switch {
	case in.Name == "":
		fe.Add("name", "Enter a name for the plan.")
	case tooLong(in.Name, maxTitle):
		fe.Add("name", fmt.Sprintf("Use at most %d characters.", maxTitle))
	}
	if tooLong(in.Description, maxWhy) {
		fe.Add("description", fmt.Sprintf("Use at most %d characters.", maxWhy))
	}
	opts, err := optionsFrom(ctx, q, sc)
	if err != nil {
		return nil, err
	}
	byID := map[int64]Option{}
	for _, o := range opts {
		byID[o.ID] = o
	}
	var rows []parsedRow
	for i, r := range in.Rows {
		stepS, daysS := strings.TrimSpace(r.Step), strings.TrimSpace(r.Days)
		if stepS == "" {
			if daysS != "" {
				fe.Add(RowStepField(i), "Choose a step for this row, or clear its days.")
			}
			continue
		}
		id, err := strconv.ParseInt(stepS, 10, 64)
		o, ok := byID[id]
		if err != nil || !ok {
			fe.Add(RowStepField(i), "Choose a step from the library.")
			continue
		}
		days := o.DurationDays
		if daysS != "" {
			days, err = strconv.Atoi(daysS)
			if err != nil || days < 1 || days > maxDuration {
				fe.Add(RowDaysField(i), fmt.Sprintf("Enter a number of days from 1 to %d.", maxDuration))
				continue
			}
		}
		rows = append(rows, parsedRow{stepID: id, days: days})
	}
	switch {
	case len(rows) == 0 && len(fe) == 0:
		fe.Add(RowStepField(0), "Add at least one step.")
	case len(rows) > maxPlanSteps:
		fe.Add("name", fmt.Sprintf("A plan can have at most %d steps.", maxPlanSteps))
	}
	return rows, fe.Err()
}

func optionsFrom(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope) ([]Option, error) {
	var rows []Option
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT s.id, v.title, s.practice_id IS NULL AS builtin, v.duration_days
		FROM steps s JOIN step_versions v ON v.id = s.current_version_id
		WHERE (s.practice_id IS NULL OR s.practice_id = $1) AND s.archived_at IS NULL`, sc.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("library: steps for plan: %w", err)
	}
	return rows, nil
}

// CreatePlan adds a practice-owned plan.
func (s *Store) CreatePlan(ctx context.Context, sc mend.Scope, in PlanInput) (Plan, error) {
	if err := staff(sc); err != nil {
		return Plan{}, err
	}
	var id int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		rows, err := in.parse(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &id, `
			INSERT INTO plans (practice_id, name, description, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
			sc.PracticeID, in.Name, in.Description, nullID(sc.UserID)); err != nil {
			return fmt.Errorf("library: insert plan: %w", err)
		}
		return writePlanSteps(ctx, tx, id, sql.NullInt64{Int64: sc.PracticeID, Valid: true}, rows)
	})
	if err != nil {
		return Plan{}, err
	}
	return s.Plan(ctx, sc, id)
}

// UpdatePlan replaces a practice-owned plan's name, description and steps.
// Pairs already on the plan keep the snapshot they were given.
func (s *Store) UpdatePlan(ctx context.Context, sc mend.Scope, id int64, in PlanInput) (Plan, error) {
	if err := staff(sc); err != nil {
		return Plan{}, err
	}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var practiceID sql.NullInt64
		err := tx.GetContext(ctx, &practiceID, `
			SELECT practice_id FROM plans WHERE id = $1 AND (practice_id IS NULL OR practice_id = $2) AND archived_at IS NULL
			FOR UPDATE`, id, sc.PracticeID)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.NotFound("Plan")
		}
		if err != nil {
			return err
		}
		if !practiceID.Valid {
			return errBuiltInReadOnly
		}
		rows, err := in.parse(ctx, tx, sc)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE plans SET name = $2, description = $3, updated_at = now() WHERE id = $1`,
			id, in.Name, in.Description); err != nil {
			return err
		}
		return writePlanSteps(ctx, tx, id, practiceID, rows)
	})
	if err != nil {
		return Plan{}, err
	}
	return s.Plan(ctx, sc, id)
}

func writePlanSteps(ctx context.Context, tx *sqlx.Tx, planID int64, practiceID sql.NullInt64, rows []parsedRow) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM plan_steps WHERE plan_id = $1`, planID); err != nil {
		return fmt.Errorf("library: clear plan steps: %w", err)
	}
	for i, r := range rows {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO plan_steps (plan_id, practice_id, position, step_id, days) VALUES ($1, $2, $3, $4, $5)`,
			planID, practiceID, i+1, r.stepID, r.days); err != nil {
			return fmt.Errorf("library: insert plan step: %w", err)
		}
	}
	return nil
}

// RowsOf is the form view of a plan's steps.
func RowsOf(p Plan) []PlanRow {
	rows := make([]PlanRow, len(p.Steps))
	for i, st := range p.Steps {
		rows[i] = PlanRow{Step: strconv.FormatInt(st.StepID, 10), Days: strconv.Itoa(st.Days)}
	}
	return rows
}
