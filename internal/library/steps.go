package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
)

// Store reads and changes the library.
type Store struct {
	DB *sqlx.DB
}

// NewStore returns the library store.
func NewStore(d *sqlx.DB) *Store { return &Store{DB: d} }

// Step is a step at its current version.
type Step struct {
	ID              int64          `db:"id"`
	PracticeID      sql.NullInt64  `db:"practice_id"`
	Key             sql.NullString `db:"key"`
	CopiedFromID    sql.NullInt64  `db:"copied_from_step_id"`
	CopiedFromTitle sql.NullString `db:"copied_from_title"`
	VersionID       int64          `db:"version_id"`
	Version         int            `db:"version"`
	UpdatedAt       time.Time      `db:"updated_at"`
	UpdatedBy       sql.NullString `db:"updated_by"`
	Content
}

// BuiltIn reports whether the step ships with Mend (read-only).
func (s Step) BuiltIn() bool { return !s.PracticeID.Valid }

// Version is one saved wording of a step.
type Version struct {
	ID        int64     `db:"id"`
	StepID    int64     `db:"step_id"`
	Version   int       `db:"version"`
	CreatedAt time.Time `db:"created_at"`
	Content
}

// staff refuses callers who are not staff: the library is a staff tool.
func staff(sc mend.Scope) error {
	if !sc.Role.IsStaff() {
		return mend.NotFound("Step")
	}
	return nil
}

const stepColumns = `
	s.id, s.practice_id, s.key, s.copied_from_step_id, cv.title AS copied_from_title,
	v.id AS version_id, v.version, s.updated_at, u.name AS updated_by,
	v.title, v.summary, v.why, v.instructions, v.questions, v.duration_days, v.reveal_rule`

const stepFrom = `
	FROM steps s
	JOIN step_versions v ON v.id = s.current_version_id
	LEFT JOIN users u ON u.id = v.created_by
	LEFT JOIN steps cs ON cs.id = s.copied_from_step_id
	LEFT JOIN step_versions cv ON cv.id = cs.current_version_id`

// List returns a page of the steps the caller's practice can use: built-in
// ones first in their teaching order, then the practice's own by title.
// A query narrows the list by title and text (full-text, prefix-matching
// each word) and orders it by relevance.
func (s *Store) List(ctx context.Context, sc mend.Scope, query string, pr paging.Request) (paging.Page[Step], error) {
	if err := staff(sc); err != nil {
		return paging.Page[Step]{}, err
	}
	var rows []Step
	var err error
	if tsq := prefixQuery(query); tsq != "" {
		err = s.DB.SelectContext(ctx, &rows, `SELECT `+stepColumns+stepFrom+`
			WHERE (s.practice_id IS NULL OR s.practice_id = $1) AND s.archived_at IS NULL
			  AND v.search @@ to_tsquery('english', $2)
			ORDER BY ts_rank(v.search, to_tsquery('english', $2)) DESC, s.id
			LIMIT $3 OFFSET $4`, sc.PracticeID, tsq, pr.Limit(), pr.Offset())
	} else {
		err = s.DB.SelectContext(ctx, &rows, `SELECT `+stepColumns+stepFrom+`
			WHERE (s.practice_id IS NULL OR s.practice_id = $1) AND s.archived_at IS NULL
			ORDER BY s.practice_id IS NOT NULL, s.position, CASE WHEN s.practice_id IS NULL THEN '' ELSE lower(v.title) END, s.id
			LIMIT $2 OFFSET $3`, sc.PracticeID, pr.Limit(), pr.Offset())
	}
	if err != nil {
		return paging.Page[Step]{}, fmt.Errorf("library: list steps: %w", err)
	}
	return paging.Of(pr, rows), nil
}

var wordRE = regexp.MustCompile(`[\p{L}\p{N}]+`)

// prefixQuery turns typed words into a to_tsquery string where every word
// must match as a prefix ("forgiv listen" → "forgiv:* & listen:*"). Only
// letters and digits survive, so the result is always valid tsquery syntax.
func prefixQuery(q string) string {
	words := wordRE.FindAllString(strings.ToLower(q), 8)
	for i, w := range words {
		words[i] = w + ":*"
	}
	return strings.Join(words, " & ")
}

// Option is a step as offered in a select.
type Option struct {
	ID           int64  `db:"id"`
	Title        string `db:"title"`
	BuiltIn      bool   `db:"builtin"`
	DurationDays int    `db:"duration_days"`
}

// Options lists every usable step for the caller's practice, for choosing
// one in a form: built-ins in teaching order, then the practice's by title.
func (s *Store) Options(ctx context.Context, sc mend.Scope) ([]Option, error) {
	if err := staff(sc); err != nil {
		return nil, err
	}
	var rows []Option
	err := s.DB.SelectContext(ctx, &rows, `
		SELECT s.id, v.title, s.practice_id IS NULL AS builtin, v.duration_days
		FROM steps s JOIN step_versions v ON v.id = s.current_version_id
		WHERE (s.practice_id IS NULL OR s.practice_id = $1) AND s.archived_at IS NULL
		ORDER BY s.practice_id IS NOT NULL, s.position, CASE WHEN s.practice_id IS NULL THEN '' ELSE lower(v.title) END, s.id
		LIMIT 1000`, sc.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("library: step options: %w", err)
	}
	return rows, nil
}

// Get returns a step the caller's practice can see, at its current version.
func (s *Store) Get(ctx context.Context, sc mend.Scope, id int64) (Step, error) {
	if err := staff(sc); err != nil {
		return Step{}, err
	}
	return s.get(ctx, s.DB, sc, id, false)
}

func (s *Store) get(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64, forUpdate bool) (Step, error) {
	var st Step
	query := `SELECT ` + stepColumns + stepFrom + `
		WHERE s.id = $1 AND (s.practice_id IS NULL OR s.practice_id = $2)`
	if forUpdate {
		query += ` FOR UPDATE OF s`
	}
	err := sqlx.GetContext(ctx, q, &st, query, id, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Step{}, mend.NotFound("Step")
	}
	if err != nil {
		return Step{}, fmt.Errorf("library: get step: %w", err)
	}
	return st, nil
}

// Versions lists a step's saved versions, newest first.
func (s *Store) Versions(ctx context.Context, sc mend.Scope, stepID int64) ([]Version, error) {
	if err := staff(sc); err != nil {
		return nil, err
	}
	var vs []Version
	err := s.DB.SelectContext(ctx, &vs, `
		SELECT v.id, v.step_id, v.version, v.created_at, v.title, v.summary, v.why, v.instructions, v.questions, v.duration_days, v.reveal_rule
		FROM step_versions v JOIN steps s ON s.id = v.step_id
		WHERE v.step_id = $1 AND (s.practice_id IS NULL OR s.practice_id = $2)
		ORDER BY v.version DESC LIMIT 50`, stepID, sc.PracticeID)
	if err != nil {
		return nil, fmt.Errorf("library: versions: %w", err)
	}
	return vs, nil
}

// Create adds a practice-owned step at version 1.
func (s *Store) Create(ctx context.Context, sc mend.Scope, in StepInput) (Step, error) {
	if err := staff(sc); err != nil {
		return Step{}, err
	}
	c, err := in.Parse()
	if err != nil {
		return Step{}, err
	}
	var id int64
	err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		id, err = insertStep(ctx, tx, sc, c, 0)
		return err
	})
	if err != nil {
		return Step{}, err
	}
	return s.Get(ctx, sc, id)
}

func insertStep(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, c Content, copiedFrom int64) (int64, error) {
	var id int64
	if err := tx.GetContext(ctx, &id, `
		INSERT INTO steps (practice_id, copied_from_step_id, created_by) VALUES ($1, $2, $3) RETURNING id`,
		sc.PracticeID, nullID(copiedFrom), nullID(sc.UserID)); err != nil {
		return 0, fmt.Errorf("library: insert step: %w", err)
	}
	if _, err := addVersion(ctx, tx, id, sql.NullInt64{Int64: sc.PracticeID, Valid: true}, 1, c, sc.UserID); err != nil {
		return 0, err
	}
	return id, nil
}

func addVersion(ctx context.Context, tx *sqlx.Tx, stepID int64, practiceID sql.NullInt64, version int, c Content, by int64) (int64, error) {
	var vid int64
	if err := tx.GetContext(ctx, &vid, `
		INSERT INTO step_versions (step_id, practice_id, version, title, summary, why, instructions, questions, duration_days, created_by, reveal_rule)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		stepID, practiceID, version, c.Title, c.Summary, c.Why, c.Instructions, c.Questions, c.DurationDays, nullID(by), c.Reveal); err != nil {
		return 0, fmt.Errorf("library: insert step version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE steps SET current_version_id = $2, updated_at = now() WHERE id = $1`, stepID, vid); err != nil {
		return 0, fmt.Errorf("library: set current version: %w", err)
	}
	return vid, nil
}

// ErrBuiltInReadOnly is returned for changes to a built-in step or plan.
var errBuiltInReadOnly = mend.Errorf(mend.EFORBIDDEN, "Built-in steps and plans are read-only. Make a copy to change it.")

// Update saves new wording for a practice-owned step as a new version;
// homework given the old version keeps it. Saving unchanged text adds no
// version. Built-in steps cannot be changed.
func (s *Store) Update(ctx context.Context, sc mend.Scope, id int64, in StepInput) (Step, error) {
	if err := staff(sc); err != nil {
		return Step{}, err
	}
	c, verr := in.Parse()
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.get(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if cur.BuiltIn() {
			return errBuiltInReadOnly
		}
		if verr != nil {
			return verr
		}
		if cur.Content.same(c) {
			return nil
		}
		_, err = addVersion(ctx, tx, id, cur.PracticeID, cur.Version+1, c, sc.UserID)
		return err
	})
	if err != nil {
		return Step{}, err
	}
	return s.Get(ctx, sc, id)
}

// Copy makes a practice-owned, editable copy of a step (built-in or not)
// at version 1, remembering where it came from.
func (s *Store) Copy(ctx context.Context, sc mend.Scope, id int64) (Step, error) {
	if err := staff(sc); err != nil {
		return Step{}, err
	}
	var newID int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		src, err := s.get(ctx, tx, sc, id, false)
		if err != nil {
			return err
		}
		newID, err = insertStep(ctx, tx, sc, src.Content, src.ID)
		return err
	})
	if err != nil {
		return Step{}, err
	}
	return s.Get(ctx, sc, newID)
}

// CurrentVersion returns the current version id of a step the caller's
// practice can use (not archived): what new homework is given.
func CurrentVersion(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, stepID int64) (int64, error) {
	var vid int64
	err := sqlx.GetContext(ctx, q, &vid, `
		SELECT current_version_id FROM steps
		WHERE id = $1 AND (practice_id IS NULL OR practice_id = $2) AND archived_at IS NULL`, stepID, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mend.NotFound("Step")
	}
	return vid, err
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
