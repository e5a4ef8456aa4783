package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// IsTransient reports whether err is a database failure that a second try
// may not meet: the connection was lost or refused (PostgreSQL restarting,
// an administrator ending the session), or PostgreSQL rolled the
// transaction back to resolve a conflict (serialization failure,
// deadlock). Whatever the statement did was not committed.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code.Class() == "08": // connection exception
			return true
		case pqErr.Code == "40001", pqErr.Code == "40P01": // serialization failure, deadlock
			return true
		case pqErr.Code == "57P01", pqErr.Code == "57P02", pqErr.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pqErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) ||
		isNetError(err)
}

func isNetError(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne)
}

// isRollback reports whether a failed COMMIT certainly rolled back (so the
// transaction may run again): PostgreSQL said so. A connection lost during
// COMMIT leaves the outcome unknown, and running again could store twice.
func isRollback(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40001" || pqErr.Code == "40P01")
}

// Retry runs fn and, when it fails with a transient error (IsTransient),
// once more after RetryPause: for reads and for writes that are safe to
// repeat.
func Retry(ctx context.Context, fn func() error) error {
	err := fn()
	if IsTransient(err) && pause(ctx) {
		err = fn()
	}
	return err
}

// RetryPause is the wait before the one retry of a transient failure:
// long enough for a PostgreSQL restart of a fraction of a second, short
// enough for a person waiting on a form.
const RetryPause = 500 * time.Millisecond

// pause waits RetryPause; false when ctx ended first.
func pause(ctx context.Context) bool {
	t := time.NewTimer(RetryPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
