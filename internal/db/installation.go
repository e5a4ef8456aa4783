package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// InstallationID is this installation's identity: a random id written to
// its database by the first process that asks. Every task Mend puts on
// Redis carries it, so that two installations that share a Redis database
// by mistake can tell their tasks apart.
func InstallationID(ctx context.Context, d sqlx.QueryerContext) (string, error) {
	var (
		id  string
		err error
	)
	// Twice: a process that loses the race to write the row cannot see it
	// within its own statement's snapshot.
	for range 2 {
		if err = sqlx.GetContext(ctx, d, &id, installationQuery); err == nil {
			return id, nil
		}
	}
	return "", fmt.Errorf("db: installation id: %w", err)
}

const installationQuery = `
		WITH new AS (
			INSERT INTO installation (id) VALUES (replace(gen_random_uuid()::text, '-', ''))
			ON CONFLICT (singleton) DO NOTHING
			RETURNING id)
		SELECT id FROM new UNION ALL SELECT id FROM installation LIMIT 1`
