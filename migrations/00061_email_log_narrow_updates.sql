-- +goose Up
-- A message's row is written four times on its way out (queued, enqueued
-- by the relay, claimed, sent), and each UPDATE that changes the status is
-- a new row version that every index whose predicate it meets must point
-- to: 27 index entries per message with the indexes of 00002/00030, a
-- large part of PostgreSQL's work in a burst of reminders. These
-- indexes did not earn that:
--
--   - email_log_pending_idx (status, updated_at): nothing reads it; the
--     relay and the sweep have their own partial indexes;
--   - email_log_practice_status_idx (practice_id, status, id): the status
--     filter. Sent messages, nearly all of them, are found through
--     email_log_practice_id_idx; the others through a partial index that a
--     message leaves when it is sent.
--
-- That leaves 23 entries per message. (email_log_practice_created_idx
-- stays: the mail log's date filter needs it.)
DROP INDEX email_log_pending_idx;
DROP INDEX email_log_practice_status_idx;
CREATE INDEX email_log_practice_unsent_idx ON email_log (practice_id, status, id DESC) WHERE status <> 'sent';

-- +goose Down
DROP INDEX email_log_practice_unsent_idx;
CREATE INDEX email_log_practice_status_idx ON email_log (practice_id, status, id DESC);
CREATE INDEX email_log_pending_idx ON email_log (status, updated_at) WHERE status IN ('queued', 'sending');
