package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
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

// TestConcurrentEntriesAreAllCommittedBeforeRecordReturns: the entries of
// many requests at once are written together, yet each Record returns only
// once its own entry can be read, every entry is there once with its
// clients, and an entry the table refuses fails alone.
func TestConcurrentEntriesAreAllCommittedBeforeRecordReturns(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ctx := context.Background()
	log := &audit.Log{DB: d}
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := mend.Scope{PracticeID: 1, UserID: int64(100 + i), Role: mend.RoleClient}
			e := audit.Entry{Action: "checkin.read", ObjectType: "shared"}
			if i == 13 {
				e.Outcome = "not an outcome" // refused by the table's check
			}
			if i%2 == 0 {
				errs[i] = log.RecordClients(ctx, nil, sc, e, []int64{int64(500 + i), int64(600 + i)})
			} else {
				e.ClientID = int64(500 + i)
				errs[i] = log.Record(ctx, nil, sc, e)
			}
			if errs[i] != nil {
				return
			}
			var got int
			if err := d.Get(&got, `SELECT count(*) FROM audit_log WHERE user_id = $1`, 100+i); err != nil || got == 0 {
				errs[i] = fmt.Errorf("entry of user %d not readable when Record returned (%d rows, %v)", 100+i, got, err)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 13) != (err != nil) {
			t.Errorf("entry %d: error %v", i, err)
		}
	}
	var rows, users int
	if err := d.Get(&rows, `SELECT count(*) FROM audit_log WHERE action = 'checkin.read'`); err != nil {
		t.Fatal(err)
	}
	// 32 even users with two clients each, 31 odd ones with one (13 failed).
	if want := 32*2 + 31; rows != want {
		t.Errorf("%d entries written, want %d", rows, want)
	}
	if err := d.Get(&users, `SELECT count(DISTINCT (user_id, client_id)) FROM audit_log WHERE action = 'checkin.read' AND client_id IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if users != rows {
		t.Errorf("%d distinct (user, client) entries among %d: some were written twice", users, rows)
	}
}
