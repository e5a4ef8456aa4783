package jobs

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/auth"
	"github.com/mend-practice/mend/internal/db/dbtest"
)

func TestPruneDropsTheIndexRowsOfEndedSessions(t *testing.T) {
	t.Parallel()
	d := oneClient(t)
	d.MustExec(`INSERT INTO sessions (token, data, expiry) VALUES ('expired', '', now() - interval '1 minute'), ('live', '', now() + interval '10 minutes')`)
	d.MustExec(`INSERT INTO user_sessions (token_hash, user_id, practice_id, created_at) VALUES
		('expired', 1, 1, now() - interval '1 hour'), ('live', 1, 1, now() - interval '1 hour'),
		('gone', 1, 1, now() - interval '1 hour'), ('logging-in', 1, 1, now())`)
	left := pruned(t, &Worker{DB: d}, `SELECT token_hash FROM user_sessions ORDER BY 1`)
	if len(left) != 2 || left[0] != "live" || left[1] != "logging-in" {
		t.Errorf("index after prune: %v, want the live session and the login in progress", left)
	}
}

// TestPruneEndsIdleSessions: a session unused for the idle timeout is ended
// by the prune, its scs row (which holds the session's data) with it, even
// if its browser never comes back.
func TestPruneEndsIdleSessions(t *testing.T) {
	t.Parallel()
	d := oneClient(t)
	d.MustExec(`INSERT INTO sessions (token, data, expiry) VALUES ('idle', '', now() + interval '11 hours'), ('used', '', now() + interval '11 hours')`)
	d.MustExec(`INSERT INTO user_sessions (token_hash, user_id, practice_id, created_at, last_seen) VALUES
		('idle', 1, 1, now() - interval '1 hour', now() - interval '31 minutes'),
		('used', 1, 1, now() - interval '1 hour', now() - interval '29 minutes')`)
	w := &Worker{DB: d, Sessions: &auth.Sessions{DB: d, IdleTimeout: 30 * time.Minute}}
	left := pruned(t, w, `SELECT token_hash FROM user_sessions UNION ALL SELECT token FROM sessions ORDER BY 1`)
	if len(left) != 2 || left[0] != "used" || left[1] != "used" {
		t.Errorf("index and store after prune: %v, want only the session used 29 minutes ago", left)
	}
}

// oneClient is a fresh database with practice 1 and its client, user 1.
func oneClient(t *testing.T) *sqlx.DB {
	t.Helper()
	d, _ := dbtest.New(t)
	d.MustExec(`INSERT INTO practices (id, name, slug) VALUES (1, 'P', 'p.example')`)
	d.MustExec(`INSERT INTO users (id, practice_id, role, email, name) VALUES (1, 1, 'client', 'c@p.example', 'C')`)
	return d
}
