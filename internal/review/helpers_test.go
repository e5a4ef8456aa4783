package review_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/pair/pairtest"
	"github.com/mend-practice/mend/internal/review"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/templates"
)

// fx is a test database with two practices (pairtest), a review store and
// a check-in store on a fixed clock: "now" is noon UTC on Friday 20 March
// 2026, so a client in UTC is on that day and periods up to Tuesday 17
// March are closed (two days of grace).
type fx struct {
	*pairtest.Fixture
	vault    *vault.Vault
	reviews  *review.Store
	checkins *checkin.Store
	now      time.Time
	today    checkin.Date
}

var day0 = checkin.D(2026, time.March, 20)

func setup(t *testing.T) *fx {
	t.Helper()
	f := &fx{Fixture: pairtest.New(t), now: time.Date(2026, time.March, 20, 12, 0, 0, 0, time.UTC), today: day0}
	out, err := mail.NewOutbox(f.DB, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return f.now }
	al := &audit.Log{DB: f.DB}
	f.vault = vaulttest.New(t, f.DB)
	f.checkins = checkin.NewStore(f.DB, f.vault, al, out, "http://mend.test")
	f.checkins.Now = clock
	f.reviews = review.NewStore(f.DB, f.vault, al, f.checkins, homework.NewStore(f.DB, f.vault))
	f.reviews.Now = clock
	return f
}

// seal stores text encrypted in field fl of row id (a check-in's), as the
// stores do: under the pair's data key, bound to the row.
func (f *fx) seal(t *testing.T, fl vault.Field, id int64, text string) {
	t.Helper()
	var sc struct {
		PracticeID int64 `db:"practice_id"`
		PairID     int64 `db:"pair_id"`
	}
	if err := f.DB.Get(&sc, `SELECT practice_id, pair_id FROM `+fl.Table+` WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	ct, err := f.vault.SealText(context.Background(), f.DB, vault.PairScope(sc.PracticeID, sc.PairID), fl, id, text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.Exec(`UPDATE `+fl.Table+` SET `+fl.Column+` = $2 WHERE id = $1`, id, ct); err != nil {
		t.Fatal(err)
	}
}

// homework gives a pair homework on a built-in step from starts to due
// (forUser 0: for both).
func (f *fx) homework(t *testing.T, p pair.Pair, cadence string, weekdays []int64, starts, due checkin.Date, forUser int64) int64 {
	t.Helper()
	var id int64
	if weekdays == nil {
		weekdays = []int64{}
	}
	err := f.DB.Get(&id, `
		INSERT INTO assignments (practice_id, pair_id, step_version_id, for_user_id, starts_on, due_on, cadence, weekdays, created_at)
		VALUES ($1, $2, (SELECT current_version_id FROM steps WHERE key = 'open-honest-communication'), $3, $4, $5, $6, $7,
		        ($4::date - 1)::timestamptz) -- assigned the day before it starts
		RETURNING id`, p.PracticeID, p.ID, sql.NullInt64{Int64: forUser, Valid: forUser != 0}, starts, due, cadence, pq.Array(weekdays))
	if err != nil {
		t.Fatalf("homework: %v", err)
	}
	return id
}

// rating is a check-in's three ratings.
type rating [3]int

// checkin stores a check-in by user on homework a for the period start–end,
// sent at the end of its last day.
func (f *fx) checkin(t *testing.T, a, user int64, start, end checkin.Date, r rating, visibility string) int64 {
	t.Helper()
	var id int64
	sent := time.Date(end.Year, end.Month, end.Day, 20, 0, 0, 0, time.UTC)
	err := f.DB.Get(&id, `
		INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
			trust_rating, communication_rating, hope_rating, visibility, created_at, updated_at)
		SELECT a.practice_id, a.pair_id, a.id, $2, $3, $4, 'done', $5, $6, $7, $8, $9, $9
		FROM assignments a WHERE a.id = $1 RETURNING id`, a, user, start, end, r[0], r[1], r[2], visibility, sent)
	if err != nil {
		t.Fatalf("checkin: %v", err)
	}
	f.seal(t, vault.CheckinAnswers, id, `[{"q":"What went well?","a":"We talked."}]`)
	f.seal(t, vault.CheckinReflection, id, "A reflection.")
	return id
}

// daily stores one shared check-in per day from start for each rating.
func (f *fx) daily(t *testing.T, a, user int64, start checkin.Date, rs ...rating) {
	t.Helper()
	for i, r := range rs {
		d := start.AddDays(i)
		f.checkin(t, a, user, d, d, r, "partner")
	}
}

func (f *fx) dashboard(t *testing.T, sc mend.Scope) review.Dashboard {
	t.Helper()
	d, err := f.reviews.Dashboard(context.Background(), sc)
	if err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	return d
}

// reasons lists the kinds of attention reasons of a pair (with whose).
func reasons(d review.Dashboard, pairID int64) []string {
	var out []string
	for _, a := range d.Attention {
		if a.Pair.ID == pairID {
			for _, r := range a.Reasons {
				out = append(out, r.Kind+":"+r.Member)
			}
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// exec returns a change for a table of changes: it runs q and fails the
// test if the statement fails.
func (f *fx) exec(q string, args ...any) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if _, err := f.DB.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
