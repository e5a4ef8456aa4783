package library

import (
	"context"
	_ "embed" // the built-in library ships inside the binary
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
)

//go:embed builtin/steps.json
var builtinJSON []byte

// BuiltinData is the embedded built-in library (test databases are named
// after it, so that a wording change gives a fresh template).
func BuiltinData() []byte { return builtinJSON }

type builtinFile struct {
	Version int           `json:"version"`
	Steps   []builtinStep `json:"steps"`
	Plans   []builtinPlan `json:"plans"`
}

type builtinStep struct {
	Key string `json:"key"`
	Content
}

type builtinPlan struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Steps       []struct {
		Step string `json:"step"`
		Days int    `json:"days"`
	} `json:"steps"`
}

// BuiltinPlanKey is the key of the built-in plan that follows the articles'
// order (the demo applies it).
const BuiltinPlanKey = "core-path"

func parseBuiltins() (builtinFile, error) {
	var f builtinFile
	if err := json.Unmarshal(builtinJSON, &f); err != nil {
		return f, fmt.Errorf("library: builtin/steps.json: %w", err)
	}
	keys := map[string]bool{}
	for _, s := range f.Steps {
		if s.Key == "" || keys[s.Key] {
			return f, fmt.Errorf("library: builtin step key %q missing or repeated", s.Key)
		}
		keys[s.Key] = true
		if err := s.Content.validBuiltin(); err != nil {
			return f, fmt.Errorf("library: builtin step %s: %v", s.Key, err)
		}
	}
	for _, p := range f.Plans {
		for _, ps := range p.Steps {
			if !keys[ps.Step] || ps.Days < 1 || ps.Days > maxDuration {
				return f, fmt.Errorf("library: builtin plan %s: bad step %q (%d days)", p.Key, ps.Step, ps.Days)
			}
		}
	}
	return f, nil
}

// SyncBuiltins makes the database's built-in steps and plans match the
// embedded file. It runs after migrations (mend migrate, serve, web, and
// the test template). A step whose wording changed gets a new version;
// homework keeps the version it was given. Steps no longer in the file are
// archived, not deleted, because homework may point at them. Several
// replicas starting at once are serialised by an advisory lock.
func SyncBuiltins(ctx context.Context, d *sqlx.DB) error {
	f, err := parseBuiltins()
	if err != nil {
		return err
	}
	return db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727275)`); err != nil {
			return err
		}
		ids := map[string]int64{}
		keys := make([]string, 0, len(f.Steps))
		for i, s := range f.Steps {
			id, err := syncStep(ctx, tx, i+1, s)
			if err != nil {
				return fmt.Errorf("library: sync step %s: %w", s.Key, err)
			}
			ids[s.Key] = id
			keys = append(keys, s.Key)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE steps SET archived_at = now()
			WHERE practice_id IS NULL AND archived_at IS NULL AND NOT (key = ANY($1))`, pq.Array(keys)); err != nil {
			return err
		}
		for _, p := range f.Plans {
			if err := syncPlan(ctx, tx, p, ids); err != nil {
				return fmt.Errorf("library: sync plan %s: %w", p.Key, err)
			}
		}
		return nil
	})
}

func syncStep(ctx context.Context, tx *sqlx.Tx, position int, s builtinStep) (int64, error) {
	var row struct {
		ID        int64  `db:"id"`
		VersionID *int64 `db:"current_version_id"`
	}
	if err := tx.GetContext(ctx, &row, `
		INSERT INTO steps (key, position) VALUES ($1, $2)
		ON CONFLICT (key) WHERE practice_id IS NULL
		DO UPDATE SET position = EXCLUDED.position, archived_at = NULL
		RETURNING id, current_version_id`, s.Key, position); err != nil {
		return 0, err
	}
	version := 1
	if row.VersionID != nil {
		var cur Version
		if err := tx.GetContext(ctx, &cur, `
			SELECT id, step_id, version, created_at, title, summary, why, instructions, questions, duration_days, reveal_rule
			FROM step_versions WHERE id = $1`, *row.VersionID); err != nil {
			return 0, err
		}
		if cur.Content.same(s.Content) {
			return row.ID, nil
		}
		version = cur.Version + 1
	}
	_, err := addVersion(ctx, tx, row.ID, nullID(0), version, s.Content, 0)
	return row.ID, err
}

func syncPlan(ctx context.Context, tx *sqlx.Tx, p builtinPlan, ids map[string]int64) error {
	var id int64
	if err := tx.GetContext(ctx, &id, `
		INSERT INTO plans (key, name, description) VALUES ($1, $2, $3)
		ON CONFLICT (key) WHERE practice_id IS NULL
		DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, archived_at = NULL
		RETURNING id`, p.Key, p.Name, p.Description); err != nil {
		return err
	}
	want := make([]parsedRow, len(p.Steps))
	for i, ps := range p.Steps {
		want[i] = parsedRow{stepID: ids[ps.Step], days: ps.Days}
	}
	var have []struct {
		StepID int64 `db:"step_id"`
		Days   int   `db:"days"`
	}
	if err := tx.SelectContext(ctx, &have, `SELECT step_id, days FROM plan_steps WHERE plan_id = $1 ORDER BY position`, id); err != nil {
		return err
	}
	got := make([]parsedRow, len(have))
	for i, h := range have {
		got[i] = parsedRow{stepID: h.StepID, days: h.Days}
	}
	if reflect.DeepEqual(got, want) {
		return nil
	}
	return writePlanSteps(ctx, tx, id, nullID(0), want)
}
