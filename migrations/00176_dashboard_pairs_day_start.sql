-- +goose Up
-- A summary row holds between the local midnights that began and end its
-- day (migration 00160), computed as "date::timestamp AT TIME ZONE zone".
-- Where the clocks go back from 01:00 to 00:00 (America/Havana in
-- November), midnight happens twice, and PostgreSQL reads such a local
-- time as the later instant: the day was taken to begin an hour after it
-- had. A row of the day before was then used for that hour, and a row
-- computed in it began after its own computation, so it never held
-- (TestDashboardSummaryTurnsTheDayInEachClientsTimezone, "Havana's
-- midnight twice"). mend_day_start is the first instant of a local date.

-- +goose StatementBegin
-- mend_day_start is the first instant whose local date in zone tz is d.
-- It is the local midnight PostgreSQL gives, unless that midnight also
-- happened earlier under the offset in force before a clock change; the
-- offset three hours before gives that earlier one (a day that begins at
-- a skipped midnight begins at the instant the clocks skip to, which
-- PostgreSQL gives; one whose midnight the clocks go back over from 00:00
-- to 23:00, as in America/Santiago, begins at the second, which it gives
-- too, the earlier one being still the day before).
CREATE FUNCTION mend_day_start(d date, tz text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN (e AT TIME ZONE tz)::date = d THEN least(c, e) ELSE c END
    FROM (SELECT c, (d::timestamp - (((c - interval '3 hours') AT TIME ZONE tz) - ((c - interval '3 hours') AT TIME ZONE 'UTC')))
                    AT TIME ZONE 'UTC' AS e
          FROM (SELECT d::timestamp AT TIME ZONE tz AS c) x) y
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- dashboard_pair_rows as migration 00160 made it, its day's bounds taken
-- with mend_day_start.
CREATE OR REPLACE FUNCTION dashboard_pair_rows(ids bigint[], at_ timestamptz, grace int, win int)
RETURNS SETOF dashboard_pairs LANGUAGE sql STABLE AS $$
    WITH my AS MATERIALIZED (
        SELECT p.id, pr.timezone AS ptz, (at_ AT TIME ZONE pr.timezone)::date AS today,
               m1.user_id AS u1, m1.timezone AS tz1, (at_ AT TIME ZONE m1.timezone)::date AS t1,
               m2.user_id AS u2, m2.timezone AS tz2, (at_ AT TIME ZONE m2.timezone)::date AS t2
        FROM pairs p
        JOIN practices pr ON pr.id = p.practice_id
        -- Members pair by pair through the (pair_id, position) key. A pair
        -- without both members gets a row without them, which is not shown.
        LEFT JOIN LATERAL (SELECT m.user_id, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
                           WHERE m.pair_id = p.id AND m.position = 1 OFFSET 0) m1 ON TRUE
        LEFT JOIN LATERAL (SELECT m.user_id, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
                           WHERE m.pair_id = p.id AND m.position = 2 OFFSET 0) m2 ON TRUE
        WHERE p.id = ANY (ids) AND p.status = 'active'
    )
    SELECT my.id AS pair_id, my.ptz, my.tz1, my.tz2,
           greatest(mend_day_start(my.today, my.ptz), mend_day_start(my.t1, my.tz1),
                    mend_day_start(my.t2, my.tz2)) AS valid_from,
           least(mend_day_start(my.today + 1, my.ptz), mend_day_start(my.t1 + 1, my.tz1),
                 mend_day_start(my.t2 + 1, my.tz2)) AS valid_until,
           hw.cur_id AS current_id, cv.title AS current_title, cps.position AS plan_position,
           CASE WHEN cps.id IS NOT NULL THEN (SELECT count(*) FROM pair_plan_steps s WHERE s.pair_plan_id = cps.pair_plan_id)::int END AS plan_steps,
           hw.rel AS release_ids, CASE WHEN hw.rel IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.rel) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS release_titles,
           my.u1, r1.trust::int[] AS trust1, r1.communication::int[] AS communication1, r1.hope::int[] AS hope1,
           r1.last_sent AS last_sent1, r1.last_period AS last_period1,
           coalesce(hw.e1, 0) AS expected1,
           ((SELECT count(*) FROM checkins c
              WHERE c.pair_id = my.id AND c.user_id = my.u1 AND c.period_end BETWEEN my.t1 - grace - win AND my.t1 - grace - 1)
            + (SELECT count(*) FROM reveal_answers ra
              WHERE ra.pair_id = my.id AND ra.user_id = my.u1 AND ra.period_end BETWEEN my.t1 - grace - win AND my.t1 - grace - 1))::int AS done1,
           hw.miss1 AS missing_ids1, CASE WHEN hw.miss1 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.miss1) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS missing_titles1,
           hw.over1 AS overdue_ids1, CASE WHEN hw.over1 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.over1) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS overdue_titles1,
           my.u2, r2.trust::int[] AS trust2, r2.communication::int[] AS communication2, r2.hope::int[] AS hope2,
           r2.last_sent AS last_sent2, r2.last_period AS last_period2,
           coalesce(hw.e2, 0) AS expected2,
           ((SELECT count(*) FROM checkins c
              WHERE c.pair_id = my.id AND c.user_id = my.u2 AND c.period_end BETWEEN my.t2 - grace - win AND my.t2 - grace - 1)
            + (SELECT count(*) FROM reveal_answers ra
              WHERE ra.pair_id = my.id AND ra.user_id = my.u2 AND ra.period_end BETWEEN my.t2 - grace - win AND my.t2 - grace - 1))::int AS done2,
           hw.miss2 AS missing_ids2, CASE WHEN hw.miss2 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.miss2) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS missing_titles2,
           hw.over2 AS overdue_ids2, CASE WHEN hw.over2 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.over2) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS overdue_titles2
    FROM my
    LEFT JOIN LATERAL (
        SELECT (array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.cur))[1] AS cur_id,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.rel) AS rel,
               sum(y.e1)::int AS e1,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.miss1) AS miss1,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.over1) AS over1,
    sum(y.e2)::int AS e2,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.miss2) AS miss2,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.over2) AS over2
        FROM (
            SELECT a.id, a.due_on,
                   a.status = 'active' AND a.starts_on <= my.today AND a.due_on >= my.today AS cur,
                   CASE WHEN (a.for_user_id IS NULL OR a.for_user_id = my.u1) THEN mend_period_count(a.cadence, a.weekdays, a.starts_on, CASE WHEN a.status = 'active' THEN a.due_on
                        ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE my.ptz)::date) END,
                       greatest(my.t1 - grace - win, (a.created_at AT TIME ZONE my.ptz)::date), my.t1 - grace - 1) END AS e1,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u1) AND a.status = 'active' AND a.cadence <> 'once' AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2) IS NOT NULL
                     AND mend_period_count(a.cadence, a.weekdays, a.starts_on, a.due_on, (a.created_at AT TIME ZONE my.ptz)::date, my.t1 - grace - 1) >= 2
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u1
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u1
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2)) AS miss1,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u1) AND a.status = 'active' AND a.due_on < my.t1 AND a.due_on >= (a.created_at AT TIME ZONE my.ptz)::date AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1) IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u1
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u1
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1)) AS over1,
    CASE WHEN (a.for_user_id IS NULL OR a.for_user_id = my.u2) THEN mend_period_count(a.cadence, a.weekdays, a.starts_on, CASE WHEN a.status = 'active' THEN a.due_on
                        ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE my.ptz)::date) END,
                       greatest(my.t2 - grace - win, (a.created_at AT TIME ZONE my.ptz)::date), my.t2 - grace - 1) END AS e2,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u2) AND a.status = 'active' AND a.cadence <> 'once' AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2) IS NOT NULL
                     AND mend_period_count(a.cadence, a.weekdays, a.starts_on, a.due_on, (a.created_at AT TIME ZONE my.ptz)::date, my.t2 - grace - 1) >= 2
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u2
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u2
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2)) AS miss2,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u2) AND a.status = 'active' AND a.due_on < my.t2 AND a.due_on >= (a.created_at AT TIME ZONE my.ptz)::date AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1) IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u2
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u2
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1)) AS over2,
                   v.reveal_rule = 'counselor' AND EXISTS (
                     SELECT 1 FROM reveal_answers r1 JOIN reveal_answers r2 ON r2.assignment_id = r1.assignment_id
                       AND r2.period_start = r1.period_start AND r2.user_id > r1.user_id
                     WHERE r1.assignment_id = a.id AND NOT EXISTS (SELECT 1 FROM reveals x
                       WHERE x.assignment_id = a.id AND x.period_start = r1.period_start)) AS rel
            FROM assignments a
            JOIN step_versions v ON v.id = a.step_version_id
            WHERE a.pair_id = my.id AND a.starts_on <= my.today
              AND (a.status = 'active' OR a.due_on >= least(my.t1, my.t2) - grace - win)
            OFFSET 0
        ) y
    ) hw ON TRUE
    LEFT JOIN assignments ca ON ca.id = hw.cur_id
    LEFT JOIN step_versions cv ON cv.id = ca.step_version_id
    LEFT JOIN pair_plan_steps cps ON cps.id = ca.pair_plan_step_id
    LEFT JOIN LATERAL (
        SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
               array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
        FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
              FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u1
              ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x -- FallWindow; latest first
    ) r1 ON TRUE
    LEFT JOIN LATERAL (
        SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
               array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
        FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
              FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u2
              ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x
    ) r2 ON TRUE
$$;
-- +goose StatementEnd

-- Rows kept with the old bounds hold at most until their day's end.

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_pair_rows(ids bigint[], at_ timestamptz, grace int, win int)
RETURNS SETOF dashboard_pairs LANGUAGE sql STABLE AS $$
    WITH my AS MATERIALIZED (
        SELECT p.id, pr.timezone AS ptz, (at_ AT TIME ZONE pr.timezone)::date AS today,
               m1.user_id AS u1, m1.timezone AS tz1, (at_ AT TIME ZONE m1.timezone)::date AS t1,
               m2.user_id AS u2, m2.timezone AS tz2, (at_ AT TIME ZONE m2.timezone)::date AS t2
        FROM pairs p
        JOIN practices pr ON pr.id = p.practice_id
        -- Members pair by pair through the (pair_id, position) key. A pair
        -- without both members gets a row without them, which is not shown.
        LEFT JOIN LATERAL (SELECT m.user_id, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
                           WHERE m.pair_id = p.id AND m.position = 1 OFFSET 0) m1 ON TRUE
        LEFT JOIN LATERAL (SELECT m.user_id, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
                           WHERE m.pair_id = p.id AND m.position = 2 OFFSET 0) m2 ON TRUE
        WHERE p.id = ANY (ids) AND p.status = 'active'
    )
    SELECT my.id AS pair_id, my.ptz, my.tz1, my.tz2,
           greatest((my.today::timestamp AT TIME ZONE my.ptz), (my.t1::timestamp AT TIME ZONE my.tz1),
                    (my.t2::timestamp AT TIME ZONE my.tz2)) AS valid_from,
           least(((my.today + 1)::timestamp AT TIME ZONE my.ptz), ((my.t1 + 1)::timestamp AT TIME ZONE my.tz1),
                 ((my.t2 + 1)::timestamp AT TIME ZONE my.tz2)) AS valid_until,
           hw.cur_id AS current_id, cv.title AS current_title, cps.position AS plan_position,
           CASE WHEN cps.id IS NOT NULL THEN (SELECT count(*) FROM pair_plan_steps s WHERE s.pair_plan_id = cps.pair_plan_id)::int END AS plan_steps,
           hw.rel AS release_ids, CASE WHEN hw.rel IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.rel) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS release_titles,
           my.u1, r1.trust::int[] AS trust1, r1.communication::int[] AS communication1, r1.hope::int[] AS hope1,
           r1.last_sent AS last_sent1, r1.last_period AS last_period1,
           coalesce(hw.e1, 0) AS expected1,
           ((SELECT count(*) FROM checkins c
              WHERE c.pair_id = my.id AND c.user_id = my.u1 AND c.period_end BETWEEN my.t1 - grace - win AND my.t1 - grace - 1)
            + (SELECT count(*) FROM reveal_answers ra
              WHERE ra.pair_id = my.id AND ra.user_id = my.u1 AND ra.period_end BETWEEN my.t1 - grace - win AND my.t1 - grace - 1))::int AS done1,
           hw.miss1 AS missing_ids1, CASE WHEN hw.miss1 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.miss1) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS missing_titles1,
           hw.over1 AS overdue_ids1, CASE WHEN hw.over1 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.over1) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS overdue_titles1,
           my.u2, r2.trust::int[] AS trust2, r2.communication::int[] AS communication2, r2.hope::int[] AS hope2,
           r2.last_sent AS last_sent2, r2.last_period AS last_period2,
           coalesce(hw.e2, 0) AS expected2,
           ((SELECT count(*) FROM checkins c
              WHERE c.pair_id = my.id AND c.user_id = my.u2 AND c.period_end BETWEEN my.t2 - grace - win AND my.t2 - grace - 1)
            + (SELECT count(*) FROM reveal_answers ra
              WHERE ra.pair_id = my.id AND ra.user_id = my.u2 AND ra.period_end BETWEEN my.t2 - grace - win AND my.t2 - grace - 1))::int AS done2,
           hw.miss2 AS missing_ids2, CASE WHEN hw.miss2 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.miss2) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS missing_titles2,
           hw.over2 AS overdue_ids2, CASE WHEN hw.over2 IS NOT NULL THEN
             (SELECT array_agg(v.title ORDER BY o.n) FROM unnest(hw.over2) WITH ORDINALITY o(id, n)
                JOIN assignments a ON a.id = o.id JOIN step_versions v ON v.id = a.step_version_id) END AS overdue_titles2
    FROM my
    LEFT JOIN LATERAL (
        SELECT (array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.cur))[1] AS cur_id,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.rel) AS rel,
               sum(y.e1)::int AS e1,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.miss1) AS miss1,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.over1) AS over1,
    sum(y.e2)::int AS e2,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.miss2) AS miss2,
               array_agg(y.id ORDER BY y.due_on, y.id) FILTER (WHERE y.over2) AS over2
        FROM (
            SELECT a.id, a.due_on,
                   a.status = 'active' AND a.starts_on <= my.today AND a.due_on >= my.today AS cur,
                   CASE WHEN (a.for_user_id IS NULL OR a.for_user_id = my.u1) THEN mend_period_count(a.cadence, a.weekdays, a.starts_on, CASE WHEN a.status = 'active' THEN a.due_on
                        ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE my.ptz)::date) END,
                       greatest(my.t1 - grace - win, (a.created_at AT TIME ZONE my.ptz)::date), my.t1 - grace - 1) END AS e1,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u1) AND a.status = 'active' AND a.cadence <> 'once' AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2) IS NOT NULL
                     AND mend_period_count(a.cadence, a.weekdays, a.starts_on, a.due_on, (a.created_at AT TIME ZONE my.ptz)::date, my.t1 - grace - 1) >= 2
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u1
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u1
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t1 - grace - 1, 2)) AS miss1,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u1) AND a.status = 'active' AND a.due_on < my.t1 AND a.due_on >= (a.created_at AT TIME ZONE my.ptz)::date AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1) IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u1
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u1
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1)) AS over1,
    CASE WHEN (a.for_user_id IS NULL OR a.for_user_id = my.u2) THEN mend_period_count(a.cadence, a.weekdays, a.starts_on, CASE WHEN a.status = 'active' THEN a.due_on
                        ELSE least(a.due_on, (coalesce(a.completed_at, a.cancelled_at) AT TIME ZONE my.ptz)::date) END,
                       greatest(my.t2 - grace - win, (a.created_at AT TIME ZONE my.ptz)::date), my.t2 - grace - 1) END AS e2,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u2) AND a.status = 'active' AND a.cadence <> 'once' AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2) IS NOT NULL
                     AND mend_period_count(a.cadence, a.weekdays, a.starts_on, a.due_on, (a.created_at AT TIME ZONE my.ptz)::date, my.t2 - grace - 1) >= 2
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u2
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u2
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, my.t2 - grace - 1, 2)) AS miss2,
                   (a.for_user_id IS NULL OR a.for_user_id = my.u2) AND a.status = 'active' AND a.due_on < my.t2 AND a.due_on >= (a.created_at AT TIME ZONE my.ptz)::date AND mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1) IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.assignment_id = a.id AND c.user_id = my.u2
                                     AND c.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1))
                     AND NOT EXISTS (SELECT 1 FROM reveal_answers ra WHERE ra.assignment_id = a.id AND ra.user_id = my.u2
                                     AND ra.period_start >= mend_closed_period_start(a.cadence, a.weekdays, a.starts_on, a.due_on, a.due_on, 1)) AS over2,
                   v.reveal_rule = 'counselor' AND EXISTS (
                     SELECT 1 FROM reveal_answers r1 JOIN reveal_answers r2 ON r2.assignment_id = r1.assignment_id
                       AND r2.period_start = r1.period_start AND r2.user_id > r1.user_id
                     WHERE r1.assignment_id = a.id AND NOT EXISTS (SELECT 1 FROM reveals x
                       WHERE x.assignment_id = a.id AND x.period_start = r1.period_start)) AS rel
            FROM assignments a
            JOIN step_versions v ON v.id = a.step_version_id
            WHERE a.pair_id = my.id AND a.starts_on <= my.today
              AND (a.status = 'active' OR a.due_on >= least(my.t1, my.t2) - grace - win)
            OFFSET 0
        ) y
    ) hw ON TRUE
    LEFT JOIN assignments ca ON ca.id = hw.cur_id
    LEFT JOIN step_versions cv ON cv.id = ca.step_version_id
    LEFT JOIN pair_plan_steps cps ON cps.id = ca.pair_plan_step_id
    LEFT JOIN LATERAL (
        SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
               array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
        FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
              FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u1
              ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x -- FallWindow; latest first
    ) r1 ON TRUE
    LEFT JOIN LATERAL (
        SELECT array_agg(x.trust_rating) AS trust, array_agg(x.communication_rating) AS communication,
               array_agg(x.hope_rating) AS hope, max(x.created_at) AS last_sent, max(x.period_start) AS last_period
        FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
              FROM checkins c WHERE c.pair_id = my.id AND c.user_id = my.u2
              ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x
    ) r2 ON TRUE
$$;
-- +goose StatementEnd
DROP FUNCTION mend_day_start(date, text);
