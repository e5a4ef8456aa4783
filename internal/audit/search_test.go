package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/internal/paging"
	"github.com/mend-practice/mend/internal/pair/pairtest"
)

func TestAuditSearchAndExport(t *testing.T) {
	t.Parallel()
	f := pairtest.New(t)
	ctx := context.Background()
	l := &audit.Log{DB: f.DB}
	p := f.Pair(t, f.A, "was_hurt", "broke_trust")
	client := p.Members[0]
	add := func(sc mend.Scope, action string, clientID int64, at time.Time) {
		t.Helper()
		if _, err := f.DB.Exec(`
			INSERT INTO audit_log (practice_id, user_id, role, action, object_type, client_id, outcome, at)
			VALUES ($1, $2, $3, $4, 'pair', NULLIF($5, 0), 'ok', $6)`,
			sc.PracticeID, sc.UserID, string(sc.Role), action, clientID, at); err != nil {
			t.Fatal(err)
		}
	}
	// Creating the pair wrote its own entries (the pair and two
	// invitations); the counts below are on top of those.
	var created int
	if err := f.DB.Get(&created, `SELECT count(*) FROM audit_log WHERE practice_id = $1`, f.A.PracticeID); err != nil || created != 3 {
		t.Fatalf("creating the pair wrote %d entries (%v), want 3", created, err)
	}
	now := time.Now().UTC()
	old := now.AddDate(-1, 0, 0) // far beyond any three-month window
	add(f.A, "checkin.read", client.UserID, old)
	for i := 0; i < 30; i++ {
		add(f.A, "progress.read", client.UserID, now.Add(-time.Duration(i)*time.Hour))
	}
	add(f.B, "dashboard.read", 0, now)
	add(f.OtherCounselor, "checkin.read", 0, now) // another practice

	admin := f.Admin
	search := func(fl audit.Filter, page int) paging.Page[audit.SearchRow] {
		t.Helper()
		pg, err := l.Search(ctx, admin, fl, paging.Request{Number: page, Size: paging.DefaultSize})
		if err != nil {
			t.Fatalf("search %+v: %v", fl, err)
		}
		return pg
	}
	all := search(audit.Filter{}, 1)
	if len(all.Items) != 25 || !all.HasNext {
		t.Errorf("first page: %d rows, next %v; want 25 and a next page", len(all.Items), all.HasNext)
	}
	if last := search(audit.Filter{}, 2); len(last.Items) != 7+created || last.HasNext {
		t.Errorf("second page: %d rows, want %d (32 entries added to this practice's and the pair's own)", len(last.Items), 7+created)
	}
	for _, r := range append(all.Items, search(audit.Filter{}, 2).Items...) {
		if r.UserID.Int64 == f.OtherCounselor.UserID {
			t.Errorf("another practice's entry is listed: %+v", r)
		}
	}
	byUser := search(audit.Filter{User: strconv.FormatInt(f.B.UserID, 10)}, 1)
	if len(byUser.Items) != 1 || byUser.Items[0].Action != "dashboard.read" {
		t.Errorf("by user B: %+v", byUser.Items)
	}
	byClient := search(audit.Filter{Client: strings.ToUpper(client.Email), Action: "checkin.read"}, 1)
	if len(byClient.Items) != 1 || byClient.Items[0].ClientName.String != client.Name {
		t.Errorf("by client and action: %+v", byClient.Items)
	}
	// A year-old range: no three-month cap.
	day := old.Format("2006-01-02")
	if got := search(audit.Filter{From: day, To: day}, 1); len(got.Items) != 1 || got.Items[0].Action != "checkin.read" {
		t.Errorf("a day a year ago: %+v", got.Items)
	}

	// Bad filters are field errors.
	for _, tc := range []struct {
		f     audit.Filter
		field string
	}{
		{audit.Filter{Client: "nobody@example.com"}, "client"},
		{audit.Filter{Client: f.A.Email}, "client"}, // a counselor is not a client
		{audit.Filter{From: "31/12/2025"}, "from"},
		{audit.Filter{From: "2026-03-02", To: "2026-03-01"}, "to"},
		{audit.Filter{User: "abc"}, "user"},
	} {
		_, err := l.Search(ctx, admin, tc.f, paging.First())
		if mend.Fields(err)[tc.field] == "" {
			t.Errorf("%+v: %v, want a message on %s", tc.f, err, tc.field)
		}
	}
	// Only admins read the log.
	for _, sc := range []mend.Scope{f.A, f.ClientScope(p, 1)} {
		if _, err := l.Search(ctx, sc, audit.Filter{}, paging.First()); mend.ErrorCode(err) != mend.ENOTFOUND {
			t.Errorf("search as %s: %v", sc.Role, err)
		}
	}
	acts, err := l.Actions(ctx, admin)
	if err != nil || strings.Join(acts, ",") != "checkin.read,dashboard.read,invitation.create,pair.create,progress.read" {
		t.Errorf("actions: %v, %v", acts, err)
	}

	// The export has every matching row (not one page), and is itself
	// audited.
	var buf bytes.Buffer
	if err := l.Export(ctx, admin, audit.Filter{Action: "progress.read"}, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(audit.ExportColumns, ",") || len(recs) != 31 {
		t.Errorf("export: header %v and %d rows; want 30 rows", recs[0], len(recs)-1)
	}
	if recs[1][4] != "progress.read" || recs[1][8] != client.Name {
		t.Errorf("export row: %v", recs[1])
	}
	if got := search(audit.Filter{Action: "audit.export"}, 1); len(got.Items) != 1 || got.Items[0].UserID.Int64 != admin.UserID {
		t.Errorf("the export was not audited: %+v", got.Items)
	}
}
