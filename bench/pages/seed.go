package main

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/library"
	"github.com/mend-practice/mend/internal/vault"
)

//go:embed seed.sql
var seedSQL string

const password = "bench-password"

// seedVersion is the version of what the seed makes: a database seeded
// today by an earlier version is seeded again. 2: measures (issue 20).
const seedVersion = 2

// measured is how many pairs the pages are measured on: the first pair of
// each of counselors 1–32 is read (its first member's home, homework,
// check-in edits; the counselor's pair page, progress and review page),
// and the second pair's first member submits new check-ins.
const measured = 32

// submitHomework is how many extra daily homework each submitting client
// gets: each has three open periods (today and two late days), so a load
// run can make up to measured × submitHomework × 3 distinct new check-ins.
const submitHomework = 60

// prepare migrates the benchmark database and seeds it unless it already
// holds the bench practice seeded today (the seed's dates are relative to
// the day it ran). It returns the master key the seed's text is sealed
// under.
func prepare(ctx context.Context, dsn string, reseed bool) (string, error) {
	if reseed {
		dropDatabase(ctx, dsn)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		return "", err
	}
	if err := library.SyncBuiltins(ctx, d); err != nil {
		return "", err
	}
	today := checkin.Today(time.Now(), "America/Chicago").String()
	var meta struct {
		SeededOn  string `db:"seeded_on"`
		MasterKey string `db:"master_key"`
		Version   int    `db:"seed_version"`
	}
	err = d.GetContext(ctx, &meta, `SELECT seeded_on::text, master_key, seed_version FROM bench_meta`)
	if err == nil && meta.SeededOn == today && meta.Version == seedVersion {
		return meta.MasterKey, nil
	}
	var pqErr *pq.Error
	isPQ := errors.As(err, &pqErr)
	if err != nil && !(isPQ && (pqErr.Code == "42P01" || pqErr.Code == "42703")) {
		return "", err
	}
	// Seeded on another day (its periods are not today's) or by an earlier
	// seed (42703: a bench_meta without seed_version).
	if err == nil || (isPQ && pqErr.Code == "42703") {
		d.Close()
		log.Printf("the bench database was seeded on %s by seed version %d; seeding it again for %s, version %d", meta.SeededOn, meta.Version, today, seedVersion)
		dropDatabase(ctx, dsn)
		return prepare(ctx, dsn, false)
	}
	if err := seed(ctx, d, today); err != nil {
		return "", err
	}
	key, err := vault.GenerateMasterKey()
	if err != nil {
		return "", err
	}
	if err := sealMeasured(ctx, d, key); err != nil {
		return "", err
	}
	if _, err := d.ExecContext(ctx, `CREATE TABLE bench_meta AS SELECT $1::date AS seeded_on, $2::text AS master_key, $3::int AS seed_version`,
		today, key, seedVersion); err != nil {
		return "", err
	}
	return key, nil
}

// seed fills an empty database: the practice of seed.sql (5,000 pairs,
// about a million check-ins, set-based SQL), the submitting clients' extra
// homework, and fresh statistics.
func seed(ctx context.Context, d *sqlx.DB, today string) error {
	log.Printf("seeding 5,000 pairs and about 1,000,000 check-ins (once a day; a few minutes)…")
	start := time.Now()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		// Without triggers and foreign-key checks (this transaction only):
		// the statement triggers of migration 00060 would read a million
		// rows' transition tables to stamp dashboards nobody has read yet.
		if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		for _, stmt := range strings.Split(seedSQL, ";\n") {
			stmt = stripComments(stmt)
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			var args []any
			switch {
			case strings.Contains(stmt, "$1") && strings.Contains(stmt, "$2"):
				args = []any{today, hash}
			case strings.Contains(stmt, "$1"):
				args = []any{today}
			case strings.Contains(stmt, "$2"): // only the hash
				stmt, args = strings.ReplaceAll(stmt, "$2", "$1"), []any{hash}
			}
			if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
				return fmt.Errorf("seed: %w\n%s", err, stmt)
			}
		}
		// The submitting clients' extra daily homework, open from two
		// days ago to next week.
		_, err := tx.ExecContext(ctx, `
			INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, created_by)
			SELECT p.practice_id, p.id, (SELECT current_version_id FROM steps WHERE practice_id IS NULL ORDER BY position LIMIT 1),
			       m.user_id, $1::date - 2, $1::date + 5, 'daily', p.counselor_id
			FROM pairs p JOIN pair_members m ON m.pair_id = p.id AND m.position = 1
			CROSS JOIN generate_series(1, $3) k
			WHERE p.label = ANY($2)`, today, pq.Array(submitLabels()), submitHomework)
		if err != nil {
			return err
		}
		return seedMeasures(ctx, tx, today)
	})
	if err != nil {
		return err
	}
	// Fresh statistics and visibility maps, as autovacuum would leave them.
	if _, err := d.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	log.Printf("seeded in %s", time.Since(start).Round(time.Second))
	return nil
}

// readLabels and submitLabels name the measured pairs: pair g belongs to
// counselor (g-1)/150+1 (seed.sql).
func readLabels() []string {
	var out []string
	for k := range measured {
		out = append(out, fmt.Sprintf("Pair %d", k*150+1))
	}
	return out
}

func submitLabels() []string {
	var out []string
	for k := range measured {
		out = append(out, fmt.Sprintf("Pair %d", k*150+2))
	}
	return out
}

// sealMeasured replaces the seed's opaque bytes by real text sealed with
// Mend's vault under key, for every check-in, feedback and measure answer
// of the read pairs (with and without measures), so the pages measured on
// them decrypt as they would in use.
func sealMeasured(ctx context.Context, d *sqlx.DB, key string) error {
	start := time.Now()
	mk, err := vault.ParseMasterKey(key)
	if err != nil {
		return err
	}
	v, err := vault.New(d, mk)
	if err != nil {
		return err
	}
	var pairs []struct {
		ID         int64 `db:"id"`
		PracticeID int64 `db:"practice_id"`
	}
	if err := d.SelectContext(ctx, &pairs, `SELECT id, practice_id FROM pairs WHERE label = ANY($1)`,
		pq.Array(append(readLabels(), noMeasureLabels()...))); err != nil {
		return err
	}
	n, nm := 0, 0
	for _, p := range pairs {
		err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			sl, err := v.Sealer(ctx, tx, vault.PairScope(p.PracticeID, p.ID))
			if err != nil {
				return err
			}
			var ids []int64
			if err := tx.SelectContext(ctx, &ids, `SELECT id FROM checkins WHERE pair_id = $1 ORDER BY id`, p.ID); err != nil {
				return err
			}
			var answers, reflections [][]byte
			for _, id := range ids {
				b, _ := json.Marshal(checkin.Answers{
					{Question: "What did you try this time?", Answer: fmt.Sprintf("We sat down after dinner and each talked for ten minutes (evening %d).", id)},
					{Question: "What was hard?", Answer: "Not interrupting when it was my turn to listen."},
				})
				a, err := sl.Seal(vault.CheckinAnswers, id, b)
				if err != nil {
					return err
				}
				r, err := sl.Text(vault.CheckinReflection, id, strings.Repeat("It felt calmer than last week; we both stayed at the table. ", 1+int(id%4)))
				if err != nil {
					return err
				}
				answers, reflections = append(answers, a), append(reflections, r)
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE checkins c SET answers = x.a, reflection = x.r, safety_note = NULL
				FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) x(id, a, r) WHERE c.id = x.id`,
				pq.Array(ids), pq.Array(answers), pq.Array(reflections)); err != nil {
				return err
			}
			n += len(ids)
			var fids []int64
			if err := tx.SelectContext(ctx, &fids, `SELECT id FROM feedback WHERE pair_id = $1`, p.ID); err != nil {
				return err
			}
			var bodies [][]byte
			for _, id := range fids {
				b, err := sl.Text(vault.FeedbackBody, id, "Thank you both for keeping at it; try the same again this week and notice one thing your partner did well.")
				if err != nil {
					return err
				}
				bodies = append(bodies, b)
			}
			_, err = tx.ExecContext(ctx, `UPDATE feedback f SET body = x.b FROM unnest($1::bigint[], $2::bytea[]) x(id, b) WHERE f.id = x.id`,
				pq.Array(fids), pq.Array(bodies))
			if err != nil {
				return err
			}
			if _, err = tx.ExecContext(ctx, `UPDATE safety_alerts SET ack_note = NULL WHERE pair_id = $1`, p.ID); err != nil {
				return err
			}
			k, err := sealMeasures(ctx, tx, sl, p.ID)
			nm += k
			return err
		})
		if err != nil {
			return fmt.Errorf("seal pair %d: %w", p.ID, err)
		}
	}
	log.Printf("sealed real text into %d check-ins and %d measure answers of the %d read pairs in %s", n, nm, len(pairs), time.Since(start).Round(time.Millisecond))
	return nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func dropDatabase(ctx context.Context, dsn string) {
	u, err := url.Parse(dsn)
	if err != nil {
		log.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	s, err := sql.Open("postgres", u.String())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		log.Fatal(err)
	}
}
