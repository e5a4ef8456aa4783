package retention

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// ArchiveFormat names the archive's layout; it changes when fields are
// removed or change meaning (added fields keep it).
const ArchiveFormat = "mend.pair-archive.v1"

// Archive is everything Mend holds about a closed pair, decrypted: what a
// practice hands over or keeps outside Mend before the pair is purged.
type Archive struct {
	Format       string          `json:"format"`
	ExportedAt   time.Time       `json:"exported_at"`
	ExportedBy   Person          `json:"exported_by"`
	Practice     string          `json:"practice"`
	Pair         ArchivePair     `json:"pair"`
	Members      []ArchiveMember `json:"members"`
	Events       []ArchiveEvent  `json:"events"`
	Plans        []ArchivePlan   `json:"plans"`
	Homework     []ArchiveWork   `json:"homework"`
	Checkins     []ArchiveCheck  `json:"checkins"`
	SafetyAlerts []ArchiveAlert  `json:"safety_alerts"`
	Feedback     []ArchiveNote   `json:"feedback"`
	// Reveal exercises (issue 21): every answer, reveal and reply.
	RevealAnswers []ArchiveRevealAnswer `json:"reveal_answers"`
	Reveals       []ArchiveReveal       `json:"reveals"`
	RevealReplies []ArchiveRevealReply  `json:"reveal_replies"`
}

// ArchiveRevealAnswer is one partner's answers to one period of a reveal
// exercise (the answers as JSON: question and answer).
type ArchiveRevealAnswer struct {
	ID            int64     `json:"id" db:"id"`
	HomeworkID    int64     `json:"homework_id" db:"assignment_id"`
	UserID        int64     `json:"user_id" db:"user_id"`
	PeriodStart   string    `json:"period_start" db:"period_start"`
	Edits         int       `json:"edits" db:"edits"`
	CreatedAt     time.Time `json:"created_at" db:"created_at"`
	UpdatedAt     time.Time `json:"updated_at" db:"updated_at"`
	Answers       string    `json:"answers" db:"-"`
	SealedAnswers []byte    `json:"-" db:"answers"`
}

// ArchiveReveal is the reveal of one period: who, when, which rule, the
// counselor's note.
type ArchiveReveal struct {
	ID          int64     `json:"id" db:"id"`
	HomeworkID  int64     `json:"homework_id" db:"assignment_id"`
	PeriodStart string    `json:"period_start" db:"period_start"`
	Rule        string    `json:"rule" db:"rule"`
	RevealedBy  *int64    `json:"revealed_by" db:"revealed_by"`
	RevealedAt  time.Time `json:"revealed_at" db:"revealed_at"`
	Note        string    `json:"note" db:"-"`
	SealedNote  []byte    `json:"-" db:"note"`
}

// ArchiveRevealReply is a partner's reply after a reveal.
type ArchiveRevealReply struct {
	ID         int64     `json:"id" db:"id"`
	RevealID   int64     `json:"reveal_id" db:"reveal_id"`
	UserID     int64     `json:"user_id" db:"user_id"`
	CreatedAt  time.Time `json:"created_at" db:"created_at"`
	Body       string    `json:"body" db:"-"`
	SealedBody []byte    `json:"-" db:"body"`
}

// Person names someone in the archive.
type Person struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ArchivePair is the pair itself.
type ArchivePair struct {
	ID        int64     `json:"id"`
	Label     string    `json:"label"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Counselor *Person   `json:"counselor"`
	CreatedAt time.Time `json:"created_at"`
	ClosedAt  time.Time `json:"closed_at"`
}

// ArchiveMember is one client of the pair.
type ArchiveMember struct {
	UserID   int64  `json:"user_id" db:"user_id"`
	Name     string `json:"name" db:"name"`
	Email    string `json:"email" db:"email"`
	Position int    `json:"position" db:"position"`
	Side     string `json:"side" db:"side"`
}

// ArchiveEvent is one entry of the pair's history.
type ArchiveEvent struct {
	Kind          string         `json:"kind" db:"kind"`
	At            time.Time      `json:"at" db:"at"`
	Actor         sql.NullString `json:"-" db:"actor_name"`
	ActorName     string         `json:"actor,omitempty" db:"-"`
	FromCounselor sql.NullString `json:"-" db:"from_name"`
	ToCounselor   sql.NullString `json:"-" db:"to_name"`
	From          string         `json:"from_counselor,omitempty" db:"-"`
	To            string         `json:"to_counselor,omitempty" db:"-"`
	Detail        string         `json:"detail,omitempty" db:"detail"`
}

// ArchivePlan is a repair plan applied to the pair, with its steps.
type ArchivePlan struct {
	ID       int64         `json:"id" db:"id"`
	Name     string        `json:"name" db:"name"`
	Status   string        `json:"status" db:"status"`
	StartsOn string        `json:"starts_on" db:"starts_on"`
	Cadence  string        `json:"cadence" db:"cadence"`
	EndedAt  *time.Time    `json:"ended_at,omitempty" db:"ended_at"`
	Steps    []ArchiveStep `json:"steps" db:"-"`
}

// ArchiveStep is one step of an applied plan.
type ArchiveStep struct {
	PlanID   int64  `json:"-" db:"pair_plan_id"`
	Position int    `json:"position" db:"position"`
	Title    string `json:"title" db:"title"`
	Days     int    `json:"days" db:"days"`
}

// ArchiveWork is one piece of homework with the counselor's note.
type ArchiveWork struct {
	ID          int64         `json:"id" db:"id"`
	Title       string        `json:"title" db:"title"`
	StepVersion int           `json:"step_version" db:"step_version"`
	ForUserID   *int64        `json:"for_user_id" db:"for_user_id"`
	StartsOn    string        `json:"starts_on" db:"starts_on"`
	DueOn       string        `json:"due_on" db:"due_on"`
	Cadence     string        `json:"cadence" db:"cadence"`
	Weekdays    pq.Int64Array `json:"weekdays" db:"weekdays"`
	Status      string        `json:"status" db:"status"`
	CreatedAt   time.Time     `json:"created_at" db:"created_at"`
	Note        string        `json:"note" db:"-"`
	SealedNote  []byte        `json:"-" db:"note"`
}

// ArchiveCheck is one check-in with its earlier versions.
type ArchiveCheck struct {
	ID            int64           `json:"id" db:"id"`
	AssignmentID  int64           `json:"homework_id" db:"assignment_id"`
	UserID        int64           `json:"user_id" db:"user_id"`
	PeriodStart   string          `json:"period_start" db:"period_start"`
	PeriodEnd     string          `json:"period_end" db:"period_end"`
	Status        string          `json:"status" db:"status"`
	Trust         int             `json:"trust" db:"trust_rating"`
	Communication int             `json:"communication" db:"communication_rating"`
	Hope          int             `json:"hope" db:"hope_rating"`
	Visibility    string          `json:"visibility" db:"visibility"`
	Late          bool            `json:"late" db:"late"`
	SafetyFlag    bool            `json:"safety_flag" db:"safety_flag"`
	Version       int             `json:"version" db:"version"`
	CreatedAt     time.Time       `json:"created_at" db:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at" db:"updated_at"`
	ReviewedAt    *time.Time      `json:"reviewed_at" db:"reviewed_at"`
	Answers       checkin.Answers `json:"answers" db:"-"`
	Reflection    string          `json:"reflection" db:"-"`
	SafetyNote    string          `json:"safety_note" db:"-"`
	History       []ArchiveCheck  `json:"earlier_versions,omitempty" db:"-"`
	SavedAt       *time.Time      `json:"saved_at,omitempty" db:"-"` // earlier versions only
}

// ArchiveAlert is a safety alert and how it was acknowledged.
type ArchiveAlert struct {
	ID             int64      `json:"id" db:"id"`
	CheckinID      int64      `json:"checkin_id" db:"checkin_id"`
	CreatedAt      time.Time  `json:"created_at" db:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at" db:"acknowledged_at"`
	AcknowledgedBy *string    `json:"acknowledged_by" db:"acknowledged_by"`
	AckNote        string     `json:"acknowledgement_note" db:"-"`
	SealedAckNote  []byte     `json:"-" db:"ack_note"`
}

// ArchiveNote is a piece of the counselor's feedback on a check-in.
type ArchiveNote struct {
	ID          int64     `json:"id" db:"id"`
	CheckinID   int64     `json:"checkin_id" db:"checkin_id"`
	Counselor   string    `json:"counselor" db:"counselor_name"`
	Audience    string    `json:"audience" db:"audience"`
	RecipientID *int64    `json:"recipient_id" db:"recipient_id"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
	Body        string    `json:"body" db:"-"`
	SealedBody  []byte    `json:"-" db:"body"`
}

// Export returns a closed pair's archive for its counselor or an admin of
// the practice, and records the export in the audit log (once per client).
func (s *Store) Export(ctx context.Context, sc mend.Scope, pairID int64) (Archive, error) {
	p, err := loadPair(ctx, s.DB, sc, pairID, false)
	if err != nil {
		return Archive{}, err
	}
	if p.Status != "closed" {
		return Archive{}, mend.Errorf(mend.ECONFLICT, "Only a closed pair can be exported as an archive. While the pair is open, its pages and the progress exports show its records.")
	}
	a := Archive{
		Format: ArchiveFormat, ExportedAt: s.Clock.Time().UTC(), ExportedBy: Person{ID: sc.UserID, Name: sc.Name},
		Practice: p.PracticeName,
		Pair: ArchivePair{ID: p.ID, Label: p.Label, Kind: p.Kind, Status: p.Status, CreatedAt: p.CreatedAt,
			ClosedAt: p.ClosedAt.Time},
	}
	if p.CounselorID.Valid {
		a.Pair.Counselor = &Person{ID: p.CounselorID.Int64, Name: p.CounselorName.String}
	}
	q := s.DB
	if err := q.SelectContext(ctx, &a.Members, `
		SELECT m.user_id, u.name, u.email, m.position, m.side FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE m.pair_id = $1 ORDER BY m.position`, pairID); err != nil {
		return Archive{}, fmt.Errorf("retention: members: %w", err)
	}
	if err := q.SelectContext(ctx, &a.Events, `
		SELECT e.kind, e.at, e.detail, a.name AS actor_name, f.name AS from_name, t.name AS to_name
		FROM pair_events e LEFT JOIN users a ON a.id = e.actor_id
		LEFT JOIN users f ON f.id = e.from_counselor_id LEFT JOIN users t ON t.id = e.to_counselor_id
		WHERE e.pair_id = $1 ORDER BY e.at, e.id`, pairID); err != nil {
		return Archive{}, fmt.Errorf("retention: events: %w", err)
	}
	for i := range a.Events {
		e := &a.Events[i]
		e.ActorName, e.From, e.To = e.Actor.String, e.FromCounselor.String, e.ToCounselor.String
	}
	if err := s.exportPlans(ctx, q, pairID, &a); err != nil {
		return Archive{}, err
	}
	if err := s.exportHomework(ctx, q, pairID, &a); err != nil {
		return Archive{}, err
	}
	if err := s.exportCheckins(ctx, q, sc, pairID, &a); err != nil {
		return Archive{}, err
	}
	if err := s.exportFeedback(ctx, q, pairID, &a); err != nil {
		return Archive{}, err
	}
	if err := s.exportReveals(ctx, q, pairID, &a); err != nil {
		return Archive{}, err
	}
	for _, m := range a.Members {
		if err := s.Audit.Record(ctx, nil, sc, audit.Entry{Action: "pair.exported", ObjectType: "pair", ObjectID: pairID, ClientID: m.UserID}); err != nil {
			return Archive{}, err
		}
	}
	return a, nil
}

func (s *Store) exportPlans(ctx context.Context, q *sqlx.DB, pairID int64, a *Archive) error {
	if err := q.SelectContext(ctx, &a.Plans, `
		SELECT id, name, status, starts_on::text, cadence, ended_at FROM pair_plans WHERE pair_id = $1 ORDER BY created_at, id`, pairID); err != nil {
		return fmt.Errorf("retention: plans: %w", err)
	}
	var steps []ArchiveStep
	if err := q.SelectContext(ctx, &steps, `
		SELECT s.pair_plan_id, s.position, v.title, s.days
		FROM pair_plan_steps s JOIN pair_plans pp ON pp.id = s.pair_plan_id JOIN step_versions v ON v.id = s.step_version_id
		WHERE pp.pair_id = $1 ORDER BY s.pair_plan_id, s.position`, pairID); err != nil {
		return fmt.Errorf("retention: plan steps: %w", err)
	}
	for i := range a.Plans {
		a.Plans[i].Steps = []ArchiveStep{}
		for _, st := range steps {
			if st.PlanID == a.Plans[i].ID {
				a.Plans[i].Steps = append(a.Plans[i].Steps, st)
			}
		}
	}
	return nil
}

// selectOpened selects the pair's rows of one kind (query takes the pair
// as $1) into dst and opens each row's sealed text: sealed gives the row's
// id, its sealed bytes and where the opened text goes.
func selectOpened[T any](ctx context.Context, s *Store, q *sqlx.DB, pairID int64, what string, dst *[]T, query string,
	f vault.Field, sealed func(*T) (int64, []byte, *string)) error {
	if err := q.SelectContext(ctx, dst, query, pairID); err != nil {
		return fmt.Errorf("retention: %s: %w", what, err)
	}
	for i := range *dst {
		id, ct, text := sealed(&(*dst)[i])
		opened, err := s.Vault.OpenText(ctx, q, f, id, ct)
		if err != nil {
			return fmt.Errorf("retention: %s %d: %w", what, id, err)
		}
		*text = opened
	}
	return nil
}

func (s *Store) exportHomework(ctx context.Context, q *sqlx.DB, pairID int64, a *Archive) error {
	return selectOpened(ctx, s, q, pairID, "homework", &a.Homework, `
		SELECT a.id, v.title, v.version AS step_version, a.for_user_id, a.starts_on::text, a.due_on::text, a.cadence,
		       a.weekdays, a.status, a.created_at, a.note
		FROM assignments a JOIN step_versions v ON v.id = a.step_version_id
		WHERE a.pair_id = $1 ORDER BY a.starts_on, a.id`,
		vault.AssignmentNote, func(w *ArchiveWork) (int64, []byte, *string) { return w.ID, w.SealedNote, &w.Note })
}

// exportCheckins puts the pair's check-ins and their earlier versions in
// the archive, read the one way staff read check-ins (decrypted by the
// check-in store), and the safety alerts with their notes.
func (s *Store) exportCheckins(ctx context.Context, q *sqlx.DB, sc mend.Scope, pairID int64, a *Archive) error {
	// ForArchive writes no audit entry: Export audits the archive itself.
	cs, err := s.Checkins.ForArchive(ctx, sc, pairID)
	if err != nil {
		return err
	}
	a.Checkins = make([]ArchiveCheck, len(cs))
	for i, c := range cs {
		ac := ArchiveCheck{ID: c.ID, AssignmentID: c.AssignmentID, UserID: c.UserID,
			PeriodStart: c.PeriodStart.String(), PeriodEnd: c.PeriodEnd.String(), Late: c.Late,
			Status: string(c.Status), Trust: c.Trust, Communication: c.Communication, Hope: c.Hope,
			Visibility: string(c.Visibility), SafetyFlag: c.SafetyFlag, Version: c.Version,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
			Answers: c.Answers, Reflection: c.Reflection, SafetyNote: c.SafetyNote}
		if c.ReviewedAt.Valid {
			ac.ReviewedAt = &c.ReviewedAt.Time
		}
		// Earlier versions oldest first, as they were saved.
		for j := len(c.History) - 1; j >= 0; j-- {
			h := c.History[j]
			saved := h.SavedAt
			ac.History = append(ac.History, ArchiveCheck{ID: h.ID, AssignmentID: c.AssignmentID, UserID: c.UserID,
				PeriodStart: ac.PeriodStart, PeriodEnd: ac.PeriodEnd, Late: c.Late,
				Status: string(h.Status), Trust: h.Trust, Communication: h.Communication, Hope: h.Hope,
				Visibility: string(h.Visibility), SafetyFlag: h.SafetyFlag, Version: h.Version,
				CreatedAt: h.SavedAt, UpdatedAt: h.ReplacedAt, SavedAt: &saved,
				Answers: h.Answers, Reflection: h.Reflection, SafetyNote: h.SafetyNote})
		}
		a.Checkins[i] = ac
	}
	return selectOpened(ctx, s, q, pairID, "safety alert", &a.SafetyAlerts, `
		SELECT sa.id, sa.checkin_id, sa.created_at, sa.acknowledged_at, u.name AS acknowledged_by, sa.ack_note
		FROM safety_alerts sa LEFT JOIN users u ON u.id = sa.acknowledged_by
		WHERE sa.pair_id = $1 ORDER BY sa.created_at, sa.id`,
		vault.AlertAckNote, func(al *ArchiveAlert) (int64, []byte, *string) { return al.ID, al.SealedAckNote, &al.AckNote })
}

func (s *Store) exportFeedback(ctx context.Context, q *sqlx.DB, pairID int64, a *Archive) error {
	return selectOpened(ctx, s, q, pairID, "feedback", &a.Feedback, `
		SELECT f.id, f.checkin_id, u.name AS counselor_name, f.audience, f.recipient_id, f.created_at, f.body
		FROM feedback f JOIN users u ON u.id = f.counselor_id
		WHERE f.pair_id = $1 ORDER BY f.created_at, f.id`,
		vault.FeedbackBody, func(f *ArchiveNote) (int64, []byte, *string) { return f.ID, f.SealedBody, &f.Body })
}

// exportReveals puts the pair's reveal exercises' answers, reveals and
// replies in the archive, opened.
func (s *Store) exportReveals(ctx context.Context, q *sqlx.DB, pairID int64, a *Archive) error {
	if err := selectOpened(ctx, s, q, pairID, "reveal answer", &a.RevealAnswers, `
		SELECT id, assignment_id, user_id, to_char(period_start, 'YYYY-MM-DD') AS period_start, edits, created_at, updated_at, answers
		FROM reveal_answers WHERE pair_id = $1 ORDER BY assignment_id, period_start, user_id`,
		vault.RevealAnswers, func(r *ArchiveRevealAnswer) (int64, []byte, *string) { return r.ID, r.SealedAnswers, &r.Answers }); err != nil {
		return err
	}
	if err := selectOpened(ctx, s, q, pairID, "reveal", &a.Reveals, `
		SELECT id, assignment_id, to_char(period_start, 'YYYY-MM-DD') AS period_start, rule, revealed_by, revealed_at, note
		FROM reveals WHERE pair_id = $1 ORDER BY assignment_id, period_start`,
		vault.RevealNote, func(r *ArchiveReveal) (int64, []byte, *string) { return r.ID, r.SealedNote, &r.Note }); err != nil {
		return err
	}
	return selectOpened(ctx, s, q, pairID, "reveal reply", &a.RevealReplies, `
		SELECT id, reveal_id, user_id, created_at, body FROM reveal_replies WHERE pair_id = $1 ORDER BY id`,
		vault.RevealReply, func(r *ArchiveRevealReply) (int64, []byte, *string) { return r.ID, r.SealedBody, &r.Body })
}
