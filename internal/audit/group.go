package audit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/lib/pq"
)

// writeGroup writes the entries that concurrent requests record on the
// pool (reads of clients' records, refusals) together: while one INSERT
// is being committed, the entries recorded meanwhile wait and then go in
// one INSERT of them all. Each Record still returns only once its own
// entry is committed, so a page is never sent before its read is in the
// log; a lone request is written at once, without waiting for company.
// Under load this turns one commit (and WAL flush) per page into one per
// batch: a kept client page is two statements, and its audit entry was
// the dearer (issue 18).
type writeGroup struct {
	mu      sync.Mutex
	queue   []*pendingWrite
	writing bool // a goroutine is draining queue
}

// row is one audit_log row to insert; zero ids are NULL.
type row struct {
	practice, user   int64
	role, action     string
	objectType       string
	objectID, client int64
	outcome, ip      string
}

type pendingWrite struct {
	rows []row
	done chan error
}

// groupTimeout bounds one batch's INSERT: a request waiting on it has its
// own context too.
const groupTimeout = 10 * time.Second

// maxGroupRows bounds one INSERT; the rest wait for the next.
const maxGroupRows = 2000

// write appends rows and returns once they are committed (or failed), or
// when ctx ends first (the rows may still be written).
func (g *writeGroup) write(ctx context.Context, l *Log, rows []row) error {
	p := &pendingWrite{rows: rows, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if !g.writing {
		g.writing = true
		go g.drain(l)
	}
	g.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain writes what is queued, batch after batch, until nothing is.
func (g *writeGroup) drain(l *Log) {
	for {
		g.mu.Lock()
		var batch []*pendingWrite
		n := 0
		for len(g.queue) > 0 && (n == 0 || n+len(g.queue[0].rows) <= maxGroupRows) {
			n += len(g.queue[0].rows)
			batch = append(batch, g.queue[0])
			g.queue = g.queue[1:]
		}
		if len(batch) == 0 {
			g.writing = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		err := l.insert(batch)
		if err != nil && len(batch) > 1 {
			// One entry's failure must not fail the others: each alone.
			for _, p := range batch {
				p.done <- l.insert([]*pendingWrite{p})
			}
			continue
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// insert writes the batch's rows in one statement, in order.
func (l *Log) insert(batch []*pendingWrite) error {
	var practice, user, objectID, client []int64
	var role, action, objectType, outcome, ip []string
	for _, p := range batch {
		for _, r := range p.rows {
			practice, user, objectID, client = append(practice, r.practice), append(user, r.user), append(objectID, r.objectID), append(client, r.client)
			role, action, objectType = append(role, r.role), append(action, r.action), append(objectType, r.objectType)
			outcome, ip = append(outcome, r.outcome), append(ip, r.ip)
		}
	}
	if len(practice) == 0 {
		return errors.New("audit: an empty write")
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	_, err := l.stmts.Exec(ctx, l.DB, `
		INSERT INTO audit_log (practice_id, user_id, role, action, object_type, object_id, client_id, outcome, ip)
		SELECT nullif(p, 0), nullif(u, 0), r, a, t, nullif(o, 0), nullif(c, 0), oc, ip
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[])
			WITH ORDINALITY AS x(p, u, r, a, t, o, c, oc, ip, n)
		ORDER BY n`,
		pq.Array(practice), pq.Array(user), pq.Array(role), pq.Array(action), pq.Array(objectType),
		pq.Array(objectID), pq.Array(client), pq.Array(outcome), pq.Array(ip))
	return err
}
