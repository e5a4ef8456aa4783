-- +goose Up
-- Reveal exercises (issue 21): both partners answer a step's questions on
-- their own, and neither reads the other's answers until the reveal.
--
-- A step version is a reveal exercise when reveal_rule is set:
--   both      — a period's answers are revealed when both have answered;
--   counselor — once both have answered, the counselor reads them and
--               releases them (with an optional note shown with the reveal);
--   session   — never revealed in the app (the counselor brings them to a
--               session).
ALTER TABLE step_versions ADD COLUMN reveal_rule text NOT NULL DEFAULT ''
    CHECK (reveal_rule IN ('', 'both', 'counselor', 'session'));

-- The practice may turn off the hint "<partner> has answered" on the
-- other partner's pages.
ALTER TABLE practices ADD COLUMN reveal_hint boolean NOT NULL DEFAULT true;

-- One client's answers for one period of a reveal exercise. answers is the
-- sealed JSON list of {question, answer} (vault: reveal_answers.answers);
-- edits counts changes before the reveal (staff only).
CREATE TABLE reveal_answers (
    id            bigserial   PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    pair_id       bigint      NOT NULL REFERENCES pairs(id),
    assignment_id bigint      NOT NULL REFERENCES assignments(id),
    user_id       bigint      NOT NULL REFERENCES users(id),
    period_start  date        NOT NULL,
    period_end    date        NOT NULL,
    answers       bytea,
    edits         int         NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (assignment_id, user_id, period_start),
    CONSTRAINT reveal_answers_member_fk FOREIGN KEY (pair_id, user_id) REFERENCES pair_members (pair_id, user_id)
);
CREATE INDEX reveal_answers_pair_idx ON reveal_answers (pair_id, assignment_id, period_start);

-- The reveal of one period: who made it happen (the partner whose answer
-- completed it, or the counselor who released it), when, under which
-- rule, and the counselor's note (sealed: reveals.note).
CREATE TABLE reveals (
    id            bigserial   PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    pair_id       bigint      NOT NULL REFERENCES pairs(id),
    assignment_id bigint      NOT NULL REFERENCES assignments(id),
    period_start  date        NOT NULL,
    rule          text        NOT NULL CHECK (rule IN ('both', 'counselor')),
    revealed_by   bigint      REFERENCES users(id),
    revealed_at   timestamptz NOT NULL DEFAULT now(),
    note          bytea,
    UNIQUE (assignment_id, period_start)
);
CREATE INDEX reveals_pair_idx ON reveals (pair_id);

-- A partner's short reply to the other's answers after the reveal (sealed:
-- reveal_replies.body); one per partner and period.
CREATE TABLE reveal_replies (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    pair_id     bigint      NOT NULL REFERENCES pairs(id),
    reveal_id   bigint      NOT NULL REFERENCES reveals(id),
    user_id     bigint      NOT NULL REFERENCES users(id),
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reveal_id, user_id)
);

-- Emails about reveal exercises waiting for their time (the recipient's
-- quiet hours): the reminder pass queues each when due_at has come, with
-- a dedupe key per recipient, exercise, period and kind. They carry ids
-- only.
CREATE TABLE reveal_notices (
    id            bigserial   PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    pair_id       bigint      NOT NULL REFERENCES pairs(id),
    assignment_id bigint      NOT NULL REFERENCES assignments(id),
    period_start  date        NOT NULL,
    user_id       bigint      NOT NULL REFERENCES users(id),
    kind          text        NOT NULL CHECK (kind IN ('answered', 'revealed', 'ready')),
    due_at        timestamptz NOT NULL,
    UNIQUE (assignment_id, period_start, user_id, kind)
);
CREATE INDEX reveal_notices_due_idx ON reveal_notices (due_at);

-- The dashboard reads answers and reveals (missing answers, exercises
-- waiting for release): their changes move the counselor's stamp.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reveal_answers', 'reveals'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_delete', t);
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE reveal_notices;
DROP TABLE reveal_replies;
DROP TABLE reveals;
DROP TABLE reveal_answers;
ALTER TABLE practices DROP COLUMN reveal_hint;
ALTER TABLE step_versions DROP COLUMN reveal_rule;
