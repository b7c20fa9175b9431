// Package runlock keeps two reconcile processes from running the same
// merchant at once — a cron run and a run by hand, or two daemons — which
// would race on the data folder and the store (SPEC §7: one run at a time
// per merchant).
//
// The lock is flock(2) on a file, so the kernel releases it when its holder
// dies, however it dies: a stale lock file never blocks the next run. The
// file itself stays; only the flock matters.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// ErrBusy means another process (or another Lock in this one) holds the
// lock for the key.
var ErrBusy = errors.New("another reconcile run holds the lock")

// Lock is a held lock. Release it when the run ends.
type Lock struct {
	f    *os.File
	path string
}

var safeKey = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Acquire takes the exclusive lock for key (a merchant ID) in dir, without
// waiting: the lock file is dir/.reconcile-KEY.lock. If someone holds it,
// the error wraps ErrBusy and says which key, which file and the PID the
// holder wrote into it. The holder's PID is written into the file for that
// message and for an operator looking at it.
//
// Two Acquires of one key in one process also conflict: each opens its own
// file description, and flock locks belong to the open file description.
func Acquire(dir, key string) (*Lock, error) {
	if !safeKey.MatchString(key) || key == "." || key == ".." {
		return nil, fmt.Errorf("lock %q: key must be letters, digits, '.', '_' or '-'", key)
	}
	path := filepath.Join(dir, ".reconcile-"+key+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock merchant %s: %w", key, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := holderPID(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("merchant %s: %w (lock file %s, held by pid %s)", key, ErrBusy, path, holder)
		}
		return nil, fmt.Errorf("lock merchant %s: flock %s: %w", key, path, err)
	}
	// We hold the lock: record our PID for the next one who finds it busy.
	// The PID is only informative, so failing to write it is no failure.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// flock retries on EINTR, which a signal (SIGTERM to the daemon) can cause.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// holderPID reads the PID the holder wrote, or "unknown".
func holderPID(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

// Release unlocks and closes the lock file. Calling it again returns an
// error and does nothing else.
func (l *Lock) Release() error {
	if l.f == nil {
		return errors.New("runlock: release of a lock not held")
	}
	f := l.f
	l.f = nil
	uerr := flock(f, syscall.LOCK_UN)
	cerr := f.Close()
	if uerr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, uerr)
	}
	if cerr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, cerr)
	}
	return nil
}
