package jobs

import (
	"context"
	"testing"

	"github.com/mend-practice/mend/internal/db/dbtest"
)

func TestPruneDropsTheIndexRowsOfEndedSessions(t *testing.T) {
	t.Parallel()
	d, _ := dbtest.New(t)
	d.MustExec(`INSERT INTO practices (id, name, slug) VALUES (1, 'P', 'p.example')`)
	d.MustExec(`INSERT INTO users (id, practice_id, role, email, name) VALUES (1, 1, 'client', 'c@p.example', 'C')`)
	d.MustExec(`INSERT INTO sessions (token, data, expiry) VALUES ('expired', '', now() - interval '1 minute'), ('live', '', now() + interval '10 minutes')`)
	d.MustExec(`INSERT INTO user_sessions (token_hash, user_id, practice_id, created_at) VALUES
		('expired', 1, 1, now() - interval '1 hour'), ('live', 1, 1, now() - interval '1 hour'),
		('gone', 1, 1, now() - interval '1 hour'), ('logging-in', 1, 1, now())`)
	if err := (&Worker{DB: d}).prune(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := d.Select(&left, `SELECT token_hash FROM user_sessions ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0] != "live" || left[1] != "logging-in" {
		t.Errorf("index after prune: %v, want the live session and the login in progress", left)
	}
}
