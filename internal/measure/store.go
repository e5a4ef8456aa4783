package measure

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/vault"
)

// Store keeps measures, their versions, their assignments to pairs and the
// answers. Every method takes the caller's Scope:
//
//   - definitions are the practice's: staff read them, admins write them;
//   - assignments and answers are a pair's, restricted through
//     internal/access: staff see every answer of their pairs, a client only
//     their own answers and, when the definition shares the total, the
//     partner's total and band — never the partner's answers.
//
// Item values are sealed under the pair's data key (vault.MeasureAnswers).
type Store struct {
	DB         *sqlx.DB
	Vault      *vault.Vault
	Audit      *audit.Log
	Outbox     *mail.Outbox
	BaseURL    string // for the link in safety alert emails
	mend.Clock        // Now: the clock; tests set it (nil: time.Now)

	stmts db.Statements // the client home's query of due measures, prepared
}

// NewStore builds a measure store.
func NewStore(d *sqlx.DB, v *vault.Vault, a *audit.Log, ob *mail.Outbox, baseURL string) *Store {
	return &Store{DB: d, Vault: v, Audit: a, Outbox: ob, BaseURL: baseURL}
}

func staff(sc mend.Scope) bool { return sc.Role == mend.RoleAdmin || sc.Role == mend.RoleCounselor }

// OverdueDays is how long after its due date an unanswered measure counts
// as overdue (the attention queue, the nudge).
const OverdueDays = 3

// Measure is a measure at its current version.
type Measure struct {
	ID         int64      `db:"id"`
	Version    int        `db:"version"`
	VersionID  int64      `db:"version_id"`
	Active     bool       `db:"active"`
	Name       string     `db:"name"`
	Raw        []byte     `db:"definition"`
	CreatedAt  time.Time  `db:"created_at"`
	Assigned   int        `db:"assigned"` // pairs it is given to now
	Definition Definition `db:"-"`
}

const measureColumns = `m.id, m.current_version AS version, v.id AS version_id, m.active, v.name, v.definition, m.created_at,
	(SELECT count(*) FROM measure_assignments ma WHERE ma.measure_id = m.id AND ma.status = 'active') AS assigned`

func (m *Measure) parse() error {
	if err := json.Unmarshal(m.Raw, &m.Definition); err != nil {
		return fmt.Errorf("measure: definition of %d: %w", m.ID, err)
	}
	return nil
}

// List returns the practice's measures (staff), by name.
func (s *Store) List(ctx context.Context, sc mend.Scope) ([]Measure, error) {
	if !staff(sc) {
		return nil, mend.NotFound("Measures")
	}
	var out []Measure
	if err := s.DB.SelectContext(ctx, &out, `
		SELECT `+measureColumns+`
		FROM measures m JOIN measure_versions v ON v.measure_id = m.id AND v.version = m.current_version
		WHERE m.practice_id = $1 ORDER BY lower(v.name), m.id`, sc.PracticeID); err != nil {
		return nil, fmt.Errorf("measure: list: %w", err)
	}
	for i := range out {
		if err := out[i].parse(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Get returns one of the practice's measures (staff).
func (s *Store) Get(ctx context.Context, sc mend.Scope, id int64) (Measure, error) {
	if !staff(sc) {
		return Measure{}, mend.NotFound("Measure")
	}
	return s.get(ctx, s.DB, sc, id, false)
}

func (s *Store) get(ctx context.Context, q sqlx.QueryerContext, sc mend.Scope, id int64, lock bool) (Measure, error) {
	var m Measure
	query := `SELECT ` + measureColumns + `
		FROM measures m JOIN measure_versions v ON v.measure_id = m.id AND v.version = m.current_version
		WHERE m.id = $1 AND m.practice_id = $2`
	if lock {
		query += ` FOR UPDATE OF m`
	}
	err := sqlx.GetContext(ctx, q, &m, query, id, sc.PracticeID)
	if errors.Is(err, sql.ErrNoRows) {
		return Measure{}, mend.NotFound("Measure")
	}
	if err != nil {
		return Measure{}, fmt.Errorf("measure: get: %w", err)
	}
	return m, m.parse()
}

// Create saves a new measure (admin) as version 1, not yet active.
func (s *Store) Create(ctx context.Context, sc mend.Scope, d Definition) (int64, error) {
	if sc.Role != mend.RoleAdmin {
		return 0, mend.NotFound("Measures")
	}
	if err := d.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO measures (practice_id, created_by) VALUES ($1, $2) RETURNING id`,
			sc.PracticeID, sc.UserID); err != nil {
			return fmt.Errorf("measure: create: %w", err)
		}
		if err := s.insertVersion(ctx, tx, sc, id, 1, d); err != nil {
			return err
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "measure.create", ObjectType: "measure", ObjectID: id})
	})
	return id, err
}

func (s *Store) insertVersion(ctx context.Context, tx *sqlx.Tx, sc mend.Scope, id int64, version int, d Definition) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO measure_versions (practice_id, measure_id, version, name, definition, created_by)
		VALUES ($1, $2, $3, $4, $5, $6)`, sc.PracticeID, id, version, d.Name, string(b), sc.UserID); err != nil {
		return fmt.Errorf("measure: save version: %w", err)
	}
	return nil
}

// CreateFrom creates a measure from a shipped structure (admin).
func (s *Store) CreateFrom(ctx context.Context, sc mend.Scope, key string) (int64, error) {
	st, ok := Structures()[key]
	if !ok {
		var fe mend.FieldErrors
		fe.Add("structure", "Choose one of the structures in the list.")
		return 0, fe.Err()
	}
	return s.Create(ctx, sc, st.Definition)
}

// Import creates a measure from an exported file (admin), not yet active.
func (s *Store) Import(ctx context.Context, sc mend.Scope, file []byte) (int64, error) {
	if sc.Role != mend.RoleAdmin {
		return 0, mend.NotFound("Measures")
	}
	d, err := Import(file)
	if err != nil {
		return 0, err
	}
	return s.Create(ctx, sc, d)
}

// Export returns a measure's current version as a file, and a file name.
func (s *Store) Export(ctx context.Context, sc mend.Scope, id int64) ([]byte, string, error) {
	m, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, "", err
	}
	b, err := Export(m.Definition)
	return b, fmt.Sprintf("measure-%d-v%d.json", m.ID, m.Version), err
}

// Save stores d as the measure's next version (admin). Answers already
// given keep the version they were given under. An active measure stays
// active only with every item's text filled.
func (s *Store) Save(ctx context.Context, sc mend.Scope, id int64, d Definition) (int, error) {
	if sc.Role != mend.RoleAdmin {
		return 0, mend.NotFound("Measure")
	}
	if err := d.Validate(); err != nil {
		return 0, err
	}
	var version int
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		m, err := s.get(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if m.Active {
			if err := d.Ready(); err != nil {
				return err
			}
		}
		version = m.Version + 1
		if err := s.insertVersion(ctx, tx, sc, id, version, d); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE measures SET current_version = $2 WHERE id = $1`, id, version); err != nil {
			return fmt.Errorf("measure: save: %w", err)
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: "measure.edit", ObjectType: "measure", ObjectID: id})
	})
	return version, err
}

// SetActive activates (every item's text filled) or deactivates a measure
// (admin). Only active measures can be given to pairs.
func (s *Store) SetActive(ctx context.Context, sc mend.Scope, id int64, active bool) error {
	if sc.Role != mend.RoleAdmin {
		return mend.NotFound("Measure")
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		m, err := s.get(ctx, tx, sc, id, true)
		if err != nil {
			return err
		}
		if active {
			if err := m.Definition.Ready(); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE measures SET active = $2 WHERE id = $1`, id, active); err != nil {
			return fmt.Errorf("measure: activate: %w", err)
		}
		action := "measure.activate"
		if !active {
			action = "measure.deactivate"
		}
		return audit.Append(ctx, tx, sc, audit.Entry{Action: action, ObjectType: "measure", ObjectID: id})
	})
}
