package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

// holdWriteLock opens a second store on the same file and holds its write
// lock until release is called, as another merchant's run would; released
// turns true as release begins.
func holdWriteLock(t *testing.T, path string) (release func(), released *atomic.Bool) {
	t.Helper()
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released = new(atomic.Bool)
	return func() {
		released.Store(true)
		conn.ExecContext(context.Background(), "COMMIT")
		conn.Close()
		other.Close()
	}, released
}

// lockTimes shortens SQLite's busy time-out and the whole wait for the
// test, and restores them after.
func lockTimes(t *testing.T, busy, whole time.Duration) {
	t.Helper()
	oldBusy, oldWhole, oldPause := busyTimeout, writeLockWait, retryPause
	busyTimeout, writeLockWait, retryPause = busy, whole, 10*time.Millisecond
	t.Cleanup(func() { busyTimeout, writeLockWait, retryPause = oldBusy, oldWhole, oldPause })
}

var lockEntry = []recon.Entry{{Kind: recon.KindPayment, NoOrder: "L1", DtOrder: "20240101101112", Amount: 1, Status: recon.StatusSuccess}}

// TestWriterWaitsForAnotherWriter: a write kept out by another writer for
// longer than the busy time-out waits and succeeds, as do a run's result
// and the history indexes.
func TestWriterWaitsForAnotherWriter(t *testing.T) {
	lockTimes(t, 20*time.Millisecond, time.Minute)
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, write := range []struct {
		name string
		do   func() error
	}{
		{"UpsertLedger", func() error { _, err := s.UpsertLedger(ctx, lockEntry); return err }},
		{"SaveRun", func() error {
			return s.SaveRun(ctx, &recon.Result{Merchant: merchant, Period: "20240101"}, "digest")
		}},
	} {
		release, released := holdWriteLock(t, path)
		time.AfterFunc(300*time.Millisecond, release)
		if err := write.do(); err != nil {
			t.Fatalf("%s while another writer held the lock for 300 ms: %v", write.name, err)
		}
		if !released.Load() {
			t.Errorf("%s returned before the other writer let go of the lock", write.name)
		}
	}
}

// TestWriterGivesUp: a writer stops waiting when its context is done, and
// after writeLockWait, saying why.
func TestWriterGivesUp(t *testing.T) {
	lockTimes(t, 20*time.Millisecond, 300*time.Millisecond)
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release, _ := holdWriteLock(t, path)
	defer release()

	_, err = s.UpsertLedger(context.Background(), lockEntry)
	if !isBusy(err) || !strings.Contains(err.Error(), "another writer has held the database") {
		t.Errorf("after writeLockWait: err = %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	writeLockWait = time.Minute
	start := time.Now()
	_, err = s.UpsertLedger(ctx, lockEntry)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with a context that ends: err = %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("stopped %s after its context ended", waited)
	}
}
