package db_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

// Two replicas starting at once against a database that does not exist
// yet: both create it (one wins, the other carries on), both migrate (one
// applies, the other waits for the lock and finds nothing to do).
func TestTwoReplicasStartingAtOnce(t *testing.T) {
	t.Parallel()
	dsn := dbtest.EmptyURL(t)
	ctx := context.Background()
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	dbs := make([]*sqlx.DB, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = db.Open(ctx, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d opening: %v", i, err)
		}
		defer dbs[i].Close()
	}
	// goose creates its version table with retries a second apart, which
	// would stagger the replicas; with the table there (as after a first
	// "mend migrate status"), they really do race for the migrations.
	if _, err := db.MigrationStatus(ctx, dbs[0]); err != nil {
		t.Fatal(err)
	}
	// Then all migrate at the same moment.
	start := make(chan struct{})
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = db.Migrate(ctx, dbs[i])
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d migrating: %v", i, err)
		}
	}
	if t.Failed() {
		return
	}
	lines, err := db.MigrationStatus(ctx, dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if strings.Contains(l, "pending") {
			t.Errorf("after both started: %s", l)
		}
	}
	// Each migration applied exactly once.
	var dup int
	if err := dbs[0].Get(&dup, `SELECT count(*) FROM (SELECT version_id FROM goose_db_version WHERE version_id > 0 GROUP BY version_id HAVING count(*) > 1) d`); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d migrations recorded twice", dup)
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	ctx := context.Background()
	before, err := db.MigrationStatus(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateDown(ctx, d); err != nil {
		t.Fatal(err)
	}
	after, _ := db.MigrationStatus(ctx, d)
	if !strings.HasSuffix(after[len(after)-1], "pending") || strings.HasSuffix(after[0], "pending") {
		t.Errorf("after down:\n%s", strings.Join(after, "\n"))
	}
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	again, _ := db.MigrationStatus(ctx, d)
	for i, l := range again {
		if strings.HasSuffix(l, "pending") {
			t.Errorf("after up again: %s", l)
		}
		if i < len(before)-1 && l != before[i] {
			t.Errorf("migration %d changed: %q, was %q", i, l, before[i])
		}
	}
}

func TestUniqueViolation(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	d.MustExec(`INSERT INTO practices (name, slug) VALUES ('A', 'a.example')`)
	_, err := d.Exec(`INSERT INTO practices (name, slug) VALUES ('B', 'a.example')`)
	if !db.IsUniqueViolation(err, "") || !db.IsUniqueViolation(err, "practices_slug_key") || db.IsUniqueViolation(err, "other") {
		t.Errorf("IsUniqueViolation(%v) wrong", err)
	}
	if db.IsUniqueViolation(nil, "") {
		t.Error("nil is a unique violation")
	}
}
