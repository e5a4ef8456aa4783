package mail

import (
	"context"
	"sync"
)

// group runs one statement for many concurrent callers (group commit):
// while a statement runs, the callers that arrive wait, and the next
// statement takes them all. Nobody waits for a timer: a lone caller's
// statement runs at once, and under load each statement serves dozens of
// messages, which is what makes a burst of reminders cheap on PostgreSQL.
type group[R any] struct {
	max int
	run func(ctx context.Context, ids []int64) (map[int64]R, error)

	mu      sync.Mutex
	pending []groupReq[R]
	running bool
}

type groupReq[R any] struct {
	ctx   context.Context
	id    int64
	reply chan groupResp[R]
}

type groupResp[R any] struct {
	val R
	ok  bool
	err error
}

// do adds id to the next statement and returns its result; ok is false
// when the statement did not return the id (e.g. the row was not claimable)
// or when the same id was asked for twice in one statement, in which case
// only the first caller gets it.
func (g *group[R]) do(ctx context.Context, id int64) (R, bool, error) {
	req := groupReq[R]{ctx: ctx, id: id, reply: make(chan groupResp[R], 1)}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		go g.flush()
	}
	r := <-req.reply
	return r.val, r.ok, r.err
}

// flush runs statements until nobody waits, on a goroutine of its own
// (started by the caller that found none running), so no caller is kept
// serving the others.
func (g *group[R]) flush() {
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		n := min(len(g.pending), g.max)
		batch := append([]groupReq[R](nil), g.pending[:n]...)
		g.pending = g.pending[n:]
		g.mu.Unlock()

		ids := make([]int64, 0, len(batch))
		for _, r := range batch {
			ids = append(ids, r.id)
		}
		// The statement must not die with one caller's context: it serves
		// them all.
		res, err := g.run(context.WithoutCancel(batch[0].ctx), ids)
		given := make(map[int64]bool, len(batch))
		for _, r := range batch {
			v, ok := res[r.id]
			if ok && given[r.id] {
				ok = false
			}
			given[r.id] = given[r.id] || ok
			r.reply <- groupResp[R]{val: v, ok: ok, err: err}
		}
	}
}
