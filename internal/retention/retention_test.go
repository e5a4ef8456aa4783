package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/checkin"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/homework"
	"github.com/mend-practice/mend/internal/mail"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair"
	"github.com/mend-practice/mend/internal/pair/pairtest"
	"github.com/mend-practice/mend/internal/retention"
	"github.com/mend-practice/mend/internal/reveal"
	"github.com/mend-practice/mend/internal/vault"
	"github.com/mend-practice/mend/internal/vault/vaulttest"
	"github.com/mend-practice/mend/templates"
)

var ctx = context.Background()

// What the closed pair's people wrote; each marker appears nowhere else.
const (
	note       = "NOTE-retention a quiet walk each evening"
	answer     = "ANSWER-retention we listened"
	reflection = "REFLECTION-retention the first version"
	edited     = "EDITED-retention the second version"
	safety     = "SAFETY-retention I felt unsafe on Friday"
	ackNote    = "ACK-retention called, safety plan agreed"
	revealA    = "REVEAL-retention where we stand, A"
	revealB    = "REVEAL-retention where we stand, B"
	replyA     = "REPLY-retention thank you, B"
	otherText  = "OTHER-retention another pair's words"
)

type world struct {
	*pairtest.Fixture
	v        *vault.Vault
	store    *retention.Store
	checkins *checkin.Store
	hw       *homework.Store
	closed   pair.Pair // closed, with homework, check-ins, history, an alert
	other    pair.Pair // open, of the same counselor
	returner pair.Pair // open: the closed pair's first client joined it
	checkin  int64     // the closed pair's check-in
}

func setup(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	f := pairtest.New(t)
	v := vaulttest.New(t, f.DB)
	outbox, err := mail.NewOutbox(f.DB, templates.FS)
	if err != nil {
		t.Fatal(err)
	}
	al := &audit.Log{DB: f.DB}
	checkins := checkin.NewStore(f.DB, v, al, outbox, "https://mend.test")
	w := &world{Fixture: f, v: v,
		store:    retention.NewStore(f.DB, v, al, &auth.Sessions{DB: f.DB}, checkins),
		checkins: checkins,
		hw:       homework.NewStore(f.DB, v),
	}
	w.closed = f.Pair(t, f.A, "was_hurt", "broke_trust")
	w.checkin = w.clientWrites(t, w.closed, note, reflection, safety)
	// The client edits the check-in: the first version goes to the history.
	in := w.input(reflection, safety)
	in.Reflection = edited
	if _, err := w.checkins.Update(ctx, f.ClientScope(w.closed, 1), w.checkin, in); err != nil {
		t.Fatal(err)
	}
	// The counselor acknowledged the safety alert with a note.
	var alert int64
	var sealed []byte
	if err := f.DB.Get(&alert, `SELECT id FROM safety_alerts WHERE checkin_id = $1`, w.checkin); err != nil {
		t.Fatal(err)
	}
	sealed, err = v.SealText(ctx, f.DB, vault.PairScope(w.closed.PracticeID, w.closed.ID), vault.AlertAckNote, alert, ackNote)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.Exec(`UPDATE safety_alerts SET acknowledged_at = now(), acknowledged_by = $2, ack_note = $3 WHERE id = $1`, alert, f.A.UserID, sealed); err != nil {
		t.Fatal(err)
	}
	// Both clients answered a reveal exercise; it was revealed and the
	// first replied (issue 21).
	reveals := reveal.NewStore(f.DB, v, al)
	today := checkin.Today(time.Now(), "UTC")
	var exercise int64
	if err := f.DB.Get(&exercise, `INSERT INTO assignments (practice_id, pair_id, step_version_id, starts_on, due_on, cadence)
		VALUES ($1, $2, (SELECT current_version_id FROM steps WHERE key = 'reveal-where-we-each-stand'), $3, $4, 'once') RETURNING id`,
		w.closed.PracticeID, w.closed.ID, today.AddDays(-1), today.AddDays(6)); err != nil {
		t.Fatal(err)
	}
	for i, words := range []string{revealA, revealB} {
		if _, err := reveals.Save(ctx, f.ClientScope(w.closed, i+1), exercise, today.AddDays(-1).String(), []string{words}); err != nil {
			t.Fatal(err)
		}
	}
	if err := reveals.Reply(ctx, f.ClientScope(w.closed, 1), exercise, today.AddDays(-1).String(), replyA); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Pairs.Close(ctx, f.A, w.closed.ID); err != nil {
		t.Fatal(err)
	}
	w.other = f.Pair(t, f.A, "mutual", "mutual")
	w.clientWrites(t, w.other, "", otherText, "")
	// The closed pair's first client comes back with someone new.
	np := f.NewPair("mutual", "mutual")
	np.A.Name, np.A.Email = w.closed.Members[0].Name, w.closed.Members[0].Email
	cr, err := f.Pairs.Create(ctx, f.A, np, f.Notify)
	if err != nil {
		t.Fatal(err)
	}
	if w.returner, err = f.Pairs.Get(ctx, f.A, cr.PairID); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) input(reflection, safety string) checkin.Input {
	return checkin.Input{Period: checkin.Today(time.Now(), "UTC").String(), Status: "done", Trust: "4", Communication: "5", Hope: "6",
		Answers: []string{answer, answer, answer, answer}, Reflection: reflection, Visibility: "counselor",
		Unsafe: safety != "", SafetyNote: safety}
}

// clientWrites gives the pair homework with a note and a check-in by its
// first client, through the stores, and returns the check-in's id.
func (w *world) clientWrites(t *testing.T, p pair.Pair, note, reflection, safety string) int64 {
	t.Helper()
	step := strconv.FormatInt(w.Count1(t, `SELECT id FROM steps WHERE key = 'open-honest-communication'`), 10)
	today, err := w.hw.Today(ctx, w.A)
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.hw.Assign(ctx, w.A, p.ID, homework.Input{StepID: step, For: "both", Cadence: "daily", Note: note, ConfirmDates: true,
		StartsOn: today.AddDays(-1).String(), DueOn: today.AddDays(6).String()})
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.checkins.Create(ctx, w.ClientScope(p, 1), a.ID, w.input(reflection, safety))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (w *world) Count1(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.DB.Get(&n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// closedLongAgo moves the closed pair's closing back past the retention
// period (seven years by default).
func (w *world) closedLongAgo(t *testing.T) {
	t.Helper()
	if _, err := w.DB.Exec(`UPDATE pairs SET closed_at = now() - interval '7 years 3 days' WHERE id = $1`, w.closed.ID); err != nil {
		t.Fatal(err)
	}
}

func TestExportHoldsEverythingDecryptedAndIsAudited(t *testing.T) {
	w := setup(t)
	a, err := w.store.Export(ctx, w.A, w.closed.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, want := range []string{note, answer, reflection, edited, safety, ackNote, revealA, revealB, replyA, `"rule":"both"`, w.closed.Label,
		w.closed.Members[0].Email, w.closed.Members[1].Name, `"kind":"closed"`, `"format":"mend.pair-archive.v1"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the archive lacks %q", want)
		}
	}
	if strings.Contains(doc, otherText) {
		t.Error("the archive holds another pair's check-in")
	}
	if len(a.Checkins) != 1 || a.Checkins[0].Reflection != edited || len(a.Checkins[0].History) != 1 ||
		a.Checkins[0].History[0].Reflection != reflection || a.Checkins[0].Answers[0].Answer != answer {
		t.Errorf("check-ins in the archive: %+v", a.Checkins)
	}
	if len(a.Homework) != 2 || a.Homework[0].Note != note || len(a.SafetyAlerts) != 1 || a.SafetyAlerts[0].AckNote != ackNote ||
		len(a.RevealAnswers) != 2 || len(a.Reveals) != 1 || len(a.RevealReplies) != 1 {
		t.Errorf("homework %+v, alerts %+v", a.Homework, a.SafetyAlerts)
	}
	// One audit entry per client, naming the pair and nothing else.
	var clients []int64
	if err := w.DB.Select(&clients, `SELECT client_id FROM audit_log WHERE action = 'pair.exported' AND object_id = $1 AND user_id = $2 ORDER BY client_id`,
		w.closed.ID, w.A.UserID); err != nil {
		t.Fatal(err)
	}
	if len(clients) != 2 {
		t.Errorf("export audited for clients %v, want both members", clients)
	}

	// The admin may export it too; another counselor, another practice's
	// admin and a client may not; an open pair is not archived.
	if _, err := w.store.Export(ctx, w.Admin, w.closed.ID); err != nil {
		t.Errorf("admin export: %v", err)
	}
	for name, sc := range map[string]mend.Scope{"counselor B": w.B, "other practice": w.OtherAdmin, "client": w.ClientScope(w.closed, 1)} {
		if _, err := w.store.Export(ctx, sc, w.closed.ID); pairtest.Code(err) != mend.ENOTFOUND {
			t.Errorf("%s exporting: %v, want not found", name, err)
		}
	}
	if _, err := w.store.Export(ctx, w.A, w.other.ID); pairtest.Code(err) != mend.ECONFLICT {
		t.Errorf("exporting an open pair: %v, want a conflict", err)
	}
}

func TestPurgeBeforeTheRetentionPeriodIsRefused(t *testing.T) {
	w := setup(t)
	before := w.Count1(t, `SELECT count(*) FROM checkins WHERE pair_id = $1`, w.closed.ID)
	p, err := w.store.PurgePreview(ctx, w.Admin, w.closed.ID)
	if err != nil || p.Due {
		t.Fatalf("preview of a pair closed today: due %v, %v", p.Due, err)
	}
	_, err = w.store.Purge(ctx, w.Admin, w.closed.ID, w.closed.Label)
	if pairtest.Code(err) != mend.ECONFLICT || !strings.Contains(err.Error(), "must be kept until") {
		t.Fatalf("purge before the retention period: %v", err)
	}
	if n := w.Count1(t, `SELECT count(*) FROM checkins WHERE pair_id = $1`, w.closed.ID); n != before || n == 0 {
		t.Fatalf("check-ins after a refused purge: %d, were %d", n, before)
	}
	// A shorter retention period makes it due; only admins set it, within bounds.
	if _, err := w.store.SetDays(ctx, w.Admin, "0"); mend.Fields(err)["retention_days"] == "" {
		t.Errorf("retention of 0 days: %v, want a field error", err)
	}
	if _, err := w.store.SetDays(ctx, w.A, "30"); pairtest.Code(err) != mend.EFORBIDDEN {
		t.Errorf("counselor changing retention: %v", err)
	}
	if _, err := w.DB.Exec(`UPDATE pairs SET closed_at = now() - interval '31 days' WHERE id = $1`, w.closed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.SetDays(ctx, w.Admin, "30"); err != nil {
		t.Fatal(err)
	}
	if p, err := w.store.PurgePreview(ctx, w.Admin, w.closed.ID); err != nil || !p.Due {
		t.Fatalf("after a 30-day retention: due %v, %v", p.Due, err)
	}
	// An open pair is never purged.
	if _, err := w.store.Purge(ctx, w.Admin, w.other.ID, w.other.Label); pairtest.Code(err) != mend.ECONFLICT {
		t.Errorf("purging an open pair: %v", err)
	}
}

// pairRows counts, in every table with a pair_id, assignment_id or
// checkin_id column, the rows that belong to the given pair, homework and
// check-ins.
func pairRows(t *testing.T, w *world, pairID int64, assignments, checkins []int64) map[string]int64 {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	if err := w.DB.Select(&cols, `
		SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'
		  AND c.column_name IN ('pair_id', 'assignment_id', 'checkin_id')
		ORDER BY 1, 2`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cols {
		ids := []int64{pairID}
		switch c.Column {
		case "assignment_id":
			ids = assignments
		case "checkin_id":
			ids = checkins
		}
		var n int64
		if err := w.DB.Get(&n, `SELECT count(*) FROM "`+c.Table+`" WHERE "`+c.Column+`" = ANY($1)`, pq.Array(ids)); err != nil {
			t.Fatal(err)
		}
		out[c.Table+"."+c.Column] = n
	}
	out["pairs.id"] = w.Count1(t, `SELECT count(*) FROM pairs WHERE id = $1`, pairID)
	return out
}

func TestPurgeLeavesNoRowOfThePairAndShredsItsKeys(t *testing.T) {
	w := setup(t)
	w.closedLongAgo(t)
	var assignments, checkins []int64
	if err := w.DB.Select(&assignments, `SELECT id FROM assignments WHERE pair_id = $1`, w.closed.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.DB.Select(&checkins, `SELECT id FROM checkins WHERE pair_id = $1`, w.closed.ID); err != nil {
		t.Fatal(err)
	}
	before := pairRows(t, w, w.closed.ID, assignments, checkins)
	for _, must := range []string{"checkins.pair_id", "checkin_history.checkin_id", "safety_alerts.pair_id", "pair_events.pair_id",
		"pair_members.pair_id", "data_keys.pair_id", "pair_plans.pair_id"} {
		if before[must] == 0 && must != "pair_plans.pair_id" {
			t.Fatalf("the fixture has no rows in %s: the test would prove nothing", must)
		}
	}
	// A ciphertext as an old backup would hold it.
	var backup []byte
	if err := w.DB.Get(&backup, `SELECT reflection FROM checkins WHERE id = $1`, w.checkin); err != nil {
		t.Fatal(err)
	}

	// The confirmation lists what goes, and wants the label typed.
	p, err := w.store.PurgePreview(ctx, w.Admin, w.closed.ID)
	if err != nil || !p.Due || p.Total() == 0 || len(p.Members) != 2 || p.Members[0].Anonymised || !p.Members[1].Anonymised {
		t.Fatalf("preview: %+v, %v", p, err)
	}
	if _, err := w.store.Purge(ctx, w.Admin, w.closed.ID, "not the label"); mend.Fields(err)["label"] == "" {
		t.Fatalf("purge with the wrong label: %v", err)
	}
	if after := pairRows(t, w, w.closed.ID, assignments, checkins); after["checkins.pair_id"] != before["checkins.pair_id"] {
		t.Fatal("a refused purge deleted rows")
	}
	for name, sc := range map[string]mend.Scope{"the counselor": w.A, "another practice's admin": w.OtherAdmin} {
		if _, err := w.store.Purge(ctx, sc, w.closed.ID, w.closed.Label); err == nil {
			t.Fatalf("%s purged the pair", name)
		}
	}

	if _, err := w.store.Purge(ctx, w.Admin, w.closed.ID, w.closed.Label); err != nil {
		t.Fatal(err)
	}
	for table, n := range pairRows(t, w, w.closed.ID, assignments, checkins) {
		if n != 0 {
			t.Errorf("%s: %d rows of the purged pair left", table, n)
		}
	}
	// Crypto-shredding: the pair's keys are gone, so its ciphertext from a
	// backup no longer opens.
	if _, err := w.v.Open(ctx, w.DB, vault.CheckinReflection, w.checkin, backup); !errors.Is(err, vault.ErrKeyDestroyed) {
		t.Errorf("backup ciphertext after the purge: %v, want ErrKeyDestroyed", err)
	}
	fresh := vaulttest.New(t, w.DB)
	if _, err := fresh.Open(ctx, w.DB, vault.CheckinReflection, w.checkin, backup); !errors.Is(err, vault.ErrKeyDestroyed) {
		t.Errorf("backup ciphertext through a fresh vault: %v, want ErrKeyDestroyed", err)
	}
	// Nothing identifying or clinical is left anywhere.
	for _, text := range []string{w.closed.Label, w.closed.Members[1].Email, w.closed.Members[1].Name} {
		if cols := dbtest.FindText(t, w.DB, text); len(cols) > 0 {
			t.Errorf("%q is still in %v", text, cols)
		}
	}
	// The client with no other pair is anonymised and signed out; the one
	// who came back keeps their account.
	var gone struct {
		Name     string `db:"name"`
		Email    string `db:"email"`
		Disabled bool   `db:"disabled"`
		Password bool   `db:"password"`
	}
	if err := w.DB.Get(&gone, `SELECT name, email, disabled_at IS NOT NULL AS disabled, password_hash IS NOT NULL AS password FROM users WHERE id = $1`,
		w.closed.Members[1].UserID); err != nil {
		t.Fatal(err)
	}
	if gone.Name != "Former client" || !strings.HasSuffix(gone.Email, "@purged.invalid") || !gone.Disabled || gone.Password {
		t.Errorf("the purged pair's other client: %+v", gone)
	}
	if n := w.Count1(t, `SELECT count(*) FROM email_log WHERE user_id = $1 AND (body_text <> '' OR to_address NOT LIKE '%@purged.invalid')`, w.closed.Members[1].UserID); n != 0 {
		t.Errorf("%d email log entries of the anonymised client keep their body or address", n)
	}
	if n := w.Count1(t, `SELECT count(*) FROM email_log WHERE user_id = $1`, w.closed.Members[1].UserID); n == 0 {
		t.Error("the email log lost the entries' metadata")
	}
	if _, err := w.Pairs.Get(ctx, w.A, w.returner.ID); err != nil {
		t.Errorf("the returning client's new pair: %v", err)
	}
	if n := w.Count1(t, `SELECT count(*) FROM users WHERE id = $1 AND name = $2 AND disabled_at IS NULL`, w.closed.Members[0].UserID, w.closed.Members[0].Name); n != 1 {
		t.Error("the client in another pair lost their account")
	}
	// Other pairs are untouched and still decrypt.
	page, err := w.checkins.ForPair(ctx, w.A, w.other.ID, checkin.PairFilter{}, paging.First())
	if err != nil || len(page.Items) != 1 || page.Items[0].Reflection != otherText {
		t.Errorf("another pair after the purge: %+v, %v", page.Items, err)
	}
	// The purge is audited, once per client, without text.
	if n := w.Count1(t, `SELECT count(*) FROM audit_log WHERE action = 'pair.purged' AND object_id = $1 AND user_id = $2`, w.closed.ID, w.Admin.UserID); n != 2 {
		t.Errorf("%d audit entries for the purge, want 2", n)
	}
}

// TestEveryTableOfAPairIsPurged fails when a migration adds a table that
// holds a pair's rows (a pair_id, assignment_id or checkin_id column)
// without adding it to the purge.
func TestEveryTableOfAPairIsPurged(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	purged := map[string]bool{}
	for _, tb := range retention.PurgedTables() {
		purged[tb] = true
	}
	var tables []string
	if err := d.Select(&tables, `
		SELECT DISTINCT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = 'public' AND tb.table_type = 'BASE TABLE'
		  AND c.column_name IN ('pair_id', 'assignment_id', 'checkin_id', 'pair_plan_id')
		ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if !purged[tb] {
			t.Errorf("table %s holds a pair's rows but the purge does not delete from it", tb)
		}
	}
}
