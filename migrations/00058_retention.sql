-- +goose Up
-- Retention: how long a closed pair's records are kept after closing before
-- an admin may purge them (removing every row and destroying the pair's
-- data keys). Seven years by default (2,557 days), a common minimum for
-- clinical records; each practice sets its own on /admin/security.
ALTER TABLE practices ADD COLUMN retention_days int NOT NULL DEFAULT 2557
    CONSTRAINT practices_retention_days_range CHECK (retention_days BETWEEN 1 AND 36500);

-- The admin's list of closed pairs, oldest closing first.
CREATE INDEX pairs_closed_idx ON pairs (practice_id, closed_at, id) WHERE status = 'closed';

-- +goose Down
DROP INDEX pairs_closed_idx;
ALTER TABLE practices DROP COLUMN retention_days;
