package measure

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/access"
	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paths"
	"github.com/mend-practice/mend/internal/vault"
)

// Assignment is a measure given to a pair.
type Assignment struct {
	ID         int64          `db:"id"`
	PairID     int64          `db:"pair_id"`
	MeasureID  int64          `db:"measure_id"`
	Name       string         `db:"name"`
	ForUserID  sql.NullInt64  `db:"for_user_id"`
	ForName    sql.NullString `db:"for_name"`
	EveryDays  sql.NullInt64  `db:"every_days"`
	StartsOn   checkin.Date   `db:"starts_on"`
	Status     string         `db:"status"`
	Active     bool           `db:"active"` // the measure itself is active
	CreatedAt  time.Time      `db:"created_at"`
	Definition Definition     `db:"-"`
	Raw        []byte         `db:"definition"`
}

// Who says whom the measure is for.
func (a Assignment) Who() string {
	if a.ForName.Valid {
		return a.ForName.String + " only"
	}
	return "both partners"
}

// Cadence says how often it is answered.
func (a Assignment) Cadence() string {
	switch {
	case !a.EveryDays.Valid:
		return "once"
	case a.EveryDays.Int64 == 1:
		return "every day"
	case a.EveryDays.Int64 == 7:
		return "every week"
	}
	return fmt.Sprintf("every %d days", a.EveryDays.Int64)
}

// AssignInput is the counselor's form.
type AssignInput struct {
	MeasureID int64
	ForUserID int64 // 0: both partners
	EveryDays int   // 0: once
}

// Assign gives an active measure to one of the caller's pairs (staff).
func (s *Store) Assign(ctx context.Context, sc mend.Scope, pairID int64, in AssignInput) (int64, error) {
	if !staff(sc) {
		return 0, mend.NotFound("Pair")
	}
	var id int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cond, args := access.StaffPairs(sc, "p", 2)
		var p struct {
			Status  string        `db:"status"`
			Members pq.Int64Array `db:"members"`
		}
		err := tx.GetContext(ctx, &p, `
			SELECT p.status, ARRAY(SELECT m.user_id FROM pair_members m WHERE m.pair_id = p.id ORDER BY m.position) AS members
			FROM pairs p WHERE p.id = $1 AND `+cond+` FOR SHARE OF p`, append([]any{pairID}, args...)...)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.NotFound("Pair")
		}
		if err != nil {
			return fmt.Errorf("measure: assign: %w", err)
		}
		if p.Status == "closed" {
			return mend.Errorf(mend.ECONFLICT, "This pair is closed, so it can no longer be given measures.")
		}
		var fe mend.FieldErrors
		m, err := s.get(ctx, tx, sc, in.MeasureID, false)
		switch {
		case mend.ErrorCode(err) == mend.ENOTFOUND:
			fe.Add("measure", "Choose one of the practice's active measures.")
		case err != nil:
			return err
		case !m.Active:
			fe.Add("measure", "This measure is not active yet; an admin activates it once every item has its text.")
		}
		if in.ForUserID != 0 {
			member := false
			for _, u := range p.Members {
				member = member || u == in.ForUserID
			}
			if !member {
				fe.Add("for", "Choose both partners or one of them.")
			}
		} else if err == nil && m.Definition.AnsweredBy == AnswerOne {
			fe.Add("for", "This measure is answered by one partner: choose which.")
		}
		if in.EveryDays < 0 || in.EveryDays > 365 {
			fe.Add("every_days", "Repeat every 1 to 365 days, or leave it empty to ask once.")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		today := checkin.Today(s.Clock.Time(), sc.Timezone)
		err = tx.GetContext(ctx, &id, `
			INSERT INTO measure_assignments (practice_id, pair_id, measure_id, for_user_id, every_days, starts_on, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			sc.PracticeID, pairID, in.MeasureID, sql.NullInt64{Int64: in.ForUserID, Valid: in.ForUserID != 0},
			sql.NullInt64{Int64: int64(in.EveryDays), Valid: in.EveryDays > 0}, today, sc.UserID)
		if err != nil {
			return fmt.Errorf("measure: assign: %w", err)
		}
		who := []int64(p.Members)
		if in.ForUserID != 0 {
			who = []int64{in.ForUserID}
		}
		if err := scheduleReminders(ctx, tx, sc.PracticeID, pairID, id, who, today); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "measure.assign", ObjectType: "pair", ObjectID: pairID})
	})
	return id, err
}

// End stops asking a pair to answer a measure (staff); it returns the
// pair's id.
func (s *Store) End(ctx context.Context, sc mend.Scope, assignmentID int64) (int64, error) {
	if !staff(sc) {
		return 0, mend.NotFound("Measure")
	}
	cond, args := access.StaffPairs(sc, "p", 2)
	var pairID int64
	err := s.DB.GetContext(ctx, &pairID, `
		UPDATE measure_assignments ma SET status = 'ended', ended_at = now()
		FROM pairs p WHERE p.id = ma.pair_id AND ma.id = $1 AND `+cond+`
		RETURNING ma.pair_id`, append([]any{assignmentID}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mend.NotFound("Measure")
	}
	if err != nil {
		return 0, fmt.Errorf("measure: end: %w", err)
	}
	return pairID, audit.Append(ctx, s.DB, sc, audit.Entry{Action: "measure.end", ObjectType: "pair", ObjectID: pairID})
}

// Due is a measure a client has to answer.
type Due struct {
	AssignmentID int64         `db:"id"`
	PairID       int64         `db:"pair_id"`
	Name         string        `db:"name"`
	StartsOn     checkin.Date  `db:"starts_on"`
	EveryDays    sql.NullInt64 `db:"every_days"`
	LastOn       *checkin.Date `db:"last_on"`
	Raw          []byte        `db:"definition"`
	VersionID    int64         `db:"version_id"`
	CounselorID  sql.NullInt64 `db:"counselor_id"`
	PracticeID   int64         `db:"practice_id"`
	DueOn        checkin.Date  `db:"-"`
	IsDue        bool          `db:"-"`
	Overdue      bool          `db:"-"`
}

// dueOn is when the next answer is due (ok false: answered once, done).
func dueOn(starts checkin.Date, every sql.NullInt64, last *checkin.Date) (checkin.Date, bool) {
	if last == nil {
		return starts, true
	}
	if !every.Valid {
		return checkin.Date{}, false
	}
	return last.AddDays(int(every.Int64)), true
}

// clientAssignments reads the client's active measures (for them or both).
func (s *Store) clientAssignments(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, onlyID int64, lock bool) ([]Due, error) {
	cond, args := access.Pairs(sc, "p", 1)
	query := `
		SELECT ma.id, ma.pair_id, v.name, ma.starts_on, ma.every_days, v.definition, v.id AS version_id,
		       p.counselor_id, p.practice_id,
		       (SELECT max(r.answered_on) FROM measure_responses r -- r.pair_id: the answers' index from its first column
		        WHERE r.pair_id = ma.pair_id AND r.measure_assignment_id = ma.id AND r.user_id = $2) AS last_on
		FROM measure_assignments ma
		JOIN pairs p ON p.id = ma.pair_id
		JOIN measures m ON m.id = ma.measure_id
		JOIN measure_versions v ON v.measure_id = m.id AND v.version = m.current_version
		WHERE ma.status = 'active' AND p.status = 'active' AND m.active
		  AND (ma.for_user_id IS NULL OR ma.for_user_id = $2) AND ` + cond + `
		  AND ($3 = 0 OR ma.id = $3)
		ORDER BY ma.starts_on, ma.id`
	if lock {
		query += ` FOR NO KEY UPDATE OF ma`
	}
	var out []Due
	if err := s.stmts.On(s.DB, q).Select(ctx, &out, query, append(args, onlyID)...); err != nil {
		return nil, fmt.Errorf("measure: client's measures: %w", err)
	}
	today := checkin.Today(s.Clock.Time(), sc.Timezone)
	for i := range out {
		d := &out[i]
		on, ok := dueOn(d.StartsOn, d.EveryDays, d.LastOn)
		d.DueOn, d.IsDue = on, ok && !on.After(today)
		d.Overdue = d.IsDue && today.After(on.AddDays(OverdueDays))
	}
	return out, nil
}

// DueFor returns the measures the client has to answer now.
func (s *Store) DueFor(ctx context.Context, sc mend.Scope) ([]Due, error) {
	if sc.Role != mend.RoleClient {
		return nil, nil
	}
	all, err := s.clientAssignments(ctx, s.DB, sc, 0, false)
	if err != nil {
		return nil, err
	}
	var out []Due
	for _, d := range all {
		if d.IsDue {
			out = append(out, d)
		}
	}
	return out, nil
}

// Form is what the answer page needs.
type Form struct {
	AssignmentID int64
	VersionID    int64
	Name         string
	Definition   Definition
	Due          bool
	DueOn        checkin.Date
}

// AnswerForm returns the measure a client is to answer.
func (s *Store) AnswerForm(ctx context.Context, sc mend.Scope, assignmentID int64) (Form, error) {
	if sc.Role != mend.RoleClient {
		return Form{}, mend.NotFound("Measure")
	}
	ds, err := s.clientAssignments(ctx, s.DB, sc, assignmentID, false)
	if err != nil {
		return Form{}, err
	}
	if len(ds) == 0 {
		return Form{}, mend.NotFound("Measure")
	}
	d := ds[0]
	f := Form{AssignmentID: d.AssignmentID, VersionID: d.VersionID, Name: d.Name, Due: d.IsDue, DueOn: d.DueOn}
	if err := json.Unmarshal(d.Raw, &f.Definition); err != nil {
		return Form{}, fmt.Errorf("measure: definition: %w", err)
	}
	return f, nil
}

// Submitted is what the client learns after answering.
type Submitted struct {
	ResponseID int64
	Result     Result
	ShowClient bool
}

// Submit scores and stores a client's answers under the measure's current
// version (versionID must be it: the form they answered). A critical answer
// raises a safety alert for the counselor in the same transaction.
func (s *Store) Submit(ctx context.Context, sc mend.Scope, assignmentID, versionID int64, a Answers) (Submitted, error) {
	var out Submitted
	if sc.Role != mend.RoleClient {
		return out, mend.NotFound("Measure")
	}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		ds, err := s.clientAssignments(ctx, tx, sc, assignmentID, true)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return mend.NotFound("Measure")
		}
		d := ds[0]
		if !d.IsDue {
			if d.EveryDays.Valid {
				return mend.Errorf(mend.ECONFLICT, "You have already answered this measure; the next time is %s.", d.DueOn.Format("Monday 2 January"))
			}
			return mend.Errorf(mend.ECONFLICT, "You have already answered this measure.")
		}
		if d.VersionID != versionID {
			return mend.Errorf(mend.ECONFLICT, "This measure was changed while you answered it. Please answer it again.")
		}
		var def Definition
		if err := json.Unmarshal(d.Raw, &def); err != nil {
			return fmt.Errorf("measure: definition: %w", err)
		}
		if err := def.Check(a); err != nil {
			var fe mend.FieldErrors
			fe.Add("answers", "Choose one of the answers offered for each item.")
			return fe.Err()
		}
		if len(a) < def.MinAnswered {
			var fe mend.FieldErrors
			for i := range def.Items {
				if _, ok := a[i+1]; !ok {
					fe.Add(fmt.Sprintf("item_%d", i+1), "Choose an answer.")
				}
			}
			return &mend.Error{Code: mend.EINVALID, Fields: fe,
				Message: fmt.Sprintf("Please answer at least %d of the %d items.", def.MinAnswered, len(def.Items))}
		}
		r := def.Score(a)
		out.Result, out.ShowClient = r, def.ShowClient
		var id int64
		if err := tx.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('measure_responses', 'id'))`); err != nil {
			return fmt.Errorf("measure: new id: %w", err)
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		sl, err := s.Vault.Sealer(ctx, tx, vault.PairScope(d.PracticeID, d.PairID))
		if err != nil {
			return fmt.Errorf("measure: seal: %w", err)
		}
		sealed, err := sl.Seal(vault.MeasureAnswers, id, raw)
		if err != nil {
			return err
		}
		subs, _ := json.Marshal(r.Subscales)
		var total sql.NullFloat64
		var band sql.NullString
		var severity sql.NullInt64
		if r.Valid {
			total = sql.NullFloat64{Float64: r.Total, Valid: true}
		}
		if r.HasBand {
			band = sql.NullString{String: r.Band.Label, Valid: true}
			severity = sql.NullInt64{Int64: int64(r.Band.Severity), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO measure_responses (id, practice_id, pair_id, measure_assignment_id, measure_version_id, user_id,
				answers, answered, valid, total, band, severity, most_severe, subscales, critical, answered_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			id, d.PracticeID, d.PairID, d.AssignmentID, d.VersionID, sc.UserID, sealed, r.Answered, r.Valid,
			total, band, severity, r.HasBand && r.Band.Severity == def.MostSevere() && def.MostSevere() > 0,
			string(subs), r.Critical, checkin.Today(s.Clock.Time(), sc.Timezone)); err != nil {
			return fmt.Errorf("measure: save answers: %w", err)
		}
		out.ResponseID = id
		if d.EveryDays.Valid {
			next := checkin.Today(s.Clock.Time(), sc.Timezone).AddDays(int(d.EveryDays.Int64))
			if err := scheduleReminders(ctx, tx, d.PracticeID, d.PairID, d.AssignmentID, []int64{sc.UserID}, next); err != nil {
				return err
			}
		}
		// Ids only: no answer, score or item enters the audit log.
		if err := audit.Append(ctx, tx, sc, audit.Entry{Action: "measure.answer", ObjectType: "measure_response",
			ObjectID: id, ClientID: sc.UserID}); err != nil {
			return err
		}
		if r.Critical {
			return s.raiseAlert(ctx, tx, d, id)
		}
		return nil
	})
	return out, err
}

// raiseAlert records a safety alert for a critical answer and queues the
// same email a flagged check-in sends (checkin.QueueSafetyAlert): to the
// counselor, with a link and no answer.
func (s *Store) raiseAlert(ctx context.Context, tx *sqlx.Tx, d Due, responseID int64) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO safety_alerts (practice_id, pair_id, measure_response_id, counselor_id) VALUES ($1, $2, $3, $4)`,
		d.PracticeID, d.PairID, responseID, d.CounselorID); err != nil {
		return fmt.Errorf("measure: safety alert: %w", err)
	}
	link := paths.Link(s.BaseURL, "pairs", d.PairID, "progress") + fmt.Sprintf("#response-%d", responseID)
	return checkin.QueueSafetyAlert(ctx, db.Text(tx), tx, s.Outbox, d.PracticeID, d.CounselorID,
		fmt.Sprintf("safety:measure:%d", responseID), link, "questionnaire")
}

// Response is one person's answers as its reader may see them.
type Response struct {
	ID           int64           `db:"id"`
	AssignmentID int64           `db:"measure_assignment_id"`
	MeasureID    int64           `db:"measure_id"`
	Version      int             `db:"version"`
	UserID       int64           `db:"user_id"`
	UserName     string          `db:"user_name"`
	Position     int             `db:"position"`
	Mine         bool            `db:"mine"`
	AnsweredOn   checkin.Date    `db:"answered_on"`
	CreatedAt    time.Time       `db:"created_at"`
	Valid        bool            `db:"valid"`
	Total        sql.NullFloat64 `db:"total"`
	Band         sql.NullString  `db:"band"`
	Severity     sql.NullInt64   `db:"severity"`
	Critical     bool            `db:"critical"`
	SubsRaw      []byte          `db:"subscales"`
	Sealed       []byte          `db:"answers"`
	AlertID      sql.NullInt64   `db:"alert_id"`
	AlertAcked   bool            `db:"alert_acked"`
	Subscales    []SubscaleScore `db:"-"`
	Answers      Answers         `db:"-"` // staff only
}

// TotalText is the total as shown ("—" when none may be shown).
func (r Response) TotalText() string {
	if !r.Total.Valid {
		return "—"
	}
	return fmtScore(r.Total.Float64)
}

// Item is item n's answer value as shown ("—": not answered).
func (r Response) Item(n int) string {
	if v, ok := r.Answers[n]; ok {
		return fmt.Sprint(v)
	}
	return "—"
}

func fmtScore(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprint(int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}

// Series is one measure's answers in a pair, for its chart and table.
type Series struct {
	MeasureID  int64
	Name       string
	Definition Definition // the current version's (bands, subscales)
	Responses  []Response // oldest first
}

// PairView is a pair's measures as staff see them.
type PairView struct {
	Assignments []Assignment
	Series      []Series
	Available   []Measure // active measures that can be given
}

// ForPair returns a pair's measures, every answer with its items opened
// (staff; the read is audited).
func (s *Store) ForPair(ctx context.Context, sc mend.Scope, pairID int64) (PairView, error) {
	var v PairView
	if !staff(sc) {
		return v, mend.NotFound("Pair")
	}
	cond, args := access.StaffPairs(sc, "p", 2)
	var n int
	if err := s.DB.GetContext(ctx, &n, `SELECT count(*) FROM pairs p WHERE p.id = $1 AND `+cond,
		append([]any{pairID}, args...)...); err != nil {
		return v, fmt.Errorf("measure: pair: %w", err)
	}
	if n == 0 {
		return v, mend.NotFound("Pair")
	}
	if err := s.DB.SelectContext(ctx, &v.Assignments, `
		SELECT ma.id, ma.pair_id, ma.measure_id, cv.name, ma.for_user_id, fu.name AS for_name, ma.every_days,
		       ma.starts_on, ma.status, m.active, ma.created_at, cv.definition
		FROM measure_assignments ma
		JOIN pairs p ON p.id = ma.pair_id
		JOIN measures m ON m.id = ma.measure_id
		JOIN measure_versions cv ON cv.measure_id = m.id AND cv.version = m.current_version
		LEFT JOIN users fu ON fu.id = ma.for_user_id
		WHERE ma.pair_id = $1 AND `+cond+`
		ORDER BY ma.status, ma.created_at DESC, ma.id DESC`, append([]any{pairID}, args...)...); err != nil {
		return v, fmt.Errorf("measure: pair's measures: %w", err)
	}
	for i := range v.Assignments {
		if err := json.Unmarshal(v.Assignments[i].Raw, &v.Assignments[i].Definition); err != nil {
			return v, err
		}
	}
	var rs []Response
	if err := s.DB.SelectContext(ctx, &rs, `
		SELECT r.id, r.measure_assignment_id, ma.measure_id, rv.version, r.user_id, u.name AS user_name,
		       coalesce(pm.position, 0) AS position, false AS mine, r.answered_on, r.created_at, r.valid, r.total,
		       r.band, r.severity, r.critical, r.subscales, r.answers,
		       sa.id AS alert_id, sa.acknowledged_at IS NOT NULL AS alert_acked
		FROM measure_responses r
		JOIN pairs p ON p.id = r.pair_id
		JOIN measure_assignments ma ON ma.id = r.measure_assignment_id
		JOIN measure_versions rv ON rv.id = r.measure_version_id
		JOIN users u ON u.id = r.user_id
		LEFT JOIN pair_members pm ON pm.pair_id = r.pair_id AND pm.user_id = r.user_id
		LEFT JOIN safety_alerts sa ON sa.measure_response_id = r.id
		WHERE r.pair_id = $1 AND `+cond+`
		ORDER BY r.created_at, r.id`, append([]any{pairID}, args...)...); err != nil {
		return v, fmt.Errorf("measure: pair's answers: %w", err)
	}
	clients := map[int64]bool{}
	for i := range rs {
		r := &rs[i]
		clients[r.UserID] = true
		if err := json.Unmarshal(r.SubsRaw, &r.Subscales); err != nil {
			return v, err
		}
		raw, err := s.Vault.OpenText(ctx, s.DB, vault.MeasureAnswers, r.ID, r.Sealed)
		if err != nil {
			return v, fmt.Errorf("measure: open answers %d: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(raw), &r.Answers); err != nil {
			return v, err
		}
	}
	byMeasure := map[int64]int{}
	for _, a := range v.Assignments {
		if _, ok := byMeasure[a.MeasureID]; !ok {
			byMeasure[a.MeasureID] = len(v.Series)
			v.Series = append(v.Series, Series{MeasureID: a.MeasureID, Name: a.Name, Definition: a.Definition})
		}
	}
	for _, r := range rs {
		if i, ok := byMeasure[r.MeasureID]; ok {
			v.Series[i].Responses = append(v.Series[i].Responses, r)
		}
	}
	sort.SliceStable(v.Series, func(i, j int) bool { return v.Series[i].Name < v.Series[j].Name })
	if all, err := s.List(ctx, sc); err != nil {
		return v, err
	} else {
		for _, m := range all {
			if m.Active {
				v.Available = append(v.Available, m)
			}
		}
	}
	ids := make([]int64, 0, len(clients))
	for id := range clients {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return v, s.Audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "measure.read", ObjectType: "pair", ObjectID: pairID}, ids)
}

// ClientMeasure is one of a client's measures on their own page: their own
// scores (if the definition lets them see them) and the partner's totals
// only when the definition shares them. Never any answer.
type ClientMeasure struct {
	Due
	Note      string
	Mine      []Response
	Partner   []Response
	ShowOwn   bool
	SharesAll bool
}

// Mine returns the client's measures with what they may see of the scores.
// The partner's rows are selected only when the definition (the version
// they were answered under) shares the total; answers are never selected.
func (s *Store) Mine(ctx context.Context, sc mend.Scope) ([]ClientMeasure, error) {
	if sc.Role != mend.RoleClient {
		return nil, mend.NotFound("Measures")
	}
	ds, err := s.clientAssignments(ctx, s.DB, sc, 0, false)
	if err != nil {
		return nil, err
	}
	cond, args := access.Pairs(sc, "p", 1)
	var rs []Response
	if err := s.DB.SelectContext(ctx, &rs, `
		SELECT r.id, r.measure_assignment_id, ma.measure_id, rv.version, r.user_id, u.name AS user_name,
		       0 AS position, r.user_id = $2 AS mine, r.answered_on, r.created_at, r.valid,
		       CASE WHEN coalesce((rv.definition->>'show_client')::boolean, false) OR coalesce((rv.definition->>'share_total')::boolean, false)
		            THEN r.total END AS total,
		       CASE WHEN coalesce((rv.definition->>'show_client')::boolean, false) OR coalesce((rv.definition->>'share_total')::boolean, false)
		            THEN r.band END AS band,
		       NULL::int AS severity, false AS critical, '[]'::jsonb AS subscales, NULL::bytea AS answers,
		       NULL::bigint AS alert_id, false AS alert_acked
		FROM measure_responses r
		JOIN pairs p ON p.id = r.pair_id
		JOIN measure_assignments ma ON ma.id = r.measure_assignment_id
		JOIN measure_versions rv ON rv.id = r.measure_version_id
		JOIN users u ON u.id = r.user_id
		WHERE `+cond+` AND ma.status = 'active'
		  AND (r.user_id = $2 OR coalesce((rv.definition->>'share_total')::boolean, false))
		ORDER BY r.created_at, r.id`, args...); err != nil {
		return nil, fmt.Errorf("measure: client's answers: %w", err)
	}
	var out []ClientMeasure
	partners := map[int64]bool{}
	for _, d := range ds {
		var def Definition
		if err := json.Unmarshal(d.Raw, &def); err != nil {
			return nil, err
		}
		cm := ClientMeasure{Due: d, Note: def.Note, ShowOwn: def.ShowClient || def.ShareTotal, SharesAll: def.ShareTotal}
		for _, r := range rs {
			if r.AssignmentID != d.AssignmentID {
				continue
			}
			if r.Mine {
				cm.Mine = append(cm.Mine, r)
			} else {
				cm.Partner = append(cm.Partner, r)
				partners[r.UserID] = true
			}
		}
		out = append(out, cm)
	}
	var ids []int64
	for id := range partners {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > 0 {
		if err := s.Audit.RecordClients(ctx, nil, sc, audit.Entry{Action: "measure.read", ObjectType: "measure_totals"}, ids); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scheduleReminders writes the reminder and the nudge of a measure due on
// dueOn for each of users (internal/reminder sends them). due_at is the
// earliest the day can begin anywhere; the reminder pass moves it to the
// client's own reminder time.
func scheduleReminders(ctx context.Context, tx *sqlx.Tx, practiceID, pairID, assignmentID int64, users []int64, dueOn checkin.Date) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO measure_reminders (practice_id, pair_id, measure_assignment_id, user_id, due_on, stage, due_at)
		SELECT $1, $2, $3, u, $5::date, s, ($5::date + CASE s WHEN 'nudge' THEN 2 ELSE 0 END)::timestamp AT TIME ZONE 'UTC' - interval '14 hours'
		FROM unnest($4::bigint[]) u, unnest(ARRAY['reminder', 'nudge']) s
		ON CONFLICT DO NOTHING`, practiceID, pairID, assignmentID, pq.Array(users), dueOn); err != nil {
		return fmt.Errorf("measure: schedule reminders: %w", err)
	}
	return nil
}
