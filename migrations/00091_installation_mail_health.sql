-- +goose Up
-- installation names this Mend installation (its database) in every task it
-- puts on Redis, so that a worker of another installation sharing the same
-- Redis database hands the task back instead of working on its own rows.
-- The row is written by the first process that needs it, never here: a
-- database cloned from a template (tests) or restored as a copy next to
-- the original must not share the original's identity by accident.
CREATE TABLE installation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id        text    NOT NULL
);

-- mail_health is the state of delivery as a whole, shared by every worker
-- and read by the admin's mail page and /metrics: since when delivery has
-- been failing (NULL: it is not), the SMTP server's last refusal, and the
-- running totals of failed SMTP attempts and retries.
CREATE TABLE mail_health (
    singleton       boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    failing_since   timestamptz,
    last_failure_at timestamptz,
    last_reply      text        NOT NULL DEFAULT '',
    smtp_failures   bigint      NOT NULL DEFAULT 0,
    retries         bigint      NOT NULL DEFAULT 0
);
INSERT INTO mail_health DEFAULT VALUES;

-- +goose Down
DROP TABLE mail_health;
DROP TABLE installation;
