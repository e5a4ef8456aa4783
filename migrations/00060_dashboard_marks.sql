-- +goose Up
-- A counselor's dashboard changes only when a row it reads changes (or the
-- day turns somewhere: the web layer keys its cache by a 15-minute slot as
-- well). dashboard_marks holds, per counselor, a version that the
-- statement-level triggers below move forward in the same transaction as
-- every such change, so "is my rendered dashboard still right?" is one
-- primary-key read instead of the dashboard's queries. Versions come from
-- one sequence: a counselor's mark deleted and made again never goes back
-- to a version a cache may still hold.
CREATE SEQUENCE dashboard_version_seq;

CREATE TABLE dashboard_marks (
    counselor_id bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version      bigint NOT NULL
);

-- +goose StatementBegin
-- dashboard_mark moves the given counselors' versions forward, in id order
-- so that two transactions touching the same counselors cannot deadlock.
CREATE FUNCTION dashboard_mark(counselors bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO dashboard_marks AS m (counselor_id, version)
    SELECT s.c, nextval('dashboard_version_seq')
    FROM (SELECT DISTINCT c FROM unnest(counselors) c WHERE c IS NOT NULL ORDER BY c) s
    ON CONFLICT (counselor_id) DO UPDATE SET version = EXCLUDED.version
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For tables with a pair_id: the counselors of the pairs the statement
-- touched. The pairs are read FOR SHARE: a reassignment of one of them that
-- has not committed yet is waited for and its new counselor read (else the
-- new counselor's stamp could be read between the two commits and a
-- dashboard without this change kept under it). A pair being deleted in the
-- same statement is covered by the trigger on pairs.
CREATE FUNCTION dashboard_mark_by_pair_id() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT pair_id FROM new_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT pair_id FROM new_rows UNION SELECT pair_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT DISTINCT pair_id FROM old_rows);
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM pairs p WHERE p.id = ANY (ids) ORDER BY p.id FOR SHARE));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For pairs: the counselor before and after (a reassigned pair leaves one
-- dashboard and joins another).
CREATE FUNCTION dashboard_mark_pairs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM dashboard_mark(ARRAY(SELECT counselor_id FROM new_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM dashboard_mark(ARRAY(SELECT counselor_id FROM new_rows UNION SELECT counselor_id FROM old_rows));
    ELSE
        PERFORM dashboard_mark(ARRAY(SELECT counselor_id FROM old_rows));
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For pair_plan_steps: a plan's step count and positions are shown (pairs
-- read FOR SHARE, as above).
CREATE FUNCTION dashboard_mark_plan_steps() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT pair_plan_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT DISTINCT pair_plan_id FROM new_rows);
    END IF;
    PERFORM dashboard_mark(ARRAY(SELECT p.counselor_id FROM pair_plans pp JOIN pairs p ON p.id = pp.pair_id
                                 WHERE pp.id = ANY (ids) ORDER BY p.id FOR SHARE OF p));
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For users: a client's name and timezone are shown (the timezone decides
-- their periods); other columns (last login, password) are not.
CREATE FUNCTION dashboard_mark_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dashboard_mark(ARRAY(
        SELECT p.counselor_id
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN pair_members m ON m.user_id = n.id
        JOIN pairs p ON p.id = m.pair_id
        WHERE n.name IS DISTINCT FROM o.name OR n.timezone IS DISTINCT FROM o.timezone));
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For practices: the practice's timezone decides "today" for homework.
CREATE FUNCTION dashboard_mark_practices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dashboard_mark(ARRAY(
        SELECT p.counselor_id
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN pairs p ON p.practice_id = n.id
        WHERE n.timezone IS DISTINCT FROM o.timezone));
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- Three triggers per table: PostgreSQL allows transition tables only on a
-- trigger for one event. Named <table>_dashboard_<event>.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
            ('pairs', 'dashboard_mark_pairs'),
            ('pair_members', 'dashboard_mark_by_pair_id'),
            ('assignments', 'dashboard_mark_by_pair_id'),
            ('checkins', 'dashboard_mark_by_pair_id'),
            ('safety_alerts', 'dashboard_mark_by_pair_id'),
            ('pair_plan_steps', 'dashboard_mark_plan_steps')) AS v(tab, fn)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_dashboard_insert', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_dashboard_update', t.tab, t.fn);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', t.tab || '_dashboard_delete', t.tab, t.fn);
    END LOOP;
END $$;
-- +goose StatementEnd

CREATE TRIGGER users_dashboard_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_users();
CREATE TRIGGER practices_dashboard_update AFTER UPDATE ON practices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_practices();

-- +goose Down
-- Dropping the functions drops their triggers.
DROP FUNCTION dashboard_mark_practices() CASCADE;
DROP FUNCTION dashboard_mark_users() CASCADE;
DROP FUNCTION dashboard_mark_plan_steps() CASCADE;
DROP FUNCTION dashboard_mark_pairs() CASCADE;
DROP FUNCTION dashboard_mark_by_pair_id() CASCADE;
DROP FUNCTION dashboard_mark(bigint[]);
DROP TABLE dashboard_marks;
DROP SEQUENCE dashboard_version_seq;
