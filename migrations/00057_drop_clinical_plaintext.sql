-- +goose Up
-- Clinical text encrypted at rest, step 3 of 3: 00056 has encrypted every
-- value into the bytea columns, so the plaintext columns go. (PostgreSQL
-- does not overwrite dropped data in place; VACUUM FULL, or a dump and
-- restore, rewrites the tables without it. The README says so.)
ALTER TABLE checkins DROP COLUMN answers_plaintext, DROP COLUMN reflection_plaintext, DROP COLUMN safety_note_plaintext;
ALTER TABLE checkin_history DROP COLUMN answers_plaintext, DROP COLUMN reflection_plaintext, DROP COLUMN safety_note_plaintext;
ALTER TABLE safety_alerts DROP COLUMN ack_note_plaintext;
ALTER TABLE assignments DROP COLUMN note_plaintext;
ALTER TABLE feedback DROP COLUMN body_plaintext;
ALTER TABLE feedback ALTER COLUMN body SET NOT NULL;

-- +goose Down
-- The plaintext columns come back empty, with their original limits; 00056's
-- Down decrypts into them.
ALTER TABLE feedback ALTER COLUMN body DROP NOT NULL;
ALTER TABLE feedback ADD COLUMN body_plaintext text NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN note_plaintext text NOT NULL DEFAULT '';
ALTER TABLE safety_alerts ADD COLUMN ack_note_plaintext text NOT NULL DEFAULT ''
    CONSTRAINT safety_alerts_ack_note_check CHECK (char_length(ack_note_plaintext) <= 2000);
ALTER TABLE checkin_history
    ADD COLUMN answers_plaintext     jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN reflection_plaintext  text  NOT NULL DEFAULT '',
    ADD COLUMN safety_note_plaintext text  NOT NULL DEFAULT '';
ALTER TABLE checkins
    ADD COLUMN answers_plaintext     jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN reflection_plaintext  text  NOT NULL DEFAULT ''
        CONSTRAINT checkins_reflection_check CHECK (char_length(reflection_plaintext) <= 5000),
    ADD COLUMN safety_note_plaintext text  NOT NULL DEFAULT ''
        CONSTRAINT checkins_safety_note_check CHECK (char_length(safety_note_plaintext) <= 1000);
