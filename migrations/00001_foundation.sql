-- +goose Up
-- Practices, their people, pairs, sessions, one-time tokens, login throttle
-- and the audit log. Every row that belongs to a practice carries practice_id
-- so that each query can be restricted to the caller's practice.

CREATE TABLE practices (
    id            bigserial PRIMARY KEY,
    name          text        NOT NULL,
    slug          text        NOT NULL UNIQUE,
    timezone      text        NOT NULL DEFAULT 'UTC',
    mail_from_name text       NOT NULL DEFAULT '',
    reply_to      text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    role          text        NOT NULL CHECK (role IN ('admin', 'counselor', 'client')),
    email         text        NOT NULL,
    name          text        NOT NULL,
    -- NULL until the person accepts their invitation and sets a password.
    password_hash text,
    timezone      text        NOT NULL DEFAULT 'UTC',
    disabled_at   timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
-- One account per email address across the whole deployment: login is by
-- email alone.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_practice_role_idx ON users (practice_id, role);

CREATE TABLE pairs (
    id            bigserial PRIMARY KEY,
    practice_id   bigint      NOT NULL REFERENCES practices(id),
    counselor_id  bigint      REFERENCES users(id),
    label         text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('romantic', 'family', 'friends', 'colleagues', 'other')),
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'closed')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz
);
CREATE INDEX pairs_practice_counselor_idx ON pairs (practice_id, counselor_id, status);

CREATE TABLE pair_members (
    pair_id   bigint   NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    user_id   bigint   NOT NULL REFERENCES users(id),
    -- 1 or 2: stable order for side-by-side views.
    position  smallint NOT NULL CHECK (position IN (1, 2)),
    side      text     NOT NULL CHECK (side IN ('broke_trust', 'was_hurt', 'mutual')),
    PRIMARY KEY (pair_id, user_id),
    UNIQUE (pair_id, position)
);
CREATE INDEX pair_members_user_idx ON pair_members (user_id);

-- scs/postgresstore's table.
CREATE TABLE sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Invitation and password-reset links. Only a SHA-256 of the token is kept,
-- so a database dump cannot be turned into working links.
CREATE TABLE user_tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     text        NOT NULL CHECK (purpose IN ('invite', 'reset')),
    token_hash  bytea       NOT NULL UNIQUE,
    created_by  bigint      REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose);

-- Failed logins, per account and per IP, for throttling.
CREATE TABLE login_failures (
    id        bigserial PRIMARY KEY,
    key       text        NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at);

-- Who read or was refused what. Ids are plain numbers, not foreign keys, so
-- that the log outlives what it describes; the app may only append.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    practice_id bigint,
    user_id     bigint,
    role        text        NOT NULL,
    action      text        NOT NULL,
    object_type text        NOT NULL DEFAULT '',
    object_id   bigint,
    -- The client whose records were involved, for "who read this client's file".
    client_id   bigint,
    outcome     text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    ip          text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_practice_at_idx ON audit_log (practice_id, at DESC);
CREATE INDEX audit_log_user_idx ON audit_log (practice_id, user_id, at DESC);
CREATE INDEX audit_log_client_idx ON audit_log (practice_id, client_id, at DESC) WHERE client_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE login_failures;
DROP TABLE user_tokens;
DROP TABLE sessions;
DROP TABLE pair_members;
DROP TABLE pairs;
DROP TABLE users;
DROP TABLE practices;
