// Package daemon runs reconciliations on a schedule (SPEC §7,
// `reconcile daemon`): daily for yesterday's settle date, monthly on the 1st
// for the previous month, in Asia/Shanghai; missed periods are caught up on
// start; one run at a time per merchant; a stop request lets the run in
// progress finish.
//
// It decides what to run and when, nothing else: the run itself is the
// Runner the caller hands in (the same Run as `reconcile run`), and where
// successes are remembered is the caller's State.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/lianlian-recon/reconcile/config"
)

// Job is one reconciliation to run: a merchant (oid_partner) and a period,
// "yyyymmdd" for a daily settle date or "yyyymm" for a month.
type Job struct {
	Merchant, Period string
}

// Monthly reports a monthly job.
func (j Job) Monthly() bool { return len(j.Period) == 6 }

func (j Job) String() string { return j.Merchant + "/" + j.Period }

// Runner runs one job. A nil error means success and is recorded in State;
// whether findings count as success is the caller's choice (a run with
// findings is a successful reconciliation, SPEC §5 exit 1).
//
// The context a Runner gets is not cancelled when the daemon is asked to
// stop (SIGTERM): a run either finishes or rolls back, never stops half way
// (SPEC §7). It carries the values of Serve's context.
type Runner func(ctx context.Context, job Job) error

// State remembers the last successful period per merchant and kind. Periods
// compare as strings ("20260301" < "20260302", "202602" < "202603").
type State interface {
	// LastSuccess is the latest period recorded for the merchant, monthly
	// ("yyyymm") or daily ("yyyymmdd"); ok is false when there is none.
	LastSuccess(ctx context.Context, merchant string, monthly bool) (period string, ok bool, err error)
	// RecordSuccess records a successful run; the kind follows from the
	// period's length.
	RecordSuccess(ctx context.Context, merchant, period string) error
}

// Daemon is the scheduler. Set the fields, then call Serve.
type Daemon struct {
	Merchants      []string
	Daily, Monthly string // 5-field cron specs in Asia/Shanghai; "" means the config defaults
	// CatchUpDays bounds the catch-up at start: at most this many daily
	// settle dates per merchant, the most recent ones. 0 turns catch-up off.
	CatchUpDays int
	Run         Runner
	State       State
	Now         func() time.Time // nil means time.Now
	Logger      *slog.Logger     // nil means no logging

	mu      sync.Mutex
	workers map[string]*worker
}

const (
	dayLayout   = "20060102"
	monthLayout = "200601"
)

// JobsAt returns the jobs a fire of the daily (or monthly) schedule at t
// triggers: the settle date before t's date, or the month before t's month,
// in Asia/Shanghai, for every merchant.
func JobsAt(t time.Time, monthly bool, merchants []string) []Job {
	p := periodOf(t, monthly)
	jobs := make([]Job, len(merchants))
	for i, m := range merchants {
		jobs[i] = Job{Merchant: m, Period: p}
	}
	return jobs
}

func periodOf(fire time.Time, monthly bool) string {
	y, m, d := fire.In(config.Shanghai).Date()
	if monthly {
		return time.Date(y, m-1, 1, 12, 0, 0, 0, config.Shanghai).Format(monthLayout)
	}
	return time.Date(y, m, d-1, 12, 0, 0, 0, config.Shanghai).Format(dayLayout)
}

// DueAtStart returns the jobs to catch up at start, in the order to run
// them: per merchant, its daily settle dates oldest first, then its month.
//
// The latest daily period is the one of the latest daily fire time at or
// before now: with the default 08:30, yesterday from 08:30 on, the day
// before yesterday until then — never a date whose files cannot exist yet
// (SPEC §2.1: files for D appear on D+1). Every settle date after the last
// success up to that one is due, but at most the CatchUpDays latest ones;
// with no success recorded, those CatchUpDays. The month is due when the
// latest monthly fire (08:30 on the 1st) is past and its month is not
// done; only that one month is caught up.
func (d *Daemon) DueAtStart(ctx context.Context) ([]Job, error) {
	daily, monthly, err := d.schedules()
	if err != nil {
		return nil, err
	}
	if d.CatchUpDays <= 0 {
		return nil, nil
	}
	now := d.now()
	var latestDay, latestMonth string
	if f, ok := prevFire(daily, now); ok {
		latestDay = periodOf(f, false)
	}
	if f, ok := prevFire(monthly, now); ok {
		latestMonth = periodOf(f, true)
	}
	var jobs []Job
	for _, m := range d.Merchants {
		if latestDay != "" {
			last, ok, err := d.State.LastSuccess(ctx, m, false)
			if err != nil {
				return nil, fmt.Errorf("catch-up for merchant %s: %w", m, err)
			}
			end, _ := time.ParseInLocation(dayLayout, latestDay, config.Shanghai)
			for i := d.CatchUpDays - 1; i >= 0; i-- {
				p := end.AddDate(0, 0, -i).Format(dayLayout)
				if !ok || p > last {
					jobs = append(jobs, Job{Merchant: m, Period: p})
				}
			}
		}
		if latestMonth != "" {
			last, ok, err := d.State.LastSuccess(ctx, m, true)
			if err != nil {
				return nil, fmt.Errorf("catch-up for merchant %s: %w", m, err)
			}
			if !ok || latestMonth > last {
				jobs = append(jobs, Job{Merchant: m, Period: latestMonth})
			}
		}
	}
	return jobs, nil
}

// prevFire is the latest time s fires at or before now. Schedules only look
// forward, so it walks forward from ever further back.
func prevFire(s cron.Schedule, now time.Time) (time.Time, bool) {
	now = now.In(config.Shanghai)
	for _, back := range []int{2, 8, 32, 367, 5 * 366} {
		var last time.Time
		for t := s.Next(now.AddDate(0, 0, -back)); !t.IsZero() && !t.After(now); t = s.Next(t) {
			last = t
		}
		if !last.IsZero() {
			return last, true
		}
	}
	return time.Time{}, false
}

// specs are the cron specs in force: the fields, or the defaults.
func (d *Daemon) specs() (daily, monthly string) {
	daily, monthly = d.Daily, d.Monthly
	if daily == "" {
		daily = config.DefaultDaily
	}
	if monthly == "" {
		monthly = config.DefaultMonthly
	}
	return daily, monthly
}

func (d *Daemon) schedules() (daily, monthly cron.Schedule, err error) {
	ds, ms := d.specs()
	if daily, err = cron.ParseStandard(ds); err != nil {
		return nil, nil, fmt.Errorf("daily schedule %q: %w", ds, err)
	}
	if monthly, err = cron.ParseStandard(ms); err != nil {
		return nil, nil, fmt.Errorf("monthly schedule %q: %w", ms, err)
	}
	return daily, monthly, nil
}

func (d *Daemon) now() time.Time {
	if d.Now != nil {
		return d.Now().In(config.Shanghai)
	}
	return time.Now().In(config.Shanghai)
}

func (d *Daemon) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Serve runs the catch-up jobs, then the schedule, until ctx is cancelled.
//
// Each merchant has one queue worked in order, one job at a time: a fire
// that finds its merchant busy waits its turn; a job already queued or
// running is not queued again (logged as skipped). On cancel, Serve stops
// the schedule, lets the job in progress finish (its context is not
// cancelled, see Runner), drops the queued ones (logged) and returns nil.
// It returns an error at once for a bad schedule or a failing State at
// start.
func (d *Daemon) Serve(ctx context.Context) error {
	if d.Run == nil || d.State == nil {
		return errors.New("daemon: Run and State are required")
	}
	daily, monthly, err := d.schedules()
	if err != nil {
		return err
	}
	log := d.logger()
	due, err := d.DueAtStart(ctx)
	if err != nil {
		return err
	}

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	d.mu.Lock()
	d.workers = make(map[string]*worker, len(d.Merchants))
	for _, m := range d.Merchants {
		w := &worker{wake: make(chan struct{}, 1)}
		d.workers[m] = w
		wg.Go(func() { d.work(workCtx, w) })
	}
	d.mu.Unlock()

	if len(due) > 0 {
		log.Info("catching up", "jobs", len(due))
	}
	for _, j := range due {
		d.enqueue(j, "catch-up")
	}

	c := cron.New(cron.WithLocation(config.Shanghai))
	c.Schedule(daily, cron.FuncJob(func() { d.fire(daily, false) }))
	c.Schedule(monthly, cron.FuncJob(func() { d.fire(monthly, true) }))
	c.Start()
	ds, ms := d.specs()
	log.Info("daemon started", "merchants", len(d.Merchants), "daily", ds, "monthly", ms, "time_zone", config.Shanghai.String())

	<-ctx.Done()
	log.Info("daemon stopping: waiting for the running jobs")
	<-c.Stop().Done() // fires only enqueue: this is quick
	stopWork()
	wg.Wait()
	log.Info("daemon stopped")
	return nil
}

// fire enqueues the jobs of a schedule firing now. The period comes from
// the scheduled time (the latest fire at or before now), not from the
// moment the goroutine happens to run.
func (d *Daemon) fire(s cron.Schedule, monthly bool) {
	now := d.now()
	t, ok := prevFire(s, now)
	if !ok {
		t = now
	}
	for _, j := range JobsAt(t, monthly, d.Merchants) {
		d.enqueue(j, "schedule")
	}
}

// worker is one merchant's queue.
type worker struct {
	mu      sync.Mutex
	pending []Job
	running *Job
	wake    chan struct{} // buffered 1: "pending changed"
}

// enqueue queues j on its merchant's worker unless it is already queued or
// running, and reports whether it did.
func (d *Daemon) enqueue(j Job, why string) bool {
	d.mu.Lock()
	w := d.workers[j.Merchant]
	d.mu.Unlock()
	log := d.logger().With("merchant", j.Merchant, "period", j.Period, "trigger", why)
	if w == nil {
		log.Error("job for a merchant not served: ignored")
		return false
	}
	w.mu.Lock()
	dup := w.running != nil && *w.running == j
	for _, p := range w.pending {
		dup = dup || p == j
	}
	if !dup {
		w.pending = append(w.pending, j)
	}
	busy := w.running != nil
	w.mu.Unlock()
	if dup {
		log.Warn("job already queued or running: skipped")
		return false
	}
	if busy {
		log.Info("merchant busy: job queued")
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// work runs w's jobs one after the other until ctx is cancelled; the job in
// progress then still finishes.
func (d *Daemon) work(ctx context.Context, w *worker) {
	for {
		w.mu.Lock()
		if ctx.Err() != nil {
			for _, j := range w.pending {
				d.logger().Warn("daemon stopping: queued job not run", "merchant", j.Merchant, "period", j.Period)
			}
			w.pending = nil
			w.mu.Unlock()
			return
		}
		if len(w.pending) == 0 {
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-w.wake:
			}
			continue
		}
		j := w.pending[0]
		w.pending = w.pending[1:]
		w.running = &j
		w.mu.Unlock()

		d.runJob(context.WithoutCancel(ctx), j)

		w.mu.Lock()
		w.running = nil
		w.mu.Unlock()
	}
}

// runJob runs one job, records its success and logs start, duration and
// outcome. A panicking Runner is a failed job, not a dead daemon.
func (d *Daemon) runJob(ctx context.Context, j Job) {
	log := d.logger().With("merchant", j.Merchant, "period", j.Period)
	log.Info("job started")
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("run panicked: %v", r)
			}
		}()
		return d.Run(ctx, j)
	}()
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		log.Error("job failed", "duration", took, "error", err)
		return
	}
	if err := d.State.RecordSuccess(ctx, j.Merchant, j.Period); err != nil {
		log.Error("job succeeded but its success was not recorded", "duration", took, "error", err)
		return
	}
	log.Info("job succeeded", "duration", took)
}

// MemoryState is a State in memory, for tests and one-off use. The zero
// value is ready to use.
type MemoryState struct {
	mu   sync.Mutex
	last map[memKey]string
}

type memKey struct {
	merchant string
	monthly  bool
}

// LastSuccess implements State.
func (s *MemoryState) LastSuccess(_ context.Context, merchant string, monthly bool) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.last[memKey{merchant, monthly}]
	return p, ok, nil
}

// RecordSuccess implements State. The latest period wins: re-running an
// older one does not move it back.
func (s *MemoryState) RecordSuccess(_ context.Context, merchant, period string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = make(map[memKey]string)
	}
	k := memKey{merchant, len(period) == 6}
	if period > s.last[k] {
		s.last[k] = period
	}
	return nil
}
