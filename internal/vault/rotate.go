package vault

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/db"
)

// RotateOptions tune a rotation run.
type RotateOptions struct {
	// Fields to re-encrypt; nil means Fields().
	Fields []Field
	// BatchSize is how many rows are read and rewritten per transaction.
	BatchSize int
	// MaxBatches stops the run after that many batches (0: no limit). The
	// rotation stays open and the next run resumes it.
	MaxBatches int
	// Start is called once the amount of work is known; Progress after each
	// batch with the rows scanned in it.
	Start    func(total int64)
	Progress func(rows int64)
}

// RotateResult says what a run did.
type RotateResult struct {
	Rewrapped   int   // data keys rewrapped under the current master key
	NewKeys     int   // data keys created by this rotation
	Scanned     int64 // encrypted values looked at
	Reencrypted int64 // values rewritten under a new key
	Retired     int   // old data keys destroyed at the end
	Resumed     bool  // an unfinished rotation was continued
	Finished    bool  // false when MaxBatches stopped the run early
}

// rotationLock is the advisory lock that keeps two rotations from running
// at once.
const rotationLock = 727275

// Rotate rotates the keys:
//
//  1. every data key wrapped under an old master key is rewrapped under the
//     current one (so the old master key can then be dropped);
//  2. unless a rotation is already open, each scope gets a new data key and
//     its old key is retired — retired keys still decrypt;
//  3. every value under a retired key is re-encrypted under its scope's new
//     key, in batches; a run stopped at any point is resumed by the next;
//  4. when no value uses a retired key any more, the retired keys are
//     destroyed and the rotation is closed.
func (v *Vault) Rotate(ctx context.Context, opts RotateOptions) (RotateResult, error) {
	var res RotateResult
	if opts.Fields == nil {
		opts.Fields = Fields()
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	conn, err := v.db.Connx(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	var locked bool
	if err := conn.GetContext(ctx, &locked, `SELECT pg_try_advisory_lock($1)`, rotationLock); err != nil {
		return res, fmt.Errorf("vault: rotation lock: %w", err)
	}
	if !locked {
		return res, errors.New("vault: another key rotation is running")
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, rotationLock)

	if res.Rewrapped, err = v.rewrapAll(ctx); err != nil {
		return res, err
	}
	rotationID, resumed, newKeys, err := v.openRotation(ctx)
	if err != nil {
		return res, err
	}
	res.Resumed, res.NewKeys = resumed, newKeys

	successor, err := v.successors(ctx)
	if err != nil {
		return res, err
	}
	var total int64
	for _, f := range opts.Fields {
		var n int64
		if err := v.db.GetContext(ctx, &n, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s IS NOT NULL`,
			pq.QuoteIdentifier(f.Table), pq.QuoteIdentifier(f.Column))); err != nil {
			return res, fmt.Errorf("vault: count %s: %w", f, err)
		}
		total += n
	}
	if opts.Start != nil {
		opts.Start(total)
	}
	batches := 0
	for _, f := range opts.Fields {
		var cursor int64
		for {
			if opts.MaxBatches > 0 && batches >= opts.MaxBatches {
				return res, nil
			}
			n, last, re, err := v.reencryptBatch(ctx, f, cursor, opts.BatchSize, successor)
			if err != nil {
				return res, err
			}
			batches++
			res.Scanned += int64(n)
			res.Reencrypted += re
			if opts.Progress != nil && n > 0 {
				opts.Progress(int64(n))
			}
			if re > 0 {
				if _, err := v.db.ExecContext(ctx, `UPDATE key_rotations SET rows_done = rows_done + $2 WHERE id = $1`, rotationID, re); err != nil {
					return res, err
				}
			}
			if n < opts.BatchSize {
				break
			}
			cursor = last
		}
	}
	retired, err := v.finish(ctx, rotationID, opts.Fields, successor)
	if err != nil {
		return res, err
	}
	res.Retired, res.Finished = retired, true
	return res, nil
}

// rewrapAll rewraps every data key that is not under the current master key.
func (v *Vault) rewrapAll(ctx context.Context) (int, error) {
	var keys []keyRow
	if err := v.db.SelectContext(ctx, &keys, `SELECT `+keyColumns+` FROM data_keys WHERE master_id <> $1 ORDER BY id`, v.current.id); err != nil {
		return 0, fmt.Errorf("vault: keys to rewrap: %w", err)
	}
	for _, k := range keys {
		raw, err := v.unwrap(k)
		if err != nil {
			return 0, err
		}
		w, err := v.wrap(k.ID, k.scope(), raw)
		if err != nil {
			return 0, err
		}
		if _, err := v.db.ExecContext(ctx, `UPDATE data_keys SET wrapped = $2, master_id = $3 WHERE id = $1 AND master_id = $4`,
			k.ID, w, v.current.id, k.MasterID); err != nil {
			return 0, fmt.Errorf("vault: rewrap key %d: %w", k.ID, err)
		}
	}
	return len(keys), nil
}

// openRotation resumes the open rotation, or opens one: each active key is
// retired and replaced by a new version, in one transaction. Retiring takes
// the row locks that Seal's FOR SHARE holds, so writes in flight with the old
// key commit first.
func (v *Vault) openRotation(ctx context.Context) (id int64, resumed bool, newKeys int, err error) {
	err = db.InTx(ctx, v.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, `SELECT id FROM key_rotations WHERE finished_at IS NULL`)
		if err == nil {
			resumed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO key_rotations DEFAULT VALUES RETURNING id`); err != nil {
			return err
		}
		var old []keyRow
		if err := tx.SelectContext(ctx, &old, `
			UPDATE data_keys SET active = false, retired_at = now() WHERE active RETURNING `+keyColumns); err != nil {
			return err
		}
		for _, k := range old {
			if err := v.createKey(ctx, tx, k.scope()); err != nil {
				return err
			}
		}
		newKeys = len(old)
		return nil
	})
	if err != nil {
		return 0, false, 0, fmt.Errorf("vault: open rotation: %w", err)
	}
	return id, resumed, newKeys, nil
}

// successor maps each retired key to its scope's active key.
type successor map[int64]int64

func (v *Vault) successors(ctx context.Context) (successor, error) {
	var rows []struct {
		Old int64 `db:"old_id"`
		New int64 `db:"new_id"`
	}
	if err := v.db.SelectContext(ctx, &rows, `
		SELECT o.id AS old_id, n.id AS new_id
		FROM data_keys o
		JOIN data_keys n ON n.practice_id = o.practice_id AND n.pair_id IS NOT DISTINCT FROM o.pair_id AND n.active
		WHERE NOT o.active`); err != nil {
		return nil, fmt.Errorf("vault: successors: %w", err)
	}
	m := successor{}
	for _, r := range rows {
		m[r.Old] = r.New
	}
	return m, nil
}

// reencryptBatch reads up to size values of f after cursor and rewrites
// those under a retired key. A row changed meanwhile is left alone: whoever
// changed it wrote it under the active key. It returns the rows read, the
// last row id and how many were rewritten.
func (v *Vault) reencryptBatch(ctx context.Context, f Field, cursor int64, size int, next successor) (int, int64, int64, error) {
	table, col, idc := pq.QuoteIdentifier(f.Table), pq.QuoteIdentifier(f.Column), pq.QuoteIdentifier(f.IDColumn)
	var n int
	var last, rewritten int64
	err := db.InTx(ctx, v.db, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryxContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s > $1 AND %s IS NOT NULL ORDER BY %s LIMIT $2`,
			idc, col, table, idc, col, idc), cursor, size)
		if err != nil {
			return err
		}
		type item struct {
			id int64
			ct []byte
		}
		var todo []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.id, &it.ct); err != nil {
				rows.Close()
				return err
			}
			n++
			last = it.id
			if kid, err := KeyID(it.ct); err == nil {
				if _, retired := next[kid]; retired {
					todo = append(todo, it)
				}
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range todo {
			oldID, _ := KeyID(it.ct)
			oldKey, err := v.keyByID(ctx, tx, oldID)
			if err != nil {
				return fmt.Errorf("%s row %d: %w", f, it.id, err)
			}
			pt, err := openWith(oldKey, f, it.id, it.ct)
			if err != nil {
				return fmt.Errorf("%s row %d: %w", f, it.id, err)
			}
			newID := next[oldID]
			newKey, err := v.keyByID(ctx, tx, newID)
			if err != nil {
				return err
			}
			ct, err := sealWith(newID, newKey, f, it.id, pt)
			if err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2 AND %s = $3`, table, col, idc, col),
				ct, it.id, it.ct)
			if err != nil {
				return err
			}
			if k, _ := r.RowsAffected(); k > 0 {
				rewritten++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("vault: re-encrypt %s: %w", f, err)
	}
	return n, last, rewritten, nil
}

// finish destroys the retired keys once no value uses them, and closes the
// rotation. Values written under a retired key after their batch was passed
// (by a writer that read the key before the rotation opened) are caught
// here and re-encrypted first.
func (v *Vault) finish(ctx context.Context, rotationID int64, fields []Field, next successor) (int, error) {
	if len(next) == 0 {
		_, err := v.db.ExecContext(ctx, `UPDATE key_rotations SET finished_at = now() WHERE id = $1`, rotationID)
		return 0, err
	}
	headers := make(pq.ByteaArray, 0, len(next))
	for id := range next {
		headers = append(headers, keyHeader(id))
	}
	for _, f := range fields {
		for {
			var ids []int64
			if err := v.db.SelectContext(ctx, &ids, fmt.Sprintf(`SELECT %s FROM %s WHERE substring(%s from 1 for %d) = ANY($1) ORDER BY 1`,
				pq.QuoteIdentifier(f.IDColumn), pq.QuoteIdentifier(f.Table), pq.QuoteIdentifier(f.Column), headerLen), headers); err != nil {
				return 0, fmt.Errorf("vault: check %s: %w", f, err)
			}
			if len(ids) == 0 {
				break
			}
			if _, _, _, err := v.reencryptBatch(ctx, f, ids[0]-1, len(ids)+1, next); err != nil {
				return 0, err
			}
		}
	}
	var destroyed []int64
	err := db.InTx(ctx, v.db, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &destroyed, `DELETE FROM data_keys WHERE NOT active RETURNING id`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE key_rotations SET finished_at = now() WHERE id = $1`, rotationID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("vault: finish rotation: %w", err)
	}
	v.forget(destroyed...)
	return len(destroyed), nil
}

func keyHeader(id int64) []byte {
	h := make([]byte, headerLen)
	h[0] = formatV1
	binary.BigEndian.PutUint64(h[1:], uint64(id))
	return h
}

// Status is what `mend keys status` shows.
type Status struct {
	ActiveKeys    int  `db:"active_keys"`
	RetiredKeys   int  `db:"retired_keys"`
	OldMasterKeys int  `db:"old_master_keys"` // keys still wrapped under an old master key
	RotationOpen  bool `db:"rotation_open"`
}

// Status counts keys by state.
func (v *Vault) Status(ctx context.Context) (Status, error) {
	var s Status
	err := v.db.GetContext(ctx, &s, `
		SELECT count(*) FILTER (WHERE active) AS active_keys,
		       count(*) FILTER (WHERE NOT active) AS retired_keys,
		       count(*) FILTER (WHERE master_id <> $1) AS old_master_keys,
		       EXISTS (SELECT 1 FROM key_rotations WHERE finished_at IS NULL) AS rotation_open
		FROM data_keys`, v.current.id)
	return s, err
}
