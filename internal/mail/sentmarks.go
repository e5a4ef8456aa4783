package mail

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultSentLinger is how long a sent message may wait before its row is
// marked sent (see sentMarks).
const DefaultSentLinger = 25 * time.Millisecond

// sentMarks marks rows sent behind the workers: a worker whose message the
// SMTP server accepted hands the id over and takes its next task, and the
// ids gathered within linger are marked in one statement. One statement per
// message (or per handful, with group commit) was the largest part of
// PostgreSQL's work in a burst of reminders. The price is the crash window
// of Delivery: a worker killed within linger of a 250 leaves those rows in
// 'sending', and they are sent again when their lease runs out.
type sentMarks struct {
	run    func(ctx context.Context, ids []int64) error
	linger time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	pending []int64
	timer   *time.Timer // armed while ids wait

	writing sync.Mutex // one statement at a time, in order
}

// add queues id to be marked within linger.
func (s *sentMarks) add(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, id)
	s.arm(s.linger)
}

// arm starts the timer unless it runs; s.mu is held.
func (s *sentMarks) arm(after time.Duration) {
	if s.timer == nil {
		s.timer = time.AfterFunc(after, s.tick)
	}
}

func (s *sentMarks) tick() {
	s.mu.Lock()
	s.timer = nil
	s.mu.Unlock()
	// Bounded: a hung database must not hold the worker's stop (Close
	// waits for a running statement).
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.flush(ctx); err != nil {
		// Kept and tried again; rows whose lease runs out first are sent
		// again by the relay's sweep.
		s.log.Warn("could not mark sent emails; trying again", "err", err)
		s.mu.Lock()
		s.arm(time.Second)
		s.mu.Unlock()
	}
}

// flush marks every waiting id now.
func (s *sentMarks) flush(ctx context.Context) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	ids := s.pending
	s.pending = nil
	s.mu.Unlock()
	for len(ids) > 0 {
		n := min(len(ids), sentMax)
		if err := s.run(ctx, ids[:n]); err != nil {
			s.mu.Lock()
			s.pending = append(ids, s.pending...)
			s.mu.Unlock()
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// sentMax bounds one statement.
const sentMax = 1000
