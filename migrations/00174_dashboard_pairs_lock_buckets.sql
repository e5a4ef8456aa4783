-- +goose Up
-- dashboard_pairs_refresh (migration 00160) took one advisory lock per pair
-- refreshed. A statement touching many pairs at once (100,000 clients added
-- in one statement by the reminders benchmark; a practice's timezone
-- changed) then needed more locks than PostgreSQL's lock table holds
-- (max_locks_per_transaction x max_connections, 6,400 by default) and
-- failed with "out of shared memory". The pairs now take the lock of their
-- bucket (pair id modulo 1,024), still in order so that two refreshes
-- cannot deadlock: one lock for a single pair's write, as before, and at
-- most 1,024 for any number of pairs. Two refreshes of different pairs in
-- the same bucket wait for each other, which a write of one pair rarely
-- meets.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_pairs_refresh(ids bigint[], at_ timestamptz, grace int, win int) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- In bucket order: two transactions refreshing the same pairs cannot deadlock.
    PERFORM pg_advisory_xact_lock(1816, b) FROM (SELECT DISTINCT (i % 1024)::int AS b FROM unnest(ids) i ORDER BY 1) x;
    -- New statements, new snapshots: they see what the lock waited for.
    DELETE FROM dashboard_pairs WHERE pair_id = ANY (ids);
    INSERT INTO dashboard_pairs SELECT * FROM dashboard_pair_rows(ids, at_, grace, win);
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION dashboard_pairs_refresh(ids bigint[], at_ timestamptz, grace int, win int) RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(1816, (i % 2147483647)::int) FROM (SELECT DISTINCT i FROM unnest(ids) i ORDER BY 1) x;
    DELETE FROM dashboard_pairs WHERE pair_id = ANY (ids);
    INSERT INTO dashboard_pairs SELECT * FROM dashboard_pair_rows(ids, at_, grace, win);
END $$;
-- +goose StatementEnd
