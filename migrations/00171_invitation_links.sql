-- +goose Up
-- link keeps an invitation's raw token, sealed under the practice's data
-- key (vault.InvitationLink), so that staff can copy the link again from
-- the pair page or the staff list while it is valid: without a mail server
-- they hand it over themselves (issue 14). Reset links are never kept.
-- It is cleared when the link is used or replaced; token_hash stays the
-- only way a link is looked up.
ALTER TABLE user_tokens ADD COLUMN link bytea;

-- +goose Down
ALTER TABLE user_tokens DROP COLUMN link;
