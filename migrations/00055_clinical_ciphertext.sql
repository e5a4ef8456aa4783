-- +goose Up
-- Clinical text encrypted at rest (issue 7), step 1 of 3. Every column that
-- holds what a client or counselor wrote becomes bytea holding vault
-- ciphertext (AES-256-GCM under the pair's data key, bound to its row; see
-- internal/vault). The key is not in the database, so SQL alone cannot
-- encrypt: here each plaintext column is renamed <column>_plaintext and an
-- empty bytea column takes its name; 00056 (a Go migration that receives the
-- vault) encrypts every existing value; 00057 drops the plaintext columns.
--
-- NULL means empty text. Length limits are checked in Go by the stores (the
-- same messages as before); the CHECKs below only make sure that nothing
-- but vault ciphertext (format byte 1, header, nonce and tag: at least 37
-- bytes) is ever stored, so a write that forgot to encrypt fails loudly
-- instead of keeping plaintext in a bytea column.

-- +goose StatementBegin
CREATE FUNCTION mend_is_sealed(v bytea) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NULL OR (octet_length(v) >= 37 AND get_byte(v, 0) = 1)
$$;
-- +goose StatementEnd

ALTER TABLE checkins RENAME COLUMN answers TO answers_plaintext;
ALTER TABLE checkins RENAME COLUMN reflection TO reflection_plaintext;
ALTER TABLE checkins RENAME COLUMN safety_note TO safety_note_plaintext;
ALTER TABLE checkins
    ADD COLUMN answers     bytea CONSTRAINT checkins_answers_sealed CHECK (mend_is_sealed(answers)),
    ADD COLUMN reflection  bytea CONSTRAINT checkins_reflection_sealed CHECK (mend_is_sealed(reflection)),
    ADD COLUMN safety_note bytea CONSTRAINT checkins_safety_note_sealed CHECK (mend_is_sealed(safety_note));

ALTER TABLE checkin_history RENAME COLUMN answers TO answers_plaintext;
ALTER TABLE checkin_history RENAME COLUMN reflection TO reflection_plaintext;
ALTER TABLE checkin_history RENAME COLUMN safety_note TO safety_note_plaintext;
-- Until 00057 drops them, rows written without the plaintext columns get
-- empty ones.
ALTER TABLE checkin_history
    ALTER COLUMN answers_plaintext SET DEFAULT '[]',
    ALTER COLUMN reflection_plaintext SET DEFAULT '',
    ALTER COLUMN safety_note_plaintext SET DEFAULT '',
    ADD COLUMN answers     bytea CONSTRAINT checkin_history_answers_sealed CHECK (mend_is_sealed(answers)),
    ADD COLUMN reflection  bytea CONSTRAINT checkin_history_reflection_sealed CHECK (mend_is_sealed(reflection)),
    ADD COLUMN safety_note bytea CONSTRAINT checkin_history_safety_note_sealed CHECK (mend_is_sealed(safety_note));

ALTER TABLE safety_alerts RENAME COLUMN ack_note TO ack_note_plaintext;
ALTER TABLE safety_alerts
    ADD COLUMN ack_note bytea CONSTRAINT safety_alerts_ack_note_sealed CHECK (mend_is_sealed(ack_note));

ALTER TABLE assignments RENAME COLUMN note TO note_plaintext;
ALTER TABLE assignments
    ADD COLUMN note bytea CONSTRAINT assignments_note_sealed CHECK (mend_is_sealed(note));

-- Feedback is never empty: 00057 makes the column NOT NULL once every
-- existing row is encrypted.
ALTER TABLE feedback RENAME COLUMN body TO body_plaintext;
ALTER TABLE feedback DROP CONSTRAINT feedback_body_check;
ALTER TABLE feedback
    ALTER COLUMN body_plaintext SET DEFAULT '',
    ADD COLUMN body bytea CONSTRAINT feedback_body_sealed CHECK (mend_is_sealed(body));

-- +goose Down
ALTER TABLE feedback DROP COLUMN body, ALTER COLUMN body_plaintext DROP DEFAULT;
ALTER TABLE feedback RENAME COLUMN body_plaintext TO body;
ALTER TABLE feedback ADD CONSTRAINT feedback_body_check CHECK (body <> '' AND char_length(body) <= 4000);

ALTER TABLE assignments DROP COLUMN note;
ALTER TABLE assignments RENAME COLUMN note_plaintext TO note;

ALTER TABLE safety_alerts DROP COLUMN ack_note;
ALTER TABLE safety_alerts RENAME COLUMN ack_note_plaintext TO ack_note;

ALTER TABLE checkin_history DROP COLUMN answers, DROP COLUMN reflection, DROP COLUMN safety_note,
    ALTER COLUMN answers_plaintext DROP DEFAULT,
    ALTER COLUMN reflection_plaintext DROP DEFAULT,
    ALTER COLUMN safety_note_plaintext DROP DEFAULT;
ALTER TABLE checkin_history RENAME COLUMN answers_plaintext TO answers;
ALTER TABLE checkin_history RENAME COLUMN reflection_plaintext TO reflection;
ALTER TABLE checkin_history RENAME COLUMN safety_note_plaintext TO safety_note;

ALTER TABLE checkins DROP COLUMN answers, DROP COLUMN reflection, DROP COLUMN safety_note;
ALTER TABLE checkins RENAME COLUMN answers_plaintext TO answers;
ALTER TABLE checkins RENAME COLUMN reflection_plaintext TO reflection;
ALTER TABLE checkins RENAME COLUMN safety_note_plaintext TO safety_note;

DROP FUNCTION mend_is_sealed(bytea);
