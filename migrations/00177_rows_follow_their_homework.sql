-- +goose Up
-- A check-in, a reveal answer, a release and a reveal notice each carry
-- the practice and pair of their homework, and every read scopes by those
-- columns: a partner's shared check-ins are found by pair_id, a practice's
-- rows by practice_id. The code copies them from the homework, but nothing
-- in the database held them to it, so a row written with another pair's
-- id would be read by that pair. Each row's (homework, pair, practice)
-- must now be its homework's, and each homework's (pair, practice) its
-- pair's. The single-column keys to assignments are replaced by the wider
-- ones (one check per write, as before).
ALTER TABLE pairs ADD CONSTRAINT pairs_id_practice_key UNIQUE (id, practice_id);
ALTER TABLE assignments ADD CONSTRAINT assignments_id_pair_practice_key UNIQUE (id, pair_id, practice_id);

ALTER TABLE assignments ADD CONSTRAINT assignments_pair_practice_fk
    FOREIGN KEY (pair_id, practice_id) REFERENCES pairs (id, practice_id);

ALTER TABLE checkins ADD CONSTRAINT checkins_homework_fk
    FOREIGN KEY (assignment_id, pair_id, practice_id) REFERENCES assignments (id, pair_id, practice_id);
ALTER TABLE checkins DROP CONSTRAINT checkins_assignment_id_fkey;

ALTER TABLE reveal_answers ADD CONSTRAINT reveal_answers_homework_fk
    FOREIGN KEY (assignment_id, pair_id, practice_id) REFERENCES assignments (id, pair_id, practice_id);
ALTER TABLE reveal_answers DROP CONSTRAINT reveal_answers_assignment_id_fkey;

ALTER TABLE reveals ADD CONSTRAINT reveals_homework_fk
    FOREIGN KEY (assignment_id, pair_id, practice_id) REFERENCES assignments (id, pair_id, practice_id);
ALTER TABLE reveals DROP CONSTRAINT reveals_assignment_id_fkey;

ALTER TABLE reveal_notices ADD CONSTRAINT reveal_notices_homework_fk
    FOREIGN KEY (assignment_id, pair_id, practice_id) REFERENCES assignments (id, pair_id, practice_id);
ALTER TABLE reveal_notices DROP CONSTRAINT reveal_notices_assignment_id_fkey;

-- +goose Down
ALTER TABLE reveal_notices ADD CONSTRAINT reveal_notices_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES assignments (id);
ALTER TABLE reveal_notices DROP CONSTRAINT reveal_notices_homework_fk;
ALTER TABLE reveals ADD CONSTRAINT reveals_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES assignments (id);
ALTER TABLE reveals DROP CONSTRAINT reveals_homework_fk;
ALTER TABLE reveal_answers ADD CONSTRAINT reveal_answers_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES assignments (id);
ALTER TABLE reveal_answers DROP CONSTRAINT reveal_answers_homework_fk;
ALTER TABLE checkins ADD CONSTRAINT checkins_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES assignments (id);
ALTER TABLE checkins DROP CONSTRAINT checkins_homework_fk;
ALTER TABLE assignments DROP CONSTRAINT assignments_pair_practice_fk;
ALTER TABLE assignments DROP CONSTRAINT assignments_id_pair_practice_key;
ALTER TABLE pairs DROP CONSTRAINT pairs_id_practice_key;
