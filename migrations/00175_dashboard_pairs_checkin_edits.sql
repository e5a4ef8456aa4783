-- +goose Up
-- The per-pair summary (migration 00160) was computed whole again on every
-- update of a check-in: 1 to 4 ms of period arithmetic over all the pair's
-- homework, inside the client's edit, for a change that mostly touches
-- nothing the summary holds (issue 18). Of a check-in the summary reads
-- its pair, client, homework, period, when it was sent, its id and its
-- three ratings; not its words, status, visibility, version or review.
-- An update is now sorted by what it changed:
--
--   - the pair, client, homework, period or sending time: the pairs' rows
--     are computed again, as before;
--   - only ratings: the client's latest ratings (the last three by period,
--     as dashboard_pair_rows' r1/r2 read them) are read again into their
--     side of the pair's row, under the same per-pair lock, by the same
--     index (checkins_member_end_idx, which carries the ratings);
--   - nothing the summary reads (the words of an edit, a review, a
--     visibility change): the row is left alone.
--
-- A row whose day has ended is computed again at its next read whatever
-- happens here (valid_until), so updating its ratings cannot make it used
-- outside its day. TestDashboardSummaryFollowsEveryChange compares the
-- kept rows with a fresh computation after each kind of edit.

-- +goose StatementBegin
-- dashboard_pairs_rerate reads one client's latest ratings in one pair
-- into their side of the pair's summary row. A client who is in neither
-- position (they left the pair) changes nothing.
CREATE FUNCTION dashboard_pairs_rerate(pair bigint, client bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- The bucket lock of dashboard_pairs_refresh (migration 00174): a
    -- refresh of the same pair waits for this one, or this for it, and
    -- the statement below sees what the other committed.
    PERFORM pg_advisory_xact_lock(1816, (pair % 1024)::int);
    UPDATE dashboard_pairs d SET
        trust1 = CASE WHEN d.u1 = client THEN r.trust ELSE d.trust1 END,
        communication1 = CASE WHEN d.u1 = client THEN r.communication ELSE d.communication1 END,
        hope1 = CASE WHEN d.u1 = client THEN r.hope ELSE d.hope1 END,
        trust2 = CASE WHEN d.u2 = client THEN r.trust ELSE d.trust2 END,
        communication2 = CASE WHEN d.u2 = client THEN r.communication ELSE d.communication2 END,
        hope2 = CASE WHEN d.u2 = client THEN r.hope ELSE d.hope2 END
    FROM (SELECT array_agg(x.trust_rating)::int[] AS trust, array_agg(x.communication_rating)::int[] AS communication,
                 array_agg(x.hope_rating)::int[] AS hope
          FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating
                FROM checkins c WHERE c.pair_id = pair AND c.user_id = client
                ORDER BY c.period_end DESC, c.id DESC LIMIT 3) x) r
    WHERE d.pair_id = pair AND client IN (d.u1, d.u2);
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
        PERFORM dashboard_pairs_rerate(r.pair_id, r.user_id);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER checkins_summary_update ON checkins;
CREATE TRIGGER checkins_summary_update AFTER UPDATE ON checkins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_checkins_update();

-- +goose Down
DROP TRIGGER checkins_summary_update ON checkins;
CREATE TRIGGER checkins_summary_update AFTER UPDATE ON checkins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_pairs_by_pair_id();
DROP FUNCTION dashboard_pairs_checkins_update();
DROP FUNCTION dashboard_pairs_rerate(bigint, bigint);
