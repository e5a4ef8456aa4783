package seed

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/vault"
)

// demoWindow is how far back demo check-ins go.
const demoWindow = 35

// demoTrend gives a demo pair's ratings a shape the counselor's dashboard
// can show: in northside, pair 1's trust falls, pair 2's members drift
// apart, pair 3 slowly improves, pair 4 holds steady; riverbank's pair
// improves. t runs from 0 (five weeks ago) to 1 (now); position is the
// member (1 or 2). It returns trust, communication and hope before noise.
func demoTrend(slug string, pairN, position int, t float64) (float64, float64, float64) {
	switch {
	case slug == "northside.example" && pairN == 1: // trust falling
		return 7.5 - 4.5*t, 6.5 - 2.5*t, 6.5 - 2*t
	case slug == "northside.example" && pairN == 2: // diverging
		if position == 1 {
			return 3.5 + 4.5*t, 4 + 3.5*t, 4.5 + 4*t
		}
		return 6.5 - 3.5*t, 6 - 3*t, 6.5 - 4*t
	case slug == "northside.example" && pairN == 3: // slowly improving
		return 5 + 2*t, 5 + 2.5*t, 6 + 2*t
	case slug == "northside.example" && pairN == 4: // steady
		return 6, 6, 6.5
	}
	return 4 + 3*t, 4.5 + 3*t, 5 + 3*t // riverbank: improving
}

var demoAnswers = []string{
	"We managed a calm twenty minutes on Sunday evening.",
	"Listening without jumping in was harder than I expected.",
	"I noticed I got defensive once, and said so.",
	"Not much this time; the week was hectic.",
	"It helped to write my thoughts down first.",
	"We both stayed in the conversation, which felt new.",
	"I felt heard when they repeated back what I said.",
	"Old arguments came up again and we paused, as agreed.",
}

var demoReflections = []string{
	"A better week than the last one. Small steps, but real ones.",
	"I'm tired, and it showed. I'd like to try again on the weekend.",
	"Something shifted when we talked about the kids instead of us.",
	"",
	"I'm not sure this is working yet, but I'm willing to keep going.",
	"Kept my promise to call when running late. It mattered more than I thought.",
	"",
	"We laughed together for the first time in a while.",
}

// demoSafetyNote is the one demo safety answer's note.
const demoSafetyNote = "After Sunday's argument I felt uneasy at home. Could we talk about it at our next session?"

// demoHash picks deterministic "random" choices, so the demo looks lived-in
// and is the same every time.
func demoHash(parts ...any) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, parts...)
	return h.Sum32()
}

func clampRating(x float64) int {
	n := int(x + 0.5)
	if n < 1 {
		return 1
	}
	if n > 10 {
		return 10
	}
	return n
}

// demoCheckins gives each demo pair five weeks of check-ins on its homework
// (only for periods whose late window has closed, so that clients trying
// the demo still find check-ins to make today and yesterday): varied
// ratings with the trends above, some private, some shared, a few late, and
// exactly one safety answer (northside pair 1's first client, on their
// latest check-in), its alert left unacknowledged. A pair that has any
// check-in already is left alone, so running the seed again changes nothing.
func demoCheckins(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, now time.Time) error {
	for _, p := range demoPractices {
		for i := range p.Pairs {
			if err := demoPairCheckins(ctx, tx, v, p.Slug, i+1, now); err != nil {
				return fmt.Errorf("demo check-ins %s pair %d: %w", p.Slug, i+1, err)
			}
		}
	}
	return nil
}

type demoMember struct {
	UserID   int64  `db:"user_id"`
	Position int    `db:"position"`
	Timezone string `db:"timezone"`
}

type demoAssignment struct {
	ID          int64         `db:"id"`
	PracticeID  int64         `db:"practice_id"`
	PairID      int64         `db:"pair_id"`
	CounselorID sql.NullInt64 `db:"counselor_id"`
	ForUserID   sql.NullInt64 `db:"for_user_id"`
	StartsOn    checkin.Date  `db:"starts_on"`
	DueOn       checkin.Date  `db:"due_on"`
	Cadence     string        `db:"cadence"`
	Weekdays    pq.Int64Array `db:"weekdays"`
	Questions   []byte        `db:"questions"`
}

func demoPairCheckins(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, slug string, pairN int, now time.Time) error {
	email := fmt.Sprintf("client%da@%s", pairN, slug)
	var members []demoMember
	if err := tx.SelectContext(ctx, &members, `
		SELECT m.user_id, m.position, u.timezone FROM pair_members m JOIN users u ON u.id = m.user_id
		WHERE m.pair_id = (SELECT pm.pair_id FROM pair_members pm JOIN users cu ON cu.id = pm.user_id
		                    WHERE cu.email = $1 ORDER BY pm.pair_id LIMIT 1)
		ORDER BY m.position`, email); err != nil {
		return err
	}
	if len(members) == 0 {
		return nil
	}
	var existing int
	if err := tx.GetContext(ctx, &existing, `
		SELECT count(*) FROM checkins c JOIN pair_members m ON m.pair_id = c.pair_id WHERE m.user_id = $1`,
		members[0].UserID); err != nil {
		return err
	}
	if existing > 0 {
		return nil
	}
	if err := demoHistoryHomework(ctx, tx, v, members[0], now); err != nil {
		return err
	}
	var hws []demoAssignment
	if err := tx.SelectContext(ctx, &hws, `
		SELECT a.id, a.practice_id, a.pair_id, p.counselor_id, a.for_user_id, a.starts_on, a.due_on, a.cadence,
		       a.weekdays, v.questions
		FROM assignments a JOIN pairs p ON p.id = a.pair_id JOIN step_versions v ON v.id = a.step_version_id
		JOIN pair_members m ON m.pair_id = a.pair_id AND m.user_id = $1
		WHERE a.status <> 'cancelled'
		ORDER BY a.starts_on, a.id`, members[0].UserID); err != nil {
		return err
	}
	var latest struct {
		id, pairID, practiceID int64
		counselor              sql.NullInt64
		end                    checkin.Date
	}
	for _, a := range hws {
		var qs checkin.Questions
		if err := qs.Scan(a.Questions); err != nil {
			return err
		}
		sch := checkin.ScheduleOf(a.StartsOn, a.DueOn, checkin.Cadence(a.Cadence), a.Weekdays)
		for _, m := range members {
			if a.ForUserID.Valid && a.ForUserID.Int64 != m.UserID {
				continue
			}
			loc := checkin.LoadZone(m.Timezone)
			today := checkin.DateIn(now, loc)
			from := today.AddDays(-demoWindow)
			for _, per := range sch.Periods() {
				if !today.After(per.LateUntil()) || per.End.Before(from) {
					continue // still open for the person trying the demo, or too old
				}
				h := demoHash(slug, pairN, m.Position, a.ID, per.Start)
				if h%100 < 12 {
					continue // a missed check-in now and then
				}
				t := float64(from.DaysUntil(per.End)) / demoWindow
				tr, co, ho := demoTrend(slug, pairN, m.Position, t)
				noise := func(k uint32) float64 { return float64(int((h>>k)%3) - 1) }
				status := "done"
				switch {
				case (h>>4)%10 == 0:
					status = "not_done"
				case (h>>4)%10 < 3:
					status = "partly"
				}
				visibility := "partner"
				if (h>>8)%5 < 2 {
					visibility = "counselor"
				}
				late := (h>>12)%10 == 0
				sent := per.End.StartIn(loc).Add(20*time.Hour + time.Duration((h>>16)%90)*time.Minute)
				if late {
					sent = sent.Add(22 * time.Hour)
				}
				answers := make(checkin.Answers, len(qs))
				for qi, q := range qs {
					answers[qi] = checkin.Answer{Question: q, Answer: demoAnswers[(int(h>>20)+qi)%len(demoAnswers)]}
				}
				var id int64
				if err := tx.GetContext(ctx, &id, `SELECT nextval(pg_get_serial_sequence('checkins', 'id'))`); err != nil {
					return err
				}
				sl, err := v.Sealer(ctx, tx, vault.PairScope(a.PracticeID, a.PairID))
				if err != nil {
					return err
				}
				rawAnswers, err := json.Marshal(answers)
				if err != nil {
					return err
				}
				var sealedAnswers []byte
				if len(answers) > 0 {
					if sealedAnswers, err = sl.Seal(vault.CheckinAnswers, id, rawAnswers); err != nil {
						return err
					}
				}
				reflection, err := sl.Text(vault.CheckinReflection, id, demoReflections[int(h>>24)%len(demoReflections)])
				if err != nil {
					return err
				}
				err = tx.GetContext(ctx, &id, `
					INSERT INTO checkins (id, practice_id, pair_id, assignment_id, user_id, period_start, period_end,
						status, trust_rating, communication_rating, hope_rating, answers, reflection, visibility,
						late, created_at, updated_at)
					VALUES ($16, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
					ON CONFLICT (assignment_id, user_id, period_start) DO NOTHING
					RETURNING id`,
					a.PracticeID, a.PairID, a.ID, m.UserID, per.Start, per.End, status,
					clampRating(tr+noise(1)), clampRating(co+noise(3)), clampRating(ho+noise(5)),
					sealedAnswers, reflection, visibility, late, sent, id)
				if err == sql.ErrNoRows {
					continue
				}
				if err != nil {
					return err
				}
				if slug == "northside.example" && pairN == 1 && m.Position == 1 && !per.End.Before(latest.end) {
					latest.id, latest.pairID, latest.practiceID, latest.counselor, latest.end = id, a.PairID, a.PracticeID, a.CounselorID, per.End
				}
			}
		}
	}
	if latest.id == 0 {
		return nil
	}
	note, err := v.SealText(ctx, tx, vault.PairScope(latest.practiceID, latest.pairID), vault.CheckinSafetyNote, latest.id, demoSafetyNote)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE checkins SET safety_flag = true, safety_note = $2, visibility = 'partner' WHERE id = $1`,
		latest.id, note); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id, created_at)
		SELECT practice_id, pair_id, id, $2, created_at FROM checkins WHERE id = $1
		ON CONFLICT (checkin_id) DO NOTHING`, latest.id, latest.counselor)
	return err
}

// demoHistoryHomework gives a demo pair one finished daily homework before
// its plan ("small trust-building steps", from five weeks ago until the
// plan's first homework), so that every demo pair has weeks of daily
// check-ins to show trends with, whatever cadence its plan uses. It is only
// called for pairs without check-ins, in the same transaction as their
// check-ins, so it is added once.
func demoHistoryHomework(ctx context.Context, tx *sqlx.Tx, v *vault.Vault, m demoMember, now time.Time) error {
	today := checkin.DateIn(now, checkin.LoadZone(m.Timezone))
	start, end := today.AddDays(-demoWindow), today.AddDays(-8)
	var first sql.NullTime
	if err := tx.GetContext(ctx, &first, `
		SELECT min(a.starts_on)::timestamptz FROM assignments a JOIN pair_members pm ON pm.pair_id = a.pair_id
		WHERE pm.user_id = $1`, m.UserID); err != nil {
		return err
	}
	if first.Valid {
		var d checkin.Date
		if err := d.Scan(first.Time.UTC()); err != nil {
			return err
		}
		if d.AddDays(-1).Before(end) {
			end = d.AddDays(-1)
		}
	}
	if end.DaysUntil(start) > -7 {
		return nil // the pair's homework already goes back far enough
	}
	completed := end.AddDays(1).StartIn(checkin.LoadZone(m.Timezone)).Add(-2 * time.Hour)
	var id int64
	err := tx.GetContext(ctx, &id, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, status,
			created_by, created_at, completed_at)
		SELECT p.practice_id, p.id, s.current_version_id, $2, $3, 'daily', 'completed', p.counselor_id, $4, $5
		FROM pairs p JOIN pair_members pm ON pm.pair_id = p.id, steps s
		WHERE pm.user_id = $1 AND s.key = 'small-trust-building-steps' AND s.practice_id IS NULL
		  AND s.current_version_id IS NOT NULL
		RETURNING id`,
		m.UserID, start, end, start.StartIn(checkin.LoadZone(m.Timezone)).Add(-24*time.Hour), completed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	// The note is sealed for the row it was just given.
	var scope struct {
		PracticeID int64 `db:"practice_id"`
		PairID     int64 `db:"pair_id"`
	}
	if err := tx.GetContext(ctx, &scope, `SELECT practice_id, pair_id FROM assignments WHERE id = $1`, id); err != nil {
		return err
	}
	note, err := v.SealText(ctx, tx, vault.PairScope(scope.PracticeID, scope.PairID), vault.AssignmentNote, id,
		"One small, kind thing each day while we get started.")
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE assignments SET note = $2 WHERE id = $1`, id, note)
	return err
}
