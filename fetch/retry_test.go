package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// script is a Source whose Get returns, per name, the next of a list of
// errors (nil: the file), then the last one forever.
type script struct {
	errs  map[string][]error
	calls []string
}

func (s *script) Get(ctx context.Context, name string) (Fetched, error) {
	s.calls = append(s.calls, name)
	errs := s.errs[name]
	if len(errs) == 0 {
		return Fetched{Name: name}, nil
	}
	err := errs[0]
	if len(errs) > 1 {
		s.errs[name] = errs[1:]
	}
	if err != nil {
		return Fetched{}, fmt.Errorf("test source: %s: %w", name, err)
	}
	return Fetched{Name: name}, nil
}

func (s *script) List(context.Context) ([]string, error) { return nil, nil }
func (s *script) Close() error                           { return nil }

func TestRetryGet(t *testing.T) {
	transient := errors.New("connection reset by peer")
	start := time.Date(2026, 11, 26, 0, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		errs     []error
		deadline time.Duration // from start; 0: a zero Deadline
		initial  time.Duration
		wantErr  []error // errors.Is targets; nil: success
		sleeps   []time.Duration
	}{
		{name: "first try", errs: nil, deadline: time.Hour},
		{name: "defaults double to 10 min", errs: []error{ErrNotPublished, ErrNotPublished, ErrNotPublished, ErrNotPublished, ErrNotPublished, ErrNotPublished, ErrNotPublished, nil}, deadline: 2 * time.Hour,
			sleeps: []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}},
		{name: "transient then ok", errs: []error{transient, nil}, deadline: time.Hour, initial: time.Second, sleeps: []time.Duration{time.Second}},
		{name: "transient until deadline", errs: []error{transient}, deadline: 3 * time.Second, initial: time.Second,
			wantErr: []error{ErrDeadline, transient}, sleeps: []time.Duration{time.Second, 2 * time.Second}},
		{name: "zero deadline: one attempt", errs: []error{ErrNotPublished}, wantErr: []error{ErrDeadline, ErrNotPublished}},
		{name: "permanent stops", errs: []error{ErrNotPublished, ErrAuth}, deadline: time.Hour, initial: time.Second,
			wantErr: []error{ErrAuth}, sleeps: []time.Duration{time.Second}},
		{name: "permission denied stops", errs: []error{fs.ErrPermission}, deadline: time.Hour, wantErr: []error{fs.ErrPermission}},
		{name: "bad key file stops", errs: []error{errPermanent}, deadline: time.Hour, wantErr: []error{errPermanent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &script{errs: map[string][]error{daily: tc.errs}}
			clock := &fakeClock{now: start}
			r := Retry{Initial: tc.initial, Now: clock.Now, Sleep: clock.Sleep}
			if tc.deadline > 0 {
				r.Deadline = start.Add(tc.deadline)
			}
			got, err := r.Get(context.Background(), src, daily)
			if tc.wantErr == nil {
				if err != nil || got.Name != daily {
					t.Fatalf("Get = %+v, %v", got, err)
				}
			}
			for _, target := range tc.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("error %v is not %v", err, target)
				}
			}
			if err != nil && !strings.Contains(err.Error(), daily) {
				t.Errorf("error %q does not name the file", err)
			}
			if !slices.Equal(clock.sleeps, tc.sleeps) {
				t.Errorf("waits %v, want %v", clock.sleeps, tc.sleeps)
			}
		})
	}
}

func TestRetryCancelledWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &script{errs: map[string][]error{daily: {ErrNotPublished}}}
	clock := &fakeClock{now: time.Unix(0, 0), hook: func(int) { cancel() }}
	r := Retry{Deadline: clock.now.Add(time.Hour), Now: clock.Now, Sleep: clock.Sleep}
	_, err := r.Get(ctx, src, daily)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrDeadline) || len(src.calls) != 1 {
		t.Errorf("Get = %v after %d attempts, want context.Canceled after 1", err, len(src.calls))
	}
}

func TestRetryRealSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v", err)
	}
}

func TestRetryGetAll(t *testing.T) {
	sum := "JYMXSUM_201912110000123456_20261125.txt"
	tests := []struct {
		name    string
		errs    map[string][]error
		want    []string // fetched
		missing []string // named in the ErrDeadline error
		stop    error
	}{
		{name: "all", want: []string{daily, sum, payouts}},
		{name: "two missing", errs: map[string][]error{sum: {ErrNotPublished}, payouts: {ErrNotPublished}},
			want: []string{daily}, missing: []string{sum, payouts}},
		{name: "host key stops", errs: map[string][]error{daily: {ErrHostKey}}, stop: ErrHostKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &script{errs: tc.errs}
			if src.errs == nil {
				src.errs = map[string][]error{}
			}
			clock := &fakeClock{now: time.Unix(0, 0)}
			r := Retry{Deadline: clock.now.Add(time.Minute), Initial: 20 * time.Second, Now: clock.Now, Sleep: clock.Sleep}
			got, err := r.GetAll(context.Background(), src, []string{daily, sum, payouts})
			var names []string
			for _, f := range got {
				names = append(names, f.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("fetched %q, want %q", names, tc.want)
			}
			switch {
			case tc.stop != nil:
				if !errors.Is(err, tc.stop) || len(src.calls) != 1 {
					t.Errorf("error %v after %d calls, want %v after 1", err, len(src.calls), tc.stop)
				}
			case tc.missing != nil:
				if !errors.Is(err, ErrDeadline) || !errors.Is(err, ErrNotPublished) {
					t.Errorf("error %v, want ErrDeadline wrapping ErrNotPublished", err)
				}
				for _, name := range tc.missing {
					if err == nil || !strings.Contains(err.Error(), name) {
						t.Errorf("error %v does not name %s", err, name)
					}
				}
			case err != nil:
				t.Errorf("GetAll: %v", err)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("x: %w", ErrHostKey), true},
		{fmt.Errorf("x: %w", ErrAuth), true},
		{fmt.Errorf("x: %w", ErrRefusedName), true},
		{&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, true},
		{fmt.Errorf("x: %w", ErrNotPublished), false},
		{fmt.Errorf("x: %w", io.EOF), false},
		{fmt.Errorf("x: %w", io.ErrUnexpectedEOF), false},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
	} {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
