-- +goose Up
-- When the next check-in reminder, overdue nudge or counselor digest is due,
-- kept per (client, homework) and per counselor, so that the scheduler's
-- query each minute reads only the rows that are due (an index range on
-- due_at), however many clients and homework there are.
--
-- The times themselves are computed in Go (internal/reminder: periods in the
-- client's timezone, reminder minute, quiet hours). The database only keeps
-- them current: the triggers below set due_at to '-infinity' ("look at this
-- again on the next pass") whenever something a due time depends on
-- changes — homework created, edited, completed or cancelled; a pair paused,
-- resumed or closed; a client's timezone, reminder preferences, account
-- state. Doing that in triggers means every writer (web forms, plan
-- advancement, the demo seed, an admin's SQL) keeps the table right without
-- knowing about it. '-infinity' rather than now(): the scheduler compares
-- with its own clock, which tests set.
--
-- A submitted check-in needs no trigger: the pending reminder or nudge for
-- its period is re-checked when it comes due and then skipped.

CREATE TABLE reminder_due (
    user_id          bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assignment_id    bigint      NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    practice_id      bigint      NOT NULL REFERENCES practices(id),
    -- NULL: nothing to send until something changes (reminders turned off,
    -- pair paused, account not yet activated).
    due_at           timestamptz,
    -- The latest period (by its first day) whose reminder, resp. nudge, was
    -- queued: each is sent once per period, in period order.
    reminded_through date,
    nudged_through   date,
    PRIMARY KEY (user_id, assignment_id)
);
CREATE INDEX reminder_due_at_idx ON reminder_due (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX reminder_due_assignment_idx ON reminder_due (assignment_id);
CREATE INDEX reminder_due_practice_idx ON reminder_due (practice_id);

-- One row per counselor: when their next daily digest is due.
CREATE TABLE digest_due (
    user_id     bigint      PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    due_at      timestamptz NOT NULL,
    -- The counselor's local date of the last digest decided (sent, or
    -- skipped because every count was zero).
    last_on     date
);
CREATE INDEX digest_due_at_idx ON digest_due (due_at);
CREATE INDEX digest_due_practice_idx ON digest_due (practice_id);

-- Homework: rows for each client it is for, looked at again on every change
-- that moves its periods or ends it.
-- +goose StatementBegin
CREATE FUNCTION reminder_due_assignment() RETURNS trigger AS $$
BEGIN
    UPDATE reminder_due SET due_at = '-infinity' WHERE assignment_id = NEW.id;
    IF NEW.status = 'active' THEN
        INSERT INTO reminder_due (user_id, assignment_id, practice_id, due_at)
        SELECT pm.user_id, NEW.id, NEW.practice_id, '-infinity'
        FROM pair_members pm
        WHERE pm.pair_id = NEW.pair_id AND pm.current
          AND (NEW.for_user_id IS NULL OR pm.user_id = NEW.for_user_id)
        ON CONFLICT (user_id, assignment_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER assignments_reminder_due_insert AFTER INSERT ON assignments
    FOR EACH ROW EXECUTE FUNCTION reminder_due_assignment();
CREATE TRIGGER assignments_reminder_due_update AFTER UPDATE ON assignments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.starts_on IS DISTINCT FROM NEW.starts_on
        OR OLD.due_on IS DISTINCT FROM NEW.due_on OR OLD.cadence IS DISTINCT FROM NEW.cadence
        OR OLD.weekdays IS DISTINCT FROM NEW.weekdays OR OLD.for_user_id IS DISTINCT FROM NEW.for_user_id
        OR OLD.pair_id IS DISTINCT FROM NEW.pair_id)
    EXECUTE FUNCTION reminder_due_assignment();

-- A pair paused, resumed or closed: its homework's rows.
-- +goose StatementBegin
CREATE FUNCTION reminder_due_pair() RETURNS trigger AS $$
BEGIN
    UPDATE reminder_due SET due_at = '-infinity'
    WHERE assignment_id IN (SELECT a.id FROM assignments a WHERE a.pair_id = NEW.id AND a.status = 'active');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER pairs_reminder_due AFTER UPDATE OF status ON pairs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION reminder_due_pair();

-- A member joining a pair (or leaving it: current = false) after homework
-- was given.
-- +goose StatementBegin
CREATE FUNCTION reminder_due_member() RETURNS trigger AS $$
BEGIN
    UPDATE reminder_due SET due_at = '-infinity' WHERE user_id = NEW.user_id;
    IF NEW.current THEN
        INSERT INTO reminder_due (user_id, assignment_id, practice_id, due_at)
        SELECT NEW.user_id, a.id, a.practice_id, '-infinity'
        FROM assignments a
        WHERE a.pair_id = NEW.pair_id AND a.status = 'active'
          AND (a.for_user_id IS NULL OR a.for_user_id = NEW.user_id)
        ON CONFLICT (user_id, assignment_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER pair_members_reminder_due AFTER INSERT OR UPDATE OF current ON pair_members
    FOR EACH ROW EXECUTE FUNCTION reminder_due_member();

-- A person's timezone, reminder preferences, account state or role: their
-- reminder rows, and their digest row if they are a counselor.
-- +goose StatementBegin
CREATE FUNCTION reminder_due_user() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE reminder_due SET due_at = '-infinity' WHERE user_id = NEW.id;
    END IF;
    IF NEW.role = 'counselor' THEN
        INSERT INTO digest_due (user_id, practice_id, due_at) VALUES (NEW.id, NEW.practice_id, '-infinity')
        ON CONFLICT (user_id) DO UPDATE SET due_at = '-infinity';
    ELSE
        DELETE FROM digest_due WHERE user_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER users_reminder_due_insert AFTER INSERT ON users
    FOR EACH ROW WHEN (NEW.role = 'counselor')
    EXECUTE FUNCTION reminder_due_user();
CREATE TRIGGER users_reminder_due_update
    AFTER UPDATE OF role, timezone, disabled_at, password_hash, reminders_enabled, reminder_minute, quiet_start, quiet_end ON users
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role OR OLD.timezone IS DISTINCT FROM NEW.timezone
        OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR (OLD.password_hash IS NULL) IS DISTINCT FROM (NEW.password_hash IS NULL)
        OR OLD.reminders_enabled IS DISTINCT FROM NEW.reminders_enabled
        OR OLD.reminder_minute IS DISTINCT FROM NEW.reminder_minute
        OR OLD.quiet_start IS DISTINCT FROM NEW.quiet_start OR OLD.quiet_end IS DISTINCT FROM NEW.quiet_end)
    EXECUTE FUNCTION reminder_due_user();

-- What exists already.
INSERT INTO reminder_due (user_id, assignment_id, practice_id, due_at)
SELECT pm.user_id, a.id, a.practice_id, '-infinity'
FROM assignments a
JOIN pair_members pm ON pm.pair_id = a.pair_id AND pm.current
WHERE a.status = 'active' AND (a.for_user_id IS NULL OR a.for_user_id = pm.user_id)
ON CONFLICT DO NOTHING;
INSERT INTO digest_due (user_id, practice_id, due_at)
SELECT id, practice_id, '-infinity' FROM users WHERE role = 'counselor'
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TRIGGER users_reminder_due_update ON users;
DROP TRIGGER users_reminder_due_insert ON users;
DROP FUNCTION reminder_due_user();
DROP TRIGGER pair_members_reminder_due ON pair_members;
DROP FUNCTION reminder_due_member();
DROP TRIGGER pairs_reminder_due ON pairs;
DROP FUNCTION reminder_due_pair();
DROP TRIGGER assignments_reminder_due_update ON assignments;
DROP TRIGGER assignments_reminder_due_insert ON assignments;
DROP FUNCTION reminder_due_assignment();
DROP TABLE digest_due;
DROP TABLE reminder_due;
