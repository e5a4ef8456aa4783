package review

import (
	"context"
	"database/sql"
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
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/vault"
)

// Audiences of feedback.
const (
	ToClient = "client" // the check-in's author alone
	ToBoth   = "both"   // both members of the pair
)

// Limits on what staff type.
const (
	MaxFeedback = 4000
	MaxAckNote  = 2000
)

// Feedback is one piece of counselor feedback as staff see it.
type Feedback struct {
	ID            int64          `db:"id"`
	CheckinID     int64          `db:"checkin_id"`
	Audience      string         `db:"audience"`
	RecipientName sql.NullString `db:"recipient_name"`
	CounselorName string         `db:"counselor_name"`
	Body          string         `db:"-"`
	SealedBody    []byte         `db:"body"` // as read; opened into Body
	CreatedAt     time.Time      `db:"created_at"`
}

// openFeedback decrypts feedback bodies as read.
func (s *Store) openFeedback(ctx context.Context, fs []Feedback) error {
	for i := range fs {
		body, err := s.Vault.OpenText(ctx, s.DB, vault.FeedbackBody, fs[i].ID, fs[i].SealedBody)
		if err != nil {
			return fmt.Errorf("review: feedback %d: %w", fs[i].ID, err)
		}
		fs[i].Body = body
	}
	return nil
}

// AlertState is a check-in's safety alert and its acknowledgement.
type AlertState struct {
	ID             int64          `db:"id"`
	CreatedAt      time.Time      `db:"created_at"`
	AcknowledgedAt sql.NullTime   `db:"acknowledged_at"`
	AckByName      sql.NullString `db:"ack_by_name"`
	AckNote        string         `db:"ack_note"`
}

// Page is everything the counselor's review page shows about a check-in.
type Page struct {
	Checkin         checkin.Checkin
	Partner         []checkin.Checkin // the partner's check-ins for the same period
	Pair            pair.Pair
	Author          pair.Member
	ReviewedByName  string
	Alert           *AlertState
	Feedback        []Feedback           // on the check-in, oldest first
	PartnerFeedback map[int64][]Feedback // on the partner's check-ins shown, by id
	// CanReview: the caller is the pair's counselor (admins read and
	// acknowledge flags, but feedback and reviews are the counselor's).
	CanReview bool
}

// Review returns a check-in of the caller's pairs with everything around
// it. Reading it is audited (per author shown) by the check-in store.
func (s *Store) Review(ctx context.Context, sc mend.Scope, checkinID int64) (Page, error) {
	if !staff(sc) {
		return Page{}, mend.NotFound("Check-in")
	}
	c, partner, err := s.Checkins.ForReview(ctx, sc, checkinID)
	if err != nil {
		return Page{}, err
	}
	pg := Page{Checkin: c, Partner: partner, ReviewedByName: c.ReviewedBy.String}
	if pg.Pair, err = pair.LoadOn(ctx, s.stmts.On(s.DB, s.DB), sc, c.PairID); err != nil {
		return Page{}, err
	}
	pg.Author, _ = pg.Pair.Member(c.UserID)
	pg.CanReview = sc.Role == mend.RoleCounselor && pg.Pair.CounselorID.Int64 == sc.UserID
	var extra struct {
		AlertID sql.NullInt64  `db:"alert_id"`
		AlertAt sql.NullTime   `db:"alert_at"`
		AckAt   sql.NullTime   `db:"acknowledged_at"`
		AckBy   sql.NullString `db:"ack_by_name"`
		AckNote []byte         `db:"ack_note"`
	}
	cond, args := access.StaffPairs(sc, "p", 2)
	err = s.stmts.Get(ctx, s.DB, &extra, `
		SELECT sa.id AS alert_id, sa.created_at AS alert_at, sa.acknowledged_at, ab.name AS ack_by_name, sa.ack_note
		FROM checkins c
		JOIN pairs p ON p.id = c.pair_id
		LEFT JOIN safety_alerts sa ON sa.checkin_id = c.id
		LEFT JOIN users ab ON ab.id = sa.acknowledged_by
		WHERE c.id = $1 AND `+cond, append([]any{checkinID}, args...)...)
	if err != nil {
		return Page{}, fmt.Errorf("review: check-in state: %w", err)
	}
	if extra.AlertID.Valid {
		note, err := s.Vault.OpenText(ctx, s.DB, vault.AlertAckNote, extra.AlertID.Int64, extra.AckNote)
		if err != nil {
			return Page{}, fmt.Errorf("review: acknowledgement note: %w", err)
		}
		pg.Alert = &AlertState{ID: extra.AlertID.Int64, CreatedAt: extra.AlertAt.Time, AcknowledgedAt: extra.AckAt,
			AckByName: extra.AckBy, AckNote: note}
	}
	ids := []int64{c.ID}
	for _, p := range partner {
		ids = append(ids, p.ID)
	}
	fs, err := s.staffFeedback(ctx, sc, `f.checkin_id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return Page{}, err
	}
	pg.PartnerFeedback = map[int64][]Feedback{}
	for _, f := range fs {
		if f.CheckinID == c.ID {
			pg.Feedback = append(pg.Feedback, f)
		} else {
			pg.PartnerFeedback[f.CheckinID] = append(pg.PartnerFeedback[f.CheckinID], f)
		}
	}
	return pg, nil
}

// FeedbackOn is the feedback on one of the partner's check-ins shown.
func (pg Page) FeedbackOn(checkinID int64) []Feedback { return pg.PartnerFeedback[checkinID] }

// staffFeedback reads (and opens) the feedback of the caller's pairs that
// cond picks (alias f, arguments from $1; the access scope's come after), oldest first.
func (s *Store) staffFeedback(ctx context.Context, sc mend.Scope, cond string, args ...any) ([]Feedback, error) {
	var fs []Feedback
	scope, scopeArgs := access.StaffPairs(sc, "p", len(args)+1)
	if err := s.stmts.Select(ctx, s.DB, &fs, `
		SELECT f.id, f.checkin_id, f.audience, r.name AS recipient_name, u.name AS counselor_name, f.body, f.created_at
		FROM feedback f
		JOIN pairs p ON p.id = f.pair_id
		JOIN users u ON u.id = f.counselor_id
		LEFT JOIN users r ON r.id = f.recipient_id
		WHERE (`+cond+`) AND `+scope+`
		ORDER BY f.created_at, f.id`, append(args, scopeArgs...)...); err != nil {
		return nil, fmt.Errorf("review: feedback: %w", err)
	}
	return fs, s.openFeedback(ctx, fs)
}

// reviewable is a check-in the caller may review: one of their own pairs'.
type reviewable struct {
	ID         int64        `db:"id"`
	PracticeID int64        `db:"practice_id"`
	PairID     int64        `db:"pair_id"`
	UserID     int64        `db:"user_id"`
	ReviewedAt sql.NullTime `db:"reviewed_at"`
	Version    int          `db:"version"`
	AuthorName string       `db:"author_name"`
}

// lockReviewable loads and locks a check-in of the counselor's own pairs.
// Admins read reviews but do not write them: for them it is ENOTFOUND too,
// like any id they cannot act on.
func lockReviewable(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, id int64) (reviewable, error) {
	var r reviewable
	if sc.Role != mend.RoleCounselor {
		return r, mend.NotFound("Check-in")
	}
	err := tx.GetContext(ctx, &r, `
		SELECT c.id, c.practice_id, c.pair_id, c.user_id, c.reviewed_at, c.version, u.name AS author_name
		FROM checkins c JOIN pairs p ON p.id = c.pair_id JOIN users u ON u.id = c.user_id
		WHERE c.id = $1 AND `+access.CounselorPairs("p", "$2", "$3")+`
		FOR NO KEY UPDATE OF c`, id, sc.PracticeID, sc.UserID)
	if errors.Is(err, sql.ErrNoRows) {
		return r, mend.NotFound("Check-in")
	}
	if err != nil {
		return r, fmt.Errorf("review: load check-in: %w", err)
	}
	return r, nil
}

// markReviewed sets the check-in reviewed (once: the first review counts),
// which also ends the client's chance to change it. seen is the version of
// the check-in the counselor's page showed (0: not known): a check-in the
// client changed after the page was drawn is not marked reviewed unread.
func (s *Store) markReviewed(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, r reviewable, seen int) error {
	if r.ReviewedAt.Valid {
		return nil
	}
	if seen != 0 && seen != r.Version {
		return mend.Errorf(mend.ECONFLICT, "%s changed this check-in after you opened it. Read the new version before marking it reviewed.", r.AuthorName)
	}
	if _, err := s.stmts.On(s.DB, tx).Exec(ctx, `UPDATE checkins SET reviewed_at = $2, reviewed_by = $3 WHERE id = $1`,
		r.ID, s.Clock.Time(), sc.UserID); err != nil {
		return fmt.Errorf("review: mark reviewed: %w", err)
	}
	return s.Audit.Record(ctx, tx, sc, audit.Entry{Action: "checkin.review", ObjectType: "checkin", ObjectID: r.ID, ClientID: r.UserID})
}

// MarkReviewed records that the counselor has read the check-in, as it was
// in version seen (0: not known; see markReviewed).
func (s *Store) MarkReviewed(ctx context.Context, sc mend.Scope, checkinID int64, seen int) error {
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		r, err := lockReviewable(ctx, tx, sc, checkinID)
		if err != nil {
			return err
		}
		return s.markReviewed(ctx, tx, sc, r, seen)
	})
}

// FeedbackInput is the feedback form.
type FeedbackInput struct {
	Body     string
	Audience string
	Reviewed bool // also mark the check-in reviewed
	Seen     int  // the version of the check-in the counselor read (0: not known)
}

func (in *FeedbackInput) validate() error {
	var fe mend.FieldErrors
	in.Body = strings.TrimSpace(in.Body)
	switch {
	case in.Body == "":
		fe.Add("body", "Write your feedback before sending it.")
	case !utf8.ValidString(in.Body):
		fe.Add("body", "The feedback contains characters that cannot be stored.")
	case utf8.RuneCountInString(in.Body) > MaxFeedback:
		fe.Add("body", fmt.Sprintf("Keep feedback to %d characters; it has %d.", MaxFeedback, utf8.RuneCountInString(in.Body)))
	}
	if in.Audience != ToClient && in.Audience != ToBoth {
		fe.Add("audience", "Choose who reads this feedback.")
	}
	return fe.Err()
}

// AddFeedback stores the counselor's feedback on a check-in, for its author
// or for both members, and (if asked) marks the check-in reviewed, in one
// transaction. Nothing is stored when the input is invalid.
func (s *Store) AddFeedback(ctx context.Context, sc mend.Scope, checkinID int64, in FeedbackInput) error {
	if err := in.validate(); err != nil {
		// Out-of-scope ids stay 404 even with a bad form.
		if _, gerr := s.reviewableExists(ctx, sc, checkinID); gerr != nil {
			return gerr
		}
		return err
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		r, err := lockReviewable(ctx, tx, sc, checkinID)
		if err != nil {
			return err
		}
		var recipient sql.NullInt64
		if in.Audience == ToClient {
			recipient = sql.NullInt64{Int64: r.UserID, Valid: true}
		}
		// The id comes first: the body's ciphertext is bound to its row.
		var id int64
		if err := s.stmts.On(s.DB, tx).Get(ctx, &id, `SELECT nextval(pg_get_serial_sequence('feedback', 'id'))`); err != nil {
			return fmt.Errorf("review: feedback id: %w", err)
		}
		body, err := s.Vault.SealText(ctx, tx, vault.PairScope(r.PracticeID, r.PairID), vault.FeedbackBody, id, in.Body)
		if err != nil {
			return fmt.Errorf("review: seal feedback: %w", err)
		}
		if _, err := s.stmts.On(s.DB, tx).Exec(ctx, `
			INSERT INTO feedback (id, practice_id, pair_id, checkin_id, counselor_id, audience, recipient_id, body, created_at)
			VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8)`,
			r.PracticeID, r.PairID, r.ID, sc.UserID, in.Audience, recipient, body, s.Clock.Time(), id); err != nil {
			return fmt.Errorf("review: add feedback: %w", err)
		}
		if err := s.Audit.Record(ctx, tx, sc, audit.Entry{Action: "feedback.create", ObjectType: "feedback", ObjectID: id, ClientID: r.UserID}); err != nil {
			return err
		}
		if in.Reviewed {
			return s.markReviewed(ctx, tx, sc, r, in.Seen)
		}
		return nil
	})
}

// reviewableExists checks that a check-in is one the counselor may review.
func (s *Store) reviewableExists(ctx context.Context, sc mend.Scope, id int64) (bool, error) {
	var ok bool
	err := s.stmts.Get(ctx, s.DB, &ok, `
		SELECT EXISTS (SELECT 1 FROM checkins c JOIN pairs p ON p.id = c.pair_id
		               WHERE c.id = $1 AND `+access.CounselorPairs("p", "$2", "$3")+`)`, id, sc.PracticeID, sc.UserID)
	if err != nil {
		return false, fmt.Errorf("review: check-in exists: %w", err)
	}
	if !ok || sc.Role != mend.RoleCounselor {
		return false, mend.NotFound("Check-in")
	}
	return true, nil
}

// Acknowledge records that a safety flag was seen and what was done, with a
// note (required: the acknowledgement is what the practice can show later).
// The pair's counselor acknowledges; so may an admin, who receives the
// alerts of pairs without a counselor. It returns the check-in's id.
func (s *Store) Acknowledge(ctx context.Context, sc mend.Scope, alertID int64, note string) (Flagged, error) {
	if !staff(sc) {
		return Flagged{}, mend.NotFound("Safety flag")
	}
	var flagged Flagged
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var a struct {
			CheckinID  int64        `db:"checkin_id"`
			PracticeID int64        `db:"practice_id"`
			PairID     int64        `db:"pair_id"`
			ClientID   int64        `db:"client_id"`
			AckedAt    sql.NullTime `db:"acknowledged_at"`
		}
		cond, args := access.StaffPairs(sc, "p", 2)
		err := s.stmts.On(s.DB, tx).Get(ctx, &a, `
			SELECT coalesce(sa.checkin_id, 0) AS checkin_id, sa.practice_id, sa.pair_id,
			       coalesce(c.user_id, mr.user_id) AS client_id, sa.acknowledged_at
			FROM safety_alerts sa
			JOIN pairs p ON p.id = sa.pair_id
			LEFT JOIN checkins c ON c.id = sa.checkin_id
			-- or a critical answer to a measure (issue 20)
			LEFT JOIN measure_responses mr ON mr.id = sa.measure_response_id
			WHERE sa.id = $1 AND `+cond+`
			FOR NO KEY UPDATE OF sa`, append([]any{alertID}, args...)...)
		if errors.Is(err, sql.ErrNoRows) {
			return mend.NotFound("Safety flag")
		}
		if err != nil {
			return fmt.Errorf("review: load alert: %w", err)
		}
		flagged = Flagged{CheckinID: a.CheckinID, PairID: a.PairID}
		if a.AckedAt.Valid {
			return mend.Errorf(mend.ECONFLICT, "This safety flag was already acknowledged.")
		}
		note = strings.TrimSpace(note)
		var fe mend.FieldErrors
		switch {
		case note == "":
			fe.Add("note", "Say what you did or will do, e.g. “Phoned them; we agreed a safety plan.”")
		case !utf8.ValidString(note):
			fe.Add("note", "The note contains characters that cannot be stored.")
		case utf8.RuneCountInString(note) > MaxAckNote:
			fe.Add("note", fmt.Sprintf("Keep the note to %d characters.", MaxAckNote))
		}
		if err := fe.Err(); err != nil {
			return err
		}
		sealed, err := s.Vault.SealText(ctx, tx, vault.PairScope(a.PracticeID, a.PairID), vault.AlertAckNote, alertID, note)
		if err != nil {
			return fmt.Errorf("review: seal note: %w", err)
		}
		if _, err := s.stmts.On(s.DB, tx).Exec(ctx, `
			UPDATE safety_alerts SET acknowledged_at = $2, acknowledged_by = $3, ack_note = $4 WHERE id = $1`,
			alertID, s.Clock.Time(), sc.UserID, sealed); err != nil {
			return fmt.Errorf("review: acknowledge: %w", err)
		}
		return s.Audit.Record(ctx, tx, sc, audit.Entry{Action: "safety_alert.acknowledge", ObjectType: "safety_alert",
			ObjectID: alertID, ClientID: a.ClientID})
	})
	return flagged, err
}

// Flagged is what a safety flag was raised on: a check-in, or (CheckinID
// 0) a critical answer to a measure, read on the pair's measures tab. It
// is set once the flag is found in the caller's scope, even when the
// acknowledgement is then refused, so the form can be shown again.
type Flagged struct {
	CheckinID, PairID int64
}

// Next returns the check-in to review after the one with id after (0: the
// first of the queue), in the dashboard's order, wrapping round to the
// start; 0 when nothing else is waiting. Only counselors have a queue.
func (s *Store) Next(ctx context.Context, sc mend.Scope, after int64) (int64, error) {
	if sc.Role != mend.RoleCounselor {
		return 0, nil
	}
	var ids []int64
	// The first branch is the next in order after the given check-in; the
	// second, the start of the queue (for after = 0 or past the end). The
	// pivot must be in the caller's own caseload: another counselor's
	// check-in id finds no pivot and reads as "from the start", so where
	// the answer lands says nothing about that check-in (its safety flag).
	err := s.stmts.Select(ctx, s.DB, &ids, `
		SELECT q.id FROM (
			(SELECT c.id, 0 AS branch FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
			 WHERE `+access.CounselorPairs("p", "$1", "$2")+` AND p.status <> 'closed'
			   AND (NOT c.safety_flag, c.created_at, c.id) >
			       (SELECT NOT k.safety_flag, k.created_at, k.id FROM checkins k JOIN pairs p ON p.id = k.pair_id
			        WHERE k.id = $3 AND `+access.CounselorPairs("p", "$1", "$2")+`)
			 ORDER BY `+queueOrder+` LIMIT 1)
			UNION ALL
			(SELECT c.id, 1 AS branch FROM pairs p JOIN checkins c ON c.pair_id = p.id AND c.reviewed_at IS NULL
			 WHERE `+access.CounselorPairs("p", "$1", "$2")+` AND p.status <> 'closed' AND c.id <> $3
			 ORDER BY `+queueOrder+` LIMIT 1)
		) q ORDER BY q.branch LIMIT 1`, sc.PracticeID, sc.UserID, after)
	if err != nil {
		return 0, fmt.Errorf("review: next: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// ClientFeedback is feedback as a client reads it on their home. The About
// fields name the check-in only for feedback to this client alone about a
// check-in they may see. Feedback to both never names its check-in (every
// such item reads "About your homework together"): had it named the
// visible ones only, the one without a name would show that the partner
// kept a check-in for the counselor.
type ClientFeedback struct {
	ID            int64          `db:"id"`
	Body          string         `db:"-"`
	SealedBody    []byte         `db:"body"` // as read; opened into Body
	CounselorName string         `db:"counselor_name"`
	ToBoth        bool           `db:"to_both"`
	CreatedAt     time.Time      `db:"created_at"`
	AboutMine     bool           `db:"about_mine"`
	AboutName     sql.NullString `db:"about_name"`
	AboutTitle    sql.NullString `db:"about_title"`
	AboutStart    *checkin.Date  `db:"about_start"`
	AboutEnd      *checkin.Date  `db:"about_end"`
}

// LatestFeedback returns the newest feedback the client may read, newest
// first: addressed to them, or to both members of their pair. Feedback to
// the partner alone is filtered out in SQL.
func (s *Store) LatestFeedback(ctx context.Context, sc mend.Scope, limit int) ([]ClientFeedback, error) {
	return s.Feedback(ctx, sc, limit, 0)
}

// Feedback is LatestFeedback from offset on: the client's page of all
// feedback.
func (s *Store) Feedback(ctx context.Context, sc mend.Scope, limit, offset int) ([]ClientFeedback, error) {
	if sc.Role != mend.RoleClient {
		return nil, nil
	}
	var out []ClientFeedback
	err := s.stmts.Select(ctx, s.DB, &out, `
		SELECT f.id, f.body, u.name AS counselor_name, f.audience = 'both' AS to_both, f.created_at,
		       c.user_id = $2 AS about_mine,
		       CASE WHEN f.audience <> 'both' AND (c.user_id = $2 OR c.visibility = 'partner') THEN au.name END AS about_name,
		       CASE WHEN f.audience <> 'both' AND (c.user_id = $2 OR c.visibility = 'partner') THEN v.title END AS about_title,
		       CASE WHEN f.audience <> 'both' AND (c.user_id = $2 OR c.visibility = 'partner') THEN c.period_start END AS about_start,
		       CASE WHEN f.audience <> 'both' AND (c.user_id = $2 OR c.visibility = 'partner') THEN c.period_end END AS about_end
		FROM feedback f
		JOIN pair_members pm ON `+access.Member("pm", "f.pair_id", "$2")+` AND pm.current
		JOIN users u ON u.id = f.counselor_id
		JOIN checkins c ON c.id = f.checkin_id
		JOIN users au ON au.id = c.user_id
		JOIN assignments a ON a.id = c.assignment_id
		JOIN step_versions v ON v.id = a.step_version_id
		WHERE f.practice_id = $1 AND (f.audience = 'both' OR f.recipient_id = $2)
		ORDER BY f.created_at DESC, f.id DESC
		LIMIT $3 OFFSET $4`, sc.PracticeID, sc.UserID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("review: client feedback: %w", err)
	}
	for i := range out {
		if out[i].Body, err = s.Vault.OpenText(ctx, s.DB, vault.FeedbackBody, out[i].ID, out[i].SealedBody); err != nil {
			return nil, fmt.Errorf("review: feedback %d: %w", out[i].ID, err)
		}
	}
	return out, nil
}

// CheckinsTab is one page of a pair's check-ins tab: the check-ins (read
// the one way staff read them) with the feedback on each.
type CheckinsTab struct {
	checkin.PairCheckins
	Feedback map[int64][]Feedback // by check-in id
}

// FeedbackOn is the feedback on one check-in of the page.
func (t CheckinsTab) FeedbackOn(checkinID int64) []Feedback { return t.Feedback[checkinID] }

// PairCheckins returns a page of a pair's check-ins, narrowed by f, each
// with its feedback, for the pair's counselor or an admin.
func (s *Store) PairCheckins(ctx context.Context, sc mend.Scope, pairID int64, f checkin.PairFilter, pr paging.Request) (CheckinsTab, error) {
	l, err := s.Checkins.ForPair(ctx, sc, pairID, f, pr)
	if err != nil {
		return CheckinsTab{}, err
	}
	t := CheckinsTab{PairCheckins: l, Feedback: map[int64][]Feedback{}}
	ids := make([]int64, len(l.Items))
	for i, c := range l.Items {
		ids[i] = c.ID
	}
	fs, err := s.staffFeedback(ctx, sc, `f.pair_id = $1 AND f.checkin_id = ANY($2)`, pairID, pq.Array(ids))
	if err != nil {
		return CheckinsTab{}, err
	}
	for _, fb := range fs {
		t.Feedback[fb.CheckinID] = append(t.Feedback[fb.CheckinID], fb)
	}
	return t, nil
}
