// Package homework is repair-step homework: assigning a step (at the version
// it was given) to a pair, for both members or one, with dates and a
// check-in cadence; editing it while no check-in exists; cancelling and
// completing it; applying a plan to a pair and advancing it; and the
// client's view of their homework with the instructions for their side.
//
// Every Store method takes the caller's Scope; pair access goes through
// access.Pairs, so an out-of-scope id is ENOTFOUND. Dates are calendar
// dates in the practice's time zone: "today" is always the practice's
// today.
package homework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/vault"
)

// Statuses of an assignment.
const (
	StatusActive    = "active"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
)

// States an assignment is in on a given day (its status plus its dates).
const (
	StateUpcoming  = "upcoming"
	StateCurrent   = "current"
	StateEnded     = "ended" // active, but its due date has passed
	StateCompleted = "completed"
	StateCancelled = "cancelled"
)

// Cadences of check-ins.
const (
	CadenceOnce   = "once"
	CadenceDaily  = "daily"
	CadenceWeekly = "weekly"
)

// Store reads and changes homework and plans applied to pairs. The
// counselor's note to the clients is stored encrypted under the pair's data
// key (Vault); homework without a note (e.g. a plan's next step, written by
// the worker) needs no key.
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	mend.Clock // Now: the clock; tests set it (nil: time.Now)

	stmts db.Statements // the hot queries, prepared
}

// NewStore returns the homework store; v seals and opens the counselor's
// notes (nil where no note is read or written, as in the worker).
func NewStore(d *sqlx.DB, v *vault.Vault) *Store {
	return &Store{DB: d, Vault: v}
}

// Assignment is one piece of homework as staff see it.
type Assignment struct {
	ID             int64          `db:"id"`
	PracticeID     int64          `db:"practice_id"`
	PairID         int64          `db:"pair_id"`
	PairLabel      string         `db:"pair_label"`
	StepID         int64          `db:"step_id"`
	StepVersionID  int64          `db:"step_version_id"`
	StepVersion    int            `db:"step_version"`
	CurrentVersion int            `db:"current_version"`
	Title          string         `db:"title"`
	ForUserID      sql.NullInt64  `db:"for_user_id"`
	ForName        sql.NullString `db:"for_name"`
	StartsOn       checkin.Date   `db:"starts_on"`
	DueOn          checkin.Date   `db:"due_on"`
	Cadence        string         `db:"cadence"`
	Weekdays       pq.Int64Array  `db:"weekdays"`
	Note           string         `db:"-"`
	SealedNote     []byte         `db:"note"` // as read; opened into Note
	Status         string         `db:"status"`
	CreatedAt      time.Time      `db:"created_at"`
	CompletedAt    sql.NullTime   `db:"completed_at"`
	CancelledAt    sql.NullTime   `db:"cancelled_at"`
	PairPlanStepID sql.NullInt64  `db:"pair_plan_step_id"`
	PlanPosition   sql.NullInt64  `db:"plan_position"`
	CheckinCount   int            `db:"checkin_count"`
	Today          checkin.Date   `db:"today"` // the practice's date when read
}

// State is the assignment's state on the practice's today.
func (a Assignment) State() string {
	switch {
	case a.Status == StatusCompleted:
		return StateCompleted
	case a.Status == StatusCancelled:
		return StateCancelled
	case a.StartsOn.After(a.Today):
		return StateUpcoming
	case a.DueOn.Before(a.Today):
		return StateEnded
	}
	return StateCurrent
}

// DateRange is the homework's dates in short form, e.g. "13–19 Nov 2026"
// or "28 Nov – 4 Dec 2026".
func (a Assignment) DateRange() string { return DateRange(a.StartsOn, a.DueOn) }

// DateRange formats a span of calendar days compactly.
func DateRange(from, to checkin.Date) string {
	switch {
	case from == to:
		return to.Format("2 Jan 2006")
	case from.Year != to.Year:
		return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
	case from.Month != to.Month:
		return from.Format("2 Jan") + " – " + to.Format("2 Jan 2006")
	}
	return from.Format("2") + "–" + to.Format("2 Jan 2006")
}

// StateLabel is the state as people read it.
func (a Assignment) StateLabel() string {
	switch a.State() {
	case StateUpcoming:
		return "Upcoming"
	case StateCurrent:
		return "In progress"
	case StateEnded:
		return "Ended"
	case StateCompleted:
		return "Completed"
	}
	return "Cancelled"
}

// Editable reports whether the assignment can still be changed: active and
// no check-in yet.
func (a Assignment) Editable() bool { return a.Status == StatusActive && a.CheckinCount == 0 }

// Open reports whether it can still be completed or cancelled.
func (a Assignment) Open() bool { return a.Status == StatusActive }

// ForBoth reports whether the homework is for both members.
func (a Assignment) ForBoth() bool { return !a.ForUserID.Valid }

// Newer reports whether the step has newer wording than this homework got.
func (a Assignment) Newer() bool { return a.CurrentVersion > a.StepVersion }

// CadenceText describes the check-in cadence, e.g. "Weekly on Mon, Thu".
func (a Assignment) CadenceText() string { return CadenceText(a.Cadence, a.Weekdays) }

// CadenceText describes a cadence with its weekdays.
func CadenceText(cadence string, weekdays []int64) string {
	switch cadence {
	case CadenceOnce:
		return "Once, by the due date"
	case CadenceDaily:
		return "Daily"
	case CadenceWeekly:
		names := make([]string, 0, len(weekdays))
		for _, d := range weekdays {
			if d >= 1 && d <= 7 {
				names = append(names, Weekdays[d-1].Short)
			}
		}
		return "Weekly on " + strings.Join(names, ", ")
	}
	return cadence
}

// Weekday is an ISO weekday (1 = Monday) with its names.
type Weekday struct {
	N           int
	Short, Long string
}

// Weekdays in ISO order.
var Weekdays = []Weekday{
	{1, "Mon", "Monday"}, {2, "Tue", "Tuesday"}, {3, "Wed", "Wednesday"}, {4, "Thu", "Thursday"},
	{5, "Fri", "Friday"}, {6, "Sat", "Saturday"}, {7, "Sun", "Sunday"},
}

// assignmentSelect reads assignments joined to their pair (for the scope),
// step version and the practice's today at $1.
const assignmentSelect = `
	SELECT a.id, a.practice_id, a.pair_id, p.label AS pair_label, v.step_id, a.step_version_id,
	       v.version AS step_version, cur.version AS current_version, v.title,
	       a.for_user_id, fu.name AS for_name, a.starts_on, a.due_on, a.cadence, a.weekdays, a.note,
	       a.status, a.created_at, a.completed_at, a.cancelled_at, a.pair_plan_step_id, pps.position AS plan_position,
	       (SELECT count(*) FROM checkins ci WHERE ci.assignment_id = a.id) AS checkin_count,
	       ($1::timestamptz AT TIME ZONE pr.timezone)::date AS today
	FROM assignments a
	JOIN pairs p ON p.id = a.pair_id
	JOIN practices pr ON pr.id = p.practice_id
	JOIN step_versions v ON v.id = a.step_version_id
	JOIN steps st ON st.id = v.step_id
	JOIN step_versions cur ON cur.id = st.current_version_id
	LEFT JOIN users fu ON fu.id = a.for_user_id
	LEFT JOIN pair_plan_steps pps ON pps.id = a.pair_plan_step_id`

// Input is homework as typed in the assign and edit forms.
type Input struct {
	StepID   string
	For      string // "both" or a member's user id
	StartsOn string // YYYY-MM-DD, the practice's calendar
	DueOn    string // empty: the step's suggested duration
	Cadence  string
	Weekdays []string
	Note     string
	// ConfirmDates is the counselor's answer to the form's warning that a
	// start date in the past or a due date already over has consequences.
	ConfirmDates bool
}

// ConfirmField is the form field that carries the warning about past dates
// (and, ticked, the counselor's confirmation).
const ConfirmField = "confirm_dates"

// ForBoth is the value of the "for" field meaning both members.
const ForBoth = "both"

const maxNote = 1000

type parsedInput struct {
	stepVersionID int64
	forUser       sql.NullInt64
	startsOn      checkin.Date
	dueOn         checkin.Date
	cadence       string
	weekdays      []int64
	note          string
}

// parse validates typed homework for pair p on the practice's today. keep
// is the version already given (edits keep it unless the step changes).
func (in Input) parse(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, p pair.Pair, today checkin.Date, keepStep int64, keepVersion int64) (parsedInput, error) {
	var fe mend.FieldErrors
	var out parsedInput
	stepID, err := strconv.ParseInt(strings.TrimSpace(in.StepID), 10, 64)
	duration := 0
	switch {
	case err != nil:
		fe.Add("step", "Choose a step from the library.")
	case keepStep != 0 && stepID == keepStep:
		out.stepVersionID = keepVersion
	default:
		out.stepVersionID, err = library.CurrentVersion(ctx, tx, sc, stepID)
		if mend.ErrorCode(err) == mend.ENOTFOUND {
			fe.Add("step", "Choose a step from the library.")
		} else if err != nil {
			return out, err
		}
	}
	revealRule := ""
	if out.stepVersionID != 0 {
		var v struct {
			Duration int    `db:"duration_days"`
			Reveal   string `db:"reveal_rule"`
		}
		if err := tx.GetContext(ctx, &v, `SELECT duration_days, reveal_rule FROM step_versions WHERE id = $1`, out.stepVersionID); err != nil {
			return out, err
		}
		duration, revealRule = v.Duration, v.Reveal
	}
	switch f := strings.TrimSpace(in.For); f {
	case "", ForBoth:
	default:
		id, _ := strconv.ParseInt(f, 10, 64)
		if _, ok := p.Member(id); !ok {
			fe.Add("for", "Choose one of the pair's members, or both.")
		} else if revealRule != "" {
			// Both partners answer a reveal exercise (issue 21).
			fe.Add("for", "This step is a reveal exercise: both partners answer it, so give it to both.")
		} else {
			out.forUser = sql.NullInt64{Int64: id, Valid: true}
		}
	}
	out.startsOn = today
	if s := strings.TrimSpace(in.StartsOn); s != "" {
		d, ok := parseDate(&fe, "starts_on", s)
		if ok {
			out.startsOn = d
			checkNear(&fe, "starts_on", d, today)
		}
	}
	if s := strings.TrimSpace(in.DueOn); s != "" {
		d, ok := parseDate(&fe, "due_on", s)
		if ok {
			out.dueOn = d
			if _, bad := fe["starts_on"]; !bad && d.Before(out.startsOn) {
				fe.Add("due_on", "The due date cannot be before the start date.")
			} else if out.startsOn.DaysUntil(d) > 366 {
				fe.Add("due_on", "Homework can last at most a year.")
			}
		}
	} else if duration > 0 {
		out.dueOn = out.startsOn.AddDays(duration - 1)
	}
	if _, bad := fe["due_on"]; !bad && !out.dueOn.IsZero() {
		if first := pairFirstDay(p); out.dueOn.Before(first) {
			fe.Add("due_on", "This pair was created on "+first.Format("2 Jan 2006")+"; its homework cannot end before that.")
		}
	}
	out.cadence, out.weekdays = parseCadence(&fe, in.Cadence, in.Weekdays)
	out.note = strings.TrimSpace(in.Note)
	if !utf8.ValidString(out.note) || utf8.RuneCountInString(out.note) > maxNote {
		fe.Add("note", fmt.Sprintf("Keep the note under %d characters.", maxNote))
	}
	return out, fe.Err()
}

// pairFirstDay is the practice's calendar date on which the pair was
// created.
func pairFirstDay(p pair.Pair) checkin.Date {
	return checkin.DateIn(p.CreatedAt, checkin.LoadZone(p.Timezone))
}

// confirmPastDates stops homework whose start date is before today or whose
// due date is already over from being saved until the counselor has read
// what it causes and confirmed. prevStart and prevDue are the dates already
// saved (zero when assigning): keeping them needs no new confirmation.
func confirmPastDates(in Input, v parsedInput, today, prevStart, prevDue checkin.Date) error {
	pastStart := v.startsOn.Before(today) && v.startsOn != prevStart
	pastDue := v.dueOn.Before(today) && v.dueOn != prevDue
	if in.ConfirmDates || (!pastStart && !pastDue) {
		return nil
	}
	msg := PastDatesWarning(v.startsOn, v.dueOn, v.cadence, v.weekdays, today)
	return &mend.Error{Code: mend.EINVALID, Message: "Check the dates before saving: nothing is saved yet.",
		Fields: map[string]string{ConfirmField: msg}}
}

// PastDatesWarning says, in the counselor's words, what homework running
// from startsOn to dueOn causes when saved on today: the check-in periods
// already over, the few still open for a late check-in, and that no
// missing or overdue alert is raised for periods before it was assigned.
func PastDatesWarning(startsOn, dueOn checkin.Date, cadence string, weekdays []int64, today checkin.Date) string {
	over, late := periodsOver(startsOn, dueOn, cadence, weekdays, today)
	var b strings.Builder
	if startsOn.Before(today) {
		fmt.Fprintf(&b, "This homework starts on %s, before today. ", startsOn.Format("Mon 2 Jan 2006"))
	}
	if dueOn.Before(today) {
		fmt.Fprintf(&b, "Its due date, %s, is already over: it shows as ended at once and sends no reminders. ", dueOn.Format("Mon 2 Jan 2006"))
	}
	writePeriodsOver(&b, over, late)
	return b.String()
}

// periodsOver counts the check-in periods of homework from startsOn to
// dueOn that have ended by today, and how many of them still take a late
// check-in.
func periodsOver(startsOn, dueOn checkin.Date, cadence string, weekdays []int64, today checkin.Date) (over, late int) {
	for _, per := range checkin.ScheduleOf(startsOn, dueOn, checkin.Cadence(cadence), weekdays).Periods() {
		if !per.Ended(today) {
			continue
		}
		over++
		if !today.After(per.LateUntil()) {
			late++
		}
	}
	return over, late
}

// writePeriodsOver says what the periods already over mean for the
// clients, and that no alert is raised for them.
func writePeriodsOver(b *strings.Builder, over, late int) {
	switch {
	case over == 0:
		b.WriteString("No check-in period is over yet. ")
	case over == 1:
		b.WriteString("1 check-in period is already over")
	default:
		fmt.Fprintf(b, "%d check-in periods are already over", over)
	}
	if over > 0 {
		missed := over - late
		switch {
		case late == 0 && over == 1:
			b.WriteString(": the clients can no longer check in for it, so it stays without check-ins. ")
		case late == 0:
			b.WriteString(": the clients can no longer check in for them, so they stay without check-ins. ")
		case missed == 0 && over == 1:
			fmt.Fprintf(b, ": the clients can still check in late for it (up to %d days after the period). ", checkin.GraceDays)
		case missed == 0:
			fmt.Fprintf(b, ": the clients can still check in late for them (up to %d days after each period). ", checkin.GraceDays)
		default:
			fmt.Fprintf(b, ": %d can still get a late check-in (up to %d days after the period), the other %d stay without check-ins. ", late, checkin.GraceDays, missed)
		}
	}
	b.WriteString("Mend raises no missing or overdue alerts for periods that ended before today.")
}

// PlanPastStartWarning says what starting a plan on startsOn, before
// today, causes: the steps already over (completed at once, without
// check-ins unless late ones are still taken), the step running today,
// and the check-in periods already over across them.
func PlanPastStartWarning(startsOn checkin.Date, steps []library.PlanStep, cadence string, weekdays []int64, today checkin.Date) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The plan's first step would start on %s, before today. ", startsOn.Format("Mon 2 Jan 2006"))
	over, late, done := 0, 0, 0
	var current string
	s := startsOn
	for _, st := range steps {
		if !s.Before(today) {
			break
		}
		due := s.AddDays(st.Days - 1)
		o, l := periodsOver(s, due, cadence, weekdays, today)
		over, late = over+o, late+l
		if due.Before(today) {
			done++
		} else {
			current = fmt.Sprintf("Step %d, “%s”, would be running since %s. ", st.Position, st.Title, s.Format("Mon 2 Jan"))
		}
		s = due.AddDays(1)
	}
	switch {
	case done == 1:
		b.WriteString("Step 1 would already be over: it shows as completed at once. ")
	case done > 1:
		fmt.Fprintf(&b, "Steps 1 to %d would already be over: they show as completed at once. ", done)
	}
	b.WriteString(current)
	writePeriodsOver(&b, over, late)
	return b.String()
}

func parseDate(fe *mend.FieldErrors, field, s string) (checkin.Date, bool) {
	d, err := checkin.ParseDate(s)
	if err != nil {
		fe.Add(field, "Enter a date like "+time.Now().Format(time.DateOnly)+".")
		return checkin.Date{}, false
	}
	return d, true
}

// checkNear refuses dates more than a year from today: almost always a
// typing mistake in the year.
func checkNear(fe *mend.FieldErrors, field string, d, today checkin.Date) {
	if d.Before(checkin.D(today.Year-1, today.Month, today.Day)) || d.After(checkin.D(today.Year+1, today.Month, today.Day)) {
		fe.Add(field, "Choose a date within a year of today.")
	}
}

func parseCadence(fe *mend.FieldErrors, cadence string, days []string) (string, []int64) {
	cadence = strings.TrimSpace(cadence)
	var weekdays []int64
	switch cadence {
	case CadenceOnce, CadenceDaily:
		return cadence, []int64{}
	case CadenceWeekly:
		seen := map[int64]bool{}
		for _, d := range days {
			n, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
			if err != nil || n < 1 || n > 7 {
				fe.Add("weekdays", "Choose weekdays from the list.")
				return cadence, nil
			}
			if !seen[n] {
				seen[n] = true
				weekdays = append(weekdays, n)
			}
		}
		if len(weekdays) == 0 {
			fe.Add("weekdays", "Choose at least one weekday for weekly check-ins.")
		}
		sortInts(weekdays)
		return cadence, weekdays
	}
	fe.Add("cadence", "Choose how often the clients check in.")
	return cadence, nil
}

func sortInts(xs []int64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// practiceToday is the practice's calendar date at now.
func (s *Store) practiceToday(ctx context.Context, q sqlx.QueryerContext, practiceID int64, now time.Time) (checkin.Date, error) {
	var d checkin.Date
	err := s.stmts.On(s.DB, q).Get(ctx, &d, `SELECT ($2::timestamptz AT TIME ZONE timezone)::date FROM practices WHERE id = $1`, practiceID, now)
	if err != nil {
		return checkin.Date{}, fmt.Errorf("homework: today: %w", err)
	}
	return d, nil
}

// Today is the caller's practice's calendar date now (form defaults).
func (s *Store) Today(ctx context.Context, sc mend.Scope) (checkin.Date, error) {
	return s.practiceToday(ctx, s.DB, sc.PracticeID, s.Clock.Time())
}

// writable checks that the caller may change homework of the pair: staff,
// and the pair is not closed.
func writable(sc mend.Scope, p pair.Pair) error {
	if !sc.Role.IsStaff() && sc.Role != mend.RoleSystem {
		return mend.NotFound("Pair")
	}
	if p.Status == pair.StatusClosed {
		return mend.Errorf(mend.ECONFLICT, "This pair is closed; its homework cannot change.")
	}
	return nil
}

// Assign gives a pair homework. Nothing is stored if the input is invalid.
func (s *Store) Assign(ctx context.Context, sc mend.Scope, pairID int64, in Input) (Assignment, error) {
	var id int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		id, err = s.AssignTx(ctx, tx, sc, pairID, in)
		return err
	})
	if err != nil {
		return Assignment{}, err
	}
	return s.Get(ctx, sc, id)
}

// AssignTx is Assign inside the caller's transaction (the demo seed); it
// returns the new assignment's id.
func (s *Store) AssignTx(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, pairID int64, in Input) (int64, error) {
	p, err := pair.Lock(ctx, tx, sc, pairID)
	if err != nil {
		return 0, err
	}
	if err := writable(sc, p); err != nil {
		return 0, err
	}
	today, err := s.practiceToday(ctx, tx, p.PracticeID, s.Clock.Time())
	if err != nil {
		return 0, err
	}
	v, err := in.parse(ctx, tx, sc, p, today, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := confirmPastDates(in, v, today, checkin.Date{}, checkin.Date{}); err != nil {
		return 0, err
	}
	id, err := s.insertAssignment(ctx, tx, p, v, sc.UserID, sql.NullInt64{})
	if err != nil {
		return 0, err
	}
	return id, audit.Append(ctx, tx, sc, audit.Entry{Action: "assignment.create", ObjectType: "assignment", ObjectID: id, ClientID: v.forUser.Int64})
}

func (s *Store) insertAssignment(ctx context.Context, tx *sqlx.Tx, p pair.Pair, v parsedInput, by int64, planStep sql.NullInt64) (int64, error) {
	// The id comes first: the note's ciphertext is bound to its row.
	var id int64
	if err := s.stmts.On(s.DB, tx).Get(ctx, &id, `SELECT nextval(pg_get_serial_sequence('assignments', 'id'))`); err != nil {
		return 0, fmt.Errorf("homework: new id: %w", err)
	}
	note, err := s.Vault.SealText(ctx, tx, vault.PairScope(p.PracticeID, p.ID), vault.AssignmentNote, id, v.note)
	if err != nil {
		return 0, fmt.Errorf("homework: seal note: %w", err)
	}
	_, err = s.stmts.On(s.DB, tx).Exec(ctx, `
		INSERT INTO assignments (id, practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, weekdays, note, created_by, pair_plan_step_id, created_at)
		VALUES ($12, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13)`,
		p.PracticeID, p.ID, v.stepVersionID, v.forUser, v.startsOn, v.dueOn, v.cadence, pq.Array(v.weekdays),
		note, sql.NullInt64{Int64: by, Valid: by != 0}, planStep, id, s.Clock.Time())
	if err != nil {
		return 0, fmt.Errorf("homework: insert: %w", err)
	}
	return id, nil
}

// Get returns one assignment of a pair the caller may see. Clients use
// ClientAssignment instead.
func (s *Store) Get(ctx context.Context, sc mend.Scope, id int64) (Assignment, error) {
	if !sc.Role.IsStaff() {
		return Assignment{}, mend.NotFound("Homework")
	}
	a, err := s.getAssignment(ctx, s.DB, sc, id, s.Clock.Time(), false)
	if err != nil {
		return Assignment{}, err
	}
	return a, s.openNote(ctx, s.DB, &a)
}

// openNote decrypts an assignment's note as read.
func (s *Store) openNote(ctx context.Context, q sqlx.QueryerContext, a *Assignment) error {
	note, err := s.Vault.OpenText(ctx, q, vault.AssignmentNote, a.ID, a.SealedNote)
	if err != nil {
		return fmt.Errorf("homework: note of %d: %w", a.ID, err)
	}
	a.Note = note
	return nil
}

func (s *Store) openNotes(ctx context.Context, as []Assignment) error {
	for i := range as {
		if err := s.openNote(ctx, s.DB, &as[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) getAssignment(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64, now time.Time, lock bool) (Assignment, error) {
	cond, args := access.Pairs(sc, "p", 3)
	query := assignmentSelect + ` WHERE a.id = $2 AND ` + cond
	if lock {
		// FOR UPDATE (not NO KEY UPDATE): a check-in being inserted holds
		// a key-share lock on this row, so an edit waits for it and then
		// sees it.
		query += ` FOR UPDATE OF a`
	}
	var a Assignment
	err := s.stmts.On(s.DB, q).Get(ctx, &a, query, append([]any{now, id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Assignment{}, mend.NotFound("Homework")
	}
	if err != nil {
		return Assignment{}, fmt.Errorf("homework: get: %w", err)
	}
	return a, nil
}

// Detail is an assignment with its text and what each member sees.
type Detail struct {
	Assignment
	Content library.Content
	// Sections is every instruction list under its heading.
	Sections []library.Section
	// Members are the members the homework is for, each with the
	// instructions they see.
	Members []MemberView
}

// MemberView is one member and the instructions shown to them.
type MemberView struct {
	UserID   int64
	Name     string
	Side     string
	Sections []library.Section
}

// GetDetail returns an assignment with its text, for staff.
func (s *Store) GetDetail(ctx context.Context, sc mend.Scope, id int64) (Detail, error) {
	a, err := s.Get(ctx, sc, id)
	if err != nil {
		return Detail{}, err
	}
	c, err := s.versionContent(ctx, s.DB, a.StepVersionID)
	if err != nil {
		return Detail{}, err
	}
	p, err := pair.LoadOn(ctx, s.stmts.On(s.DB, s.DB), sc, a.PairID)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Assignment: a, Content: c, Sections: c.Instructions.All()}
	for _, m := range p.Members {
		if a.ForUserID.Valid && a.ForUserID.Int64 != m.UserID {
			continue
		}
		d.Members = append(d.Members, MemberView{UserID: m.UserID, Name: m.Name, Side: m.Side, Sections: c.Instructions.For(m.Side)})
	}
	return d, nil
}

func (s *Store) versionContent(ctx context.Context, q sqlx.QueryerContext, versionID int64) (library.Content, error) {
	var c library.Content
	err := s.stmts.On(s.DB, q).Get(ctx, &c, `
		SELECT title, summary, why, instructions, questions, duration_days, reveal_rule FROM step_versions WHERE id = $1`, versionID)
	if err != nil {
		return c, fmt.Errorf("homework: step text: %w", err)
	}
	return c, nil
}

// InputOf is the form view of an assignment (for the edit form).
func InputOf(a Assignment) Input {
	in := Input{
		StepID: strconv.FormatInt(a.StepID, 10), For: ForBoth,
		StartsOn: a.StartsOn.String(), DueOn: a.DueOn.String(), Cadence: a.Cadence, Note: a.Note,
	}
	if a.ForUserID.Valid {
		in.For = strconv.FormatInt(a.ForUserID.Int64, 10)
	}
	for _, d := range a.Weekdays {
		in.Weekdays = append(in.Weekdays, strconv.FormatInt(d, 10))
	}
	return in
}

// Update changes homework that is still active and has no check-in yet.
// Keeping the same step keeps the wording it was given.
func (s *Store) Update(ctx context.Context, sc mend.Scope, id int64, in Input) (Assignment, error) {
	if !sc.Role.IsStaff() {
		return Assignment{}, mend.NotFound("Homework")
	}
	now := s.Clock.Time()
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.getAssignment(ctx, tx, sc, id, now, false)
		if err != nil {
			return err
		}
		p, err := pair.Lock(ctx, tx, sc, cur.PairID)
		if err != nil {
			return err
		}
		if err := writable(sc, p); err != nil {
			return err
		}
		if cur, err = s.getAssignment(ctx, tx, sc, id, now, true); err != nil {
			return err
		}
		switch {
		case cur.Status != StatusActive:
			return mend.Errorf(mend.ECONFLICT, "This homework is %s and can no longer be changed.", cur.Status)
		case cur.CheckinCount > 0:
			return mend.Errorf(mend.ECONFLICT, "This homework already has check-ins, so it can no longer be changed. You can cancel it and assign new homework instead.")
		}
		v, err := in.parse(ctx, tx, sc, p, cur.Today, cur.StepID, cur.StepVersionID)
		if err != nil {
			return err
		}
		if err := confirmPastDates(in, v, cur.Today, cur.StartsOn, cur.DueOn); err != nil {
			return err
		}
		note, err := s.Vault.SealText(ctx, tx, vault.PairScope(p.PracticeID, p.ID), vault.AssignmentNote, id, v.note)
		if err != nil {
			return fmt.Errorf("homework: seal note: %w", err)
		}
		_, err = s.stmts.On(s.DB, tx).Exec(ctx, `
			UPDATE assignments SET step_version_id = $2, for_user_id = $3, starts_on = $4, due_on = $5,
			       cadence = $6, weekdays = $7, note = $8
			WHERE id = $1`,
			id, v.stepVersionID, v.forUser, v.startsOn, v.dueOn, v.cadence, pq.Array(v.weekdays), note)
		return err
	})
	if err != nil {
		return Assignment{}, err
	}
	return s.Get(ctx, sc, id)
}

// Complete marks homework done. If it is a plan's step, the plan's next
// step starts at once (today).
func (s *Store) Complete(ctx context.Context, sc mend.Scope, id int64) (Assignment, error) {
	return s.finish(ctx, sc, id, StatusCompleted)
}

// Cancel withdraws homework. If it is a plan's step, the plan moves on to
// its next step at once (the step is skipped); to end the plan, stop it.
func (s *Store) Cancel(ctx context.Context, sc mend.Scope, id int64) (Assignment, error) {
	return s.finish(ctx, sc, id, StatusCancelled)
}

func (s *Store) finish(ctx context.Context, sc mend.Scope, id int64, to string) (Assignment, error) {
	if !sc.Role.IsStaff() {
		return Assignment{}, mend.NotFound("Homework")
	}
	now := s.Clock.Time()
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.getAssignment(ctx, tx, sc, id, now, false)
		if err != nil {
			return err
		}
		p, err := pair.Lock(ctx, tx, sc, cur.PairID)
		if err != nil {
			return err
		}
		if err := writable(sc, p); err != nil {
			return err
		}
		if cur, err = s.getAssignment(ctx, tx, sc, id, now, true); err != nil {
			return err
		}
		if cur.Status != StatusActive {
			return mend.Errorf(mend.ECONFLICT, "This homework is already %s.", cur.Status)
		}
		col := "completed_at"
		if to == StatusCancelled {
			col = "cancelled_at"
		}
		if _, err := s.stmts.On(s.DB, tx).Exec(ctx, `UPDATE assignments SET status = $2, `+col+` = $3 WHERE id = $1`, id, to, now); err != nil {
			return fmt.Errorf("homework: %s: %w", to, err)
		}
		if !cur.PairPlanStepID.Valid {
			return nil
		}
		pp, err := lockRunningPlan(ctx, tx, p)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the plan was stopped; nothing follows
		}
		if err != nil {
			return err
		}
		_, err = s.advance(ctx, tx, p, pp, cur.Today, now, sc.UserID)
		return err
	})
	if err != nil {
		return Assignment{}, err
	}
	return s.Get(ctx, sc, id)
}

// maxCurrent bounds the pair page's list of running homework; a pair has a
// handful at most.
const maxCurrent = 50

// Current lists a pair's running and upcoming homework, soonest first.
func (s *Store) Current(ctx context.Context, sc mend.Scope, pairID int64) ([]Assignment, error) {
	if !sc.Role.IsStaff() {
		return nil, mend.NotFound("Pair")
	}
	cond, args := access.Pairs(sc, "p", 4)
	var rows []Assignment
	err := s.stmts.Select(ctx, s.DB, &rows, assignmentSelect+`
		WHERE a.pair_id = $2 AND a.status = 'active' AND a.due_on >= ($1::timestamptz AT TIME ZONE pr.timezone)::date AND `+cond+`
		ORDER BY a.starts_on, a.due_on, a.id LIMIT $3`, append([]any{s.Clock.Time(), pairID, maxCurrent}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("homework: current: %w", err)
	}
	return rows, s.openNotes(ctx, rows)
}

// History returns a page of a pair's finished homework (completed,
// cancelled, or past its due date), latest first.
func (s *Store) History(ctx context.Context, sc mend.Scope, pairID int64, pr paging.Request) (paging.Page[Assignment], error) {
	if !sc.Role.IsStaff() {
		return paging.Page[Assignment]{}, mend.NotFound("Pair")
	}
	cond, args := access.Pairs(sc, "p", 5)
	var rows []Assignment
	err := s.stmts.Select(ctx, s.DB, &rows, assignmentSelect+`
		WHERE a.pair_id = $2 AND (a.status <> 'active' OR a.due_on < ($1::timestamptz AT TIME ZONE pr.timezone)::date) AND `+cond+`
		ORDER BY a.due_on DESC, a.id DESC LIMIT $3 OFFSET $4`, append([]any{s.Clock.Time(), pairID, pr.Limit(), pr.Offset()}, args...)...)
	if err != nil {
		return paging.Page[Assignment]{}, fmt.Errorf("homework: history: %w", err)
	}
	if err := s.openNotes(ctx, rows); err != nil {
		return paging.Page[Assignment]{}, err
	}
	return paging.Of(pr, rows), nil
}

// Summary is what the pairs list shows about a pair's homework.
type Summary struct {
	PairID       int64            `db:"pair_id"`
	CurrentCount int              `db:"current_count"`
	CurrentTitle sql.NullString   `db:"current_title"`
	NextDue      checkin.NullDate `db:"next_due"`
	PlanName     sql.NullString   `db:"plan_name"`
	PlanPosition sql.NullInt64    `db:"plan_position"`
	PlanSteps    sql.NullInt64    `db:"plan_steps"`
}

// Summaries returns, in one query, the homework summary of each given pair
// the caller may see.
func (s *Store) Summaries(ctx context.Context, sc mend.Scope, pairIDs []int64) (map[int64]Summary, error) {
	out := map[int64]Summary{}
	if len(pairIDs) == 0 || !sc.Role.IsStaff() {
		return out, nil
	}
	cond, args := access.Pairs(sc, "p", 3)
	var rows []Summary
	err := s.stmts.Select(ctx, s.DB, &rows, `
		WITH t AS (
			SELECT p.id, ($1::timestamptz AT TIME ZONE pr.timezone)::date AS today
			FROM pairs p JOIN practices pr ON pr.id = p.practice_id
			WHERE p.id = ANY($2) AND `+cond+`
		)
		SELECT t.id AS pair_id,
		       (SELECT count(*) FROM assignments a WHERE a.pair_id = t.id AND a.status = 'active' AND a.due_on >= t.today) AS current_count,
		       cur.title AS current_title, cur.due_on AS next_due,
		       pp.name AS plan_name,
		       (SELECT max(s.position) FROM pair_plan_steps s JOIN assignments a ON a.pair_plan_step_id = s.id
		         WHERE s.pair_plan_id = pp.id) AS plan_position,
		       (SELECT count(*) FROM pair_plan_steps s WHERE s.pair_plan_id = pp.id) AS plan_steps
		FROM t
		LEFT JOIN LATERAL (
			SELECT v.title, a.due_on FROM assignments a JOIN step_versions v ON v.id = a.step_version_id
			WHERE a.pair_id = t.id AND a.status = 'active' AND a.due_on >= t.today AND a.starts_on <= t.today
			ORDER BY a.due_on, a.id LIMIT 1
		) cur ON TRUE
		LEFT JOIN pair_plans pp ON pp.pair_id = t.id AND pp.status = 'active'`,
		append([]any{s.Clock.Time(), pq.Array(pairIDs)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("homework: summaries: %w", err)
	}
	for _, r := range rows {
		out[r.PairID] = r
	}
	return out, nil
}
