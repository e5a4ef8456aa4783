package db

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Two roles. The owner role (MIGRATE_DATABASE_URL) owns the tables and runs
// the migrations; web and worker connect as the app role (DATABASE_URL),
// which owns nothing. Only a table's owner (or a superuser) can ALTER it,
// disable or drop its triggers, so the app role cannot switch off the audit
// log's append-only triggers; it also has no UPDATE, DELETE or TRUNCATE
// privilege on the audit log at all.

// RoleOf returns the user named in a postgres:// URL ("" if none).
func RoleOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return ""
	}
	return u.User.Username()
}

// GrantApp gives appRole what web and worker need on the owner's schema
// and nothing more. It runs (as the owner) after every migration, so new
// tables are covered; it is idempotent.
func GrantApp(ctx context.Context, owner *sqlx.DB, appRole string) error {
	var self string
	if err := owner.GetContext(ctx, &self, `SELECT current_user`); err != nil {
		return fmt.Errorf("db: grant: %w", err)
	}
	if appRole == "" || appRole == self {
		return fmt.Errorf("db: the app role (DATABASE_URL's user %q) must differ from the owner role (MIGRATE_DATABASE_URL's user %q)", appRole, self)
	}
	role := pq.QuoteIdentifier(appRole)
	for _, stmt := range []string{
		`GRANT USAGE ON SCHEMA public TO ` + role,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + role,
		`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + role,
		// The audit log is append-only by privilege as well as by trigger.
		`REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM ` + role,
		// The migration record is the owner's.
		`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON goose_db_version FROM ` + role,
	} {
		if _, err := owner.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("db: grant %s: %w", appRole, err)
		}
	}
	return nil
}

// OwnsSchema reports whether d's role may change the schema: it owns the
// audit log, is a superuser, or the schema is not there yet. Then it can
// run the migrations itself (the single-role local demo) — and could also
// switch the audit log's triggers off.
func OwnsSchema(ctx context.Context, d *sqlx.DB) (bool, error) {
	var owns bool
	err := d.GetContext(ctx, &owns, `
		SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
		    OR NOT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_log')
		    OR EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_log'
		               AND pg_has_role(current_user, tableowner, 'USAGE'))`)
	if err != nil {
		return false, fmt.Errorf("db: schema owner: %w", err)
	}
	return owns, nil
}
