-- +goose Up
-- Security: data keys for encryption at rest, staff MFA, the per-user index
-- of sessions, and the practice settings that govern them.

-- A practice can require every admin and counselor to use two-step sign-in.
ALTER TABLE practices ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- Data keys: random 32-byte AES keys, stored only wrapped (AES-256-GCM) under
-- the master key from the environment. One active key per scope: a pair
-- (clinical text) or, with pair_id NULL, the practice (e.g. TOTP secrets).
-- master_id is a fingerprint of the master key that wrapped the key, so that
-- a master-key rotation knows which keys still need rewrapping. Deleting a
-- pair destroys its keys, and with them every ciphertext made under them.
CREATE TABLE data_keys (
    id          bigserial   PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    pair_id     bigint      REFERENCES pairs(id) ON DELETE CASCADE,
    version     int         NOT NULL,
    wrapped     bytea       NOT NULL,
    master_id   bytea       NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    UNIQUE NULLS NOT DISTINCT (practice_id, pair_id, version)
);
-- At most one key per scope takes new writes.
CREATE UNIQUE INDEX data_keys_active_key ON data_keys (practice_id, coalesce(pair_id, 0)) WHERE active;
CREATE INDEX data_keys_pair_idx ON data_keys (pair_id) WHERE pair_id IS NOT NULL;

-- Key rotations: one row per `mend keys rotate`; an unfinished row is
-- resumed by the next run instead of starting over.
CREATE TABLE key_rotations (
    id          bigserial   PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows_done   bigint      NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX key_rotations_one_open ON key_rotations ((true)) WHERE finished_at IS NULL;

-- TOTP second factor. The secret is ciphertext (vault, practice key, bound
-- to this row). confirmed_at is NULL while the person is still enrolling.
-- last_step is the last TOTP time step accepted: a code is accepted only for
-- a later step, which refuses a replayed code.
CREATE TABLE user_mfa (
    user_id      bigint      PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    practice_id  bigint      NOT NULL REFERENCES practices(id),
    secret       bytea       NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_mfa_practice_idx ON user_mfa (practice_id) WHERE confirmed_at IS NOT NULL;

-- One-time recovery codes, stored as SHA-256 (the codes are 80 random bits,
-- so a fast hash is enough to make a dump useless).
CREATE TABLE mfa_recovery_codes (
    id         bigserial   PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code_hash)
);

-- The index of live sessions per user. token_hash is the key scs stores in
-- sessions.token (HashTokenInStore); scs itself has no way to find a user's
-- sessions. A session whose row is missing here is refused, so ending a
-- session is deleting both rows. mfa_verified_at is when this session
-- passed its second factor.
CREATE TABLE user_sessions (
    id              bigserial   UNIQUE,
    token_hash      text        PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    practice_id     bigint      NOT NULL REFERENCES practices(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen       timestamptz NOT NULL DEFAULT now(),
    ip              text        NOT NULL DEFAULT '',
    user_agent      text        NOT NULL DEFAULT '',
    mfa_verified_at timestamptz
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, last_seen DESC);

-- +goose Down
DROP TABLE user_sessions;
DROP TABLE mfa_recovery_codes;
DROP TABLE user_mfa;
DROP TABLE key_rotations;
DROP TABLE data_keys;
ALTER TABLE practices DROP COLUMN mfa_required;
