package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite lets one writer in at a time, and a waiting writer gives up after
// the busy time-out (5 s). One million-row file takes longer than that to
// store, and the first run with history builds the history indexes: a
// daemon reconciling several merchants into one store would see the
// others' runs fail with "database is locked". So a writer that is kept
// out tries again, until the lock is free, its context is done (SIGTERM),
// or writeLockWait has passed, which only a writer that hangs explains.

// writeLockWait is how long in all a writer waits for the write lock (a
// variable for the tests).
var writeLockWait = 30 * time.Minute

// retryPause is the pause between two attempts, each of which waits the
// busy time-out first (a variable for the tests).
var retryPause = 100 * time.Millisecond

// withWriteLock calls begin, which takes the write lock, until it does
// not fail for another writer holding it.
func withWriteLock(ctx context.Context, begin func() error) error {
	deadline := time.Now().Add(writeLockWait)
	for {
		err := begin()
		if !isBusy(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another writer has held the database for over %s: %w", writeLockWait, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for another writer: %w", ctx.Err())
		case <-time.After(retryPause):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked": another
// connection holds the write lock.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}
