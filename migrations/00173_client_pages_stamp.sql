-- +goose Up
-- A client's home and homework pages are kept under the newest dashboard
-- version of their pairs' counselors, and a counselor's review page under
-- their own (issue 18). They show what the dashboard does not: the
-- counselor's feedback, which of the partner's shared check-ins the client
-- has opened, a check-in's edit history, staff names; and the pair page,
-- kept too: its events, consents and the library's step versions. Their changes now
-- move the pair's counselor's version in the same transaction, as every
-- other table's do (migration 00060).

-- +goose StatementBegin
-- dashboard_mark_triggers makes the three statement-level triggers
-- (PostgreSQL allows transition tables only on a trigger for one event)
-- that move the stamp on every change of table tab, through the trigger
-- function fn, named <tab>_dashboard_<event> as migration 00060's. A later
-- migration calls it for a new table a kept page reads.
CREATE FUNCTION dashboard_mark_triggers(tab text, fn text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION %I()', tab || '_dashboard_insert', tab, fn);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION %I()', tab || '_dashboard_update', tab, fn);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION %I()', tab || '_dashboard_delete', tab, fn);
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For tables with a checkin_id and no pair_id (shared_reads, the edit
-- history the review page shows): the pairs of the check-ins touched. A
-- statement that touched no row (shared check-ins read before: ON
-- CONFLICT DO NOTHING) moves no version, so opening a page again does not
-- make it be read afresh.
CREATE FUNCTION dashboard_mark_by_checkin_id() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
-- For users: the review page names staff (who reviewed, who wrote each
-- feedback, who acknowledged a flag), so a staff member's new name moves
-- the versions of every counselor of their practice (rare, and cheap).
-- Clients' names are covered by dashboard_mark_users (migration 00060).
CREATE FUNCTION dashboard_mark_staff_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dashboard_mark(ARRAY(
        SELECT p.counselor_id
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN pairs p ON p.practice_id = n.practice_id
        WHERE n.role <> 'client' AND n.name IS DISTINCT FROM o.name));
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER users_dashboard_staff_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_staff_names();

-- +goose StatementBegin
-- For consent_acceptances (the pair page shows which version each client
-- accepted): the counselors of the clients' pairs.
CREATE FUNCTION dashboard_mark_consents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM old_rows r JOIN pair_members m ON m.user_id = r.user_id
                                     JOIN pairs p ON p.id = m.pair_id));
    ELSE
        PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM new_rows r JOIN pair_members m ON m.user_id = r.user_id
                                     JOIN pairs p ON p.id = m.pair_id));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For practice-wide rows a pair page shows (a library step's current
-- version, the consent text's versions): every counselor of the practice.
-- They change seldom. A row of no practice (a step of the library every
-- practice starts from) concerns every counselor.
CREATE FUNCTION dashboard_mark_practice_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    practices bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        practices := ARRAY(SELECT DISTINCT coalesce(practice_id, 0) FROM old_rows);
    ELSE
        practices := ARRAY(SELECT DISTINCT coalesce(practice_id, 0) FROM new_rows);
    END IF;
    PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM pairs p
                                 WHERE p.practice_id = ANY (practices) OR 0 = ANY (practices)));
    RETURN NULL;
END $$;
-- +goose StatementEnd

SELECT dashboard_mark_triggers(tab, fn) FROM (VALUES
    ('feedback', 'dashboard_mark_by_pair_id'),
    ('pair_events', 'dashboard_mark_by_pair_id'),
    ('shared_reads', 'dashboard_mark_by_checkin_id'),
    ('checkin_history', 'dashboard_mark_by_checkin_id'),
    ('consent_acceptances', 'dashboard_mark_consents'),
    ('consent_versions', 'dashboard_mark_practice_rows'),
    ('steps', 'dashboard_mark_practice_rows')) AS v(tab, fn);

-- +goose Down
-- Dropping the functions drops their triggers.
DROP FUNCTION dashboard_mark_practice_rows() CASCADE;
DROP FUNCTION dashboard_mark_consents() CASCADE;
DROP FUNCTION dashboard_mark_staff_names() CASCADE;
DROP FUNCTION dashboard_mark_by_checkin_id() CASCADE;
DROP TRIGGER feedback_dashboard_delete ON feedback;
DROP TRIGGER feedback_dashboard_update ON feedback;
DROP TRIGGER feedback_dashboard_insert ON feedback;
DROP TRIGGER pair_events_dashboard_delete ON pair_events;
DROP TRIGGER pair_events_dashboard_update ON pair_events;
DROP TRIGGER pair_events_dashboard_insert ON pair_events;
DROP FUNCTION dashboard_mark_triggers(text, text);
