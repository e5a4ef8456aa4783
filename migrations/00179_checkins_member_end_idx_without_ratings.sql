-- +goose NO TRANSACTION
-- +goose Up
-- checkins_member_end_idx carried the three ratings in its INCLUDE list,
-- so every edit that changed a rating changed an indexed column: no HOT
-- update, and a new entry in all eight indexes of checkins (issue 18: none
-- of the bench's rating edits was HOT; all are now). Its readers, the
-- summary's functions (dashboard_pair_rows, dashboard_pairs_member,
-- dashboard_pairs_ratings), read a client's last three check-ins from the
-- heap instead, three rows; their count of check-ins in the completion
-- window still reads the index alone.
--
-- Outside a transaction, so that the index is built CONCURRENTLY: reads
-- and writes of check-ins go on while it is built (about two seconds per
-- million check-ins). Each step can be run again after a failed one: a
-- half-built new index is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS checkins_member_end_new_idx;
CREATE INDEX CONCURRENTLY checkins_member_end_new_idx ON checkins (pair_id, user_id, period_end DESC, id DESC)
    INCLUDE (period_start, created_at);
DROP INDEX CONCURRENTLY IF EXISTS checkins_member_end_idx;
ALTER INDEX checkins_member_end_new_idx RENAME TO checkins_member_end_idx;
-- A tenth of each new page is left free, so that an edit made soon after
-- sending (the usual one) fits beside the row it replaces.
ALTER TABLE checkins SET (fillfactor = 90);

-- +goose Down
ALTER TABLE checkins RESET (fillfactor);
DROP INDEX CONCURRENTLY IF EXISTS checkins_member_end_new_idx;
CREATE INDEX CONCURRENTLY checkins_member_end_new_idx ON checkins (pair_id, user_id, period_end DESC, id DESC)
    INCLUDE (period_start, trust_rating, communication_rating, hope_rating, created_at);
DROP INDEX CONCURRENTLY IF EXISTS checkins_member_end_idx;
ALTER INDEX checkins_member_end_new_idx RENAME TO checkins_member_end_idx;
