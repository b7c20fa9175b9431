package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A daemon stopping ends a wait for unpublished files at once instead of at
// the deadline; the job's own context still ends it too.
func TestSleepUntilStops(t *testing.T) {
	stop, cancel := context.WithCancel(context.Background())
	sleep := sleepUntil(stop)
	done := make(chan error, 1)
	go func() { done <- sleep(context.Background(), time.Hour) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("sleep after stop: %v", err)
	}
	ctx, cancelJob := context.WithCancel(context.Background())
	cancelJob()
	if err := sleepUntil(context.Background())(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep after the job's cancel: %v", err)
	}
	if err := sleepUntil(context.Background())(context.Background(), time.Millisecond); err != nil {
		t.Errorf("a short sleep: %v", err)
	}
}
