-- +goose Up
-- Reminders of due measures (issue 20): one reminder on the day a measure
-- is due and one nudge two days later, per client, measure assignment and
-- due date. The measure store writes the rows (when a measure is given and
-- when it is answered); the reminder pass sends each at the client's
-- reminder time, out of their quiet hours, unless it no longer applies.
CREATE TABLE measure_reminders (
    id                    bigserial   PRIMARY KEY,
    practice_id           bigint      NOT NULL REFERENCES practices(id),
    pair_id               bigint      NOT NULL REFERENCES pairs(id),
    measure_assignment_id bigint      NOT NULL REFERENCES measure_assignments(id),
    user_id               bigint      NOT NULL REFERENCES users(id),
    due_on                date        NOT NULL,
    stage                 text        NOT NULL CHECK (stage IN ('reminder', 'nudge')),
    due_at                timestamptz NOT NULL,
    UNIQUE (measure_assignment_id, user_id, due_on, stage)
);
CREATE INDEX measure_reminders_due_idx ON measure_reminders (due_at);

-- +goose Down
DROP TABLE measure_reminders;
