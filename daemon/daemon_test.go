package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/lianlian-recon/reconcile/config"
)

const (
	mA = "201403251000001147"
	mB = "201508131000004521"
)

// at is a Shanghai wall-clock time, "2006-01-02 15:04".
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, config.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJobsAt(t *testing.T) {
	tests := []struct {
		fire    time.Time
		monthly bool
		want    string
	}{
		{time.Date(2026, 3, 1, 8, 30, 0, 0, config.Shanghai), false, "20260228"},
		{time.Date(2026, 3, 1, 8, 30, 0, 0, config.Shanghai), true, "202602"},
		{time.Date(2024, 3, 1, 8, 30, 0, 0, config.Shanghai), false, "20240229"},
		{time.Date(2026, 1, 1, 8, 30, 0, 0, config.Shanghai), false, "20251231"},
		{time.Date(2026, 1, 1, 8, 30, 0, 0, config.Shanghai), true, "202512"},
		{time.Date(2026, 3, 31, 8, 30, 0, 0, config.Shanghai), true, "202602"},
		// 2026-02-28 23:00 UTC is March 1st 07:00 in Shanghai.
		{time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), false, "20260228"},
		{time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), true, "202602"},
	}
	for _, tt := range tests {
		got := JobsAt(tt.fire, tt.monthly, []string{mA, mB})
		want := []Job{{mA, tt.want}, {mB, tt.want}}
		if !slices.Equal(got, want) {
			t.Errorf("JobsAt(%v, monthly=%v) = %v, want %v", tt.fire, tt.monthly, got, want)
		}
	}
}

func TestDueAtStart(t *testing.T) {
	type success struct {
		merchant, period string
	}
	tests := []struct {
		name    string
		now     string
		catchUp int
		daily   string // "" = default 08:30
		done    []success
		want    []Job
	}{
		{"before 08:30 the latest date is X-2", "2026-03-10 08:29", 1, "", []success{{mA, "202602"}},
			[]Job{{mA, "20260308"}}},
		{"at 08:30 it is X-1", "2026-03-10 08:30", 1, "", []success{{mA, "202602"}},
			[]Job{{mA, "20260309"}}},
		{"late evening it is X-1", "2026-03-10 23:59", 1, "", []success{{mA, "202602"}},
			[]Job{{mA, "20260309"}}},
		{"just after midnight it is X-2", "2026-03-11 00:01", 1, "", []success{{mA, "202602"}},
			[]Job{{mA, "20260309"}}},
		{"up to date: nothing", "2026-03-10 09:00", 7, "", []success{{mA, "20260309"}, {mA, "202602"}},
			nil},
		{"before the fire, yesterday's run is not due yet", "2026-03-10 08:00", 7, "", []success{{mA, "20260308"}, {mA, "202602"}},
			nil},
		{"three days down: three jobs in order", "2026-03-10 09:00", 7, "", []success{{mA, "20260306"}, {mA, "202602"}},
			[]Job{{mA, "20260307"}, {mA, "20260308"}, {mA, "20260309"}}},
		{"bounded by catch_up_days", "2026-03-10 09:00", 3, "", []success{{mA, "20260201"}, {mA, "202602"}},
			[]Job{{mA, "20260307"}, {mA, "20260308"}, {mA, "20260309"}}},
		{"no success yet: catch_up_days dates", "2026-03-10 09:00", 2, "", []success{{mA, "202602"}},
			[]Job{{mA, "20260308"}, {mA, "20260309"}}},
		{"catch-up off", "2026-03-10 09:00", 0, "", nil, nil},
		{"monthly not before 08:30 on the 1st", "2026-03-01 08:29", 1, "", []success{{mA, "20260227"}, {mA, "202601"}},
			nil},
		{"monthly on the 1st after 08:30", "2026-03-01 08:30", 1, "", []success{{mA, "20260228"}, {mA, "202601"}},
			[]Job{{mA, "202602"}}},
		{"monthly missed, caught up mid-month", "2026-03-15 10:00", 1, "", []success{{mA, "20260314"}, {mA, "202601"}},
			[]Job{{mA, "202602"}}},
		{"monthly done", "2026-03-15 10:00", 1, "", []success{{mA, "20260314"}, {mA, "202602"}}, nil},
		{"daily then monthly, per merchant", "2026-03-01 09:00", 2, "", []success{{mA, "20260227"}, {mA, "202601"}, {mB, "20260228"}},
			[]Job{{mA, "20260228"}, {mA, "202602"}, {mB, "202602"}}},
		{"another daily time: 10:00", "2026-03-10 09:00", 1, "0 10 * * *", []success{{mA, "202602"}},
			[]Job{{mA, "20260308"}}},
		{"weekdays only: Monday 08:00 latest fire was Friday", "2026-03-09 08:00", 1, "30 8 * * 1-5", []success{{mA, "202602"}},
			[]Job{{mA, "20260305"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &MemoryState{}
			for _, s := range tt.done {
				st.RecordSuccess(context.Background(), s.merchant, s.period)
			}
			merchants := []string{mA}
			if slices.ContainsFunc(tt.done, func(s success) bool { return s.merchant == mB }) {
				merchants = append(merchants, mB)
			}
			now := at(t, tt.now)
			d := &Daemon{Merchants: merchants, Daily: tt.daily, CatchUpDays: tt.catchUp, State: st,
				Now: func() time.Time { return now.UTC() }} // the clock's zone must not matter
			got, err := d.DueAtStart(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("DueAtStart at %s = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

type failingState struct{ MemoryState }

func (*failingState) LastSuccess(context.Context, string, bool) (string, bool, error) {
	return "", false, errors.New("disk on fire")
}

func TestDueAtStartErrors(t *testing.T) {
	d := &Daemon{Merchants: []string{mA}, CatchUpDays: 1, State: &failingState{}}
	if _, err := d.DueAtStart(context.Background()); err == nil || !contains(err.Error(), mA, "disk on fire") {
		t.Errorf("err = %v, want the state error naming the merchant", err)
	}
	d = &Daemon{Merchants: []string{mA}, Daily: "30 8 * *", CatchUpDays: 1, State: &MemoryState{}, Run: func(context.Context, Job) error { return nil }}
	if err := d.Serve(context.Background()); err == nil || !contains(err.Error(), "daily schedule") {
		t.Errorf("Serve with a bad spec: err = %v", err)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// blockingRunner is a Runner that announces each job on started and runs
// until the test sends on its merchant's release, then announces its end on
// ended; it counts jobs in flight per merchant.
type blockingRunner struct {
	started  chan Job
	release  map[string]chan struct{}
	ended    chan Job
	mu       sync.Mutex
	inFlight map[string]*atomic.Int32
	overlap  atomic.Bool // two jobs of one merchant ran at once
	ran      []Job
	ctxErr   []error // ctx.Err() when each job ended
	finished atomic.Int32
}

func newBlockingRunner(merchants ...string) *blockingRunner {
	r := &blockingRunner{started: make(chan Job), release: map[string]chan struct{}{}, ended: make(chan Job, 16),
		inFlight: map[string]*atomic.Int32{}}
	for _, m := range merchants {
		r.inFlight[m] = &atomic.Int32{}
		r.release[m] = make(chan struct{})
	}
	return r
}

func (r *blockingRunner) Run(ctx context.Context, j Job) error {
	if r.inFlight[j.Merchant].Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.inFlight[j.Merchant].Add(-1)
	r.started <- j
	<-r.release[j.Merchant]
	r.mu.Lock()
	r.ran = append(r.ran, j)
	r.ctxErr = append(r.ctxErr, ctx.Err())
	r.mu.Unlock()
	r.finished.Add(1)
	r.ended <- j
	return nil
}

// recordingHandler is a slog handler that keeps every message as
// "message k=v …" and passes the message to a hook. Handlers made by
// WithAttrs share the record of their parent.
type recordingHandler struct {
	*logRecord
	attrs string
}

type logRecord struct {
	mu   sync.Mutex
	msgs []string
	hook func(msg string)
}

func newRecordingHandler(hook func(string)) *recordingHandler {
	return &recordingHandler{logRecord: &logRecord{hook: hook}}
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &recordingHandler{logRecord: h.logRecord, attrs: h.attrs}
	for _, a := range as {
		n.attrs += " " + a.String()
	}
	return n
}

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Message + h.attrs
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	h.mu.Lock()
	h.msgs = append(h.msgs, line)
	h.mu.Unlock()
	if h.hook != nil {
		h.hook(r.Message)
	}
	return nil
}

func (h *recordingHandler) has(sub string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.msgs, func(m string) bool { return strings.Contains(m, sub) })
}

func TestNoDoubleRunPerMerchant(t *testing.T) {
	now := at(t, "2026-03-10 09:00")
	r := newBlockingRunner(mA, mB)
	st := &MemoryState{}
	st.RecordSuccess(context.Background(), mA, "202602")
	st.RecordSuccess(context.Background(), mB, "202602")
	h := newRecordingHandler(nil)
	d := &Daemon{Merchants: []string{mA, mB}, CatchUpDays: 1, Run: r.Run, State: st,
		Now: func() time.Time { return now }, Logger: slog.New(h)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- d.Serve(ctx) }()

	// Catch-up starts 20260309 for both merchants: they run side by side.
	got := []Job{<-r.started, <-r.started}
	slices.SortFunc(got, func(a, b Job) int { return cmpString(a.String(), b.String()) })
	if want := []Job{{mA, "20260309"}, {mB, "20260309"}}; !slices.Equal(got, want) {
		t.Fatalf("catch-up started %v, want %v", got, want)
	}

	// While both run: the daily schedule fires twice at once (the same
	// jobs, already running) and A gets two requests for another date.
	daily, _ := cron.ParseStandard(config.DefaultDaily)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { d.fire(daily, false) })
	}
	wg.Wait()
	queued := []bool{d.enqueue(Job{mA, "20260308"}, "test"), d.enqueue(Job{mA, "20260308"}, "test")}
	if !slices.Equal(queued, []bool{true, false}) {
		t.Errorf("enqueue of one job twice while busy = %v, want [true false]", queued)
	}

	// Finish A's first job: its queued one starts next, B still running.
	r.release[mA] <- struct{}{}
	if j := <-r.started; j != (Job{mA, "20260308"}) {
		t.Fatalf("next started %v, want A's queued 20260308", j)
	}
	r.release[mA] <- struct{}{}
	r.release[mB] <- struct{}{}
	for range 3 { // all three ran to the end before we stop
		<-r.ended
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if r.overlap.Load() {
		t.Error("two jobs of one merchant ran at the same time")
	}
	if !h.has("job already queued or running: skipped merchant=" + mA + " period=20260309") {
		t.Errorf("the skipped fire is not logged: %q", h.msgs)
	}
	counts := map[Job]int{}
	for _, j := range r.ran {
		counts[j]++
	}
	want := map[Job]int{{mA, "20260309"}: 1, {mB, "20260309"}: 1, {mA, "20260308"}: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("runs = %v, want %v", counts, want)
	}
	if p, _, _ := st.LastSuccess(context.Background(), mA, false); p != "20260309" {
		t.Errorf("A's last success = %s, want 20260309 (an older success does not move it back)", p)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestServeWaitsForRunningJobOnCancel(t *testing.T) {
	now := at(t, "2026-03-10 09:00")
	r := newBlockingRunner(mA)
	st := &MemoryState{}
	st.RecordSuccess(context.Background(), mA, "202602")
	stopping := make(chan struct{})
	h := newRecordingHandler(func(msg string) {
		if msg == "daemon stopping: waiting for the running jobs" {
			close(stopping)
		}
	})
	d := &Daemon{Merchants: []string{mA}, CatchUpDays: 2, Run: r.Run, State: st,
		Now: func() time.Time { return now }, Logger: slog.New(h)}
	ctx, cancel := context.WithCancel(context.Background())
	var finishedAtReturn int32
	served := make(chan error)
	go func() {
		err := d.Serve(ctx)
		finishedAtReturn = r.finished.Load()
		served <- err
	}()

	if j := <-r.started; j != (Job{mA, "20260308"}) {
		t.Fatalf("started %v, want 20260308 first", j)
	}
	cancel()
	<-stopping // Serve saw the cancel and is shutting down
	select {
	case <-served:
		t.Fatal("Serve returned while its job was still running")
	default:
	}
	r.release[mA] <- struct{}{}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if finishedAtReturn != 1 {
		t.Errorf("Serve returned with %d jobs finished, want 1 (the running one)", finishedAtReturn)
	}
	if len(r.ctxErr) != 1 || r.ctxErr[0] != nil {
		t.Errorf("the running job's context was cancelled by the stop: %v", r.ctxErr)
	}
	if p, _, _ := st.LastSuccess(context.Background(), mA, false); p != "20260308" {
		t.Errorf("last success = %q, want the finished job's 20260308", p)
	}
	if !h.has("queued job not run merchant=" + mA + " period=20260309") {
		t.Errorf("the dropped queued job is not logged: %q", h.msgs)
	}
	if !h.has("job succeeded merchant=" + mA + " period=20260308 duration=") {
		t.Errorf("no success log with duration: %q", h.msgs)
	}
}

func TestFailedJobIsNotRecorded(t *testing.T) {
	now := at(t, "2026-03-10 09:00")
	var ran []Job
	var mu sync.Mutex
	done := make(chan struct{})
	run := func(_ context.Context, j Job) error {
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, j)
		switch j.Period {
		case "20260308":
			panic("boom")
		case "20260309":
			return errors.New("files not published")
		case "202602":
			close(done)
		}
		return nil
	}
	st := &MemoryState{}
	h := newRecordingHandler(nil)
	d := &Daemon{Merchants: []string{mA}, CatchUpDays: 3, Run: run, State: st,
		Now: func() time.Time { return now }, Logger: slog.New(h)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- d.Serve(ctx) }()
	<-done // the last catch-up job (the month) started
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	want := []Job{{mA, "20260307"}, {mA, "20260308"}, {mA, "20260309"}, {mA, "202602"}}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v (a failure does not stop the queue)", ran, want)
	}
	if p, _, _ := st.LastSuccess(context.Background(), mA, false); p != "20260307" {
		t.Errorf("last daily success = %q, want 20260307 (failed ones not recorded)", p)
	}
	if p, _, _ := st.LastSuccess(context.Background(), mA, true); p != "202602" {
		t.Errorf("last monthly success = %q, want 202602", p)
	}
	for _, want := range []string{"run panicked: boom", "job failed merchant=" + mA + " period=20260309"} {
		if !h.has(want) {
			t.Errorf("log lacks %q: %q", want, h.msgs)
		}
	}
}
