-- +goose Up
-- Every message Mend decides to send, written in the same transaction as
-- the change that caused it (the outbox). Delivery reads from here; the
-- queue only carries the row's id.
CREATE TABLE email_log (
    id            bigserial PRIMARY KEY,
    practice_id   bigint      REFERENCES practices(id),
    user_id       bigint      REFERENCES users(id) ON DELETE SET NULL,
    to_address    text        NOT NULL,
    to_name       text        NOT NULL DEFAULT '',
    kind          text        NOT NULL,
    -- At most one message per dedupe key, e.g. reminder:<user>:<homework>:<period>.
    dedupe_key    text        UNIQUE,
    subject       text        NOT NULL,
    body_text     text        NOT NULL,
    body_html     text        NOT NULL,
    status        text        NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts      int         NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX email_log_practice_created_idx ON email_log (practice_id, created_at DESC);
CREATE INDEX email_log_pending_idx ON email_log (status, updated_at) WHERE status IN ('queued', 'sending');

-- +goose Down
DROP TABLE email_log;
