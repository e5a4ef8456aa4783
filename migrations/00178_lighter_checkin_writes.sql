-- +goose Up
-- A check-in's edit spent a third of the database's time in its triggers
-- (issue 18; perf on the bench's edits). Three of their costs bought
-- nothing:
--
--   - dashboard_mark was a LANGUAGE sql function. PostgreSQL 15 keeps no
--     plan of a SQL function between calls, so each call from a trigger
--     parsed and planned its INSERT again: a tenth of the database's time.
--     As plpgsql, its statement is planned once per connection.
--   - An edit marked its counselor twice: once for the check-in's update,
--     once for its history row. A transaction's changes become visible
--     together, so one new version per counselor per transaction is
--     enough. A mark now records the transaction that wrote it
--     (dashboard_marks.xact), and a counselor whose mark this transaction
--     already wrote is skipped: both the full 64-bit id in xact and the
--     row's 32-bit xmin must be this transaction's. xmin alone comes round
--     again after 2^32 transactions; xact alone could match a value
--     restored from another cluster's dump. A mark undone with a
--     rolled-back savepoint goes with its row version, so the next change
--     marks again; a mark written inside a savepoint carries the
--     subtransaction's xmin and is not skipped (a second write, no harm;
--     Mend uses no savepoints).
--   - (The index that kept a rating edit from being a HOT update is rebuilt
--     by migration 00179, outside a transaction.)
--   - An update that changed only ratings read the client's last sending
--     time, period and done count again, none of which a rating changes;
--     it now reads only the ratings (dashboard_pairs_ratings), and writes
--     the row only if they differ.

ALTER TABLE dashboard_marks ADD COLUMN xact xid8;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_mark(counselors bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- In id order: two transactions marking the same counselors cannot deadlock.
    INSERT INTO dashboard_marks AS m (counselor_id, version, xact)
    SELECT s.c, nextval('dashboard_version_seq'), pg_current_xact_id()
    FROM (SELECT DISTINCT c FROM unnest(counselors) c
          WHERE c IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM dashboard_marks d WHERE d.counselor_id = c
                            AND d.xact = pg_current_xact_id() AND d.xmin = pg_current_xact_id()::xid)
          ORDER BY c) s
    ON CONFLICT (counselor_id) DO UPDATE SET version = EXCLUDED.version, xact = EXCLUDED.xact;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- dashboard_pairs_ratings reads one client's latest three ratings (as
-- dashboard_pairs_member does) into their side of the pair's summary row,
-- and writes the row only if they changed.
CREATE FUNCTION dashboard_pairs_ratings(pair bigint, client bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- The bucket lock of dashboard_pairs_refresh (migration 00174), as
    -- dashboard_pairs_member takes it; its caller holds it already.
    PERFORM pg_advisory_xact_lock(1816, (pair % 1024)::int);
    UPDATE dashboard_pairs d SET
        trust1 = CASE WHEN m.first THEN r.trust ELSE d.trust1 END,
        communication1 = CASE WHEN m.first THEN r.communication ELSE d.communication1 END,
        hope1 = CASE WHEN m.first THEN r.hope ELSE d.hope1 END,
        trust2 = CASE WHEN m.first THEN d.trust2 ELSE r.trust END,
        communication2 = CASE WHEN m.first THEN d.communication2 ELSE r.communication END,
        hope2 = CASE WHEN m.first THEN d.hope2 ELSE r.hope END
    FROM (SELECT dp.u1 = client AS first
          FROM dashboard_pairs dp WHERE dp.pair_id = pair AND client IN (dp.u1, dp.u2)) m,
         LATERAL (SELECT array_agg(y.trust_rating)::int[] AS trust, array_agg(y.communication_rating)::int[] AS communication,
                         array_agg(y.hope_rating)::int[] AS hope
                  FROM (SELECT c.trust_rating, c.communication_rating, c.hope_rating
                        FROM checkins c WHERE c.pair_id = pair AND c.user_id = client
                        ORDER BY c.period_end DESC, c.id DESC LIMIT 3) y) r
    WHERE d.pair_id = pair
      AND CASE WHEN m.first THEN (r.trust, r.communication, r.hope) IS DISTINCT FROM (d.trust1, d.communication1, d.hope1)
               ELSE (r.trust, r.communication, r.hope) IS DISTINCT FROM (d.trust2, d.communication2, d.hope2) END;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- As migration 00175's, with two changes: the rows computed whole are
-- computed only if there are any (the refresh's SET clause costs a
-- configuration change even for none), and a rerating reads only ratings.
CREATE OR REPLACE FUNCTION dashboard_pairs_checkins_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- refresh takes them again, which costs nothing.
    PERFORM pg_advisory_xact_lock(1816, b)
    FROM (SELECT DISTINCT (i % 1024)::int AS b FROM unnest(moved || rerated) i ORDER BY 1) x;
    IF cardinality(moved) > 0 THEN
        PERFORM dashboard_pairs_refresh(moved, now(), 2, 28);
    END IF;
    FOR r IN SELECT DISTINCT n.pair_id, n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE n.pair_id = ANY (rerated)
               AND (o.trust_rating, o.communication_rating, o.hope_rating)
                   IS DISTINCT FROM (n.trust_rating, n.communication_rating, n.hope_rating) LOOP
        PERFORM dashboard_pairs_ratings(r.pair_id, r.user_id);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_pairs_checkins_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION dashboard_pairs_ratings(bigint, bigint);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_mark(counselors bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dashboard_marks AS m (counselor_id, version)
    SELECT s.c, nextval('dashboard_version_seq')
    FROM (SELECT DISTINCT c FROM unnest(counselors) c WHERE c IS NOT NULL ORDER BY c) s
    ON CONFLICT (counselor_id) DO UPDATE SET version = EXCLUDED.version
$$;
-- +goose StatementEnd
ALTER TABLE dashboard_marks DROP COLUMN IF EXISTS xact;
