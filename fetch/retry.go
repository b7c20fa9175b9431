package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// ErrDeadline means a file was still not fetched when the retry deadline
// came (SPEC §5: exit code 3). The error also wraps the last failure.
var ErrDeadline = errors.New("deadline passed")

// Defaults for Retry's zero values.
const (
	DefaultRetryInitial = 30 * time.Second
	DefaultRetryMax     = 10 * time.Minute
)

// Retry fetches with exponential back-off until Deadline (SPEC §2.1, §7:
// daily files are published some time in the morning). Transient failures
// and ErrNotPublished are retried; permanent ones (IsPermanent) and a
// cancelled context stop at once. A zero Deadline means a single attempt.
type Retry struct {
	Deadline     time.Time
	Initial, Max time.Duration // first wait and its cap; 0 means DefaultRetryInitial, DefaultRetryMax
	// Now and Sleep are the clock, injected so tests do not wait. Sleep
	// returns early with ctx's error when ctx ends. Nil means the real ones.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger // nil: no logs
}

// Get gets name from src, retrying until r.Deadline. The last attempt is
// made at the deadline; if it fails too, the error wraps ErrDeadline and
// the last error, and names the file.
func (r Retry) Get(ctx context.Context, src Source, name string) (Fetched, error) {
	got, _, err := r.get(ctx, src, name)
	return got, err
}

// get is Get that also returns the last attempt's own error.
func (r Retry) get(ctx context.Context, src Source, name string) (Fetched, error, error) {
	now, sleep, log := r.Now, r.Sleep, r.Logger
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = Sleep
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delay, ceiling := r.Initial, r.Max
	if delay <= 0 {
		delay = DefaultRetryInitial
	}
	if ceiling <= 0 {
		ceiling = DefaultRetryMax
	}
	ceiling = max(ceiling, delay)
	for attempt := 1; ; attempt++ {
		got, err := src.Get(ctx, name)
		if err == nil {
			return got, nil, nil
		}
		if IsPermanent(err) || ctx.Err() != nil {
			return Fetched{}, err, err
		}
		left := r.Deadline.Sub(now())
		if left <= 0 {
			return Fetched{}, err, fmt.Errorf("%s: %w (%s) after %d attempts, last error: %w",
				name, ErrDeadline, r.Deadline.Format(time.RFC3339), attempt, err)
		}
		wait := min(delay, left)
		log.Info("fetch will retry", "file", name, "attempt", attempt, "wait", wait, "error", err)
		if serr := sleep(ctx, wait); serr != nil {
			return Fetched{}, err, fmt.Errorf("%s: waiting to retry: %w, last error: %w", name, serr, err)
		}
		delay = min(delay*2, ceiling)
	}
}

// GetAll gets every name, each retried until the same deadline, and returns
// what it fetched in the order of names. It stops at a permanent error; at
// the deadline the error wraps ErrDeadline and names every missing file.
func (r Retry) GetAll(ctx context.Context, src Source, names []string) ([]Fetched, error) {
	var (
		got     []Fetched
		missing []string
		last    error
	)
	for _, name := range names {
		f, lastErr, err := r.get(ctx, src, name)
		switch {
		case err == nil:
			got = append(got, f)
		case errors.Is(err, ErrDeadline):
			missing, last = append(missing, name), lastErr
		default:
			return got, err
		}
	}
	if len(missing) > 0 {
		return got, fmt.Errorf("%w (%s), missing %s, last error: %w",
			ErrDeadline, r.Deadline.Format(time.RFC3339), strings.Join(missing, ", "), last)
	}
	return got, nil
}

// Sleep waits d or until ctx ends, whichever is first; it is Retry's
// default Sleep, and returns ctx's error when cut short.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
