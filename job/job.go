// Package job runs one reconciliation end to end — fetch, parse, store,
// match, report — for a merchant and a settle date or month. The one-shot
// command and the daemon call the same Daily and Monthly.
package job

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/match"
	"github.com/lianlian-recon/reconcile/recon/parse"
	"github.com/lianlian-recon/reconcile/recon/report"
	"github.com/lianlian-recon/reconcile/store"
)

// ErrInputUnavailable means a file the run needs could not be had: not
// published by the deadline, the source unreachable, or a file in a layout
// reconcile does not read (exit code 3, SPEC §5).
var ErrInputUnavailable = errors.New("input not available")

// Shanghai is LianLian's clock: settle dates, "yesterday" and report times.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// Job holds what every run of one merchant needs.
type Job struct {
	Store  *store.Store
	Source fetch.Source
	// Retry, when set, waits for D's required files until its deadline
	// (SFTP); nil reads each file once (a local folder).
	Retry   *fetch.Retry
	Out     string // report root folder
	Options match.Options
	Now     func() time.Time
	Log     *slog.Logger
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

func (j *Job) log() *slog.Logger {
	if j.Log != nil {
		return j.Log
	}
	return slog.New(slog.DiscardHandler)
}

func fileName(kind recon.FileKind, merchant, date string) string {
	return string(kind) + "_" + merchant + "_" + date + ".txt"
}

// loaded is a statement file read for this run, with what the store said.
// A file stored in the background has its outcome once writer.wait has
// returned.
type loaded struct {
	file       *recon.StatementFile
	changed    bool
	prevSHA256 string
	err        error // the background store's error
}

// writer runs a run's statement ingests one after another, each in its
// own transaction, in the background: a million-row file takes seconds to
// store, and matching does not need D's rows in the store (it has them in
// memory), so the two overlap on two cores. One at a time, because SQLite
// has one writer and a second would wait on the busy time-out.
type writer struct {
	last chan struct{} // closed when the last queued ingest is done; nil if none
}

// queue runs fn after every ingest queued before it.
func (w *writer) queue(fn func()) {
	prev, done := w.last, make(chan struct{})
	go func() {
		if prev != nil {
			<-prev
		}
		fn()
		close(done)
	}()
	w.last = done
}

// wait returns once every queued ingest is done. A nil writer has none.
func (w *writer) wait() {
	if w != nil && w.last != nil {
		<-w.last
	}
}

// get fetches, parses and stores one file. A file not published comes back
// as an error wrapping fetch.ErrNotPublished. With a writer and async, the
// file is stored in the background: call w.wait, then read l.err; without,
// it is stored (after anything w has queued) before get returns.
func (j *Job) get(ctx context.Context, name string, wait bool, w *writer, async bool) (*loaded, error) {
	var f fetch.Fetched
	var err error
	if wait && j.Retry != nil {
		f, err = j.Retry.Get(ctx, j.Source, name)
	} else {
		f, err = j.Source.Get(ctx, name)
	}
	if err != nil {
		if errors.Is(err, fetch.ErrNotPublished) {
			return nil, err
		}
		// The source failed (unreachable after retries, refused): the
		// input is not available. Host-key and auth errors stay
		// recognisable through the wrap.
		return nil, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	}
	sf, err := parse.ReadFile(f.Path)
	if err != nil {
		if errors.Is(err, parse.ErrCrossBorder) {
			return nil, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
		}
		return nil, err
	}
	l := &loaded{file: sf}
	now := j.now()
	ingest := func() {
		ing, err := j.Store.IngestFile(ctx, sf, now)
		if err != nil {
			l.err = err
			return
		}
		if ing.Status == store.Replaced {
			l.changed, l.prevSHA256 = true, ing.PrevSHA256
			j.log().Warn("statement file changed since it was last read", "file", name, "old_sha256", ing.PrevSHA256, "new_sha256", sf.SHA256)
		}
		j.log().Info("statement file", "file", name, "rows", len(sf.Rows), "malformed", len(sf.Malformed), "encoding", sf.Encoding, "status", ing.Status.String())
	}
	if w != nil && async {
		w.queue(ingest)
		return l, nil
	}
	w.wait()
	if ingest(); l.err != nil {
		return nil, l.err
	}
	return l, nil
}

// required gets a file the run cannot do without.
func (j *Job) required(ctx context.Context, name string, w *writer, async bool) (*loaded, error) {
	l, err := j.get(ctx, name, true, w, async)
	if err != nil {
		if errors.Is(err, fetch.ErrNotPublished) || errors.Is(err, fetch.ErrDeadline) {
			return nil, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
		}
		return nil, err
	}
	return l, nil
}

// optional gets a file that may legitimately be absent (FKMX on a day
// without payouts); nil, nil when it is.
func (j *Job) optional(ctx context.Context, name string, w *writer, async bool) (*loaded, error) {
	l, err := j.get(ctx, name, false, w, async)
	if errors.Is(err, fetch.ErrNotPublished) {
		return nil, nil
	}
	return l, err
}

// listOthers logs the source's files that this run leaves alone (SPEC
// §2.1: RHZZW, YHZZW, anything else).
func (j *Job) listOthers(ctx context.Context, used map[string]bool) {
	names, err := j.Source.List(ctx)
	if err != nil {
		j.log().Warn("cannot list the source", "err", err)
		return
	}
	for _, n := range names {
		if !used[n] {
			j.log().Debug("left alone", "file", n)
		}
	}
}

// Daily reconciles merchant's settle date (SPEC §4): it returns the result
// it stored and reported, or an error (ErrInputUnavailable for exit 3).
func (j *Job) Daily(ctx context.Context, merchant, date string) (*recon.Result, error) {
	start := j.now()
	used := map[string]bool{}
	var files []*loaded
	// D's files are stored in the background while the run reads the
	// ledger and history and matches; every store is done before the
	// result is (and before Daily returns, whatever happens).
	w := &writer{}
	defer w.wait()
	for _, k := range []recon.FileKind{recon.FileJYMX, recon.FileJYMXSUM} {
		name := fileName(k, merchant, date)
		l, err := j.required(ctx, name, w, true)
		if err != nil {
			return nil, err
		}
		used[name] = true
		files = append(files, l)
	}
	for _, k := range []recon.FileKind{recon.FileFKMX, recon.FileFKMXSUM} {
		name := fileName(k, merchant, date)
		l, err := j.optional(ctx, name, w, true)
		if err != nil {
			return nil, err
		}
		if l != nil {
			used[name] = true
			files = append(files, l)
		}
	}

	// The earlier days the window reaches: ingest them when the store
	// lacks them, so history and pairing see them (SPEC §4.1).
	var lacking []string
	for i := j.Options.Window; i >= 1; i-- {
		d := match.AddDays(date, -i)
		ok, err := j.Store.HasDaily(ctx, merchant, d)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		got := false
		for _, k := range []recon.FileKind{recon.FileJYMX, recon.FileJYMXSUM, recon.FileFKMX, recon.FileFKMXSUM} {
			// History must be in the store before it is read back:
			// stored before get returns.
			name := fileName(k, merchant, d)
			l, err := j.optional(ctx, name, w, false)
			if err != nil {
				return nil, err
			}
			if l != nil {
				used[name] = true
				got = got || k == recon.FileJYMX
			}
		}
		if !got {
			lacking = append(lacking, d)
		}
	}
	j.listOthers(ctx, used)

	historyStart, ok, err := j.Store.HistoryStart(ctx, merchant)
	if err != nil {
		return nil, err
	}
	// D's JYMX may still be being stored: it counts as stored, as it
	// will be before the run ends (or the run fails).
	if !ok || date < historyStart {
		historyStart = date
	}
	var missing []string
	for _, d := range lacking {
		if d >= historyStart {
			missing = append(missing, d)
		}
	}

	ledger, err := j.Store.LedgerEntries(ctx, merchant)
	if err != nil {
		return nil, err
	}
	var history []recon.Row
	err = j.Store.StatementRows(ctx, merchant, match.AddDays(date, -1), func(_ string, r recon.Row) error {
		history = append(history, r)
		return nil
	})
	if err != nil {
		return nil, err
	}

	in := match.Input{Merchant: merchant, Date: date, History: history, Ledger: ledger,
		HistoryStart: historyStart, MissingDays: missing}
	for _, l := range files {
		in.Files = append(in.Files, l.file)
	}
	out := match.Daily(in, j.Options)
	w.wait()
	for _, l := range files {
		if l.err != nil {
			return nil, l.err
		}
	}

	res := &recon.Result{
		Merchant:    merchant,
		Period:      date,
		Files:       inputFiles(files),
		Totals:      out.Totals,
		Findings:    out.Findings,
		Pending:     out.Pending,
		MissingDays: missing,
		Statement:   out.Statement,
		Ledger:      out.Ledger,
	}
	if err := j.finish(ctx, res); err != nil {
		return nil, err
	}
	j.log().Info("reconciled", "merchant", merchant, "date", date, "findings", len(res.Findings),
		"pending", len(res.Pending), "took", j.now().Sub(start).Round(time.Millisecond).String())
	return res, nil
}

// finish stamps the run time, stores the result and writes the reports.
// The same inputs keep the time of their first run, so a rerun writes the
// same bytes (SPEC §6, §8).
func (j *Job) finish(ctx context.Context, res *recon.Result) error {
	sum, err := digest(res)
	if err != nil {
		return err
	}
	res.RanAt = j.now().In(Shanghai).Format(time.RFC3339)
	prev, prevDigest, err := j.Store.LoadRun(ctx, res.Merchant, res.Period)
	switch {
	case err == nil && prevDigest == sum:
		res.RanAt = prev.RanAt
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := j.Store.SaveRun(ctx, res, sum); err != nil {
		return err
	}
	return report.WriteAll(report.Dir(j.Out, res.Merchant, res.Period), res)
}

func inputFiles(files []*loaded) []recon.InputFile {
	var out []recon.InputFile
	for _, l := range files {
		f := l.file
		out = append(out, recon.InputFile{
			Name: f.Name, Kind: f.Kind, Size: f.Size, SHA256: f.SHA256, Encoding: f.Encoding,
			Rows: len(f.Rows), Malformed: len(f.Malformed), Changed: l.changed, PrevSHA256: l.prevSHA256,
		})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// digest identifies what a run decided, all but its time: when a rerun
// decides exactly the same, it keeps the first run's time and so writes the
// same bytes.
func digest(res *recon.Result) (string, error) {
	c := *res
	c.RanAt = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("digest result: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Monthly checks a month's JYMX (and FKMX) monthly file against the
// month's daily files (SPEC §2.6), fetching daily files the store lacks.
func (j *Job) Monthly(ctx context.Context, merchant, month string) (*recon.Result, error) {
	first, err := time.Parse("200601", month)
	if err != nil {
		return nil, fmt.Errorf("month %q: %w", month, err)
	}
	var files []*loaded
	res := &recon.Result{Merchant: merchant, Period: month, Monthly: true}
	for _, kind := range []recon.FileKind{recon.FileJYMX, recon.FileFKMX} {
		name := fileName(kind, merchant, month)
		var m *loaded
		if kind == recon.FileJYMX {
			m, err = j.required(ctx, name, nil, false)
		} else {
			m, err = j.optional(ctx, name, nil, false)
		}
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		files = append(files, m)
		daily := map[string]*recon.StatementFile{}
		for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
			day := d.Format("20060102")
			f, err := j.dailyFile(ctx, fileName(kind, merchant, day))
			if err != nil {
				return nil, err
			}
			if f != nil {
				daily[day] = f
			}
		}
		out := match.Monthly(match.MonthlyInput{Month: month, Monthly: m.file, Daily: daily,
			DailyOptional: kind == recon.FileFKMX})
		res.Findings = append(res.Findings, out.Findings...)
		res.DayTotals = append(res.DayTotals, out.DayTotals...)
		res.Statement.Read += out.Statement.Read
		res.Statement.Matched += out.Statement.Matched
		res.Statement.Findings += out.Statement.Findings
	}
	res.Files = inputFiles(files)
	recon.SortFindings(res.Findings)
	if err := j.finish(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// dailyFile returns a daily file from the store, fetching it first when
// the store lacks it; nil when neither has it.
func (j *Job) dailyFile(ctx context.Context, name string) (*recon.StatementFile, error) {
	f, err := j.Store.File(ctx, name)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	l, err := j.optional(ctx, name, nil, false)
	if err != nil || l == nil {
		return nil, err
	}
	return l.file, nil
}

// Yesterday is the settle date a morning run reconciles: the day before
// now in Asia/Shanghai.
func Yesterday(now time.Time) string {
	return now.In(Shanghai).AddDate(0, 0, -1).Format("20060102")
}

// LastMonth is the month before now's, in Asia/Shanghai.
func LastMonth(now time.Time) string {
	t := now.In(Shanghai)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, Shanghai).AddDate(0, -1, 0).Format("200601")
}
