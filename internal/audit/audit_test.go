package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/audit"
	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/mend"
)

func TestAuditLogIsAppendOnlyAndPracticeScoped(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ctx := context.Background()
	log := &audit.Log{DB: d}
	a := mend.Scope{PracticeID: 1, UserID: 10, Role: mend.RoleCounselor, IP: "192.0.2.1"}
	b := mend.Scope{PracticeID: 2, UserID: 20, Role: mend.RoleAdmin}
	if err := log.Record(ctx, nil, a, audit.Entry{Action: "pair.read", ObjectType: "pair", ObjectID: 5, ClientID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := log.Record(ctx, nil, b, audit.Entry{Action: "route.denied", ObjectType: "admin", Outcome: audit.Denied}); err != nil {
		t.Fatal(err)
	}
	rows, err := log.Recent(ctx, mend.Scope{PracticeID: 1, Role: mend.RoleAdmin}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Action != "pair.read" || rows[0].Outcome != audit.OK || rows[0].ClientID.Int64 != 7 || rows[0].IP != "192.0.2.1" {
		t.Errorf("practice 1 reads %+v", rows)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET outcome = 'ok'`,
		`DELETE FROM audit_log WHERE practice_id = 2`,
		`TRUNCATE audit_log`,
	} {
		if _, err := d.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM audit_log`); err != nil || n != 2 {
		t.Errorf("%d rows (%v), want 2", n, err)
	}
}
