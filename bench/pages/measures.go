package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/measure"
	"github.com/mend-practice/mend/internal/vault"
)

// Measures (issue 20). Every open pair of counselors 1–32 — the measured
// ones among them — has Mend's own closeness check, weekly for both
// partners, with eight answers each: weekly from eight weeks ago to a week
// ago, so it is due today on the clients' homes. Counselor 33's pairs have
// none: the "-nomeasures" pages are the same pages read for them
// (noMeasureLabels), to compare in one run.
const (
	measureWeeks = 8
	// measuredCounselors have measures on every pair; counselor
	// noMeasuresCounselor has none.
	measuredCounselors  = 32
	noMeasuresCounselor = 33
)

// noMeasureLabels name the pairs read for the "-nomeasures" pages: the
// first 32 of counselor 33 (pairs 4801–4832; none of them paused or
// closed).
func noMeasureLabels() []string {
	var out []string
	for k := range measured {
		out = append(out, fmt.Sprintf("Pair %d", (noMeasuresCounselor-1)*150+1+k))
	}
	return out
}

// measureAnswers are the item values of a partner's answer at level l
// (0–4): the level on every item (item 3 reverse-keyed), item 6 (the
// critical one) at 0.
func measureAnswers(l int) measure.Answers {
	return measure.Answers{1: l, 2: l, 3: 4 - l, 4: l, 5: l, 6: 0}
}

// seedMeasures gives the pairs their measure and answers in set-based SQL,
// inside the seed's transaction (triggers off). Each answer's level (0–4)
// follows the pair, the partner and the week: one pair in eight struggles
// (both partners in the most severe band), one in eight has partners far
// apart, the others move between mixed and steady every three weeks; the
// scores are Mend's own scoring of those answers. The item values are opaque bytes of a sealed answer's
// size, as the seed's check-ins are; sealMeasures seals real ones for the
// read pairs.
func seedMeasures(ctx context.Context, tx *sqlx.Tx, today string) error {
	def := measure.Structures()[measure.OwnKey].Definition
	raw, err := json.Marshal(def)
	if err != nil {
		return err
	}
	var measureID, versionID int64
	if err := tx.GetContext(ctx, &measureID, `
		INSERT INTO measures (practice_id, active, created_by)
		SELECT pr.id, true, u.id FROM practices pr JOIN users u ON u.practice_id = pr.id AND u.role = 'admin'
		WHERE pr.slug = 'bench.example' RETURNING id`); err != nil {
		return fmt.Errorf("bench measure: %w", err)
	}
	if err := tx.GetContext(ctx, &versionID, `
		INSERT INTO measure_versions (practice_id, measure_id, version, name, definition, created_by)
		SELECT practice_id, id, 1, $2, $3, created_by FROM measures WHERE id = $1 RETURNING id`,
		measureID, def.Name, string(raw)); err != nil {
		return fmt.Errorf("bench measure version: %w", err)
	}
	var levels, answered, severities []int
	var totals []float64
	var bands, subscales []string
	var mostSevere []bool
	for l := range 5 {
		r := def.Score(measureAnswers(l))
		subs, err := json.Marshal(r.Subscales)
		if err != nil {
			return err
		}
		levels, answered, severities = append(levels, l), append(answered, r.Answered), append(severities, r.Band.Severity)
		totals, bands, subscales = append(totals, r.Total), append(bands, r.Band.Label), append(subscales, string(subs))
		mostSevere = append(mostSevere, r.Band.Severity == def.MostSevere())
	}
	var counselors []string
	for i := range measuredCounselors {
		counselors = append(counselors, fmt.Sprintf("counselor%d@bench.example", i+1))
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO measure_assignments (practice_id, pair_id, measure_id, every_days, starts_on, created_by, created_at)
		SELECT p.practice_id, p.id, $1, 7, $2::date - 7 * $4, p.counselor_id, ($2::date - 7 * $4)::timestamptz
		FROM pairs p JOIN users c ON c.id = p.counselor_id
		WHERE c.email = ANY($3) AND p.status <> 'closed'
		ORDER BY p.id`, measureID, today, pq.Array(counselors), measureWeeks); err != nil {
		return fmt.Errorf("bench measure assignments: %w", err)
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO measure_responses (practice_id, pair_id, measure_assignment_id, measure_version_id, user_id,
			answers, answered, valid, total, band, severity, most_severe, subscales, critical, answered_on, created_at)
		SELECT ma.practice_id, ma.pair_id, ma.id, $2, m.user_id,
		       pg_temp.sealed(40), s.answered, true, s.total, s.band, s.severity, s.most_severe, s.subscales::jsonb, false,
		       $3::date - 7 * ($4 - w), ($3::date - 7 * ($4 - w) + time '19:00') AT TIME ZONE 'America/Chicago'
		FROM measure_assignments ma
		JOIN pair_members m ON m.pair_id = ma.pair_id
		CROSS JOIN generate_series(0, $4 - 1) w
		JOIN unnest($5::int[], $6::int[], $7::numeric[], $8::text[], $9::int[], $10::boolean[], $11::text[])
		     s(level, answered, total, band, severity, most_severe, subscales)
		  ON s.level = CASE
		       WHEN ma.pair_id % 8 = 0 THEN (m.position + w / 3) % 2                  -- struggling, both
		       WHEN ma.pair_id % 8 = 1 THEN CASE m.position WHEN 1 THEN 3 + w % 2 ELSE 1 + w / 4 END -- apart
		       ELSE 2 + (ma.pair_id + m.position + w / 3) % 3 END                     -- mixed to steady
		WHERE ma.measure_id = $1
		ORDER BY ma.pair_id, w, m.position`, measureID, versionID, today, measureWeeks,
		pq.Array(levels), pq.Array(answered), pq.Array(totals), pq.Array(bands), pq.Array(severities),
		pq.Array(mostSevere), pq.Array(subscales))
	if err != nil {
		return fmt.Errorf("bench measure answers: %w", err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return fmt.Errorf("bench measure answers: none written")
	}
	return nil
}

// sealMeasures replaces the opaque bytes of a read pair's measure answers
// by its partners' real answers sealed under the pair's key, so the pages
// that open them (the measures tab, the PDF) decrypt as in use.
func sealMeasures(ctx context.Context, tx *sqlx.Tx, sl *vault.Sealer, pairID int64) (int, error) {
	def := measure.Structures()[measure.OwnKey].Definition
	byTotal := map[float64]measure.Answers{}
	for l := range 5 {
		a := measureAnswers(l)
		byTotal[def.Score(a).Total] = a
	}
	var rows []struct {
		ID    int64   `db:"id"`
		Total float64 `db:"total"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT id, total::float8 AS total FROM measure_responses WHERE pair_id = $1 ORDER BY id`, pairID); err != nil {
		return 0, err
	}
	var ids []int64
	var sealed [][]byte
	for _, r := range rows {
		a, ok := byTotal[r.Total]
		if !ok {
			return 0, fmt.Errorf("measure answer %d: no level gives the total %v", r.ID, r.Total)
		}
		b, err := json.Marshal(a)
		if err != nil {
			return 0, err
		}
		s, err := sl.Seal(vault.MeasureAnswers, r.ID, b)
		if err != nil {
			return 0, err
		}
		ids, sealed = append(ids, r.ID), append(sealed, s)
	}
	_, err := tx.ExecContext(ctx, `UPDATE measure_responses r SET answers = x.a FROM unnest($1::bigint[], $2::bytea[]) x(id, a) WHERE r.id = x.id`,
		pq.Array(ids), pq.Array(sealed))
	return len(ids), err
}
