-- +goose Up
-- Check-ins: what a client says about one period of their homework. The
-- minimal table (ids, period_start and the one-per-period constraint) comes
-- with homework in 00012; this adds the answers, the visibility rule's
-- column, the safety answer, the edit history and the safety alerts.
--
-- Columns that must be NOT NULL are added with a default so that existing
-- rows (there are none in practice) get a value, and the default is then
-- dropped where a value must always be chosen by the client.

ALTER TABLE checkins
    -- The period's last day (period_start is its first). Both are civil
    -- dates in the client's timezone; see internal/checkin/period.go.
    ADD COLUMN period_end           date,
    ADD COLUMN status               text        NOT NULL DEFAULT 'not_done'
        CHECK (status IN ('done', 'partly', 'not_done')),
    ADD COLUMN trust_rating         smallint    NOT NULL DEFAULT 1 CHECK (trust_rating BETWEEN 1 AND 10),
    ADD COLUMN communication_rating smallint    NOT NULL DEFAULT 1 CHECK (communication_rating BETWEEN 1 AND 10),
    ADD COLUMN hope_rating          smallint    NOT NULL DEFAULT 1 CHECK (hope_rating BETWEEN 1 AND 10),
    -- [{"q": question as it was asked, "a": answer}], in the step's order.
    ADD COLUMN answers              jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN reflection           text        NOT NULL DEFAULT '' CHECK (char_length(reflection) <= 5000),
    -- counselor: only the counselor (and admins) see it; partner: the other
    -- member of the pair sees it too. Every client-reachable query filters
    -- on this column in SQL.
    ADD COLUMN visibility           text        NOT NULL DEFAULT 'counselor'
        CHECK (visibility IN ('counselor', 'partner')),
    -- Sent after the period ended, within the grace window.
    ADD COLUMN late                 boolean     NOT NULL DEFAULT false,
    -- "I do not feel safe": counselor-only whatever the visibility. Client
    -- queries select these only for the check-in's own author.
    ADD COLUMN safety_flag          boolean     NOT NULL DEFAULT false,
    ADD COLUMN safety_note          text        NOT NULL DEFAULT '' CHECK (char_length(safety_note) <= 1000),
    ADD COLUMN version              int         NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Set when the counselor reviews the check-in; from then on the client
    -- can no longer change it.
    ADD COLUMN reviewed_at          timestamptz;

UPDATE checkins SET period_end = period_start WHERE period_end IS NULL;
ALTER TABLE checkins
    ALTER COLUMN period_end SET NOT NULL,
    ALTER COLUMN status DROP DEFAULT,
    ALTER COLUMN trust_rating DROP DEFAULT,
    ALTER COLUMN communication_rating DROP DEFAULT,
    ALTER COLUMN hope_rating DROP DEFAULT,
    ADD CONSTRAINT checkins_period CHECK (period_end >= period_start);

-- A pair's check-ins, newest period first (counselor list, client pages).
CREATE INDEX checkins_pair_period_idx ON checkins (pair_id, period_start DESC, id DESC);
-- A practice's check-ins over time (dashboards, admins).
CREATE INDEX checkins_practice_created_idx ON checkins (practice_id, created_at DESC);
-- A client's own check-ins.
CREATE INDEX checkins_user_idx ON checkins (user_id, period_start DESC);

-- Every earlier version of an edited check-in, for the counselor. A row is
-- written, in the same transaction as the edit, with what the check-in said
-- before it.
CREATE TABLE checkin_history (
    id                   bigserial   PRIMARY KEY,
    practice_id          bigint      NOT NULL REFERENCES practices(id),
    checkin_id           bigint      NOT NULL REFERENCES checkins(id) ON DELETE CASCADE,
    version              int         NOT NULL,
    status               text        NOT NULL,
    trust_rating         smallint    NOT NULL,
    communication_rating smallint    NOT NULL,
    hope_rating          smallint    NOT NULL,
    answers              jsonb       NOT NULL,
    reflection           text        NOT NULL,
    visibility           text        NOT NULL,
    safety_flag          boolean     NOT NULL,
    safety_note          text        NOT NULL,
    -- When this version was saved, and when an edit replaced it.
    saved_at             timestamptz NOT NULL,
    replaced_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (checkin_id, version)
);

-- A safety flag becomes an alert for the pair's counselor (or, for a pair
-- with no counselor, the practice's admins). One alert per check-in,
-- however often the flag is edited.
CREATE TABLE safety_alerts (
    id              bigserial   PRIMARY KEY,
    practice_id     bigint      NOT NULL REFERENCES practices(id),
    pair_id         bigint      NOT NULL REFERENCES pairs(id),
    checkin_id      bigint      NOT NULL UNIQUE REFERENCES checkins(id),
    counselor_id    bigint      REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by bigint      REFERENCES users(id),
    ack_note        text        NOT NULL DEFAULT '' CHECK (char_length(ack_note) <= 2000)
);
-- Open alerts for a counselor, newest first (dashboard).
CREATE INDEX safety_alerts_open_idx ON safety_alerts (practice_id, counselor_id, created_at DESC)
    WHERE acknowledged_at IS NULL;
CREATE INDEX safety_alerts_pair_idx ON safety_alerts (pair_id, created_at DESC);

-- +goose Down
DROP TABLE safety_alerts;
DROP TABLE checkin_history;
DROP INDEX checkins_user_idx;
DROP INDEX checkins_practice_created_idx;
DROP INDEX checkins_pair_period_idx;
ALTER TABLE checkins
    DROP CONSTRAINT checkins_period,
    DROP COLUMN reviewed_at,
    DROP COLUMN updated_at,
    DROP COLUMN version,
    DROP COLUMN safety_note,
    DROP COLUMN safety_flag,
    DROP COLUMN late,
    DROP COLUMN visibility,
    DROP COLUMN reflection,
    DROP COLUMN answers,
    DROP COLUMN hope_rating,
    DROP COLUMN communication_rating,
    DROP COLUMN trust_rating,
    DROP COLUMN status,
    DROP COLUMN period_end;
