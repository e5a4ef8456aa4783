-- +goose Up
-- The clients' side (issue 16): what each client has read of what their
-- partner shared, the practice's words on the safety care page, and the
-- consent clients give before they use Mend.

-- shared_reads: a partner's shared check-in is "new" on a client's home
-- until the client has opened it. Only the reader's own rows are ever read.
CREATE TABLE shared_reads (
    user_id    bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    checkin_id bigint      NOT NULL REFERENCES checkins(id) ON DELETE CASCADE,
    read_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, checkin_id)
);
CREATE INDEX shared_reads_checkin_idx ON shared_reads (checkin_id);
-- A client's partner's shared check-ins, newest first.
CREATE INDEX checkins_shared_idx ON checkins (pair_id, created_at DESC) WHERE visibility = 'partner';

-- What the safety care page says: empty means Mend's default wording.
ALTER TABLE practices ADD COLUMN care_text text NOT NULL DEFAULT '' CHECK (char_length(care_text) <= 2000);
ALTER TABLE practices ADD COLUMN crisis_text text NOT NULL DEFAULT '' CHECK (char_length(crisis_text) <= 1000);

-- The practice's consent text, one row per version; a changed text is a
-- new version and every client is asked again at their next sign-in.
CREATE TABLE consent_versions (
    practice_id bigint      NOT NULL REFERENCES practices(id),
    version     int         NOT NULL CHECK (version > 0),
    body        text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 20000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint      REFERENCES users(id),
    PRIMARY KEY (practice_id, version)
);

-- Who accepted which version, when.
CREATE TABLE consent_acceptances (
    practice_id bigint      NOT NULL,
    version     int         NOT NULL,
    user_id     bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, version),
    FOREIGN KEY (practice_id, version) REFERENCES consent_versions (practice_id, version)
);

-- +goose Down
DROP TABLE consent_acceptances;
DROP TABLE consent_versions;
ALTER TABLE practices DROP COLUMN crisis_text;
ALTER TABLE practices DROP COLUMN care_text;
DROP INDEX checkins_shared_idx;
DROP TABLE shared_reads;
