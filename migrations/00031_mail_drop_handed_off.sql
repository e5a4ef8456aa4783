-- +goose Up
-- handed_off_at marked a message whose final "." was about to be sent, so
-- that a crash from then on never sent it again. Mend now sends such a
-- message again (a duplicate with the same Message-ID is the lesser harm
-- than a lost one), and nothing reads the column any more.
ALTER TABLE email_log DROP COLUMN handed_off_at;

-- +goose Down
ALTER TABLE email_log ADD COLUMN handed_off_at timestamptz;
