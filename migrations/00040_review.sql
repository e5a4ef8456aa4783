-- +goose Up
-- Review: who reviewed a check-in, the counselor's feedback, the indexes the
-- counselor's dashboard and the admin overview read through, and two SQL
-- functions that know a homework's check-in periods (the same rules as
-- internal/checkin/period.go, which a test holds them to), so that the
-- dashboard's "missing" and "overdue" rules and completion rates are worked
-- out inside one query instead of once per pair.

ALTER TABLE checkins ADD COLUMN reviewed_by bigint REFERENCES users(id);

-- Feedback from the counselor on a check-in: to its author alone
-- (audience 'client', recipient_id = the author) or to both members of the
-- pair (audience 'both', recipient_id NULL). A client reads feedback whose
-- recipient is them or whose audience is both; never feedback addressed to
-- the partner alone.
CREATE TABLE feedback (
    id           bigserial   PRIMARY KEY,
    practice_id  bigint      NOT NULL REFERENCES practices(id),
    pair_id      bigint      NOT NULL REFERENCES pairs(id),
    checkin_id   bigint      NOT NULL REFERENCES checkins(id),
    counselor_id bigint      NOT NULL REFERENCES users(id),
    audience     text        NOT NULL CHECK (audience IN ('client', 'both')),
    recipient_id bigint      REFERENCES users(id),
    body         text        NOT NULL CHECK (body <> '' AND char_length(body) <= 4000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_recipient CHECK ((audience = 'client') = (recipient_id IS NOT NULL))
);
-- A client's home and a pair's report: the pair's feedback, newest first.
CREATE INDEX feedback_pair_idx ON feedback (pair_id, created_at DESC, id DESC);
-- The review page: feedback on one check-in.
CREATE INDEX feedback_checkin_idx ON feedback (checkin_id);

-- The review queue: a pair's check-ins nobody has reviewed yet. Small
-- (reviewed check-ins leave it), and the dashboard, the navigation count
-- and "review next" all read it per pair of the counselor.
CREATE INDEX checkins_unreviewed_idx ON checkins (pair_id, created_at, id) INCLUDE (safety_flag) WHERE reviewed_at IS NULL;
-- A member's check-ins by the end of their period, with their ratings:
-- the latest three (trend rules, last check-in) and the count in the
-- completion window, both read from the index alone.
CREATE INDEX checkins_member_end_idx ON checkins (pair_id, user_id, period_end DESC, id DESC)
    INCLUDE (period_start, trust_rating, communication_rating, hope_rating, created_at);
-- Open safety alerts of a pair (the alert's counselor_id is whoever had the
-- pair when it was raised; the dashboard follows the pair's counselor now).
CREATE INDEX safety_alerts_open_pair_idx ON safety_alerts (pair_id, created_at) WHERE acknowledged_at IS NULL;
-- The admin's audit log filtered by action.
CREATE INDEX audit_log_action_idx ON audit_log (practice_id, action, at DESC);

-- The two helpers for daily homework on chosen weekdays: the n-th latest
-- such day on or before last_day (not before starts_on), and how many such
-- days lie in [lo, hi].
-- +goose StatementBegin
CREATE FUNCTION mend_weekday_closed_start(weekdays smallint[], starts_on date, last_day date, n int) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT d::date FROM generate_series(last_day, greatest(starts_on, last_day - 7 * n), interval '-1 day') d
    WHERE extract(isodow FROM d)::smallint = ANY (weekdays)
    ORDER BY d DESC OFFSET n - 1 LIMIT 1
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION mend_weekday_count(weekdays smallint[], lo date, hi date) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT count(*)::int FROM generate_series(lo, hi, interval '1 day') d
    WHERE extract(isodow FROM d)::smallint = ANY (weekdays)
$$;
-- +goose StatementEnd

-- mend_closed_period_start is the first day of the n-th latest period (n = 1:
-- the latest) of a homework's schedule whose last day is on or before upto,
-- or NULL if it has fewer such periods. Periods as in period.go: once = the
-- whole homework; daily = each day (only the listed ISO weekdays, if any);
-- weekly = weeks from starts_on's weekday, the last one cut at due_on.
--
-- It and mend_period_count are single SQL expressions, which PostgreSQL
-- inlines into the dashboard's query (a function call per homework and
-- member would cost more than the rest of the query); only daily homework
-- on chosen weekdays calls a helper that walks the days.
CREATE FUNCTION mend_closed_period_start(cadence text, weekdays smallint[], starts_on date, due_on date,
                                         upto date, n int) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN n < 1 OR least(upto, due_on) < starts_on THEN NULL
    WHEN cadence = 'once' THEN CASE WHEN n = 1 AND due_on <= upto THEN starts_on END
    WHEN cadence = 'daily' AND cardinality(weekdays) = 0 THEN
        CASE WHEN least(upto, due_on) - (n - 1) >= starts_on THEN least(upto, due_on) - (n - 1) END
    WHEN cadence = 'daily' THEN mend_weekday_closed_start(weekdays, starts_on, least(upto, due_on), n)
    -- Week k runs from starts_on + 7k to least(starts_on + 7k + 6, due_on).
    WHEN cadence = 'weekly' AND due_on <= upto THEN
        CASE WHEN (due_on - starts_on) / 7 >= n - 1 THEN starts_on + 7 * ((due_on - starts_on) / 7 - (n - 1)) END
    WHEN cadence = 'weekly' THEN
        CASE WHEN upto - starts_on >= 6 AND (upto - starts_on - 6) / 7 >= n - 1
             THEN starts_on + 7 * ((upto - starts_on - 6) / 7 - (n - 1)) END
END
$$;

-- mend_period_count is how many periods of a schedule end between from_d and
-- to_d (both included): the check-ins a member was asked for in that time.
-- Every period ends within [starts_on, due_on]. Weekly: weeks 0 … K-1 end
-- on starts_on + 7k + 6, the last (K) on due_on.
CREATE FUNCTION mend_period_count(cadence text, weekdays smallint[], starts_on date, due_on date,
                                  from_d date, to_d date) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN least(to_d, due_on) < greatest(from_d, starts_on) THEN 0
    WHEN cadence = 'once' THEN CASE WHEN due_on BETWEEN from_d AND to_d THEN 1 ELSE 0 END
    WHEN cadence = 'daily' AND cardinality(weekdays) = 0 THEN least(to_d, due_on) - greatest(from_d, starts_on) + 1
    WHEN cadence = 'daily' THEN mend_weekday_count(weekdays, greatest(from_d, starts_on), least(to_d, due_on))
    WHEN cadence = 'weekly' THEN
        greatest(0, least((due_on - starts_on) / 7 - 1, floor((to_d - starts_on - 6) / 7.0)::int)
                    - greatest(0, ceil((from_d - starts_on - 6) / 7.0)::int) + 1)
        + CASE WHEN due_on BETWEEN from_d AND to_d THEN 1 ELSE 0 END
    ELSE 0
END
$$;

-- +goose Down
DROP FUNCTION mend_period_count(text, smallint[], date, date, date, date);
DROP FUNCTION mend_closed_period_start(text, smallint[], date, date, date, int);
DROP FUNCTION mend_weekday_count(smallint[], date, date);
DROP FUNCTION mend_weekday_closed_start(smallint[], date, date, int);
DROP INDEX audit_log_action_idx;
DROP INDEX safety_alerts_open_pair_idx;
DROP INDEX checkins_member_end_idx;
DROP INDEX checkins_unreviewed_idx;
DROP TABLE feedback;
ALTER TABLE checkins DROP COLUMN reviewed_by;
