// Package reveal holds reveal exercises (issue 21): homework for both
// partners on a step marked as a reveal exercise, whose questions each
// partner answers alone, per period of the homework's cadence. Neither
// reads the other's answers until the period is revealed:
//
//   - rule "both": as soon as both have answered;
//   - rule "counselor": when the counselor, having read both, releases them
//     (with an optional note shown with the reveal);
//   - rule "session": never in the app.
//
// Before the reveal an answer is its author's and the staff's only. Every
// query a client can reach selects the partner's row only through
// partnerColumns, which hands out nothing of an unrevealed answer — no
// text, time, length, edit count or row id — and, when the practice allows
// the hint, only that it exists. From the reveal on both answers are fixed.
//
// Answers, the counselor's note and replies are sealed under the pair's
// data key (vault.RevealAnswers, RevealNote, RevealReply).
package reveal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/mend-practice/mend/internal/vault"
)

// Limits on what a client types.
const (
	MaxAnswer = 4000
	MaxReply  = 500
	MaxNote   = 2000
)

// Store reads and writes reveal exercises. Every method takes the caller's
// Scope; its SQL restricts rows through internal/access.
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Audit      *audit.Log
	mend.Clock // Now: the clock; tests set it (nil: time.Now)
}

// NewStore builds a Store.
func NewStore(d *sqlx.DB, v *vault.Vault, a *audit.Log) *Store {
	return &Store{DB: d, Vault: v, Audit: a}
}

// Answer is one question with its answer.
type Answer struct {
	Question string `json:"question"`
	Text     string `json:"answer"`
}

// Side is one partner's part of a period as the reader may see it.
type Side struct {
	UserID int64
	Name   string
	Mine   bool
	// Answered: this partner has answered. For the partner's side before
	// the reveal it is set only when the practice shows the hint.
	Answered bool
	// Answers, times and edits: for the reader's own side, for staff, and
	// for the partner's side only after the reveal.
	Answers    []Answer
	AnsweredAt time.Time
	UpdatedAt  time.Time
	Edits      int // staff only
	// Reply is what this partner replied to the other's answers after the
	// reveal.
	Reply   string
	ReplyAt time.Time
}

// Period is one period of an exercise.
type Period struct {
	checkin.Period
	Revealed   bool
	RevealedAt time.Time
	RevealedBy string // the name of whoever made it happen
	Rule       string // the rule it was revealed under
	Note       string // the counselor's note, shown with the reveal
	RevealID   int64
	Me         Side // the reader's own side (clients)
	Partner    Side // the other partner (clients)
	Sides      []Side
	// For the reader: whether they may answer or change their answer now,
	// and if not, why.
	CanAnswer bool
	Block     string
	// CanRelease: staff may release it (rule counselor, both answered).
	CanRelease bool
}

// Label names the period.
func (p Period) Label() string { return p.Period.Label() }

// Both reports whether both partners have answered (as far as the reader
// may know).
func (p Period) Both() bool { return p.Me.Answered && p.Partner.Answered }

// Exercise is a reveal exercise with the periods that have started.
type Exercise struct {
	AssignmentID int64
	PairID       int64
	PairLabel    string
	Title        string
	Summary      string
	Rule         string
	Cadence      checkin.Cadence
	Status       string
	Questions    []string
	StartsOn     checkin.Date
	DueOn        checkin.Date
	Hint         bool // the practice shows "<partner> has answered"
	Periods      []Period
	Current      *Period // the period the reader answers now (clients)
	Today        checkin.Date
	Names        []string // the members' names, in position order
	partner      string   // the other partner's name (clients)
}

// RuleText says how the exercise is revealed, for the pages.
func (e Exercise) RuleText() string { return RuleText(e.Rule) }

// RuleText describes a reveal rule in a sentence.
func RuleText(rule string) string {
	switch rule {
	case library.RevealCounselor:
		return "Your counselor reads both answers first and then shows them to you both, sometimes with a note."
	case library.RevealSession:
		return "These answers are not shown to your partner in the app. Your counselor brings them to a session."
	}
	return "You both see both answers as soon as both of you have answered."
}

// exerciseRow is the homework as the rules need it.
type exerciseRow struct {
	ID          int64             `db:"id"`
	PracticeID  int64             `db:"practice_id"`
	PairID      int64             `db:"pair_id"`
	PairLabel   string            `db:"pair_label"`
	ForUserID   sql.NullInt64     `db:"for_user_id"`
	StartsOn    checkin.Date      `db:"starts_on"`
	DueOn       checkin.Date      `db:"due_on"`
	Cadence     checkin.Cadence   `db:"cadence"`
	Weekdays    pq.Int64Array     `db:"weekdays"`
	Status      string            `db:"status"`
	Title       string            `db:"title"`
	Summary     string            `db:"summary"`
	Questions   library.Questions `db:"questions"`
	Rule        string            `db:"reveal_rule"`
	Hint        bool              `db:"reveal_hint"`
	CounselorID sql.NullInt64     `db:"counselor_id"`
}

func (a exerciseRow) schedule() checkin.Schedule {
	return checkin.ScheduleOf(a.StartsOn, a.DueOn, a.Cadence, a.Weekdays)
}

const exerciseColumns = `a.id, a.practice_id, a.pair_id, p.label AS pair_label, a.for_user_id, a.starts_on, a.due_on,
	a.cadence, a.weekdays, a.status, v.title, v.summary, v.questions, v.reveal_rule, pr.reveal_hint, p.counselor_id`

// exercise loads a reveal exercise of one of the caller's pairs (for a
// client: their own pair). Homework that is not a reveal exercise, or is
// for one member only, is not found here.
func (s *Store) exercise(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64, lock bool) (exerciseRow, error) {
	var a exerciseRow
	cond, args := access.Pairs(sc, "p", 2)
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE OF a"
	}
	err := sqlx.GetContext(ctx, q, &a, `
		SELECT `+exerciseColumns+`
		FROM assignments a
		JOIN pairs p ON p.id = a.pair_id
		JOIN practices pr ON pr.id = p.practice_id
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.id = $1 AND v.reveal_rule <> '' AND a.for_user_id IS NULL AND `+cond+forUpdate,
		append([]any{id}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return a, mend.NotFound("Exercise")
	}
	if err != nil {
		return a, fmt.Errorf("reveal: load exercise: %w", err)
	}
	return a, nil
}

// IsExercise reports whether homework id (of the caller's pairs) is a
// reveal exercise.
func (s *Store) IsExercise(ctx context.Context, sc mend.Scope, id int64) (bool, error) {
	_, err := s.exercise(ctx, s.DB, sc, id, false)
	if mend.ErrorCode(err) == mend.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

// answerRow is a reveal_answers row as read for the caller. For the
// partner's unrevealed answer every column but user_id, period_start and
// answered is NULL (see partnerColumns).
type answerRow struct {
	ID          sql.NullInt64 `db:"id"`
	UserID      int64         `db:"user_id"`
	PeriodStart checkin.Date  `db:"period_start"`
	Answered    bool          `db:"answered"`
	Answers     []byte        `db:"answers"`
	CreatedAt   sql.NullTime  `db:"created_at"`
	UpdatedAt   sql.NullTime  `db:"updated_at"`
	Edits       int           `db:"edits"`
}

// visible is the condition under which a client reads a row's contents:
// their own row, or a period that has been revealed. $2 is the client.
const visible = `(ra.user_id = $2 OR r.id IS NOT NULL)`

// clientAnswerColumns select answers for a client ($2): their own in full,
// the partner's in full only after the reveal; before it, nothing but
// that it exists — and that only when the practice shows the hint (rows
// are filtered by clientAnswerWhere).
const clientAnswerColumns = `
	ra.user_id, ra.period_start, true AS answered,
	CASE WHEN ` + visible + ` THEN ra.id END AS id,
	CASE WHEN ` + visible + ` THEN ra.answers END AS answers,
	CASE WHEN ` + visible + ` THEN ra.created_at END AS created_at,
	CASE WHEN ` + visible + ` THEN ra.updated_at END AS updated_at,
	0 AS edits`

const clientAnswerWhere = `(` + visible + ` OR pr.reveal_hint)`

// clientAnswers reads the answers of an exercise a client may know of.
func (s *Store) clientAnswers(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) ([]answerRow, error) {
	var rows []answerRow
	cond, args := access.Pairs(sc, "p", 1)
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT `+clientAnswerColumns+`
		FROM reveal_answers ra
		JOIN pairs p ON p.id = ra.pair_id
		JOIN practices pr ON pr.id = p.practice_id
		LEFT JOIN reveals r ON r.assignment_id = ra.assignment_id AND r.period_start = ra.period_start
		WHERE `+cond+` AND ra.assignment_id = $3 AND `+clientAnswerWhere+`
		ORDER BY ra.period_start, ra.user_id`, append(args, id)...)
	if err != nil {
		return nil, fmt.Errorf("reveal: answers: %w", err)
	}
	return rows, nil
}

// staffAnswers reads every answer of an exercise (staff only).
func (s *Store) staffAnswers(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) ([]answerRow, error) {
	var rows []answerRow
	cond, args := access.StaffPairs(sc, "p", 2)
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT ra.id, ra.user_id, ra.period_start, true AS answered, ra.answers, ra.created_at, ra.updated_at, ra.edits
		FROM reveal_answers ra
		JOIN pairs p ON p.id = ra.pair_id
		WHERE ra.assignment_id = $1 AND `+cond+`
		ORDER BY ra.period_start, ra.user_id`, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reveal: answers: %w", err)
	}
	return rows, nil
}

// revealRow is a period's reveal.
type revealRow struct {
	ID          int64          `db:"id"`
	PeriodStart checkin.Date   `db:"period_start"`
	Rule        string         `db:"rule"`
	RevealedBy  sql.NullString `db:"revealed_by_name"`
	RevealedAt  time.Time      `db:"revealed_at"`
	Note        []byte         `db:"note"`
}

func (s *Store) reveals(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) ([]revealRow, error) {
	var rows []revealRow
	cond, args := access.Pairs(sc, "p", 2)
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT r.id, r.period_start, r.rule, u.name AS revealed_by_name, r.revealed_at, r.note
		FROM reveals r
		JOIN pairs p ON p.id = r.pair_id
		LEFT JOIN users u ON u.id = r.revealed_by
		WHERE r.assignment_id = $1 AND `+cond+`
		ORDER BY r.period_start`, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reveal: reveals: %w", err)
	}
	return rows, nil
}

// replyRow is a reply as read: only replies of revealed periods exist.
type replyRow struct {
	ID        int64     `db:"id"`
	RevealID  int64     `db:"reveal_id"`
	UserID    int64     `db:"user_id"`
	Body      []byte    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

func (s *Store) replies(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64) ([]replyRow, error) {
	var rows []replyRow
	cond, args := access.Pairs(sc, "p", 2)
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT rr.id, rr.reveal_id, rr.user_id, rr.body, rr.created_at
		FROM reveal_replies rr
		JOIN reveals r ON r.id = rr.reveal_id
		JOIN pairs p ON p.id = rr.pair_id
		WHERE r.assignment_id = $1 AND `+cond+`
		ORDER BY rr.id`, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reveal: replies: %w", err)
	}
	return rows, nil
}

// member is a pair member's id and name.
type member struct {
	UserID   int64  `db:"user_id"`
	Name     string `db:"name"`
	Position int    `db:"position"`
}

func (s *Store) members(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, pairID int64) ([]member, error) {
	var ms []member
	cond, args := access.Pairs(sc, "p", 2)
	err := sqlx.SelectContext(ctx, q, &ms, `
		SELECT m.user_id, u.name, m.position FROM pairs p
		JOIN pair_members m ON m.pair_id = p.id
		JOIN users u ON u.id = m.user_id
		WHERE p.id = $1 AND `+cond+` ORDER BY m.position`, append([]any{pairID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reveal: members: %w", err)
	}
	return ms, nil
}

// Exercise returns a reveal exercise as the caller may see it: for a
// client, their own answers, the partner's only for revealed periods (and,
// when the practice shows the hint, that the partner has answered); for
// staff, everything. Reading it is audited.
func (s *Store) Exercise(ctx context.Context, sc mend.Scope, id int64) (Exercise, error) {
	if sc.Role != mend.RoleClient && !sc.Role.IsStaff() {
		return Exercise{}, mend.NotFound("Exercise")
	}
	a, err := s.exercise(ctx, s.DB, sc, id, false)
	if err != nil {
		return Exercise{}, err
	}
	e, err := s.build(ctx, s.DB, sc, a)
	if err != nil {
		return Exercise{}, err
	}
	var clients []int64
	for _, p := range e.Periods {
		for _, sd := range p.Sides {
			if len(sd.Answers) > 0 {
				clients = append(clients, sd.UserID)
			}
		}
	}
	return e, s.Audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "reveal.read", ObjectType: "assignment", ObjectID: id}, clients)
}

func (s *Store) build(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, a exerciseRow) (Exercise, error) {
	client := sc.Role == mend.RoleClient
	today := checkin.Today(s.Clock.Time(), sc.Timezone)
	e := Exercise{
		AssignmentID: a.ID, PairID: a.PairID, PairLabel: a.PairLabel, Title: a.Title, Summary: a.Summary,
		Rule: a.Rule, Cadence: a.Cadence, Status: a.Status, Questions: a.Questions, StartsOn: a.StartsOn,
		DueOn: a.DueOn, Hint: a.Hint, Today: today,
	}
	ms, err := s.members(ctx, q, sc, a.PairID)
	if err != nil {
		return e, err
	}
	for _, m := range ms {
		e.Names = append(e.Names, m.Name)
		if client && m.UserID != sc.UserID {
			e.partner = m.Name
		}
	}
	var answers []answerRow
	if client {
		answers, err = s.clientAnswers(ctx, q, sc, a.ID)
	} else {
		answers, err = s.staffAnswers(ctx, q, sc, a.ID)
	}
	if err != nil {
		return e, err
	}
	revs, err := s.reveals(ctx, q, sc, a.ID)
	if err != nil {
		return e, err
	}
	reps, err := s.replies(ctx, q, sc, a.ID)
	if err != nil {
		return e, err
	}
	byStart := map[checkin.Date]*revealRow{}
	for i := range revs {
		byStart[revs[i].PeriodStart] = &revs[i]
	}
	type key struct {
		start checkin.Date
		user  int64
	}
	ans := map[key]answerRow{}
	for _, r := range answers {
		ans[key{r.PeriodStart, r.UserID}] = r
	}
	sch := a.schedule()
	var periods []checkin.Period
	for _, p := range sch.Periods() {
		_, hasAnswer := byStart[p.Start]
		for _, m := range ms {
			if _, ok := ans[key{p.Start, m.UserID}]; ok {
				hasAnswer = true
			}
		}
		if p.Started(today) || hasAnswer {
			periods = append(periods, p)
		}
	}
	for i := len(periods) - 1; i >= 0; i-- { // newest first
		p := periods[i]
		per := Period{Period: p}
		rv := byStart[p.Start]
		if rv != nil {
			per.Revealed, per.RevealedAt, per.Rule, per.RevealID = true, rv.RevealedAt, rv.Rule, rv.ID
			per.RevealedBy = rv.RevealedBy.String
			if per.Note, err = s.Vault.OpenText(ctx, q, vault.RevealNote, rv.ID, rv.Note); err != nil {
				return e, fmt.Errorf("reveal: open note %d: %w", rv.ID, err)
			}
		}
		for _, m := range ms {
			sd := Side{UserID: m.UserID, Name: m.Name, Mine: client && m.UserID == sc.UserID}
			if r, ok := ans[key{p.Start, m.UserID}]; ok {
				sd.Answered = r.Answered
				sd.Edits = r.Edits
				if r.ID.Valid {
					if sd.Answers, err = s.openAnswers(ctx, q, r.ID.Int64, r.Answers); err != nil {
						return e, err
					}
					sd.AnsweredAt, sd.UpdatedAt = r.CreatedAt.Time, r.UpdatedAt.Time
				}
			}
			if rv != nil {
				for _, rp := range reps {
					if rp.RevealID == rv.ID && rp.UserID == m.UserID {
						if sd.Reply, err = s.Vault.OpenText(ctx, q, vault.RevealReply, rp.ID, rp.Body); err != nil {
							return e, fmt.Errorf("reveal: open reply %d: %w", rp.ID, err)
						}
						sd.ReplyAt = rp.CreatedAt
					}
				}
			}
			per.Sides = append(per.Sides, sd)
			if client {
				if sd.Mine {
					per.Me = sd
				} else {
					per.Partner = sd
				}
			}
		}
		if client {
			per.Block = answerBlock(a, per, today)
			per.CanAnswer = per.Block == ""
		} else {
			both := len(per.Sides) == 2 && per.Sides[0].Answered && per.Sides[1].Answered
			per.CanRelease = a.Rule == library.RevealCounselor && both && !per.Revealed && sc.Role == mend.RoleCounselor
		}
		e.Periods = append(e.Periods, per)
	}
	if client {
		// The period to answer now: the current one, else the latest
		// whose late window is open and that still takes an answer.
		for i := range e.Periods {
			p := &e.Periods[i]
			if p.CanAnswer && (p.Contains(today) || e.Current == nil) {
				e.Current = p
				if p.Contains(today) {
					break
				}
			}
		}
	}
	return e, nil
}

// answerBlock says why the client cannot answer (or change their answer
// to) a period now, or "" if they can.
func answerBlock(a exerciseRow, p Period, today checkin.Date) string {
	switch {
	case p.Revealed:
		return "Both answers were shown on " + p.RevealedAt.Format("2 January") + ", so they can no longer be changed."
	case a.Status != "active":
		return "This exercise is " + a.Status + ", so it no longer takes answers."
	}
	switch checkin.TimingOf(p.Period, today) {
	case checkin.TooEarly:
		return "This period starts on " + p.Start.Format("Monday 2 January") + "."
	case checkin.TooLate:
		return "Answers for this period closed on " + p.LateUntil().Format("Monday 2 January") + "."
	}
	return ""
}

func (s *Store) openAnswers(ctx context.Context, q sqlx.QueryerContext, id int64, sealed []byte) ([]Answer, error) {
	raw, err := s.Vault.OpenText(ctx, q, vault.RevealAnswers, id, sealed)
	if err != nil {
		return nil, fmt.Errorf("reveal: open answers %d: %w", id, err)
	}
	var out []Answer
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			return nil, fmt.Errorf("reveal: answers %d: %w", id, err)
		}
	}
	return out, nil
}

// cleanText trims text and checks it: valid UTF-8 without NUL, at most max
// characters.
func cleanText(s string, max int) (string, string) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return s, "This text contains characters Mend cannot store. Please retype it."
	case utf8.RuneCountInString(s) > max:
		return s, fmt.Sprintf("Keep this to %d characters or fewer (it has %d).", max, utf8.RuneCountInString(s))
	}
	return s, ""
}

// Save records the client's answers to the exercise for period (its
// first day, YYYY-MM-DD): a first answer, or a change to theirs while the
// period has not been revealed. texts are the answers in question order.
// When the partner has answered too, the period is revealed (rule both)
// or the counselor is told it is ready (rule counselor). It returns
// whether the save revealed the period.
func (s *Store) Save(ctx context.Context, sc mend.Scope, id int64, period string, texts []string) (bool, error) {
	if sc.Role != mend.RoleClient {
		return false, mend.NotFound("Exercise")
	}
	revealed := false
	err := db.InTxRetry(ctx, s.DB, func(tx *sqlx.Tx) error {
		revealed = false
		// The homework row is locked: the partner's save of the same
		// period waits, so the second of two saves sees the first and
		// the reveal happens exactly once.
		a, err := s.exercise(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		today := checkin.Today(s.Clock.Time(), sc.Timezone)
		start, perr := checkin.ParseDate(period)
		p, ok := a.schedule().PeriodStarting(start)
		if perr != nil || !ok {
			return fieldError("period", "Choose one of this exercise's periods.")
		}
		var fe mend.FieldErrors
		answers := make([]Answer, len(a.Questions))
		filled := 0
		for i, q := range a.Questions {
			t := ""
			if i < len(texts) {
				t = texts[i]
			}
			t, msg := cleanText(t, MaxAnswer)
			if msg != "" {
				fe.Add(fmt.Sprintf("answer_%d", i), msg)
			}
			if t != "" {
				filled++
			}
			answers[i] = Answer{Question: q, Text: t}
		}
		if filled == 0 && len(a.Questions) > 0 {
			fe.Add("answer_0", "Write an answer to at least one question.")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		var rv sql.NullInt64
		if err := tx.GetContext(ctx, &rv, `SELECT max(id) FROM reveals WHERE assignment_id = $1 AND period_start = $2`, a.ID, p.Start); err != nil {
			return fmt.Errorf("reveal: reveal state: %w", err)
		}
		per := Period{Period: p, Revealed: rv.Valid}
		if rv.Valid {
			if err := tx.GetContext(ctx, &per.RevealedAt, `SELECT revealed_at FROM reveals WHERE id = $1`, rv.Int64); err != nil {
				return err
			}
		}
		if why := answerBlock(a, per, today); why != "" {
			return mend.Errorf(mend.ECONFLICT, "%s", why)
		}
		plain, err := json.Marshal(answers)
		if err != nil {
			return err
		}
		var rowID int64
		err = tx.GetContext(ctx, &rowID, `SELECT id FROM reveal_answers WHERE assignment_id = $1 AND user_id = $2 AND period_start = $3`, a.ID, sc.UserID, p.Start)
		isNew := errors.Is(err, sql.ErrNoRows)
		if err != nil && !isNew {
			return fmt.Errorf("reveal: own answer: %w", err)
		}
		if isNew {
			if err := tx.GetContext(ctx, &rowID, `SELECT nextval(pg_get_serial_sequence('reveal_answers', 'id'))`); err != nil {
				return err
			}
		}
		sealed, err := s.Vault.SealText(ctx, tx, vault.PairScope(a.PracticeID, a.PairID), vault.RevealAnswers, rowID, string(plain))
		if err != nil {
			return err
		}
		action := "reveal.answer"
		if isNew {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO reveal_answers (id, practice_id, pair_id, assignment_id, user_id, period_start, period_end, answers)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, rowID, a.PracticeID, a.PairID, a.ID, sc.UserID, p.Start, p.End, sealed); err != nil {
				return fmt.Errorf("reveal: save answer: %w", err)
			}
		} else {
			action = "reveal.edit"
			if _, err := tx.ExecContext(ctx, `
				UPDATE reveal_answers SET answers = $2, edits = edits + 1, updated_at = now() WHERE id = $1`, rowID, sealed); err != nil {
				return fmt.Errorf("reveal: change answer: %w", err)
			}
		}
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: action, ObjectType: "reveal_answer", ObjectID: rowID, ClientID: sc.UserID}); err != nil {
			return err
		}
		// Has the partner answered this period?
		var partner struct {
			UserID   int64 `db:"user_id"`
			Answered bool  `db:"answered"`
		}
		if err := tx.GetContext(ctx, &partner, `
			SELECT m.user_id, EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = $2
			         AND ra.period_start = $3 AND ra.user_id = m.user_id) AS answered
			FROM pair_members m WHERE m.pair_id = $1 AND m.user_id <> $4
			ORDER BY m.position LIMIT 1`, a.PairID, a.ID, p.Start, sc.UserID); err != nil {
			return fmt.Errorf("reveal: partner: %w", err)
		}
		if !partner.Answered {
			if isNew && a.Hint && a.Rule != library.RevealSession {
				return notice(ctx, tx, a, p.Start, partner.UserID, "answered", s.Clock.Time())
			}
			return nil
		}
		if !isNew {
			return nil // both had answered already: the reveal (or the notice) came with the second answer
		}
		switch a.Rule {
		case library.RevealBoth:
			revealed = true
			return s.reveal(ctx, tx, sc, a, p.Start, library.RevealBoth, "", []int64{sc.UserID, partner.UserID})
		case library.RevealCounselor:
			if a.CounselorID.Valid {
				return notice(ctx, tx, a, p.Start, a.CounselorID.Int64, "ready", s.Clock.Time())
			}
		}
		return nil
	})
	return revealed, err
}

// reveal records the reveal of one period and queues the emails to both
// partners, in tx.
func (s *Store) reveal(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, a exerciseRow, start checkin.Date, rule, note string, partners []int64) error {
	var id int64
	if err := tx.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('reveals', 'id'))`); err != nil {
		return err
	}
	sealed, err := s.Vault.SealText(ctx, tx, vault.PairScope(a.PracticeID, a.PairID), vault.RevealNote, id, note)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO reveals (id, practice_id, pair_id, assignment_id, period_start, rule, revealed_by, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (assignment_id, period_start) DO NOTHING`,
		id, a.PracticeID, a.PairID, a.ID, start, rule, sc.UserID, sealed)
	if err != nil {
		return fmt.Errorf("reveal: record reveal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mend.Errorf(mend.ECONFLICT, "These answers have already been shown.")
	}
	for _, u := range partners {
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "reveal." + rule, ObjectType: "reveal", ObjectID: id, ClientID: u}); err != nil {
			return err
		}
		if err := notice(ctx, tx, a, start, u, "revealed", s.Clock.Time()); err != nil {
			return err
		}
	}
	return nil
}

// notice records an email to send to user about a period (kind answered,
// revealed or ready); the reminder pass sends it outside their quiet hours.
func notice(ctx context.Context, tx *sqlx.Tx, a exerciseRow, start checkin.Date, user int64, kind string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO reveal_notices (practice_id, pair_id, assignment_id, period_start, user_id, kind, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		a.PracticeID, a.PairID, a.ID, start, user, kind, now); err != nil {
		return fmt.Errorf("reveal: notice: %w", err)
	}
	return nil
}

// Release shows both answers of a counselor-releases period to the
// partners, with the counselor's optional note. Only the pair's counselor
// releases.
func (s *Store) Release(ctx context.Context, sc mend.Scope, id int64, period, note string) error {
	if sc.Role != mend.RoleCounselor {
		return mend.NotFound("Exercise")
	}
	note, msg := cleanText(note, MaxNote)
	if msg != "" {
		return fieldError("note", msg)
	}
	return db.InTxRetry(ctx, s.DB, func(tx *sqlx.Tx) error {
		a, err := s.exercise(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if a.Rule != library.RevealCounselor {
			return mend.Errorf(mend.ECONFLICT, "This exercise is not released by the counselor.")
		}
		start, err := checkin.ParseDate(period)
		if err != nil {
			return fieldError("period", "Choose one of this exercise's periods.")
		}
		p, ok := a.schedule().PeriodStarting(start)
		if !ok {
			return fieldError("period", "Choose one of this exercise's periods.")
		}
		var who []int64
		if err := tx.SelectContext(ctx, &who, `
			SELECT ra.user_id FROM reveal_answers ra JOIN pair_members m ON m.pair_id = ra.pair_id AND m.user_id = ra.user_id
			WHERE ra.assignment_id = $1 AND ra.period_start = $2 ORDER BY m.position`, a.ID, p.Start); err != nil {
			return fmt.Errorf("reveal: answers to release: %w", err)
		}
		if len(who) < 2 {
			return mend.Errorf(mend.ECONFLICT, "Both partners need to answer before their answers can be shown.")
		}
		return s.reveal(ctx, tx, sc, a, p.Start, library.RevealCounselor, note, who)
	})
}

// Reply stores the client's short reply to the partner's answers of a
// revealed period (one reply each; a second replaces nothing and is
// refused).
func (s *Store) Reply(ctx context.Context, sc mend.Scope, id int64, period, body string) error {
	if sc.Role != mend.RoleClient {
		return mend.NotFound("Exercise")
	}
	body, msg := cleanText(body, MaxReply)
	if msg == "" && body == "" {
		msg = "Write a reply first."
	}
	if msg != "" {
		return fieldError("reply", msg)
	}
	return db.InTxRetry(ctx, s.DB, func(tx *sqlx.Tx) error {
		a, err := s.exercise(ctx, tx, sc, id, false)
		if err != nil {
			return err
		}
		start, err := checkin.ParseDate(period)
		if err != nil {
			return mend.NotFound("Reveal")
		}
		var rv int64
		err = tx.GetContext(ctx, &rv, `SELECT id FROM reveals WHERE assignment_id = $1 AND period_start = $2`, a.ID, start)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.Errorf(mend.ECONFLICT, "You can reply once both answers have been shown.")
		}
		if err != nil {
			return err
		}
		var rid int64
		if err := tx.GetContext(ctx, &rid, `SELECT nextval(pg_get_serial_sequence('reveal_replies', 'id'))`); err != nil {
			return err
		}
		sealed, err := s.Vault.SealText(ctx, tx, vault.PairScope(a.PracticeID, a.PairID), vault.RevealReply, rid, body)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO reveal_replies (id, practice_id, pair_id, reveal_id, user_id, body)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (reveal_id, user_id) DO NOTHING`,
			rid, a.PracticeID, a.PairID, rv, sc.UserID, sealed)
		if err != nil {
			return fmt.Errorf("reveal: reply: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mend.Errorf(mend.ECONFLICT, "You have already replied to these answers.")
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "reveal.reply", ObjectType: "reveal_reply", ObjectID: rid, ClientID: sc.UserID})
	})
}

func fieldError(field, msg string) error {
	var fe mend.FieldErrors
	fe.Add(field, msg)
	return fe.Err()
}

// SetHint turns the practice's "<partner> has answered" hint on or off
// (admin only).
func (s *Store) SetHint(ctx context.Context, sc mend.Scope, on bool) error {
	if sc.Role != mend.RoleAdmin {
		return mend.NotFound("Practice")
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE practices SET reveal_hint = $2 WHERE id = $1`, sc.PracticeID, on); err != nil {
			return fmt.Errorf("reveal: hint: %w", err)
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "practice.reveal_hint", ObjectType: "practice", ObjectID: sc.PracticeID})
	})
}

// Hint reports whether the practice shows the hint (staff).
func (s *Store) Hint(ctx context.Context, sc mend.Scope) (bool, error) {
	var on bool
	err := s.DB.GetContext(ctx, &on, `SELECT reveal_hint FROM practices WHERE id = $1`, sc.PracticeID)
	return on, err
}

// Row is one question with both partners' answers, for the side-by-side
// view: Left is the reader's (for staff: the first member's), Right the
// other's.
type Row struct {
	Question    string
	Left, Right string
}

// Rows pairs the two sides' answers question by question: the reader's and
// the partner's for a client, the first and second member's for staff.
func (p Period) Rows() []Row {
	left, right := p.Me, p.Partner
	if left.UserID == 0 && len(p.Sides) == 2 {
		left, right = p.Sides[0], p.Sides[1]
	}
	n := max(len(left.Answers), len(right.Answers))
	out := make([]Row, n)
	for i := range n {
		if i < len(left.Answers) {
			out[i].Question, out[i].Left = left.Answers[i].Question, left.Answers[i].Text
		}
		if i < len(right.Answers) {
			out[i].Question, out[i].Right = right.Answers[i].Question, right.Answers[i].Text
		}
	}
	return out
}

// Left and Right are the sides Rows puts left and right.
func (p Period) Left() Side {
	if p.Me.UserID == 0 && len(p.Sides) == 2 {
		return p.Sides[0]
	}
	return p.Me
}

// Right is the side Rows puts on the right.
func (p Period) Right() Side {
	if p.Me.UserID == 0 && len(p.Sides) == 2 {
		return p.Sides[1]
	}
	return p.Partner
}

// PartnerName is the other partner's name (clients), for the pages.
func (e Exercise) PartnerName() string {
	if e.partner != "" {
		return e.partner
	}
	return "your partner"
}
