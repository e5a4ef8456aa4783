-- +goose Up
-- The per-pair summary (migration 00160) was computed whole again on every
-- new or changed check-in: 1 to 4 ms of period arithmetic over all the
-- pair's homework, inside the client's request, where the check-in changes
-- a few of one client's figures (issue 18). Of a check-in the summary
-- reads its pair, client, homework, period, when it was sent, its id and
-- its three ratings; not its words, status, visibility, version or review.
--
-- An update is sorted by what it changed:
--   - the pair, client, homework, period or sending time: the pairs' rows
--     are computed again, as before;
--   - only ratings: the client's figures are read again (below);
--   - nothing the summary reads (the words of an edit, a review, a
--     visibility change, a key rotation's new ciphertext): the row is left
--     alone.
-- A new check-in can only take its homework off the client's missed and
-- overdue lists (both say "no check-in since"), never put one on, and
-- changes no other pair figure. So when its homework is on neither list,
-- and the pair is active, only the client's figures are read again;
-- otherwise the pair's row is computed again, as before. A deleted
-- check-in is computed again, as before.
--
-- "The client's figures" are their side's latest ratings, last sending
-- time and period (the last three check-ins by period, as
-- dashboard_pair_rows' r1/r2 read them, by the same index) and the
-- check-ins and reveal answers done in the window (as its done1/done2),
-- for the day the row was computed for, in the client's timezone the row
-- was computed in. A row whose day has ended is computed again at its next
-- read whatever happens here (valid_until), so nothing read here is used
-- outside its day. TestDashboardSummaryFollowsEveryChange compares the kept
-- rows with a fresh computation after each kind of change.

-- +goose StatementBegin
-- dashboard_pairs_member reads one client's figures in one pair into
-- their side of the pair's summary row. A client in neither position (they
-- left the pair) changes nothing; a pair without a row has nothing to
-- change (its first read computes it).
CREATE FUNCTION dashboard_pairs_member(pair bigint, client bigint, grace int, win int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- The bucket lock of dashboard_pairs_refresh (migration 00174): a
    -- refresh of the same pair waits for this one, or this for it, and
    -- the statement below sees what the other committed.
    PERFORM pg_advisory_xact_lock(1816, (pair % 1024)::int);
    UPDATE dashboard_pairs d SET
        trust1 = CASE WHEN m.first THEN r.trust ELSE d.trust1 END,
        communication1 = CASE WHEN m.first THEN r.communication ELSE d.communication1 END,
        hope1 = CASE WHEN m.first THEN r.hope ELSE d.hope1 END,
        last_sent1 = CASE WHEN m.first THEN r.last_sent ELSE d.last_sent1 END,
        last_period1 = CASE WHEN m.first THEN r.last_period ELSE d.last_period1 END,
        done1 = CASE WHEN m.first THEN k.done ELSE d.done1 END,
        trust2 = CASE WHEN m.first THEN d.trust2 ELSE r.trust END,
        communication2 = CASE WHEN m.first THEN d.communication2 ELSE r.communication END,
        hope2 = CASE WHEN m.first THEN d.hope2 ELSE r.hope END,
        last_sent2 = CASE WHEN m.first THEN d.last_sent2 ELSE r.last_sent END,
        last_period2 = CASE WHEN m.first THEN d.last_period2 ELSE r.last_period END,
        done2 = CASE WHEN m.first THEN d.done2 ELSE k.done END
    FROM (SELECT x.first,
                 -- The client's today when the row was computed (valid_from
                 -- is the latest of the midnights that began its day).
                 (x.valid_from AT TIME ZONE CASE WHEN x.first THEN x.tz1 ELSE x.tz2 END)::date AS t
          FROM (SELECT dp.u1 = client AS first, dp.tz1, dp.tz2, dp.valid_from
                FROM dashboard_pairs dp WHERE dp.pair_id = pair AND client IN (dp.u1, dp.u2)) x) m,
         LATERAL (SELECT array_agg(y.trust_rating)::int[] AS trust, array_agg(y.communication_rating)::int[] AS communication,
                         array_agg(y.hope_rating)::int[] AS hope, max(y.created_at) AS last_sent, max(y.period_start) AS last_period
                  FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating, c.created_at, c.period_start
                        FROM checkins c WHERE c.pair_id = pair AND c.user_id = client
                        ORDER BY c.period_end DESC, c.id DESC LIMIT 3) y) r,
         LATERAL (SELECT ((SELECT count(*) FROM checkins c
                           WHERE c.pair_id = pair AND c.user_id = client AND c.period_end BETWEEN m.t - grace - win AND m.t - grace - 1)
                        + (SELECT count(*) FROM reveal_answers ra
                           WHERE ra.pair_id = pair AND ra.user_id = client AND ra.period_end BETWEEN m.t - grace - win AND m.t - grace - 1))::int AS done) k
    WHERE d.pair_id = pair;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_pairs_checkins_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved bigint[];
    rerated bigint[];
    r record;
BEGIN
    moved := ARRAY(
        SELECT x.pair_id FROM old_rows o JOIN new_rows n ON n.id = o.id,
               LATERAL (VALUES (o.pair_id), (n.pair_id)) x(pair_id)
        WHERE (o.pair_id, o.user_id, o.assignment_id, o.period_start, o.period_end, o.created_at)
              IS DISTINCT FROM (n.pair_id, n.user_id, n.assignment_id, n.period_start, n.period_end, n.created_at)
        UNION SELECT o.pair_id FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
        UNION SELECT n.pair_id FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id));
    rerated := ARRAY(SELECT n.pair_id FROM old_rows o JOIN new_rows n ON n.id = o.id
                     WHERE (o.trust_rating, o.communication_rating, o.hope_rating)
                           IS DISTINCT FROM (n.trust_rating, n.communication_rating, n.hope_rating)
                       AND n.pair_id <> ALL (moved));
    IF cardinality(moved) + cardinality(rerated) = 0 THEN
        RETURN NULL;
    END IF;
    -- Every lock this statement needs, first and in bucket order (the
    -- refresh's order): two statements cannot deadlock on them. The
    -- refresh and the rerating take them again, which costs nothing.
    PERFORM pg_advisory_xact_lock(1816, b)
    FROM (SELECT DISTINCT (i % 1024)::int AS b FROM unnest(moved || rerated) i ORDER BY 1) x;
    PERFORM dashboard_pairs_refresh(moved, now(), 2, 28);
    FOR r IN SELECT DISTINCT n.pair_id, n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE n.pair_id = ANY (rerated)
               AND (o.trust_rating, o.communication_rating, o.hope_rating)
                   IS DISTINCT FROM (n.trust_rating, n.communication_rating, n.hope_rating) LOOP
        PERFORM dashboard_pairs_member(r.pair_id, r.user_id, 2, 28);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION dashboard_pairs_checkins_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pairs_in bigint[];
    whole bigint[];
    r record;
BEGIN
    pairs_in := ARRAY(SELECT DISTINCT pair_id FROM new_rows);
    -- The locks first (in bucket order, as the refresh takes them): what
    -- decides below must not change before the rows are written.
    PERFORM pg_advisory_xact_lock(1816, b)
    FROM (SELECT DISTINCT (i % 1024)::int AS b FROM unnest(pairs_in) i ORDER BY 1) x;
    whole := ARRAY(
        SELECT DISTINCT n.pair_id FROM new_rows n
        JOIN pairs p ON p.id = n.pair_id
        LEFT JOIN dashboard_pairs d ON d.pair_id = n.pair_id
        WHERE p.status <> 'active'
           OR (n.user_id = d.u1 AND n.assignment_id = ANY (coalesce(d.missing_ids1, '{}') || coalesce(d.overdue_ids1, '{}')))
           OR (n.user_id = d.u2 AND n.assignment_id = ANY (coalesce(d.missing_ids2, '{}') || coalesce(d.overdue_ids2, '{}'))));
    PERFORM dashboard_pairs_refresh(whole, now(), 2, 28);
    FOR r IN SELECT DISTINCT n.pair_id, n.user_id FROM new_rows n WHERE n.pair_id <> ALL (whole) ORDER BY 1, 2 LOOP
        PERFORM dashboard_pairs_member(r.pair_id, r.user_id, 2, 28);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER checkins_summary_insert ON checkins;
CREATE TRIGGER checkins_summary_insert AFTER INSERT ON checkins REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_checkins_insert();
DROP TRIGGER checkins_summary_update ON checkins;
CREATE TRIGGER checkins_summary_update AFTER UPDATE ON checkins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_checkins_update();

-- +goose Down
DROP TRIGGER checkins_summary_insert ON checkins;
CREATE TRIGGER checkins_summary_insert AFTER INSERT ON checkins REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_by_pair_id();
DROP TRIGGER checkins_summary_update ON checkins;
CREATE TRIGGER checkins_summary_update AFTER UPDATE ON checkins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_by_pair_id();
DROP FUNCTION dashboard_pairs_checkins_insert();
DROP FUNCTION dashboard_pairs_checkins_update();
DROP FUNCTION dashboard_pairs_member(bigint, bigint, int, int);
