-- +goose Up
-- Addresses each account signed in from lately. The throttle's slow
-- per-account limit does not apply from them, so that a stranger's wrong
-- passwords elsewhere do not lock the owner out (issue 17, item 10).
CREATE TABLE sign_in_addresses (
    user_id bigint      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ip      text        NOT NULL,
    last_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, ip)
);

-- login_failures now holds every throttled attempt still counting: a
-- reservation is written before the password or code is checked and
-- deleted again when it was right. It is throttle state only; the audit log
-- keeps the evidence.
COMMENT ON TABLE login_failures IS 'throttle state: attempts that count against a limit (evidence is in audit_log)';

-- New practices require a second factor of all staff (admins always need
-- one, whatever the setting).
ALTER TABLE practices ALTER COLUMN mfa_required SET DEFAULT true;

-- +goose Down
ALTER TABLE practices ALTER COLUMN mfa_required SET DEFAULT false;
COMMENT ON TABLE login_failures IS NULL;
DROP TABLE sign_in_addresses;
