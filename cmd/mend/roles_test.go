package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/db/dbtest"
	"github.com/mend-practice/mend/internal/web/webtest"
)

// Issue 17, item 13: with two roles, `mend migrate` runs the migrations as
// the owner role and grants the app role what web and worker need. The app
// role then cannot switch off the audit log's append-only triggers, nor
// update, delete or truncate audit rows, while it can still append to the
// log and read and write the data.
func TestAppRoleCannotTouchTheAuditLog(t *testing.T) {
	t.Parallel()
	server, err := sql.Open("postgres", withUser(dbtest.ServerURL(), "", "postgres"))
	if err == nil {
		err = server.Ping()
	}
	dbtest.RequireService(t, "PostgreSQL", err)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	owner, app, name := "mend_owner_"+suffix, "mend_app_"+suffix, "mend_roles_"+suffix
	for _, stmt := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`, owner),
		fmt.Sprintf(`CREATE ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`, app),
		fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, name, owner),
	} {
		if _, err := server.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// The server connection is closed here, after the drops: a deferred
	// Close ran before the cleanup, so the drops failed and every run left
	// its database and roles behind.
	t.Cleanup(func() {
		defer server.Close()
		for _, stmt := range []string{
			fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name),
			fmt.Sprintf(`DROP ROLE IF EXISTS %s`, app),
			fmt.Sprintf(`DROP ROLE IF EXISTS %s`, owner),
		} {
			if _, err := server.Exec(stmt); err != nil {
				t.Errorf("clean-up: %s: %v", stmt, err)
			}
		}
	})
	ownerURL, appURL := withUser(dbtest.ServerURL(), owner, name), withUser(dbtest.ServerURL(), app, name)
	environ := map[string]string{"MIGRATE_DATABASE_URL": ownerURL, "DATABASE_URL": appURL, "MEND_MASTER_KEY": webtest.TestMasterKey}
	out := mustMend(t, environ, "migrate")
	if !strings.Contains(out, "change no table") {
		t.Errorf("mend migrate does not say what the app role may do:\n%s", out)
	}
	// The demo data goes in through the app role, as the servers write.
	mustMend(t, environ, "seed", "--demo")

	d, err := sqlx.Open("postgres", appURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	before := 0
	if err := d.GetContext(ctx, &before, `SELECT count(*) FROM audit_log`); err != nil {
		t.Fatalf("the app role cannot read the audit log: %v", err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO audit_log (role, action, object_type, outcome) VALUES ('admin', 'test.append', 'audit_log', 'ok')`); err != nil {
		t.Fatalf("the app role cannot append to the audit log: %v", err)
	}
	if _, err := d.ExecContext(ctx, `UPDATE users SET timezone = timezone`); err != nil {
		t.Fatalf("the app role cannot write the data: %v", err)
	}
	for _, stmt := range []string{
		`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`,
		`ALTER TABLE audit_log DISABLE TRIGGER ALL`,
		`DROP TRIGGER audit_log_no_update ON audit_log`,
		`SET session_replication_role = replica`,
		`CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN RETURN OLD; END $$ LANGUAGE plpgsql`,
		`UPDATE audit_log SET outcome = 'ok'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`ALTER TABLE users ADD COLUMN planted text`,
	} {
		if _, err := d.ExecContext(ctx, stmt); err == nil {
			t.Errorf("the app role ran %q", stmt)
		}
	}
	after := 0
	if err := d.GetContext(ctx, &after, `SELECT count(*) FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	if after != before+1 {
		t.Errorf("audit rows: %d before, %d after one append, want %d", before, after, before+1)
	}
}

// withUser returns dsn with its user and database replaced ("" keeps the
// user).
func withUser(dsn, user, database string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	if user != "" {
		u.User = url.User(user)
	}
	u.Path = "/" + database
	return u.String()
}
