package homework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
)

// Statuses of a plan applied to a pair.
const (
	PlanActive   = "active"
	PlanFinished = "finished"
	PlanStopped  = "stopped"
)

// PlanInput is the apply-a-plan form.
type PlanInput struct {
	PlanID   string
	StartsOn string // empty: today
	Cadence  string
	Weekdays []string
	// ConfirmDates is the counselor's answer to the form's warning about a
	// first day before today (ConfirmField), as for homework.
	ConfirmDates bool
}

// pairPlan is a running plan, locked for advancing.
type pairPlan struct {
	ID        int64            `db:"id"`
	Name      string           `db:"name"`
	StartsOn  checkin.Date     `db:"starts_on"`
	Cadence   string           `db:"cadence"`
	Weekdays  pq.Int64Array    `db:"weekdays"`
	ResumedOn checkin.NullDate `db:"resumed_on"`
}

// lockRunningPlan locks a pair's running plan (sql.ErrNoRows: none). The
// pair must already be locked by the caller (lock order: pair, plan,
// homework).
func lockRunningPlan(ctx context.Context, tx *sqlx.Tx, p pair.Pair) (pairPlan, error) {
	var pp pairPlan
	err := tx.GetContext(ctx, &pp, `
		SELECT pp.id, pp.name, pp.starts_on, pp.cadence, pp.weekdays,
		       (SELECT (max(e.at) AT TIME ZONE pr.timezone)::date FROM pair_events e
		         WHERE e.pair_id = pp.pair_id AND e.kind = 'resumed' AND e.at >= pp.created_at) AS resumed_on
		FROM pair_plans pp JOIN practices pr ON pr.id = pp.practice_id
		WHERE pp.pair_id = $1 AND pp.status = 'active'
		FOR UPDATE OF pp`, p.ID)
	return pp, err
}

// ApplyPlan puts a pair on a plan: the plan's steps are copied as they are
// now (step wording and durations), so later edits to the plan or its steps
// do not change this pair's path. The first step's homework starts on the
// chosen day (default today); if that day is in the past, the steps whose
// time has already run out are filled in as completed.
func (s *Store) ApplyPlan(ctx context.Context, sc mend.Scope, pairID int64, in PlanInput) (int64, error) {
	var ppID int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		ppID, err = s.ApplyPlanTx(ctx, tx, sc, pairID, in)
		return err
	})
	return ppID, err
}

// ApplyPlanTx is ApplyPlan inside the caller's transaction (the demo seed).
func (s *Store) ApplyPlanTx(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, pairID int64, in PlanInput) (int64, error) {
	if !sc.Role.IsStaff() && sc.Role != mend.RoleSystem {
		return 0, mend.NotFound("Pair")
	}
	now := s.Clock.Time()
	var ppID int64
	err := func() error {
		p, err := pair.Lock(ctx, tx, sc, pairID)
		if err != nil {
			return err
		}
		if err := writable(sc, p); err != nil {
			return err
		}
		if p.Status != pair.StatusActive {
			return mend.Errorf(mend.ECONFLICT, "This pair is paused. Resume it before starting a plan.")
		}
		if _, err := lockRunningPlan(ctx, tx, p); err == nil {
			return mend.FieldErrors{"plan": "This pair is already on a plan. Stop it before starting another."}.Err()
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		today, err := s.practiceToday(ctx, tx, p.PracticeID, now)
		if err != nil {
			return err
		}
		var fe mend.FieldErrors
		var plan library.Plan
		planID, perr := strconv.ParseInt(strings.TrimSpace(in.PlanID), 10, 64)
		if perr == nil {
			plan, err = library.LoadPlan(ctx, tx, sc, planID)
		}
		switch {
		case perr != nil || mend.ErrorCode(err) == mend.ENOTFOUND:
			fe.Add("plan", "Choose a plan.")
		case err != nil:
			return err
		case len(plan.Steps) == 0:
			fe.Add("plan", "This plan has no steps.")
		}
		starts := today
		if str := strings.TrimSpace(in.StartsOn); str != "" {
			if d, ok := parseDate(&fe, "starts_on", str); ok {
				starts = d
				checkNear(&fe, "starts_on", d, today)
			}
		}
		cadence, weekdays := parseCadence(&fe, in.Cadence, in.Weekdays)
		if err := fe.Err(); err != nil {
			return err
		}
		if starts.Before(today) && !in.ConfirmDates {
			return &mend.Error{Code: mend.EINVALID, Message: "Check the start date before starting the plan: nothing is saved yet.",
				Fields: map[string]string{ConfirmField: PlanPastStartWarning(starts, plan.Steps, cadence, weekdays, today)}}
		}
		if err := tx.GetContext(ctx, &ppID, `
			INSERT INTO pair_plans (practice_id, pair_id, plan_id, name, starts_on, cadence, weekdays, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			p.PracticeID, p.ID, plan.ID, plan.Name, starts, cadence, pq.Array(weekdays),
			sql.NullInt64{Int64: sc.UserID, Valid: sc.UserID != 0}); err != nil {
			return fmt.Errorf("homework: apply plan: %w", err)
		}
		for _, st := range plan.Steps {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO pair_plan_steps (practice_id, pair_plan_id, position, step_version_id, days)
				VALUES ($1, $2, $3, $4, $5)`, p.PracticeID, ppID, st.Position, st.VersionID, st.Days); err != nil {
				return fmt.Errorf("homework: plan step: %w", err)
			}
		}
		if err := pair.RecordEvent(ctx, tx, pair.Event{PracticeID: p.PracticeID, PairID: p.ID, Kind: pair.EventPlanApplied,
			ActorID: sc.UserID, Detail: plan.Name}); err != nil {
			return err
		}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "plan.apply", ObjectType: "pair_plan", ObjectID: ppID}); err != nil {
			return err
		}
		pp, err := lockRunningPlan(ctx, tx, p)
		if err != nil {
			return err
		}
		_, err = s.advance(ctx, tx, p, pp, today, now, sc.UserID)
		return err
	}()
	return ppID, err
}

// StopPlan ends a pair's running plan: no further steps start. Homework
// already given stays as it is.
func (s *Store) StopPlan(ctx context.Context, sc mend.Scope, pairID int64) error {
	if !sc.Role.IsStaff() {
		return mend.NotFound("Pair")
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		p, err := pair.Lock(ctx, tx, sc, pairID)
		if err != nil {
			return err
		}
		if err := writable(sc, p); err != nil {
			return err
		}
		pp, err := lockRunningPlan(ctx, tx, p)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.Errorf(mend.ECONFLICT, "This pair is not on a plan.")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pair_plans SET status = 'stopped', ended_at = $2 WHERE id = $1`, pp.ID, s.Clock.Time()); err != nil {
			return err
		}
		return pair.RecordEvent(ctx, tx, pair.Event{PracticeID: p.PracticeID, PairID: p.ID, Kind: pair.EventPlanStopped,
			ActorID: sc.UserID, Detail: pp.Name})
	})
}

// maxPlanLength bounds advance's loop (a plan has at most 40 steps).
const maxPlanLength = 100

// advance moves a locked running plan forward to today. While the latest
// started step's homework has ended — completed or cancelled, or past its
// due date (then it is marked completed) — the next step's homework is
// created: it starts the day after the previous one's due date, or on the
// day the previous one was completed or cancelled if that was earlier, but
// never before the pair was last resumed. When no step is left the plan is
// finished. It returns how many homework items were created.
//
// The plan row is locked by the caller, and a unique index allows one
// homework per plan step, so concurrent advancers cannot double a step.
func (s *Store) advance(ctx context.Context, tx *sqlx.Tx, p pair.Pair, pp pairPlan, today checkin.Date, now time.Time, actor int64) (int, error) {
	created := 0
	for range maxPlanLength {
		var cur struct {
			Position int              `db:"position"`
			ID       int64            `db:"id"`
			Status   string           `db:"status"`
			DueOn    checkin.Date     `db:"due_on"`
			EndedOn  checkin.NullDate `db:"ended_on"`
		}
		err := tx.GetContext(ctx, &cur, `
			SELECT s.position, a.id, a.status, a.due_on,
			       (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE pr.timezone)::date AS ended_on
			FROM pair_plan_steps s
			JOIN assignments a ON a.pair_plan_step_id = s.id
			JOIN practices pr ON pr.id = s.practice_id
			WHERE s.pair_plan_id = $1
			ORDER BY s.position DESC LIMIT 1`, pp.ID)
		next, starts := 1, pp.StartsOn
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return created, fmt.Errorf("homework: plan position: %w", err)
		default:
			if cur.Status == StatusActive {
				if !cur.DueOn.Before(today) {
					return created, nil // the current step is still running
				}
				if _, err := tx.ExecContext(ctx, `
					UPDATE assignments SET status = 'completed', completed_at = $2 WHERE id = $1`, cur.ID, now); err != nil {
					return created, err
				}
			}
			next, starts = cur.Position+1, cur.DueOn.AddDays(1)
			if cur.Status != StatusActive && cur.EndedOn.Valid && cur.EndedOn.Date.Before(starts) {
				starts = cur.EndedOn.Date
			}
		}
		if pp.ResumedOn.Valid && starts.Before(pp.ResumedOn.Date) {
			starts = pp.ResumedOn.Date
		}
		var st struct {
			ID            int64 `db:"id"`
			StepVersionID int64 `db:"step_version_id"`
			Days          int   `db:"days"`
		}
		err = tx.GetContext(ctx, &st, `
			SELECT id, step_version_id, days FROM pair_plan_steps WHERE pair_plan_id = $1 AND position = $2`, pp.ID, next)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `UPDATE pair_plans SET status = 'finished', ended_at = $2 WHERE id = $1`, pp.ID, now); err != nil {
				return created, err
			}
			return created, pair.RecordEvent(ctx, tx, pair.Event{PracticeID: p.PracticeID, PairID: p.ID, Kind: pair.EventPlanFinished, Detail: pp.Name})
		}
		if err != nil {
			return created, fmt.Errorf("homework: next plan step: %w", err)
		}
		v := parsedInput{
			stepVersionID: st.StepVersionID, startsOn: starts, dueOn: starts.AddDays(st.Days - 1),
			cadence: pp.Cadence, weekdays: pp.Weekdays,
		}
		if _, err := s.insertAssignment(ctx, tx, p, v, actor, sql.NullInt64{Int64: st.ID, Valid: true}); err != nil {
			return created, err
		}
		created++
	}
	return created, fmt.Errorf("homework: plan %d did not settle", pp.ID)
}

// AdvanceDue advances every running plan of the scope's practice whose
// current step has ended by its date. Only Mend's background job calls it,
// with mend.SystemScope: any other scope is refused. Each plan is advanced
// in its own transaction; a pair another worker is busy with is skipped
// (SKIP LOCKED) and picked up on the next run. Paused pairs wait.
func (s *Store) AdvanceDue(ctx context.Context, sc mend.Scope) (int, error) {
	if sc.Role != mend.RoleSystem {
		return 0, mend.Errorf(mend.EFORBIDDEN, "Only Mend's scheduler advances plans.")
	}
	now := s.Clock.Time()
	total := 0
	var after int64
	for {
		var batch []struct {
			ID     int64 `db:"id"`
			PairID int64 `db:"pair_id"`
		}
		err := s.DB.SelectContext(ctx, &batch, `
			SELECT pp.id, pp.pair_id
			FROM pair_plans pp
			JOIN pairs p ON p.id = pp.pair_id
			JOIN practices pr ON pr.id = pp.practice_id
			WHERE pp.practice_id = $1 AND pp.status = 'active' AND p.status = 'active' AND pp.id > $3
			  AND NOT EXISTS (
				SELECT 1 FROM pair_plan_steps ps JOIN assignments a ON a.pair_plan_step_id = ps.id
				WHERE ps.pair_plan_id = pp.id AND a.status = 'active'
				  AND a.due_on >= ($2::timestamptz AT TIME ZONE pr.timezone)::date)
			ORDER BY pp.id LIMIT 200`, sc.PracticeID, now, after)
		if err != nil {
			return total, fmt.Errorf("homework: due plans: %w", err)
		}
		for _, b := range batch {
			after = b.ID
			n, err := s.advanceOne(ctx, sc, b.PairID, now)
			if err != nil {
				return total, err
			}
			total += n
		}
		if len(batch) < 200 {
			return total, nil
		}
	}
}

func (s *Store) advanceOne(ctx context.Context, sc mend.Scope, pairID int64, now time.Time) (int, error) {
	n := 0
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cond, args := access.Pairs(sc, "p", 2)
		var locked []int64
		if err := tx.SelectContext(ctx, &locked, `
			SELECT p.id FROM pairs p WHERE p.id = $1 AND p.status = 'active' AND `+cond+`
			FOR NO KEY UPDATE OF p SKIP LOCKED`, append([]any{pairID}, args...)...); err != nil {
			return err
		}
		if len(locked) == 0 {
			return nil // another worker or a counselor has it; next run
		}
		p, err := pair.Load(ctx, tx, sc, pairID)
		if err != nil {
			return err
		}
		pp, err := lockRunningPlan(ctx, tx, p)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		today, err := s.practiceToday(ctx, tx, p.PracticeID, now)
		if err != nil {
			return err
		}
		n, err = s.advance(ctx, tx, p, pp, today, now, 0)
		return err
	})
	return n, err
}

// PracticeIDs lists every practice, for the scheduler to advance plans one
// practice at a time.
func PracticeIDs(ctx context.Context, d *sqlx.DB) ([]int64, error) {
	var ids []int64
	err := d.SelectContext(ctx, &ids, `SELECT id FROM practices ORDER BY id`)
	return ids, err
}

// PlanView is a pair's plan as the pair page shows it: where the pair is,
// what came before and what comes next.
type PlanView struct {
	ID       int64          `db:"id"`
	Name     string         `db:"name"`
	Status   string         `db:"status"`
	StartsOn checkin.Date   `db:"starts_on"`
	Cadence  string         `db:"cadence"`
	Weekdays pq.Int64Array  `db:"weekdays"`
	Steps    []PlanStepView `db:"-"`
}

// PlanStepView is one step of a pair's plan, with its homework if started
// or its expected dates if not.
type PlanStepView struct {
	Position     int              `db:"position"`
	Title        string           `db:"title"`
	Days         int              `db:"days"`
	AssignmentID sql.NullInt64    `db:"assignment_id"`
	Status       sql.NullString   `db:"status"`
	StartsOn     checkin.NullDate `db:"starts_on"`
	DueOn        checkin.NullDate `db:"due_on"`
	Expected     bool             `db:"-"` // dates are a forecast
}

// Dates is the step's span, actual or expected ("" if unknown).
func (st PlanStepView) Dates() string {
	if !st.StartsOn.Valid || !st.DueOn.Valid {
		return ""
	}
	return DateRange(st.StartsOn.Date, st.DueOn.Date)
}

// Total is the number of steps.
func (v PlanView) Total() int { return len(v.Steps) }

// Current is the latest started step (nil before the first).
func (v PlanView) Current() *PlanStepView {
	var cur *PlanStepView
	for i := range v.Steps {
		if v.Steps[i].AssignmentID.Valid {
			cur = &v.Steps[i]
		}
	}
	return cur
}

// Next is the step after the current one (nil at the end).
func (v PlanView) Next() *PlanStepView {
	cur := v.Current()
	if cur == nil {
		if len(v.Steps) > 0 {
			return &v.Steps[0]
		}
		return nil
	}
	if cur.Position < len(v.Steps) {
		return &v.Steps[cur.Position]
	}
	return nil
}

// CadenceText describes the check-in cadence of the plan's homework.
func (v PlanView) CadenceText() string { return CadenceText(v.Cadence, v.Weekdays) }

// Plan returns the pair's running plan, or else its latest one (nil if the
// pair never had one), in one query.
func (s *Store) Plan(ctx context.Context, sc mend.Scope, pairID int64) (*PlanView, error) {
	if !sc.Role.IsStaff() {
		return nil, mend.NotFound("Pair")
	}
	cond, args := access.Pairs(sc, "p", 2)
	// The plan and its steps in one statement (the pair page and the
	// progress tab show it on every request): one row per step, or one row
	// with no step.
	var rows []struct {
		PlanView
		StepPosition     sql.NullInt64    `db:"step_position"`
		StepTitle        sql.NullString   `db:"step_title"`
		StepDays         sql.NullInt64    `db:"step_days"`
		StepAssignmentID sql.NullInt64    `db:"step_assignment_id"`
		StepStatus       sql.NullString   `db:"step_status"`
		StepStartsOn     checkin.NullDate `db:"step_starts_on"`
		StepDueOn        checkin.NullDate `db:"step_due_on"`
	}
	err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT pp.id, pp.name, pp.status, pp.starts_on, pp.cadence, pp.weekdays,
		       s.position AS step_position, ver.title AS step_title, s.days AS step_days,
		       a.id AS step_assignment_id, a.status AS step_status, a.starts_on AS step_starts_on, a.due_on AS step_due_on
		FROM (SELECT pp.id, pp.name, pp.status, pp.starts_on, pp.cadence, pp.weekdays
		      FROM pair_plans pp JOIN pairs p ON p.id = pp.pair_id
		      WHERE pp.pair_id = $1 AND `+cond+`
		      ORDER BY pp.status = 'active' DESC, pp.created_at DESC, pp.id DESC LIMIT 1) pp
		LEFT JOIN pair_plan_steps s ON s.pair_plan_id = pp.id
		LEFT JOIN step_versions ver ON ver.id = s.step_version_id
		LEFT JOIN assignments a ON a.pair_plan_step_id = s.id
		ORDER BY s.position`, append([]any{pairID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("homework: pair plan: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	v := rows[0].PlanView
	for _, r := range rows {
		if !r.StepPosition.Valid {
			continue
		}
		v.Steps = append(v.Steps, PlanStepView{Position: int(r.StepPosition.Int64), Title: r.StepTitle.String,
			Days: int(r.StepDays.Int64), AssignmentID: r.StepAssignmentID, Status: r.StepStatus,
			StartsOn: r.StepStartsOn, DueOn: r.StepDueOn})
	}
	// Forecast the dates of steps not started yet, if the plan runs.
	if v.Status == PlanActive {
		var prevDue checkin.NullDate
		for i := range v.Steps {
			st := &v.Steps[i]
			if st.AssignmentID.Valid {
				prevDue = st.DueOn
				continue
			}
			start := v.StartsOn
			if prevDue.Valid {
				start = prevDue.Date.AddDays(1)
			}
			st.StartsOn = checkin.NullDate{Date: start, Valid: true}
			st.DueOn = checkin.NullDate{Date: start.AddDays(st.Days - 1), Valid: true}
			st.Expected = true
			prevDue = st.DueOn
		}
	}
	return &v, nil
}
