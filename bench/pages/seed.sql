-- The benchmark's practice: 5,000 pairs, about 1,000,000 check-ins.
-- $1 is today (the practice's date), $2 the counselors' password hash.
-- Pair g belongs to counselor (g-1)/150+1, so counselors 1–33 have 150
-- pairs each and counselor 34 has 50. Every pair followed a plan of
-- one-week daily homework for 16 weeks; the members checked in on most
-- days; check-ins older than a week are reviewed, some with feedback; a
-- few are safety-flagged; every tenth pair has an overdue one-off
-- homework and every seventh a weekly one.

-- Clinical text is encrypted (Mend's vault, AES-256-GCM): the seed fills
-- those columns with opaque bytes of the size the ciphertext of the text
-- would have (37 bytes of header, nonce and tag around it). The dashboard
-- never decrypts them; only their size matters here.
CREATE FUNCTION pg_temp.sealed(plaintext_len int) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $f$ SELECT decode('01' || repeat('a5', 36 + plaintext_len), 'hex') $f$;

INSERT INTO practices (name, slug, timezone) VALUES ('Bench Practice', 'bench.example', 'America/Chicago');

INSERT INTO users (practice_id, role, email, name, password_hash, timezone)
SELECT pr.id, 'admin', 'admin@bench.example', 'Bench Admin', $2, 'America/Chicago'
FROM practices pr WHERE pr.slug = 'bench.example';

INSERT INTO users (practice_id, role, email, name, password_hash, timezone)
SELECT pr.id, 'counselor', 'counselor' || g || '@bench.example', 'Counselor ' || g, $2, 'America/Chicago'
FROM practices pr, generate_series(1, 34) g WHERE pr.slug = 'bench.example';

INSERT INTO users (practice_id, role, email, name, password_hash, timezone)
SELECT pr.id, 'client', 'client' || g || '@bench.example', 'Client ' || g, $2, 'America/Chicago'
FROM practices pr, generate_series(1, 10000) g WHERE pr.slug = 'bench.example';

CREATE TEMP TABLE bench_map AS
SELECT g, c.id AS counselor_id, a.id AS a_id, b.id AS b_id, pr.id AS practice_id
FROM practices pr
CROSS JOIN generate_series(1, 5000) g
JOIN users c ON c.email = 'counselor' || ((g - 1) / 150 + 1) || '@bench.example'
JOIN users a ON a.email = 'client' || (2 * g - 1) || '@bench.example'
JOIN users b ON b.email = 'client' || (2 * g) || '@bench.example'
WHERE pr.slug = 'bench.example';

INSERT INTO pairs (practice_id, counselor_id, label, kind, status, created_at)
SELECT practice_id, counselor_id, 'Pair ' || g, 'romantic',
       CASE WHEN g % 50 = 0 THEN 'closed' WHEN g % 40 = 0 THEN 'paused' ELSE 'active' END,
       now() - interval '120 days'
FROM bench_map ORDER BY g;

ALTER TABLE bench_map ADD COLUMN pair_id bigint;
UPDATE bench_map m SET pair_id = p.id FROM pairs p WHERE p.practice_id = m.practice_id AND p.label = 'Pair ' || m.g;

INSERT INTO pair_members (pair_id, user_id, position, side, current)
SELECT pair_id, a_id, 1, 'was_hurt', g % 50 <> 0 FROM bench_map
UNION ALL
SELECT pair_id, b_id, 2, 'broke_trust', g % 50 <> 0 FROM bench_map;

-- Sixteen weeks of one-week homework: week k runs from start + 7k.
CREATE TEMP TABLE bench_steps AS
SELECT row_number() OVER (ORDER BY position) - 1 AS n, current_version_id AS version_id
FROM steps WHERE practice_id IS NULL;

INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, status, completed_at, created_by, created_at)
SELECT m.practice_id, m.pair_id, s.version_id,
       $1::date - 110 + 7 * k, $1::date - 110 + 7 * k + 6, 'daily',
       CASE WHEN $1::date - 110 + 7 * k + 6 < $1::date THEN 'completed' ELSE 'active' END,
       CASE WHEN $1::date - 110 + 7 * k + 6 < $1::date THEN ($1::date - 110 + 7 * k + 7)::timestamptz END,
       m.counselor_id, ($1::date - 110 + 7 * k)::timestamptz
FROM bench_map m
CROSS JOIN generate_series(0, 15) k
JOIN bench_steps s ON s.n = k % (SELECT count(*) FROM bench_steps);

-- The weekly homework came from a plan: open pairs are on a plan of 16
-- one-week steps (the built-in steps in turn), and each week's homework is
-- its step.
INSERT INTO pair_plans (practice_id, pair_id, name, status, starts_on, cadence, created_by)
SELECT practice_id, pair_id, 'Bench plan', 'active', $1::date - 110, 'daily', counselor_id FROM bench_map WHERE g % 50 <> 0;

INSERT INTO pair_plan_steps (practice_id, pair_plan_id, position, step_version_id, days)
SELECT pp.practice_id, pp.id, k + 1, s.version_id, 7
FROM pair_plans pp
CROSS JOIN generate_series(0, 15) k
JOIN bench_steps s ON s.n = k % (SELECT count(*) FROM bench_steps)
WHERE pp.practice_id = (SELECT id FROM practices WHERE slug = 'bench.example');

UPDATE assignments a SET pair_plan_step_id = ps.id
FROM pair_plans pp JOIN pair_plan_steps ps ON ps.pair_plan_id = pp.id
WHERE a.pair_id = pp.pair_id AND a.cadence = 'daily' AND a.for_user_id IS NULL
  AND a.starts_on = pp.starts_on + 7 * (ps.position - 1);

-- Every tenth pair: a one-off homework for the first member, overdue.
INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, created_by, created_at)
SELECT m.practice_id, m.pair_id, (SELECT version_id FROM bench_steps WHERE n = 1), m.a_id, $1::date - 12, $1::date - 4, 'once', m.counselor_id,
       ($1::date - 12)::timestamptz
FROM bench_map m WHERE m.g % 10 = 0;

-- Every seventh pair: a weekly homework for both, on Wednesdays.
INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, weekdays, created_by, created_at)
SELECT m.practice_id, m.pair_id, (SELECT version_id FROM bench_steps WHERE n = 8), $1::date - 42, $1::date + 20, 'weekly', '{3}', m.counselor_id,
       ($1::date - 42)::timestamptz
FROM bench_map m WHERE m.g % 7 = 0;

-- Daily check-ins up to three days ago (later ones are still open), on
-- about 93% of days. Ratings wander with the pair and the day, so some
-- fall, some diverge.
INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
    trust_rating, communication_rating, hope_rating, answers, reflection, visibility, late, created_at, updated_at)
SELECT m.practice_id, m.pair_id, a.id, x.user_id, x.d, x.d,
       CASE WHEN x.h % 10 = 0 THEN 'not_done' WHEN x.h % 10 < 3 THEN 'partly' ELSE 'done' END,
       greatest(1, least(10, round(5.5 + 3 * sin(m.g + (x.d - $1::date) / 9.0 + x.pos) + (x.h % 3) - 1)))::smallint,
       greatest(1, least(10, round(5.5 + 2.5 * sin(m.g * 2 + (x.d - $1::date) / 11.0) + (x.h / 3 % 3) - 1)))::smallint,
       greatest(1, least(10, round(6 + 2 * cos(m.g + (x.d - $1::date) / 13.0 + x.pos) + (x.h / 9 % 3) - 1)))::smallint,
       pg_temp.sealed(190),
       pg_temp.sealed((x.h % 90)::int + 10),
       CASE WHEN x.h % 3 = 0 THEN 'counselor' ELSE 'partner' END,
       x.h % 17 = 0,
       (x.d + time '20:00') AT TIME ZONE 'America/Chicago' + (x.h % 90) * interval '1 minute',
       (x.d + time '20:00') AT TIME ZONE 'America/Chicago' + (x.h % 90) * interval '1 minute'
FROM bench_map m
CROSS JOIN LATERAL (
    SELECT u.user_id, u.pos, d::date AS d, abs(hashint8((m.g::bigint * 1000 + u.pos) * 100000 + (d::date - $1::date))::bigint) AS h
    FROM (VALUES (m.a_id, 1), (m.b_id, 2)) u(user_id, pos)
    CROSS JOIN generate_series($1::date - 110, $1::date - 3, interval '1 day') d
) x
JOIN assignments a ON a.pair_id = m.pair_id AND a.cadence = 'daily' AND a.starts_on = $1::date - 110 + 7 * ((x.d - ($1::date - 110)) / 7)
WHERE x.h % 100 >= 7;

-- Weekly check-ins for the weekly homework, on most closed weeks.
INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
    trust_rating, communication_rating, hope_rating, answers, reflection, visibility, created_at, updated_at)
SELECT a.practice_id, a.pair_id, a.id, u.user_id, a.starts_on + 7 * w, a.starts_on + 7 * w + 6, 'done', 6, 6, 6, pg_temp.sealed(2), pg_temp.sealed(0), 'partner',
       (a.starts_on + 7 * w + 6 + time '19:00') AT TIME ZONE 'America/Chicago',
       (a.starts_on + 7 * w + 6 + time '19:00') AT TIME ZONE 'America/Chicago'
FROM assignments a
JOIN pair_members u ON u.pair_id = a.pair_id
CROSS JOIN generate_series(0, 4) w
WHERE a.cadence = 'weekly' AND a.practice_id = (SELECT id FROM practices WHERE slug = 'bench.example')
  AND a.starts_on + 7 * w + 6 <= $1::date - 3 AND (a.pair_id + w + u.position) % 5 <> 0;

-- Reviews: everything older than a week, by the pair's counselor.
UPDATE checkins c SET reviewed_at = c.created_at + interval '1 day', reviewed_by = p.counselor_id
FROM pairs p
WHERE p.id = c.pair_id AND p.practice_id = (SELECT id FROM practices WHERE slug = 'bench.example')
  AND c.created_at < now() - interval '7 days';

-- Safety flags on about one check-in in 4,000; those not reviewed yet are
-- still open.
UPDATE checkins SET safety_flag = true, safety_note = pg_temp.sealed(41)
WHERE practice_id = (SELECT id FROM practices WHERE slug = 'bench.example') AND id % 4000 = 7;

INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id, created_at, acknowledged_at, acknowledged_by, ack_note)
SELECT c.practice_id, c.pair_id, c.id, p.counselor_id, c.created_at,
       c.reviewed_at, CASE WHEN c.reviewed_at IS NOT NULL THEN p.counselor_id END,
       CASE WHEN c.reviewed_at IS NOT NULL THEN pg_temp.sealed(27) END
FROM checkins c JOIN pairs p ON p.id = c.pair_id
WHERE c.safety_flag AND c.practice_id = (SELECT id FROM practices WHERE slug = 'bench.example');

-- Feedback on one reviewed check-in in twenty.
INSERT INTO feedback (practice_id, pair_id, checkin_id, counselor_id, audience, recipient_id, body, created_at)
SELECT c.practice_id, c.pair_id, c.id, c.reviewed_by,
       CASE WHEN c.id % 2 = 0 THEN 'client' ELSE 'both' END, CASE WHEN c.id % 2 = 0 THEN c.user_id END,
       pg_temp.sealed(47), c.reviewed_at
FROM checkins c
WHERE c.practice_id = (SELECT id FROM practices WHERE slug = 'bench.example') AND c.reviewed_at IS NOT NULL AND c.id % 20 = 0;
