-- +goose Up
-- The dashboard read cold (issue 18). dashboard_pairs keeps, per active
-- pair, what the dashboard's pairs list shows that takes period arithmetic
-- to work out: the current homework, the reveal exercises waiting for the
-- counselor's release, each member's latest ratings,
-- completion over the window and the homework they missed or let pass.
-- A full read of a counselor's pairs is then the pairs index joined to
-- these rows by key, not the arithmetic for every pair.
--
-- Kept current in the writing transaction: triggers on the tables the rows
-- are computed from (checkins, reveal_answers, reveals, assignments,
-- pair_members, pair_plan_steps)
-- compute the touched pairs' rows again, as dashboard_marks' triggers move
-- the version. What no trigger can see is the day turning: every figure
-- depends on "today" in the practice's and each member's timezone. So each
-- row stores the instants between which its dates hold (valid_from, the
-- latest of the three local midnights that began them, to valid_until, the
-- earliest of the three that end them) and the three timezones it was
-- computed in; the read compares them with its own "now" and the current
-- timezones, and computes again (and stores) the rows that no longer hold
-- before using any. A row is therefore never used outside the day it was
-- computed for, whatever the clock, with no scheduled job to run late or
-- twice: at most one read per pair and day pays for the arithmetic. A
-- timezone change (client or practice) needs no trigger for the same
-- reason. Rows of pairs that are not active are not kept; a pair that
-- becomes active again is computed at its first read.
--
-- Concurrency: a transaction-scoped advisory lock per pair (class 1816)
-- is taken before the rows are computed, by triggers and reads alike, and
-- each computation runs in a statement after it, so it sees every change
-- committed by whoever held the lock before (two partners' check-ins
-- arriving together cannot leave a row without one of them).
CREATE TABLE dashboard_pairs (
    pair_id         bigint PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
    ptz             text NOT NULL,
    tz1             text,
    tz2             text,
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz NOT NULL,
    current_id      bigint,
    current_title   text,
    plan_position   int,
    plan_steps      int,
    release_ids     bigint[],
    release_titles  text[],
    u1              bigint,
    trust1          int[],
    communication1  int[],
    hope1           int[],
    last_sent1      timestamptz,
    last_period1    date,
    expected1       int NOT NULL,
    done1           int NOT NULL,
    missing_ids1    bigint[],
    missing_titles1 text[],
    overdue_ids1    bigint[],
    overdue_titles1 text[],
    u2              bigint,
    trust2          int[],
    communication2  int[],
    hope2           int[],
    last_sent2      timestamptz,
    last_period2    date,
    expected2       int NOT NULL,
    done2           int NOT NULL,
    missing_ids2    bigint[],
    missing_titles2 text[],
    overdue_ids2    bigint[],
    overdue_titles2 text[]
);

-- +goose StatementBegin
-- dashboard_pair_rows computes the rows of the given pairs (the active ones)
-- as of at_, with grace days (checkin.GraceDays) and the completion window
-- (review.CompletionDays). Per member n (position 1 or 2) t<n> is their
-- today; a closed period is one whose late window has passed in the
-- member's own timezone. The period arithmetic is in the SQL functions of
-- migration 00040, which PostgreSQL inlines. It is the one definition of
-- these figures: the summary stores its output, and tests compare the two.
CREATE FUNCTION dashboard_pair_rows(ids bigint[], at_ timestamptz, grace int, win int)
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

-- +goose StatementBegin
-- dashboard_pairs_refresh computes the pairs' rows again and stores them.
-- It runs on every write the rows are computed from (the triggers below),
-- and its statements are planned per connection. With the default
-- plan_cache_mode PostgreSQL plans dashboard_pair_rows' large statement
-- with the values on the first five runs of each connection (measured on
-- the 5,000-pair bench: 15-56 ms of planning for 1-18 ms of run, each
-- time) before it settles on a generic plan; the generic plan finds the
-- same rows by the same keys (pairs by id, every date an expression of the
-- parameters computed at run time) and runs a pair in about 0.6 ms, so it
-- is used from the first run.
CREATE FUNCTION dashboard_pairs_refresh(ids bigint[], at_ timestamptz, grace int, win int) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- In id order: two transactions refreshing the same pairs cannot deadlock.
    PERFORM pg_advisory_xact_lock(1816, (i % 2147483647)::int) FROM (SELECT DISTINCT i FROM unnest(ids) i ORDER BY 1) x;
    -- New statements, new snapshots: they see what the lock waited for.
    DELETE FROM dashboard_pairs WHERE pair_id = ANY (ids);
    INSERT INTO dashboard_pairs SELECT * FROM dashboard_pair_rows(ids, at_, grace, win);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For tables with a pair_id. 2 and 28: checkin.GraceDays and
-- review.CompletionDays (TestDashboardSummaryFollowsEveryChange fails if
-- they differ).
CREATE FUNCTION dashboard_pairs_by_pair_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM dashboard_pairs_refresh(ARRAY(SELECT pair_id FROM new_rows), now(), 2, 28);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM dashboard_pairs_refresh(ARRAY(SELECT pair_id FROM new_rows UNION SELECT pair_id FROM old_rows), now(), 2, 28);
    ELSE
        PERFORM dashboard_pairs_refresh(ARRAY(SELECT pair_id FROM old_rows), now(), 2, 28);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For pair_plan_steps: a plan's step count and positions are shown.
CREATE FUNCTION dashboard_pairs_plan_steps() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    plans bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        plans := ARRAY(SELECT pair_plan_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        plans := ARRAY(SELECT pair_plan_id FROM new_rows UNION SELECT pair_plan_id FROM old_rows);
    ELSE
        plans := ARRAY(SELECT pair_plan_id FROM old_rows);
    END IF;
    PERFORM dashboard_pairs_refresh(ARRAY(SELECT pp.pair_id FROM pair_plans pp WHERE pp.id = ANY (plans)), now(), 2, 28);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Named <table>_summary_<event>; after the <table>_dashboard_<event>
-- triggers (alphabetical), which take the pairs FOR SHARE first.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('pair_members', 'dashboard_pairs_by_pair_id'),
            ('assignments', 'dashboard_pairs_by_pair_id'),
            ('checkins', 'dashboard_pairs_by_pair_id'),
            ('reveal_answers', 'dashboard_pairs_by_pair_id'),
            ('reveals', 'dashboard_pairs_by_pair_id'),
            ('pair_plan_steps', 'dashboard_pairs_plan_steps')) AS v(tab, fn)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_summary_insert', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_summary_update', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_summary_delete', t.tab, t.fn);
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION dashboard_pairs_plan_steps() CASCADE;
DROP FUNCTION dashboard_pairs_by_pair_id() CASCADE;
DROP FUNCTION dashboard_pairs_refresh(bigint[], timestamptz, int, int);
DROP FUNCTION dashboard_pair_rows(bigint[], timestamptz, int, int);
DROP TABLE dashboard_pairs;
