-- +goose Up
-- A message's delivery state moves to a narrow table of its own.
--
-- email_log keeps what a message is (recipient, kind, rendered bodies),
-- written once by the outbox. Each step of its delivery (enqueued,
-- claimed, sent, failed) used to UPDATE that whole row: a new version of a
-- row of a few kilobytes, its write-ahead log (with full page images after
-- each checkpoint) and new entries in every index of email_log. In a burst
-- of 100,000 reminders those two UPDATEs per message were most of
-- PostgreSQL's work: with them left out the burst went from 84 s to 57 s.
-- Here a step is an UPDATE of a row of about a hundred bytes with five
-- small indexes, and email_log is never updated on the way out.
--
-- practice_id and kind are copied (they never change): the admin's status
-- filter and the relay's choice of queue need no join.
--
-- Nothing may write email_log while its state is copied and dropped: a
-- message written in between would have no state, and a state change would
-- be lost (a message marked sent by an older worker could go out again).
LOCK TABLE email_log IN ACCESS EXCLUSIVE MODE;
CREATE TABLE email_delivery (
    email_id    bigint      PRIMARY KEY REFERENCES email_log(id) ON DELETE CASCADE,
    practice_id bigint,
    kind        text        NOT NULL,
    status      text        NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts    int         NOT NULL DEFAULT 0,
    last_error  text        NOT NULL DEFAULT '',
    -- See 00030 for enqueued_at, generation and lease_until.
    enqueued_at timestamptz,
    generation  int         NOT NULL DEFAULT 0,
    lease_until timestamptz,
    sent_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO email_delivery (email_id, practice_id, kind, status, attempts, last_error, enqueued_at, generation, lease_until, sent_at, updated_at)
SELECT id, practice_id, kind, status, attempts, last_error, enqueued_at, generation, lease_until, sent_at, updated_at
FROM email_log;

-- The relay's three questions (new rows, rows queued too long, dead
-- leases) and the admin's status filter for messages not sent.
CREATE INDEX email_delivery_new_idx ON email_delivery (email_id) WHERE status = 'queued' AND enqueued_at IS NULL;
CREATE INDEX email_delivery_stale_idx ON email_delivery (enqueued_at) WHERE status = 'queued';
CREATE INDEX email_delivery_lease_idx ON email_delivery (lease_until) WHERE status = 'sending';
CREATE INDEX email_delivery_practice_unsent_idx ON email_delivery (practice_id, status, email_id DESC) WHERE status <> 'sent';

-- The outbox writes a message's state in the statement that writes the
-- message. This trigger is the guard for any other writer, above all a
-- binary from before this migration still running during an upgrade: a
-- message without state would never be sent, and the admin's mail log
-- (which joins the two) would not show it.
-- +goose StatementBegin
CREATE FUNCTION email_delivery_for_new_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO email_delivery (email_id, practice_id, kind)
    SELECT n.id, n.practice_id, n.kind FROM new_messages n
    WHERE NOT EXISTS (SELECT 1 FROM email_delivery d WHERE d.email_id = n.id)
    ON CONFLICT (email_id) DO NOTHING;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER email_log_delivery AFTER INSERT ON email_log
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION email_delivery_for_new_messages();

ALTER TABLE email_log
    DROP COLUMN status,
    DROP COLUMN attempts,
    DROP COLUMN last_error,
    DROP COLUMN updated_at,
    DROP COLUMN sent_at,
    DROP COLUMN enqueued_at,
    DROP COLUMN generation,
    DROP COLUMN lease_until;

-- +goose Down
LOCK TABLE email_log, email_delivery IN ACCESS EXCLUSIVE MODE;
DROP TRIGGER email_log_delivery ON email_log;
DROP FUNCTION email_delivery_for_new_messages();
ALTER TABLE email_log
    ADD COLUMN status      text        NOT NULL DEFAULT 'queued'
                           CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    ADD COLUMN attempts    int         NOT NULL DEFAULT 0,
    ADD COLUMN last_error  text        NOT NULL DEFAULT '',
    ADD COLUMN updated_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN sent_at     timestamptz,
    ADD COLUMN enqueued_at timestamptz,
    ADD COLUMN generation  int         NOT NULL DEFAULT 0,
    ADD COLUMN lease_until timestamptz;
UPDATE email_log e SET status = d.status, attempts = d.attempts, last_error = d.last_error,
    updated_at = d.updated_at, sent_at = d.sent_at, enqueued_at = d.enqueued_at,
    generation = d.generation, lease_until = d.lease_until
FROM email_delivery d WHERE d.email_id = e.id;
-- (The trigger gives every message its state; should one have none, it is
-- not sent again.)
UPDATE email_log e SET status = 'skipped', last_error = 'no delivery state'
WHERE NOT EXISTS (SELECT 1 FROM email_delivery d WHERE d.email_id = e.id);
DROP TABLE email_delivery;
CREATE INDEX email_log_new_idx ON email_log (id) WHERE status = 'queued' AND enqueued_at IS NULL;
CREATE INDEX email_log_stale_idx ON email_log (enqueued_at) WHERE status = 'queued';
CREATE INDEX email_log_lease_idx ON email_log (lease_until) WHERE status = 'sending';
CREATE INDEX email_log_practice_unsent_idx ON email_log (practice_id, status, id DESC) WHERE status <> 'sent';
