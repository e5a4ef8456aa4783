-- +goose Up
-- An account is a person at one practice. An email address was unique
-- across the whole deployment, so a counselor adding a client learned
-- that the address already had an account at some other practice (issue 17,
-- item 7). Now each practice has its own accounts: the same person seeing
-- counselors at two practices has two accounts, each with its own password
-- (a password that opens one of them is refused for the other, so a
-- sign-in by email and password always names one account).
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_practice_email_key ON users (practice_id, email);
-- Sign-in and reset requests look accounts up by email alone.
CREATE INDEX users_email_idx ON users (email);

-- +goose Down
DROP INDEX users_email_idx;
DROP INDEX users_practice_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email);
