-- +goose Up
-- Homework: a step (at the version it was given) assigned to a pair, for
-- both members or one; plans applied to pairs as snapshots; and the minimal
-- check-ins table (the check-in area adds its columns in 00020+), so that
-- "homework can be edited only while no check-in exists" holds in SQL.

CREATE TABLE pair_plans (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    pair_id     bigint      NOT NULL REFERENCES pairs(id),
    -- The template it came from (informational: the snapshot is what runs).
    plan_id     bigint      REFERENCES plans(id),
    name        text        NOT NULL,
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'finished', 'stopped')),
    starts_on   date        NOT NULL,
    -- Check-in cadence given to each step's homework.
    cadence     text        NOT NULL DEFAULT 'daily' CHECK (cadence IN ('once', 'daily', 'weekly')),
    weekdays    smallint[]  NOT NULL DEFAULT '{}',
    created_by  bigint      REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);
-- One running plan per pair.
CREATE UNIQUE INDEX pair_plans_one_active_idx ON pair_plans (pair_id) WHERE status = 'active';
-- The advancement job walks a practice's running plans.
CREATE INDEX pair_plans_running_idx ON pair_plans (practice_id, id) WHERE status = 'active';

CREATE TABLE pair_plan_steps (
    id              bigserial PRIMARY KEY,
    practice_id     bigint    NOT NULL REFERENCES practices(id),
    pair_plan_id    bigint    NOT NULL REFERENCES pair_plans(id),
    position        int       NOT NULL CHECK (position >= 1),
    step_version_id bigint    NOT NULL REFERENCES step_versions(id),
    days            int       NOT NULL CHECK (days BETWEEN 1 AND 365),
    UNIQUE (pair_plan_id, position)
);

CREATE TABLE assignments (
    id                bigserial   PRIMARY KEY,
    practice_id       bigint      NOT NULL REFERENCES practices(id),
    pair_id           bigint      NOT NULL REFERENCES pairs(id),
    step_version_id   bigint      NOT NULL REFERENCES step_versions(id),
    -- NULL: for both members.
    for_user_id       bigint      REFERENCES users(id),
    starts_on         date        NOT NULL,
    due_on            date        NOT NULL,
    cadence           text        NOT NULL CHECK (cadence IN ('once', 'daily', 'weekly')),
    -- ISO weekdays, 1 = Monday … 7 = Sunday, for weekly check-ins.
    weekdays          smallint[]  NOT NULL DEFAULT '{}',
    note              text        NOT NULL DEFAULT '',
    status            text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'cancelled')),
    created_by        bigint      REFERENCES users(id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    cancelled_at      timestamptz,
    pair_plan_step_id bigint      REFERENCES pair_plan_steps(id),
    CONSTRAINT assignments_dates CHECK (due_on >= starts_on),
    CONSTRAINT assignments_weekdays CHECK (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]),
    CONSTRAINT assignments_weekly_days CHECK (cadence <> 'weekly' OR cardinality(weekdays) > 0),
    -- Homework for one member must be for a member of that pair.
    CONSTRAINT assignments_member_fk FOREIGN KEY (pair_id, for_user_id) REFERENCES pair_members (pair_id, user_id)
);
CREATE INDEX assignments_practice_pair_status_idx ON assignments (practice_id, pair_id, status);
CREATE INDEX assignments_pair_due_idx ON assignments (pair_id, due_on);
-- A plan step becomes homework at most once, however many workers advance
-- plans at the same time.
CREATE UNIQUE INDEX assignments_plan_step_idx ON assignments (pair_plan_step_id) WHERE pair_plan_step_id IS NOT NULL;

CREATE TABLE checkins (
    id            bigserial   PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    pair_id       bigint      NOT NULL REFERENCES pairs(id),
    assignment_id bigint      NOT NULL REFERENCES assignments(id),
    user_id       bigint      NOT NULL REFERENCES users(id),
    period_start  date        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (assignment_id, user_id, period_start)
);

-- +goose Down
DROP TABLE checkins;
DROP TABLE assignments;
DROP TABLE pair_plan_steps;
DROP TABLE pair_plans;
