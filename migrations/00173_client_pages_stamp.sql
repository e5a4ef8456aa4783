-- +goose Up
-- A client's home and homework pages are kept under the newest dashboard
-- version of their pairs' counselors (issue 18). They show two things the
-- dashboard does not: the counselor's feedback, and which of the
-- partner's shared check-ins the client has opened. Their changes now
-- move the pair's counselor's version in the same transaction, as every
-- other table's do (migration 00060).
CREATE TRIGGER feedback_dashboard_insert AFTER INSERT ON feedback REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();
CREATE TRIGGER feedback_dashboard_update AFTER UPDATE ON feedback REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();
CREATE TRIGGER feedback_dashboard_delete AFTER DELETE ON feedback REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();

-- +goose StatementBegin
-- For shared_reads, which have no pair_id: the pairs of the check-ins
-- marked read. A statement that marked nothing (the check-ins were read
-- before: ON CONFLICT DO NOTHING) moves no version, so opening a page
-- again does not make it be read afresh.
CREATE FUNCTION dashboard_mark_shared_reads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT c.pair_id FROM old_rows r JOIN checkins c ON c.id = r.checkin_id);
    ELSE
        ids := ARRAY(SELECT DISTINCT c.pair_id FROM new_rows r JOIN checkins c ON c.id = r.checkin_id);
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM pairs p WHERE p.id = ANY (ids) ORDER BY p.id FOR SHARE));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER shared_reads_dashboard_insert AFTER INSERT ON shared_reads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_shared_reads();
CREATE TRIGGER shared_reads_dashboard_delete AFTER DELETE ON shared_reads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_shared_reads();

-- +goose Down
DROP FUNCTION dashboard_mark_shared_reads() CASCADE;
DROP TRIGGER feedback_dashboard_delete ON feedback;
DROP TRIGGER feedback_dashboard_update ON feedback;
DROP TRIGGER feedback_dashboard_insert ON feedback;
