-- +goose Up
-- Delivery of the email log over asynq, reminder preferences, unsubscribe.

-- Reminder preferences (edited on the client's settings page). Minutes are
-- minutes of the day in the user's own timezone (users.timezone).
ALTER TABLE users
    ADD COLUMN reminders_enabled boolean  NOT NULL DEFAULT true,
    ADD COLUMN reminder_minute   smallint NOT NULL DEFAULT 1080
        CONSTRAINT users_reminder_minute_range CHECK (reminder_minute BETWEEN 0 AND 1439),
    -- Quiet hours: no reminder from quiet_start up to quiet_end (may wrap
    -- past midnight). Both set or both NULL.
    ADD COLUMN quiet_start       smallint
        CONSTRAINT users_quiet_start_range CHECK (quiet_start BETWEEN 0 AND 1439),
    ADD COLUMN quiet_end         smallint
        CONSTRAINT users_quiet_end_range CHECK (quiet_end BETWEEN 0 AND 1439),
    ADD CONSTRAINT users_quiet_both CHECK ((quiet_start IS NULL) = (quiet_end IS NULL));

-- Delivery state of each message.
--   enqueued_at   when the relay last handed the row to asynq (or, after a
--                 temporary failure, when asynq will retry it); NULL: never.
--   generation    part of the asynq TaskID (email:<id>:<generation>); bumped
--                 when a row must be enqueued again while an older task may
--                 still sit in Redis (resend, crashed worker), so the new
--                 task is not collapsed into the old one.
--   lease_until   a worker claimed the row (status sending) until then; past
--                 it, the worker is presumed dead and the row is taken back.
--   handed_off_at the whole message was written to the SMTP server and only
--                 the final "." was left: from here on the message may have
--                 been accepted, so it is never sent again (no duplicates).
--   list_unsubscribe  the one-click unsubscribe URL (reminders only).
ALTER TABLE email_log
    ADD COLUMN enqueued_at      timestamptz,
    ADD COLUMN generation       int         NOT NULL DEFAULT 0,
    ADD COLUMN lease_until      timestamptz,
    ADD COLUMN handed_off_at    timestamptz,
    ADD COLUMN list_unsubscribe text        NOT NULL DEFAULT '';

-- The relay's three questions: new rows, rows queued too long, dead leases.
CREATE INDEX email_log_new_idx ON email_log (id) WHERE status = 'queued' AND enqueued_at IS NULL;
CREATE INDEX email_log_stale_idx ON email_log (enqueued_at) WHERE status = 'queued';
CREATE INDEX email_log_lease_idx ON email_log (lease_until) WHERE status = 'sending';
-- The admin mail log: newest first per practice, optionally by status.
CREATE INDEX email_log_practice_id_idx ON email_log (practice_id, id DESC);
CREATE INDEX email_log_practice_status_idx ON email_log (practice_id, status, id DESC);

-- One-click unsubscribe links in reminders. Only a SHA-256 of the token is
-- kept. A token can do one thing: turn reminders off for its user.
CREATE TABLE unsubscribe_tokens (
    id          bigserial PRIMARY KEY,
    practice_id bigint      NOT NULL REFERENCES practices(id),
    user_id     bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz
);
CREATE INDEX unsubscribe_tokens_user_idx ON unsubscribe_tokens (user_id);

-- +goose Down
DROP TABLE unsubscribe_tokens;
DROP INDEX email_log_practice_status_idx;
DROP INDEX email_log_practice_id_idx;
DROP INDEX email_log_lease_idx;
DROP INDEX email_log_stale_idx;
DROP INDEX email_log_new_idx;
ALTER TABLE email_log
    DROP COLUMN list_unsubscribe,
    DROP COLUMN handed_off_at,
    DROP COLUMN lease_until,
    DROP COLUMN generation,
    DROP COLUMN enqueued_at;
ALTER TABLE users
    DROP CONSTRAINT users_quiet_both,
    DROP COLUMN quiet_end,
    DROP COLUMN quiet_start,
    DROP COLUMN reminder_minute,
    DROP COLUMN reminders_enabled;
