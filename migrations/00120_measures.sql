-- +goose Up
-- Measures: questionnaires the partners of a pair answer, scored and charted
-- side by side (issue 20). A measure belongs to a practice; every save is a
-- new row in measure_versions (never changed afterwards), and an answer
-- keeps the version it was given under.
CREATE TABLE measures (
    id              bigserial   PRIMARY KEY,
    practice_id     bigint      NOT NULL REFERENCES practices(id),
    -- The version answers are given under now (the latest saved).
    current_version int         NOT NULL DEFAULT 1,
    active          boolean     NOT NULL DEFAULT false,
    created_by      bigint      REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (practice_id, id)
);

CREATE TABLE measure_versions (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    measure_id  bigint      NOT NULL REFERENCES measures(id),
    version     int         NOT NULL CHECK (version >= 1),
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    -- The whole definition (measure.Definition as JSON): items, options,
    -- reverse keys, subscales, bands, rules. Item texts are the practice's
    -- copy of an instrument, not clinical data.
    definition  jsonb       NOT NULL,
    created_by  bigint      REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (measure_id, version)
);

-- A measure given to a pair: to both partners (for_user_id NULL) or one,
-- once or every N days from starts_on.
CREATE TABLE measure_assignments (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    pair_id     bigint      NOT NULL REFERENCES pairs(id),
    measure_id  bigint      NOT NULL REFERENCES measures(id),
    for_user_id bigint      REFERENCES users(id),
    every_days  int         CHECK (every_days BETWEEN 1 AND 365),
    starts_on   date        NOT NULL,
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    created_by  bigint      REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
CREATE INDEX measure_assignments_pair_idx ON measure_assignments (pair_id, status);

-- One person's answers. The item values are sealed under the pair's data
-- key (vault field measure_responses.answers); the scores are kept in the
-- clear for charts and the attention queue, like check-in ratings.
CREATE TABLE measure_responses (
    id                    bigserial   PRIMARY KEY,
    practice_id           bigint      NOT NULL REFERENCES practices(id),
    pair_id               bigint      NOT NULL REFERENCES pairs(id),
    measure_assignment_id bigint      NOT NULL REFERENCES measure_assignments(id),
    measure_version_id    bigint      NOT NULL REFERENCES measure_versions(id),
    user_id               bigint      NOT NULL REFERENCES users(id),
    answers               bytea       NOT NULL CONSTRAINT measure_responses_answers_sealed CHECK (mend_is_sealed(answers)),
    answered              int         NOT NULL,
    valid                 boolean     NOT NULL,
    total                 numeric(10,2),
    band                  text,
    severity              int,
    most_severe           boolean     NOT NULL DEFAULT false,
    subscales             jsonb       NOT NULL DEFAULT '[]',
    critical              boolean     NOT NULL DEFAULT false,
    answered_on           date        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX measure_responses_pair_idx ON measure_responses (pair_id, measure_assignment_id, user_id, created_at DESC);

-- A critical answer raises a safety alert like a flagged check-in: the
-- alert names one check-in or one measure response.
ALTER TABLE safety_alerts ALTER COLUMN checkin_id DROP NOT NULL,
    ADD COLUMN measure_response_id bigint UNIQUE REFERENCES measure_responses(id),
    ADD CONSTRAINT safety_alerts_one_source CHECK (num_nonnulls(checkin_id, measure_response_id) = 1);

-- +goose StatementBegin
-- The dashboard reads measure names through the assignments' measures: a
-- measure's change marks the counselors of the pairs it is given to.
CREATE FUNCTION dashboard_mark_measures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dashboard_mark(ARRAY(
        SELECT p.counselor_id FROM measure_assignments ma JOIN pairs p ON p.id = ma.pair_id
        WHERE ma.measure_id IN (SELECT id FROM new_rows)));
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['measure_assignments', 'measure_responses'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id()', t || '_dashboard_delete', t);
    END LOOP;
END $$;
-- +goose StatementEnd
CREATE TRIGGER measures_dashboard_update AFTER UPDATE ON measures
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_measures();

-- +goose Down
DROP FUNCTION dashboard_mark_measures() CASCADE;
ALTER TABLE safety_alerts DROP CONSTRAINT safety_alerts_one_source, DROP COLUMN measure_response_id;
DELETE FROM safety_alerts WHERE checkin_id IS NULL;
ALTER TABLE safety_alerts ALTER COLUMN checkin_id SET NOT NULL;
DROP TABLE measure_responses;
DROP TABLE measure_assignments;
DROP TABLE measure_versions;
DROP TABLE measures;
