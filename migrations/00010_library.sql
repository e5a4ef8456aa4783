-- +goose Up
-- The repair-step library and plan templates. A step's wording lives in
-- step_versions: every save adds a version, and homework points at the
-- version it was given, so later wording changes never rewrite what a pair
-- was assigned. practice_id NULL marks Mend's built-in steps and plans
-- (loaded from internal/library/builtin/steps.json, read-only).

CREATE TABLE steps (
    id                  bigserial   PRIMARY KEY,
    practice_id         bigint      REFERENCES practices(id),
    -- Stable key of a built-in step in steps.json; NULL for practice steps.
    key                 text,
    -- Built-ins: their order in steps.json (the order the articles teach).
    position            int         NOT NULL DEFAULT 0,
    copied_from_step_id bigint      REFERENCES steps(id),
    created_by          bigint      REFERENCES users(id),
    -- The version shown in the library and used for new homework.
    current_version_id  bigint,
    archived_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT steps_builtin_has_key CHECK ((practice_id IS NULL) = (key IS NOT NULL))
);
CREATE UNIQUE INDEX steps_builtin_key_idx ON steps (key) WHERE practice_id IS NULL;
CREATE INDEX steps_practice_idx ON steps (practice_id) WHERE archived_at IS NULL;

CREATE TABLE step_versions (
    id            bigserial   PRIMARY KEY,
    step_id       bigint      NOT NULL REFERENCES steps(id),
    practice_id   bigint      REFERENCES practices(id),
    version       int         NOT NULL CHECK (version >= 1),
    title         text        NOT NULL CHECK (title <> ''),
    summary       text        NOT NULL DEFAULT '',
    why           text        NOT NULL DEFAULT '',
    -- {"both": [...], "broke": [...], "hurt": [...]}: what the pair does
    -- together, and what the partner who broke the trust / was hurt does.
    instructions  jsonb       NOT NULL DEFAULT '{"both": [], "broke": [], "hurt": []}',
    questions     jsonb       NOT NULL DEFAULT '[]',
    duration_days int         NOT NULL CHECK (duration_days BETWEEN 1 AND 365),
    created_by    bigint      REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Library search: a GIN-indexed document instead of ILIKE over
    -- everything. Titles weigh most.
    search        tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', summary), 'B') ||
        to_tsvector('english', why) ||
        jsonb_to_tsvector('english', instructions, '["string"]') ||
        jsonb_to_tsvector('english', questions, '["string"]')
    ) STORED,
    UNIQUE (step_id, version)
);
CREATE INDEX step_versions_search_idx ON step_versions USING gin (search);

ALTER TABLE steps ADD CONSTRAINT steps_current_version_fk
    FOREIGN KEY (current_version_id) REFERENCES step_versions(id);

-- Plan templates: an ordered list of steps with durations. A pair on a plan
-- gets a snapshot (pair_plans), so editing a template never changes pairs
-- already on it.
CREATE TABLE plans (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      REFERENCES practices(id),
    key         text,
    name        text        NOT NULL CHECK (name <> ''),
    description text        NOT NULL DEFAULT '',
    created_by  bigint      REFERENCES users(id),
    archived_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_builtin_has_key CHECK ((practice_id IS NULL) = (key IS NOT NULL))
);
CREATE UNIQUE INDEX plans_builtin_key_idx ON plans (key) WHERE practice_id IS NULL;
CREATE INDEX plans_practice_idx ON plans (practice_id) WHERE archived_at IS NULL;

CREATE TABLE plan_steps (
    plan_id     bigint NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    practice_id bigint REFERENCES practices(id),
    position    int    NOT NULL CHECK (position >= 1),
    step_id     bigint NOT NULL REFERENCES steps(id),
    days        int    NOT NULL CHECK (days BETWEEN 1 AND 365),
    PRIMARY KEY (plan_id, position)
);
CREATE INDEX plan_steps_step_idx ON plan_steps (step_id);

-- +goose Down
DROP TABLE plan_steps;
DROP TABLE plans;
ALTER TABLE steps DROP CONSTRAINT steps_current_version_fk;
DROP TABLE step_versions;
DROP TABLE steps;
