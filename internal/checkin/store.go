package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paths"
	"github.com/mend-practice/mend/internal/vault"
)

// Store reads and writes check-ins. Every method takes the caller's Scope,
// and its SQL restricts rows to it:
//
//   - client: their own check-ins, and their pair's check-ins whose
//     visibility is "partner" — never a partner's safety answer;
//   - counselor: every check-in of their own pairs;
//   - admin: every check-in of the practice.
//
// What clients write (answers, reflection, safety note) is stored encrypted
// under the pair's data key (see sealed.go): sealed in the transaction that
// writes the row, opened after reading. SQL never filters or sorts on it.
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Audit      *audit.Log
	Outbox     *mail.Outbox
	BaseURL    string // for the link in safety alert emails
	mend.Clock        // Now: the clock; tests set it (nil: time.Now)

	stmts db.Statements // the hot queries, prepared
}

// NewStore returns the check-in store: v seals and opens what clients
// write, al records staff reads and changes, outbox queues safety alerts
// whose link starts with baseURL.
func NewStore(d *sqlx.DB, v *vault.Vault, al *audit.Log, outbox *mail.Outbox, baseURL string) *Store {
	return &Store{DB: d, Vault: v, Audit: al, Outbox: outbox, BaseURL: strings.TrimRight(baseURL, "/")}
}

// today is the caller's calendar date in their own timezone.
func (s *Store) today(sc mend.Scope) Date { return Today(s.Clock.Time(), sc.Timezone) }

// Checkin is one check-in as its reader may see it. For a partner's
// check-in, the safety fields are always empty and Version is 1: the SQL
// does not select them.
type Checkin struct {
	ID            int64      `db:"id"`
	PairID        int64      `db:"pair_id"`
	AssignmentID  int64      `db:"assignment_id"`
	UserID        int64      `db:"user_id"`
	UserName      string     `db:"user_name"`
	HomeworkTitle string     `db:"homework_title"`
	PeriodStart   Date       `db:"period_start"`
	PeriodEnd     Date       `db:"period_end"`
	Status        Status     `db:"status"`
	Trust         int        `db:"trust_rating"`
	Communication int        `db:"communication_rating"`
	Hope          int        `db:"hope_rating"`
	Answers       Answers    `db:"-"`
	Reflection    string     `db:"-"`
	Visibility    Visibility `db:"visibility"`
	Late          bool       `db:"late"`
	Mine          bool       `db:"mine"`
	SafetyFlag    bool       `db:"safety_flag"`
	SafetyNote    string     `db:"-"`
	// SafetyToldAt is when the counselor was alerted (the author's own
	// check-ins and staff only): the author's pages say when they told
	// their counselor, never what they wrote.
	SafetyToldAt sql.NullTime `db:"safety_told_at"`
	Version      int          `db:"version"`
	CreatedAt    time.Time    `db:"created_at"`
	UpdatedAt    time.Time    `db:"updated_at"`
	ReviewedAt   sql.NullTime `db:"reviewed_at"`
	// Staff only (zero for clients).
	ReviewedBy     sql.NullString `db:"reviewed_by_name"`
	FeedbackCount  int            `db:"feedback_count"`
	Edits          int            `db:"edits"`
	AlertAckedAt   sql.NullTime   `db:"alert_acked_at"`
	History        []Version      `db:"-"`
	EditableReason string         `db:"-"` // why the author can no longer edit it, "" if they can
	sealedText                    // as read; opened into Answers, Reflection and SafetyNote
}

// Period is the check-in's period.
func (c Checkin) Period() Period { return Period{c.PeriodStart, c.PeriodEnd} }

// Shared reports whether the partner may read the check-in.
func (c Checkin) Shared() bool { return c.Visibility == ToPartner }

// Version is an earlier version of an edited check-in (counselor only).
type Version struct {
	ID            int64      `db:"id"`
	CheckinID     int64      `db:"checkin_id"`
	Version       int        `db:"version"`
	Status        Status     `db:"status"`
	Trust         int        `db:"trust_rating"`
	Communication int        `db:"communication_rating"`
	Hope          int        `db:"hope_rating"`
	Answers       Answers    `db:"-"`
	Reflection    string     `db:"-"`
	Visibility    Visibility `db:"visibility"`
	SafetyFlag    bool       `db:"safety_flag"`
	SafetyNote    string     `db:"-"`
	SavedAt       time.Time  `db:"saved_at"`
	ReplacedAt    time.Time  `db:"replaced_at"`
	sealedText
}

// In client queries $1 is the practice and $2 the client. clientVisible() is
// the visibility rule: the client's own check-ins, and check-ins of a pair
// they belong to that their author shared.
func clientVisible() string {
	return `c.practice_id = $1 AND (c.user_id = $2 OR (c.visibility = 'partner'
	AND EXISTS (SELECT 1 FROM pair_members pm WHERE ` + access.Member("pm", "c.pair_id", "$2") + `)))`
}

// clientColumns select a check-in for a client: the safety flag, edit
// count and review time only from their own check-ins, so that nothing about
// a partner's safety answer (not even that an edit added one) leaves the
// database. The safety note is never selected for a client, not even their
// own: once sent it is the counselor's, and a phone left on a table must
// not show it back (the author sees only that and when they told).
const clientColumns = clientColumnsHead + `NULL::bytea AS safety_note` + clientColumnsTail

// ownerColumns are clientColumns with the stored safety note, for Update
// alone: it keeps the note in the history row and never returns it.
const ownerColumns = clientColumnsHead + `c.safety_note` + clientColumnsTail

const clientColumnsHead = `c.id, c.pair_id, c.assignment_id, c.user_id, u.name AS user_name, v.title AS homework_title,
	c.period_start, c.period_end, c.status, c.trust_rating, c.communication_rating, c.hope_rating,
	c.answers, c.reflection, c.visibility, c.late, (c.user_id = $2) AS mine,
	CASE WHEN c.user_id = $2 THEN c.safety_flag ELSE false END AS safety_flag,
	`

const clientColumnsTail = `,
	CASE WHEN c.user_id = $2 THEN (SELECT sa.created_at FROM safety_alerts sa WHERE sa.checkin_id = c.id) END AS safety_told_at,
	CASE WHEN c.user_id = $2 THEN c.version ELSE 1 END AS version,
	c.created_at,
	CASE WHEN c.user_id = $2 THEN c.updated_at ELSE c.created_at END AS updated_at,
	CASE WHEN c.user_id = $2 THEN c.reviewed_at END AS reviewed_at,
	0 AS edits, NULL::timestamptz AS alert_acked_at`

const checkinJoins = `JOIN users u ON u.id = c.user_id
	JOIN assignments a ON a.id = c.assignment_id
	JOIN step_versions v ON v.id = a.step_version_id`

const staffColumns = `c.id, c.pair_id, c.assignment_id, c.user_id, u.name AS user_name, v.title AS homework_title,
	c.period_start, c.period_end, c.status, c.trust_rating, c.communication_rating, c.hope_rating,
	c.answers, c.reflection, c.visibility, c.late, false AS mine, c.safety_flag, c.safety_note,
	(SELECT sa.created_at FROM safety_alerts sa WHERE sa.checkin_id = c.id) AS safety_told_at, c.version,
	c.created_at, c.updated_at, c.reviewed_at,
	(SELECT rb.name FROM users rb WHERE rb.id = c.reviewed_by) AS reviewed_by_name,
	(SELECT count(*) FROM feedback f WHERE f.checkin_id = c.id) AS feedback_count,
	(SELECT count(*) FROM checkin_history h WHERE h.checkin_id = c.id) AS edits,
	(SELECT sa.acknowledged_at FROM safety_alerts sa WHERE sa.checkin_id = c.id) AS alert_acked_at`

// assignment is a homework as the check-in rules need it.
type assignment struct {
	ID          int64         `db:"id"`
	PracticeID  int64         `db:"practice_id"`
	PairID      int64         `db:"pair_id"`
	ForUserID   sql.NullInt64 `db:"for_user_id"`
	StartsOn    Date          `db:"starts_on"`
	DueOn       Date          `db:"due_on"`
	Cadence     Cadence       `db:"cadence"`
	Weekdays    pq.Int64Array `db:"weekdays"`
	Status      string        `db:"status"`
	Title       string        `db:"title"`
	Summary     string        `db:"summary"`
	Questions   Questions     `db:"questions"`
	CounselorID sql.NullInt64 `db:"counselor_id"`
	Reveal      string        `db:"reveal_rule"` // "" unless a reveal exercise
}

func (a assignment) schedule() Schedule {
	return ScheduleOf(a.StartsOn, a.DueOn, a.Cadence, a.Weekdays)
}

const assignmentColumns = `a.id, a.practice_id, a.pair_id, a.for_user_id, a.starts_on, a.due_on, a.cadence,
	a.weekdays, a.status, v.title, v.summary, v.questions, p.counselor_id, v.reveal_rule`

// clientAssignmentFrom is the FROM and WHERE of homework the client may
// check in on ($1 practice, $2 the client, $3 the homework): their pair's,
// for both members or for them alone.
var clientAssignmentFrom = `
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN pair_members m ON ` + access.Member("m", "a.pair_id", "$2") + `
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.id = $3 AND a.practice_id = $1 AND (a.for_user_id IS NULL OR a.for_user_id = $2)`

// assignmentErr is a homework load's error: no row is ENOTFOUND.
func assignmentErr(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return mend.NotFound("Homework")
	}
	if err != nil {
		return fmt.Errorf("checkin: %s: %w", what, err)
	}
	return nil
}

// clientAssignment loads homework the client may check in on.
func (s *Store) clientAssignment(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) (assignment, error) {
	var a assignment
	err := s.stmts.On(s.DB, q).Get(ctx, &a, `SELECT `+assignmentColumns+clientAssignmentFrom, sc.PracticeID, sc.UserID, id)
	return a, assignmentErr(err, "load homework")
}

// staffAssignment loads homework of one of the caller's pairs.
func (s *Store) staffAssignment(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) (assignment, error) {
	var a assignment
	cond, args := access.StaffPairs(sc, "p", 2)
	err := s.stmts.On(s.DB, q).Get(ctx, &a, `
		SELECT `+assignmentColumns+`
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.id = $1 AND `+cond, append([]any{id}, args...)...)
	return a, assignmentErr(err, "load homework")
}

// ForAssignment lists the check-ins on a homework that the caller may read,
// newest period first: for a client their own and those their partner
// shared; for staff all of them.
func (s *Store) ForAssignment(ctx context.Context, sc mend.Scope, assignmentID int64) ([]Checkin, error) {
	var out []Checkin
	var err error
	switch sc.Role {
	case mend.RoleClient:
		if _, err := s.clientAssignment(ctx, s.DB, sc, assignmentID); err != nil {
			return nil, err
		}
		err = s.stmts.Select(ctx, s.DB, &out, `
			SELECT `+clientColumns+` FROM checkins c `+checkinJoins+`
			WHERE c.assignment_id = $3 AND `+clientVisible()+`
			ORDER BY c.period_start DESC, c.id DESC`, sc.PracticeID, sc.UserID, assignmentID)
		if err != nil {
			return nil, fmt.Errorf("checkin: list for homework: %w", err)
		}
		if err := s.openAll(ctx, s.DB, out); err != nil {
			return nil, err
		}
		s.markEditable(sc, out)
	case mend.RoleAdmin, mend.RoleCounselor:
		if _, err := s.staffAssignment(ctx, s.DB, sc, assignmentID); err != nil {
			return nil, err
		}
		if out, err = s.staffRead(ctx, sc, "Homework", `c.assignment_id = $1`,
			`ORDER BY c.period_start DESC, c.id DESC`, assignmentID); err != nil {
			return nil, err
		}
	default:
		return nil, mend.NotFound("Homework")
	}
	return out, s.auditRead(ctx, sc, "assignment", assignmentID, out)
}

// Own returns one of the client's own check-ins, for editing.
func (s *Store) Own(ctx context.Context, sc mend.Scope, id int64) (Checkin, error) {
	if sc.Role != mend.RoleClient {
		return Checkin{}, mend.NotFound("Check-in")
	}
	var c Checkin
	err := s.stmts.Get(ctx, s.DB, &c, `
		SELECT `+clientColumns+` FROM checkins c `+checkinJoins+`
		WHERE c.id = $3 AND c.user_id = $2 AND `+clientVisible(), sc.PracticeID, sc.UserID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkin{}, mend.NotFound("Check-in")
	}
	if err != nil {
		return Checkin{}, fmt.Errorf("checkin: get: %w", err)
	}
	cs := []Checkin{c}
	if err := s.openAll(ctx, s.DB, cs); err != nil {
		return Checkin{}, err
	}
	s.markEditable(sc, cs)
	return cs[0], s.auditRead(ctx, sc, "checkin", id, cs)
}

// markEditable notes, on the caller's own check-ins, whether and why they
// can no longer be changed.
func (s *Store) markEditable(sc mend.Scope, cs []Checkin) {
	today := s.today(sc)
	for i := range cs {
		if cs[i].Mine {
			cs[i].EditableReason = editBlock(cs[i], today)
		}
	}
}

// editBlock says why a check-in can no longer be edited, or "" if it can.
// A client may change a check-in until the counselor has reviewed it or its
// period has ended in the client's timezone. A late check-in was made after
// its period ended; it stays editable for as long as it could have been
// sent (the grace window), so a typo can be fixed the same day.
func editBlock(c Checkin, today Date) string {
	p := c.Period()
	switch {
	case c.ReviewedAt.Valid:
		return "Your counselor has read this check-in, so it can no longer be changed."
	case !c.Late && p.Ended(today):
		return "This check-in's period has ended, so it can no longer be changed."
	case c.Late && today.After(p.LateUntil()):
		return "The time for late check-ins on this period has passed, so it can no longer be changed."
	}
	return ""
}

// auditRead records that the caller read the check-ins of each client whose
// check-ins are in cs (nothing when cs is empty).
func (s *Store) auditRead(ctx context.Context, sc mend.Scope, objType string, objID int64, cs []Checkin) error {
	return s.ReadAgain(ctx, sc, objType, objID, Authors(cs))
}

// Authors returns whose check-ins cs are, in order (repeats included).
func Authors(cs []Checkin) []int64 {
	clients := make([]int64, 0, len(cs))
	for _, c := range cs {
		clients = append(clients, c.UserID)
	}
	return clients
}

// ReadAgain records a read of the check-ins of clients shown again from a
// kept page (the web layer keeps a client's home and homework pages): the
// entry the fresh read wrote (objType "shared" for the home's list,
// "assignment" for a homework page's check-ins), once per showing.
func (s *Store) ReadAgain(ctx context.Context, sc mend.Scope, objType string, objID int64, clients []int64) error {
	return s.Audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "checkin.read", ObjectType: objType, ObjectID: objID}, clients)
}

// Draft is what a new check-in form needs: the homework, the period it is
// for, and whether sending it now makes it late.
type Draft struct {
	AssignmentID int64
	Title        string
	Questions    []string
	Period       Period
	Late         bool
	Cadence      Cadence
	// Existing is the client's check-in for the period if there is one
	// (the page then offers to edit it instead).
	Existing int64
	// Open are the periods the client may still check in for (current and
	// late) and has not, newest first, for a choice on the form.
	Open  []Period
	Today Date
}

// NewDraft prepares a new check-in for period (YYYY-MM-DD, the period's
// first day) or, when period is empty, for the period that most needs one:
// the current one, else the latest late one without a check-in.
func (s *Store) NewDraft(ctx context.Context, sc mend.Scope, assignmentID int64, period string) (Draft, error) {
	if sc.Role != mend.RoleClient {
		return Draft{}, mend.NotFound("Homework")
	}
	a, err := s.clientAssignment(ctx, s.DB, sc, assignmentID)
	if err != nil {
		return Draft{}, err
	}
	if a.Status != "active" {
		return Draft{}, mend.Errorf(mend.ECONFLICT, "This homework is %s, so it no longer takes check-ins.", a.Status)
	}
	if a.Reveal != "" {
		return Draft{}, errRevealExercise
	}
	sch, today := a.schedule(), s.today(sc)
	var open []Period
	if p, ok := sch.PeriodOn(today); ok {
		open = append(open, p)
	}
	open = append(open, sch.LatePeriods(today)...)
	mine, err := s.ownPeriods(ctx, sc, assignmentID, today.AddDays(-40))
	if err != nil {
		return Draft{}, err
	}
	// The periods offered are those without a check-in of the client's:
	// one with a check-in is changed, not checked in on again.
	free := make([]Period, 0, len(open))
	for _, p := range open {
		if mine[p.Start] == 0 {
			free = append(free, p)
		}
	}
	d := Draft{AssignmentID: a.ID, Title: a.Title, Questions: a.Questions, Cadence: a.Cadence, Open: free, Today: today}
	if period != "" {
		p, err := checkPeriod(sch, period, today)
		if err != nil {
			return Draft{}, err
		}
		d.Period = p
	} else {
		if len(open) == 0 {
			if p, ok := sch.Current(today); ok {
				return Draft{}, mend.Errorf(mend.ECONFLICT, "The next check-in for this homework opens on %s.", p.Start.Format("Monday 2 January"))
			}
			return Draft{}, mend.Errorf(mend.ECONFLICT, "This homework has ended and no longer takes check-ins.")
		}
		d.Period = open[0]
		if len(free) > 0 {
			d.Period = free[0]
		}
	}
	d.Late = TimingOf(d.Period, today) == Late
	d.Existing = mine[d.Period.Start]
	return d, nil
}

// errRevealExercise: a reveal exercise (issue 21) is answered on its own
// page, not checked in on.
var errRevealExercise = mend.Errorf(mend.ECONFLICT, "This is a reveal exercise: answer it on its own page, under “Open the exercise”.")

// ownPeriods maps the period starts of the client's own check-ins on a
// homework (since a date) to the check-in ids.
func (s *Store) ownPeriods(ctx context.Context, sc mend.Scope, assignmentID int64, since Date) (map[Date]int64, error) {
	var rows []struct {
		ID    int64 `db:"id"`
		Start Date  `db:"period_start"`
	}
	err := s.stmts.Select(ctx, s.DB, &rows, `
		SELECT c.id, c.period_start FROM checkins c
		WHERE c.practice_id = $1 AND c.user_id = $2 AND c.assignment_id = $3 AND c.period_start >= $4`,
		sc.PracticeID, sc.UserID, assignmentID, since)
	if err != nil {
		return nil, fmt.Errorf("checkin: own periods: %w", err)
	}
	m := make(map[Date]int64, len(rows))
	for _, r := range rows {
		m[r.Start] = r.ID
	}
	return m, nil
}

// checkPeriod checks that period names a period of the schedule that takes
// a check-in today.
func checkPeriod(sch Schedule, period string, today Date) (Period, error) {
	start, err := ParseDate(period)
	var p Period
	ok := false
	if err == nil {
		p, ok = sch.PeriodStarting(start)
	}
	if !ok {
		return Period{}, fieldError("period", "Choose one of this homework's check-in periods.")
	}
	switch TimingOf(p, today) {
	case TooEarly:
		return Period{}, fieldError("period", fmt.Sprintf("This period starts on %s; you can check in from then.", p.Start.Format("Monday 2 January")))
	case TooLate:
		return Period{}, fieldError("period", fmt.Sprintf(
			"Check-ins for this period closed on %s. Late check-ins are possible for %d days after a period ends.",
			p.LateUntil().Format("Monday 2 January"), GraceDays))
	}
	return p, nil
}

func fieldError(field, msg string) error {
	var fe mend.FieldErrors
	fe.Add(field, msg)
	return fe.Err()
}

// Create records the client's check-in on a homework for the period in
// in.Period. A second check-in for the same period is refused with a
// message (ECONFLICT), as are periods that have not started or are past
// the grace window. A safety answer raises an alert in the same
// transaction.
func (s *Store) Create(ctx context.Context, sc mend.Scope, assignmentID int64, in Input) (int64, error) {
	if sc.Role != mend.RoleClient {
		return 0, mend.NotFound("Homework")
	}
	var id int64
	// Retried once on a transient database failure: the client's words
	// survive a PostgreSQL restart under the request.
	err := db.InTxRetry(ctx, s.DB, func(tx *sqlx.Tx) error {
		// The new row's id comes with the homework: the ciphertext is bound
		// to it, so it is needed before the text is sealed. (A refused
		// check-in leaves a gap in the ids, as a rolled-back one does.)
		var row struct {
			assignment
			NewID int64 `db:"new_id"`
		}
		err := s.stmts.On(s.DB, tx).Get(ctx, &row, `SELECT `+assignmentColumns+`,
			nextval(pg_get_serial_sequence('checkins', 'id')) AS new_id`+clientAssignmentFrom, sc.PracticeID, sc.UserID, assignmentID)
		if err := assignmentErr(err, "load homework"); err != nil {
			return err
		}
		a := row.assignment
		if a.Status != "active" {
			return mend.Errorf(mend.ECONFLICT, "This homework is %s, so it no longer takes check-ins.", a.Status)
		}
		if a.Reveal != "" {
			return errRevealExercise
		}
		today := s.today(sc)
		f, verr := in.validate(a.Questions)
		p, perr := checkPeriod(a.schedule(), in.Period, today)
		if err := mergeInvalid(verr, perr); err != nil {
			return err
		}
		late := TimingOf(p, today) == Late
		id = row.NewID
		sl, err := s.sealer(ctx, tx, a.PracticeID, a.PairID)
		if err != nil {
			return err
		}
		sealed, err := seal(sl, checkinText, id, f.Answers, f.Reflection, f.SafetyNote)
		if err != nil {
			return err
		}
		err = s.stmts.On(s.DB, tx).Get(ctx, &id, `
			INSERT INTO checkins (id, practice_id, pair_id, assignment_id, user_id, period_start, period_end,
				status, trust_rating, communication_rating, hope_rating, answers, reflection, visibility,
				late, safety_flag, safety_note)
			VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (assignment_id, user_id, period_start) DO NOTHING
			RETURNING id`,
			a.PracticeID, a.PairID, a.ID, sc.UserID, p.Start, p.End,
			f.Status, f.Trust, f.Communication, f.Hope, sealed.SealedAnswers, sealed.SealedReflection, f.Visibility,
			late, f.Unsafe, sealed.SealedSafetyNote, id)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.Errorf(mend.ECONFLICT, "You have already checked in for %s. You can change that check-in instead of sending a second one.", periodText(p, a.Cadence))
		}
		if err != nil {
			return fmt.Errorf("checkin: create: %w", err)
		}
		// Ids only: what the client wrote never enters the audit log.
		if err := s.auditTx(ctx, tx, sc, audit.Entry{Action: "checkin.create", ObjectType: "checkin", ObjectID: id, ClientID: sc.UserID}); err != nil {
			return err
		}
		if f.Unsafe {
			return s.raiseAlert(ctx, tx, a, id)
		}
		return nil
	})
	return id, err
}

// mergeInvalid joins two validation errors into one, so that the form
// shows every message at once.
func mergeInvalid(errs ...error) error {
	var fe mend.FieldErrors
	for _, err := range errs {
		if err == nil {
			continue
		}
		fields := mend.Fields(err)
		if fields == nil {
			return err
		}
		for k, v := range fields {
			fe.Add(k, v)
		}
	}
	return fe.Err()
}

// periodText names a period in a sentence: "Tuesday 3 March", or "the week
// of 2 March", or "this homework".
func periodText(p Period, c Cadence) string {
	switch c {
	case Daily:
		return p.Start.Format("Monday 2 January")
	case Weekly:
		return "the week of " + p.Start.Format("2 January")
	}
	return "this homework"
}

// Update changes one of the client's own check-ins while it is editable,
// keeping what it said before in the history. Questions keep the wording
// they were first asked with.
//
// It returns the homework's id.
func (s *Store) Update(ctx context.Context, sc mend.Scope, id int64, in Input) (int64, error) {
	if sc.Role != mend.RoleClient {
		return 0, mend.NotFound("Check-in")
	}
	var assignmentID int64
	err := db.InTxRetry(ctx, s.DB, func(tx *sqlx.Tx) error {
		// The id of the history row that will keep what it says now comes
		// with it: its text is sealed again for that row (a ciphertext is
		// bound to its row, so it cannot simply be copied).
		var c struct {
			Checkin
			HistoryID int64 `db:"history_id"`
		}
		err := s.stmts.On(s.DB, tx).Get(ctx, &c, `
			SELECT `+ownerColumns+`, nextval(pg_get_serial_sequence('checkin_history', 'id')) AS history_id
			FROM checkins c `+checkinJoins+`
			WHERE c.id = $3 AND c.user_id = $2 AND c.practice_id = $1
			FOR UPDATE OF c`, sc.PracticeID, sc.UserID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.NotFound("Check-in")
		}
		if err != nil {
			return fmt.Errorf("checkin: load for update: %w", err)
		}
		if err := c.open(ctx, s.Vault, tx, checkinText, c.ID, &c.Answers, &c.Reflection, &c.SafetyNote); err != nil {
			return err
		}
		assignmentID = c.AssignmentID
		if why := editBlock(c.Checkin, s.today(sc)); why != "" {
			return mend.Errorf(mend.ECONFLICT, "%s", why)
		}
		questions := make([]string, len(c.Answers))
		for i, a := range c.Answers {
			questions[i] = a.Question
		}
		f, err := in.validate(questions)
		if err != nil {
			return err
		}
		if c.SafetyFlag {
			// A safety answer, once sent, stays with the counselor as sent:
			// the edit form neither shows nor changes it.
			f.Unsafe, f.SafetyNote = true, c.SafetyNote
		}
		sl, err := s.sealer(ctx, tx, sc.PracticeID, c.PairID)
		if err != nil {
			return err
		}
		old, err := seal(sl, historyText, c.HistoryID, c.Answers, c.Reflection, c.SafetyNote)
		if err != nil {
			return err
		}
		sealed, err := seal(sl, checkinText, id, f.Answers, f.Reflection, f.SafetyNote)
		if err != nil {
			return err
		}
		// One statement keeps the earlier version and writes the new one:
		// the history's SELECT reads the row as it was before the UPDATE
		// (every part of a statement sees the same snapshot).
		if _, err := s.stmts.On(s.DB, tx).Exec(ctx, `
			WITH kept AS (
				INSERT INTO checkin_history (id, practice_id, checkin_id, version, status, trust_rating,
					communication_rating, hope_rating, answers, reflection, visibility, safety_flag, safety_note, saved_at)
				SELECT $11, practice_id, id, version, status, trust_rating, communication_rating, hope_rating,
					$12, $13, visibility, safety_flag, $14, updated_at
				FROM checkins WHERE id = $1)
			UPDATE checkins SET status = $2, trust_rating = $3, communication_rating = $4, hope_rating = $5,
				answers = $6, reflection = $7, visibility = $8, safety_flag = $9, safety_note = $10,
				version = version + 1, updated_at = now()
			WHERE id = $1`,
			id, f.Status, f.Trust, f.Communication, f.Hope, sealed.SealedAnswers, sealed.SealedReflection, f.Visibility,
			f.Unsafe, sealed.SealedSafetyNote, c.HistoryID, old.SealedAnswers, old.SealedReflection, old.SealedSafetyNote); err != nil {
			return fmt.Errorf("checkin: update: %w", err)
		}
		if err := s.auditTx(ctx, tx, sc, audit.Entry{Action: "checkin.edit", ObjectType: "checkin", ObjectID: id, ClientID: sc.UserID}); err != nil {
			return err
		}
		if f.Unsafe && !c.SafetyFlag {
			a, err := s.clientAssignment(ctx, tx, sc, c.AssignmentID)
			if err != nil {
				return err
			}
			return s.raiseAlert(ctx, tx, a, id)
		}
		return nil
	})
	return assignmentID, err
}

// raiseAlert records a safety alert for a check-in and queues the alert
// email to the pair's counselor (or, if the pair has none, to every admin of
// the practice), in the caller's transaction. The email holds a link to the
// check-in and nothing the client wrote. A check-in raises at most one
// alert, however often its flag is edited.
func (s *Store) raiseAlert(ctx context.Context, tx *sqlx.Tx, a assignment, checkinID int64) error {
	var alertID int64
	err := s.stmts.On(s.DB, tx).Get(ctx, &alertID, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (checkin_id) DO NOTHING
		RETURNING id`, a.PracticeID, a.PairID, checkinID, a.CounselorID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkin: safety alert: %w", err)
	}
	// The review page opens on its safety section: the note, the acknowledgement.
	link := paths.Link(s.BaseURL, "review", "checkins", checkinID) + "#safety"
	return QueueSafetyAlert(ctx, s.stmts.On(s.DB, tx), tx, s.Outbox, a.PracticeID, a.CounselorID,
		fmt.Sprintf("safety:%d", checkinID), link, "check-in")
}

// QueueSafetyAlert queues the safety alert email, in the caller's
// transaction, to the pair's counselor (counselorID), or to every admin of
// the practice when the pair has none or the counselor's account is
// disabled: the critical queue, a link, and nothing a client wrote. key is
// the dedupe key of the counselor's email (an admin's gets ":<id>" added).
// A check-in's flag and a measure's critical answer both come here; source
// names which ("check-in" or "questionnaire") in the email.
func QueueSafetyAlert(ctx context.Context, run db.Runner, tx *sqlx.Tx, ob *mail.Outbox, practiceID int64,
	counselorID sql.NullInt64, key, link, source string) error {
	var to []struct {
		ID           int64  `db:"id"`
		Email        string `db:"email"`
		Name         string `db:"name"`
		Role         string `db:"role"`
		PracticeName string `db:"practice_name"`
	}
	err := run.Select(ctx, &to, `
		SELECT u.id, u.email, u.name, u.role, pr.name AS practice_name
		FROM users u JOIN practices pr ON pr.id = u.practice_id
		WHERE u.practice_id = $1 AND u.disabled_at IS NULL
		  AND (u.id = $2 OR ($2::bigint IS NULL AND u.role = 'admin'))
		ORDER BY u.id`, practiceID, counselorID)
	if err != nil {
		return fmt.Errorf("checkin: alert recipients: %w", err)
	}
	if len(to) == 0 { // the counselor's account is disabled: the admins must know
		err = run.Select(ctx, &to, `
			SELECT u.id, u.email, u.name, u.role, pr.name AS practice_name
			FROM users u JOIN practices pr ON pr.id = u.practice_id
			WHERE u.practice_id = $1 AND u.disabled_at IS NULL AND u.role = 'admin'
			ORDER BY u.id`, practiceID)
		if err != nil {
			return fmt.Errorf("checkin: alert recipients: %w", err)
		}
	}
	for _, r := range to {
		k := key
		if !counselorID.Valid || r.ID != counselorID.Int64 {
			k = fmt.Sprintf("%s:%d", key, r.ID)
		}
		if _, err := ob.Queue(ctx, tx, mail.Message{
			PracticeID: practiceID, UserID: r.ID, To: r.Email, ToName: r.Name,
			Kind:      mail.KindSafetyAlert, // sent through the critical queue
			DedupeKey: k, Template: "safety_alert",
			Data: map[string]any{"Name": r.Name, "PracticeName": r.PracticeName, "Link": link, "Source": source},
		}); err != nil {
			return err
		}
	}
	return nil
}

// ClientVisible is the visibility rule for other packages' client queries
// on checkins (alias c; $1 the practice, $2 the client): one rule, written
// once.
func ClientVisible() string { return clientVisible() }

// auditTx records e in tx, through the log's prepared insert when the store
// has a log.
func (s *Store) auditTx(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, e audit.Entry) error {
	if s.Audit == nil {
		return audit.Append(ctx, tx, sc, e)
	}
	return s.Audit.Record(ctx, tx, sc, e)
}
