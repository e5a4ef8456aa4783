-- +goose Up
-- Pairs: one current pair per client, and a history of what happened to
-- each pair (who created, paused, resumed, closed or reassigned it, when).

-- A client belongs to one active or paused pair at a time. Closing a pair
-- sets current = false for its members, who may then join a new pair. The
-- partial unique index makes the rule hold even for concurrent requests.
ALTER TABLE pair_members ADD COLUMN current boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX pair_members_one_current_idx ON pair_members (user_id) WHERE current;

CREATE TABLE pair_events (
    id                bigserial   PRIMARY KEY,
    practice_id       bigint      NOT NULL REFERENCES practices(id),
    pair_id           bigint      NOT NULL REFERENCES pairs(id),
    kind              text        NOT NULL CHECK (kind IN ('created', 'paused', 'resumed', 'closed', 'reassigned',
                                  'plan_applied', 'plan_stopped', 'plan_finished')),
    -- Who did it; NULL for Mend itself (e.g. a plan that ran to its end).
    actor_id          bigint      REFERENCES users(id),
    from_counselor_id bigint      REFERENCES users(id),
    to_counselor_id   bigint      REFERENCES users(id),
    -- A plan's name for plan events; never clinical text.
    detail            text        NOT NULL DEFAULT '',
    at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pair_events_pair_idx ON pair_events (pair_id, at DESC, id DESC);
CREATE INDEX pair_events_practice_idx ON pair_events (practice_id, at DESC);

-- Listing a counselor's pairs by label.
CREATE INDEX pairs_counselor_label_idx ON pairs (practice_id, counselor_id, label, id);
CREATE INDEX pairs_practice_label_idx ON pairs (practice_id, label, id);

-- +goose Down
DROP INDEX pairs_practice_label_idx;
DROP INDEX pairs_counselor_label_idx;
DROP TABLE pair_events;
DROP INDEX pair_members_one_current_idx;
ALTER TABLE pair_members DROP COLUMN current;
