package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
)

// What the pre-encryption rows hold, each a marker no other value contains.
var legacyText = map[string]string{
	"reflection":  "legacy-reflection: the week felt heavy",
	"answer":      "legacy-answer: we talked on Sunday",
	"safety":      "legacy-safety: I do not feel safe at home",
	"old":         "legacy-history: an earlier version",
	"ack":         "legacy-ack: called the client, safety plan agreed",
	"note":        "legacy-note: ten quiet minutes",
	"second-pair": "legacy-second: another pair's words",
}

type legacyIDs struct {
	practice, counselor, pair, pair2, checkin, checkin2, history, assignment int64
}

// oldDatabase is a database at the schema before encryption (00054) holding
// clinical text in plaintext, as a deployment upgrading to this version has.
func oldDatabase(t *testing.T) (*sqlx.DB, legacyIDs) {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := db.MigrateTo(ctx, d, 54); err != nil {
		t.Fatal(err)
	}
	var ids legacyIDs
	get := func(dst *int64, q string, args ...any) {
		t.Helper()
		if err := d.Get(dst, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	get(&ids.practice, `INSERT INTO practices (name, slug, timezone) VALUES ('Old', 'old.example', 'UTC') RETURNING id`)
	get(&ids.counselor, `INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'counselor', 'c@old.example', 'C', 'UTC') RETURNING id`, ids.practice)
	var step, version, a, b, a2, b2 int64
	get(&step, `INSERT INTO steps (practice_id, key) VALUES (NULL, 'legacy-step') RETURNING id`)
	get(&version, `INSERT INTO step_versions (step_id, version, title, questions, duration_days) VALUES ($1, 1, 'Listen', '["What went well?"]', 7) RETURNING id`, step)
	if _, err := d.Exec(`UPDATE steps SET current_version_id = $2 WHERE id = $1`, step, version); err != nil {
		t.Fatal(err)
	}
	get(&a, `INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'a@old.example', 'A', 'UTC') RETURNING id`, ids.practice)
	get(&b, `INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'b@old.example', 'B', 'UTC') RETURNING id`, ids.practice)
	get(&a2, `INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'a2@old.example', 'A2', 'UTC') RETURNING id`, ids.practice)
	get(&b2, `INSERT INTO users (practice_id, role, email, name, timezone) VALUES ($1, 'client', 'b2@old.example', 'B2', 'UTC') RETURNING id`, ids.practice)
	pair := func(label string, x, y int64) int64 {
		var id int64
		get(&id, `INSERT INTO pairs (practice_id, counselor_id, label, kind) VALUES ($1, $2, $3, 'romantic') RETURNING id`, ids.practice, ids.counselor, label)
		if _, err := d.Exec(`INSERT INTO pair_members (pair_id, user_id, position, side) VALUES ($1, $2, 1, 'was_hurt'), ($1, $3, 2, 'broke_trust')`, id, x, y); err != nil {
			t.Fatal(err)
		}
		return id
	}
	ids.pair, ids.pair2 = pair("Old pair", a, b), pair("Second pair", a2, b2)
	today := time.Now().UTC().Format("2006-01-02")
	get(&ids.assignment, `INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence, note)
		VALUES ($1, $2, $3, $4::date - 3, $4::date + 3, 'daily', $5) RETURNING id`, ids.practice, ids.pair, version, today, legacyText["note"])
	checkinOf := func(pair, assignment, user int64, reflection, answer, safety string) int64 {
		var id int64
		get(&id, `INSERT INTO checkins (practice_id, pair_id, assignment_id, user_id, period_start, period_end, status,
				trust_rating, communication_rating, hope_rating, answers, reflection, visibility, safety_flag, safety_note)
			VALUES ($1, $2, $3, $4, $5, $5, 'done', 5, 5, 5, $6, $7, 'counselor', $8, $9) RETURNING id`,
			ids.practice, pair, assignment, user, today,
			`[{"q": "What went well?", "a": "`+answer+`"}]`, reflection, safety != "", safety)
		return id
	}
	ids.checkin = checkinOf(ids.pair, ids.assignment, a, legacyText["reflection"], legacyText["answer"], legacyText["safety"])
	var hw2 int64
	get(&hw2, `INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence)
		VALUES ($1, $2, $3, $4::date - 3, $4::date + 3, 'daily') RETURNING id`, ids.practice, ids.pair2, version, today)
	ids.checkin2 = checkinOf(ids.pair2, hw2, a2, legacyText["second-pair"], "", "")
	get(&ids.history, `INSERT INTO checkin_history (practice_id, checkin_id, version, status, trust_rating, communication_rating,
			hope_rating, answers, reflection, visibility, safety_flag, safety_note, saved_at)
		VALUES ($1, $2, 1, 'partly', 3, 3, 3, '[]', $3, 'counselor', false, '', now() - interval '1 hour') RETURNING id`,
		ids.practice, ids.checkin, legacyText["old"])
	var alert int64
	get(&alert, `INSERT INTO safety_alerts (practice_id, pair_id, checkin_id, counselor_id, acknowledged_at, acknowledged_by, ack_note)
		VALUES ($1, $2, $3, $4, now(), $4, $5) RETURNING id`, ids.practice, ids.pair, ids.checkin, ids.counselor, legacyText["ack"])
	if _, err := d.Exec(`UPDATE checkins SET version = 2 WHERE id = $1`, ids.checkin); err != nil {
		t.Fatal(err)
	}
	return d, ids
}

// Upgrading a database that holds clinical text in plaintext: without the
// master key the migration stops and changes nothing; with it every value is
// encrypted, no plaintext is left anywhere in the database, the stores read
// the text back, a value copied into another row does not decrypt, and the
// way down restores the plaintext.
func TestMigrationEncryptsExistingClinicalText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, ids := oldDatabase(t)

	err := db.Migrate(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "MEND_MASTER_KEY") {
		t.Fatalf("migrating without a key: %v; want a message asking for MEND_MASTER_KEY", err)
	}
	var reflection string
	if err := d.Get(&reflection, `SELECT reflection_plaintext FROM checkins WHERE id = $1`, ids.checkin); err != nil || reflection != legacyText["reflection"] {
		t.Fatalf("after the refused migration: %q, %v; want the plaintext kept for the next try", reflection, err)
	}

	v := vaulttest.New(t, d)
	if err := db.Migrate(ctx, d, db.WithCipher(v)); err != nil {
		t.Fatal(err)
	}
	for name, text := range legacyText {
		if cols := dbtest.FindText(t, d, text); len(cols) > 0 {
			t.Errorf("%s is still readable in %v", name, cols)
		}
	}

	// The stores read what was written before the upgrade.
	sc := mend.Scope{PracticeID: ids.practice, UserID: ids.counselor, Role: mend.RoleCounselor, Timezone: "UTC"}
	checkins := checkin.NewStore(d, v, &audit.Log{DB: d}, nil, "")
	page, err := checkins.ForPair(ctx, sc, ids.pair, checkin.PairFilter{}, paging.First())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d check-ins, want 1", len(page.Items))
	}
	c := page.Items[0]
	if c.Reflection != legacyText["reflection"] || c.SafetyNote != legacyText["safety"] ||
		len(c.Answers) != 1 || c.Answers[0].Answer != legacyText["answer"] || c.Answers[0].Question != "What went well?" {
		t.Errorf("check-in after the upgrade: reflection %q, safety %q, answers %+v", c.Reflection, c.SafetyNote, c.Answers)
	}
	if len(c.History) != 1 || c.History[0].Reflection != legacyText["old"] || len(c.History[0].Answers) != 0 {
		t.Errorf("history after the upgrade: %+v", c.History)
	}
	hw := homework.NewStore(d, v)
	a, err := hw.Get(ctx, sc, ids.assignment)
	if err != nil || a.Note != legacyText["note"] {
		t.Errorf("homework note after the upgrade: %q, %v", a.Note, err)
	}
	var ack []byte
	var alertID int64
	if err := d.QueryRow(`SELECT id, ack_note FROM safety_alerts WHERE checkin_id = $1`, ids.checkin).Scan(&alertID, &ack); err != nil {
		t.Fatal(err)
	}
	if got, err := v.OpenText(ctx, d, vault.AlertAckNote, alertID, ack); err != nil || got != legacyText["ack"] {
		t.Errorf("acknowledgement note after the upgrade: %q, %v", got, err)
	}
	// Each pair's text is under that pair's own key.
	var keys int
	if err := d.Get(&keys, `SELECT count(DISTINCT pair_id) FROM data_keys WHERE pair_id = ANY(ARRAY[$1, $2]::bigint[])`, ids.pair, ids.pair2); err != nil || keys != 2 {
		t.Errorf("pairs with a data key: %d, %v; want 2", keys, err)
	}

	// A ciphertext copied into another row is refused, not shown.
	if _, err := d.Exec(`UPDATE checkins SET reflection = (SELECT reflection FROM checkins WHERE id = $1) WHERE id = $2`, ids.checkin, ids.checkin2); err != nil {
		t.Fatal(err)
	}
	if _, err := checkins.ForPair(ctx, sc, ids.pair2, checkin.PairFilter{}, paging.First()); err == nil {
		t.Error("a reflection copied from another pair's check-in was read")
	}
	if _, err := d.Exec(`UPDATE checkins SET reflection = NULL WHERE id = $1`, ids.checkin2); err != nil {
		t.Fatal(err)
	}

	// And back down: the plaintext columns return with the text.
	if err := db.MigrateDownTo(ctx, d, 54, db.WithCipher(v)); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Reflection string `db:"reflection"`
		Note       string `db:"note"`
		Answers    string `db:"answers"`
	}
	if err := d.Get(&back, `SELECT c.reflection, a.note, c.answers::text AS answers FROM checkins c JOIN assignments a ON a.id = c.assignment_id WHERE c.id = $1`, ids.checkin); err != nil {
		t.Fatal(err)
	}
	if back.Reflection != legacyText["reflection"] || back.Note != legacyText["note"] || !strings.Contains(back.Answers, legacyText["answer"]) {
		t.Errorf("after migrating down: %+v", back)
	}
}

// A new database has nothing to encrypt: it migrates without a key (the
// test template and `mend migrate` on an empty database do).
func TestMigrationWithoutKeyOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	lines, err := db.MigrationStatus(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "00056_seal_clinical_text (Go)") {
		t.Errorf("status does not name the Go migration:\n%s", strings.Join(lines, "\n"))
	}
}
