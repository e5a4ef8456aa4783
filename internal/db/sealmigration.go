package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
)

// Cipher seals and opens column values for the migrations that move
// clinical text from plaintext columns into vault ciphertext.
// *vault.Vault implements it; the db package cannot import the vault (the
// vault uses this package), so the key comes in through this interface.
type Cipher interface {
	// SealColumn encrypts a value of table.column for row rowID (named by
	// idColumn) under the pair's data key (the practice's when pairID is 0).
	SealColumn(ctx context.Context, tx *sql.Tx, practiceID, pairID int64, table, column, idColumn string, rowID int64, plaintext []byte) ([]byte, error)
	// OpenColumn decrypts such a value.
	OpenColumn(ctx context.Context, tx *sql.Tx, table, column, idColumn string, rowID int64, ciphertext []byte) ([]byte, error)
}

// MigrateOption adjusts a migration run.
type MigrateOption func(*migrateOptions)

type migrateOptions struct {
	cipher Cipher
}

// WithCipher gives the data migrations the key that encrypts existing
// clinical text (and, migrating down, decrypts it).
func WithCipher(c Cipher) MigrateOption {
	return func(o *migrateOptions) { o.cipher = c }
}

// Versions of the Go migrations. 00055 (SQL) renamed each clinical text
// column to <column>_plaintext and added the bytea column under the old
// name; sealVersion encrypts every existing value into it; 00057 (SQL)
// drops the plaintext columns.
const sealVersion = 56

// goMigrationName names a Go migration in `mend migrate status`.
func goMigrationName(version int64) string {
	if version == sealVersion {
		return "00056_seal_clinical_text (Go)"
	}
	return ""
}

func goMigrations(c Cipher) []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(sealVersion,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return sealExisting(ctx, tx, c) }},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return unsealExisting(ctx, tx, c) }}),
	}
}

// sealedColumn is a clinical text column that 00055–00057 move to
// ciphertext. The encrypted column is Column; the plaintext one, while the
// move runs, is Column + "_plaintext".
type sealedColumn struct {
	Table, Column, IDColumn string
	// JSON: the plaintext column is jsonb, empty when '[]'.
	JSON bool
	// PairOf is an SQL expression for the row's pair id over alias t.
	PairOf string
}

func (c sealedColumn) plaintext() string { return c.Column + "_plaintext" }

// sealedColumns lists the columns the migrations move. Each one is also in
// vault.Fields (a test in the vault package holds the two lists together).
func sealedColumns() []sealedColumn {
	historyPair := `(SELECT c.pair_id FROM checkins c WHERE c.id = t.checkin_id)`
	return []sealedColumn{
		{Table: "checkins", Column: "answers", IDColumn: "id", JSON: true, PairOf: "t.pair_id"},
		{Table: "checkins", Column: "reflection", IDColumn: "id", PairOf: "t.pair_id"},
		{Table: "checkins", Column: "safety_note", IDColumn: "id", PairOf: "t.pair_id"},
		{Table: "checkin_history", Column: "answers", IDColumn: "id", JSON: true, PairOf: historyPair},
		{Table: "checkin_history", Column: "reflection", IDColumn: "id", PairOf: historyPair},
		{Table: "checkin_history", Column: "safety_note", IDColumn: "id", PairOf: historyPair},
		{Table: "safety_alerts", Column: "ack_note", IDColumn: "id", PairOf: "t.pair_id"},
		{Table: "assignments", Column: "note", IDColumn: "id", PairOf: "t.pair_id"},
		{Table: "feedback", Column: "body", IDColumn: "id", PairOf: "t.pair_id"},
	}
}

// SealedColumns names the columns the migrations encrypt, as
// "table.column" (for the vault's registry test).
func SealedColumns() []string {
	var out []string
	for _, c := range sealedColumns() {
		out = append(out, c.Table+"."+c.Column)
	}
	return out
}

// sealBatch bounds the rows held in memory at once.
const sealBatch = 1000

// sealExisting encrypts every non-empty plaintext value into its bytea
// column, in the migration's transaction: all rows or none. Empty values
// stay NULL (what the stores write for empty text). Without a cipher it
// fails, naming what needs the key, unless there is nothing to encrypt.
func sealExisting(ctx context.Context, tx *sql.Tx, c Cipher) error {
	for _, col := range sealedColumns() {
		table, id, plain, ct := pq.QuoteIdentifier(col.Table), pq.QuoteIdentifier(col.IDColumn),
			pq.QuoteIdentifier(col.plaintext()), pq.QuoteIdentifier(col.Column)
		nonEmpty := fmt.Sprintf(`t.%s <> ''`, plain)
		if col.JSON {
			nonEmpty = fmt.Sprintf(`t.%s <> '[]'::jsonb`, plain)
		}
		pending := fmt.Sprintf(`%s AND t.%s IS NULL`, nonEmpty, ct)
		if c == nil {
			var n int64
			if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s t WHERE %s`, table, pending)).Scan(&n); err != nil {
				return fmt.Errorf("db: count %s.%s: %w", col.Table, col.Column, err)
			}
			if n > 0 {
				return fmt.Errorf("db: %d existing values of %s.%s must be encrypted: set MEND_MASTER_KEY "+
					"(create one with `mend keys generate`) and migrate again", n, col.Table, col.Column)
			}
			continue
		}
		var cursor int64
		for {
			type row struct {
				id, practice int64
				pair         sql.NullInt64
				text         string
			}
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(`
				SELECT t.%s, t.practice_id, %s, t.%s::text FROM %s t
				WHERE t.%s > $1 AND %s ORDER BY t.%s LIMIT $2`,
				id, col.PairOf, plain, table, id, pending, id), cursor, sealBatch)
			if err != nil {
				return fmt.Errorf("db: read %s.%s: %w", col.Table, col.Column, err)
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.practice, &r.pair, &r.text); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range batch {
				sealed, err := c.SealColumn(ctx, tx, r.practice, r.pair.Int64, col.Table, col.Column, col.IDColumn, r.id, []byte(r.text))
				if err != nil {
					return fmt.Errorf("db: encrypt %s.%s row %d: %w", col.Table, col.Column, r.id, err)
				}
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = $2 WHERE %s = $1`, table, ct, id), r.id, sealed); err != nil {
					return fmt.Errorf("db: store %s.%s row %d: %w", col.Table, col.Column, r.id, err)
				}
				cursor = r.id
			}
			if len(batch) < sealBatch {
				break
			}
		}
	}
	return nil
}

// unsealExisting is the way back: it decrypts every value into the
// plaintext column that 00057's Down has just added again.
func unsealExisting(ctx context.Context, tx *sql.Tx, c Cipher) error {
	for _, col := range sealedColumns() {
		table, id, plain, ct := pq.QuoteIdentifier(col.Table), pq.QuoteIdentifier(col.IDColumn),
			pq.QuoteIdentifier(col.plaintext()), pq.QuoteIdentifier(col.Column)
		var cursor int64
		for {
			type row struct {
				id     int64
				sealed []byte
			}
			rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT %s, %s FROM %s WHERE %s > $1 AND %s IS NOT NULL ORDER BY %s LIMIT $2`,
				id, ct, table, id, ct, id), cursor, sealBatch)
			if err != nil {
				return fmt.Errorf("db: read %s.%s: %w", col.Table, col.Column, err)
			}
			var batch []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.sealed); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(batch) > 0 && c == nil {
				return fmt.Errorf("db: %s.%s holds encrypted values: set MEND_MASTER_KEY to migrate down", col.Table, col.Column)
			}
			for _, r := range batch {
				text, err := c.OpenColumn(ctx, tx, col.Table, col.Column, col.IDColumn, r.id, r.sealed)
				if err != nil {
					return fmt.Errorf("db: decrypt %s.%s row %d: %w", col.Table, col.Column, r.id, err)
				}
				set := "$2"
				if col.JSON {
					set = "$2::jsonb"
				}
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s = %s WHERE %s = $1`, table, plain, set, id), r.id, string(text)); err != nil {
					return fmt.Errorf("db: store %s.%s row %d: %w", col.Table, col.Column, r.id, err)
				}
				cursor = r.id
			}
			if len(batch) < sealBatch {
				break
			}
		}
	}
	return nil
}
