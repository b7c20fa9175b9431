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
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/internal/alloc"
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

	// Import, when set, is a ledger file read for this daily run
	// (reconcile run --ledger): Daily stores it (see Import) and matches
	// against the ledger as it is once stored.
	Import *Import

	// unscoped hands matching every stored row and entry instead of those
	// match.Scope chooses: the tests compare the two.
	unscoped bool
}

// Import is a ledger file to store as part of a daily run. Storing a
// million entries takes seconds, and so does storing a million statement
// rows, and SQLite has one writer: Daily stores the ledger in the
// background, in line with the statement files, while it matches against
// the stored ledger overlaid with Entries — what the table holds once the
// import is done.
//
// Load, when set, reads the ledger file: Daily calls it once, on a
// goroutine of its own beside the reading of D's statements, and sets
// Entries from it. Its error ends the run with that error, whatever else
// went wrong, and nothing is imported. Without Load, Entries are given.
// Entries must hold each key once, as ledger.Read guarantees; Daily sorts
// them in place. Counts and Err (the store's) are set once Daily has
// returned (even with an error), when Done is true.
type Import struct {
	Load    func() ([]recon.Entry, error)
	Entries []recon.Entry
	Counts  store.LedgerCounts
	Err     error
	Done    bool
}

// start begins reading the ledger and returns what waits for it: nil
// once Entries are there (sorted), or Load's error.
func (imp *Import) start() (wait func() error) {
	if imp.Load == nil {
		// In the store's order, so that the overlay need not copy it
		// (the upsert orders entries by key itself). Not a stable sort:
		// CompareEntries orders entries of distinct keys totally, and an
		// import holds each key once (ledger.Read refuses a repeat), so
		// pdqsort gives the same order; the stable sort (insertion sort
		// and in-place merging) took a third of a second of the ledger's
		// reading for a million entries.
		recon.SortEntries(imp.Entries)
		return func() error { return nil }
	}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		var entries []recon.Entry
		if entries, err = imp.Load(); err == nil {
			recon.SortEntries(entries)
			imp.Entries = entries
		}
	}()
	return func() error { <-done; return err }
}

// overlay returns the merchant's ledger as the store holds it once the
// entries imp are stored: an imported entry replaces the stored one of its
// key (oid_partner, kind, no_order) or is added; entries of other
// merchants are not the merchant's. In the store's order. stored and imp
// must be in that order (recon.CompareEntries), imp with each key once
// (ledger.Read refuses a key given twice). imp is returned itself, not
// copied, when it is the whole answer: a fresh store, or a file that covers
// what the store had.
func overlay(stored, imp []recon.Entry, merchant string) []recon.Entry {
	return chosen(stored, imp, merchant, nil)
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
	err        error  // the background store's error
	storedSHA  string // SHA-256 of the bytes the store read, when it read the file itself
	rows       int    // good rows read, when file holds none (a monthly file)
}

// stored says whether the file was stored as it was read for matching,
// once the writer is done with it: the store's error, or the file's bytes
// changed between the two reads.
func (l *loaded) stored() error {
	switch {
	case l.err != nil:
		return l.err
	case l.storedSHA != "" && l.storedSHA != l.file.SHA256:
		return fmt.Errorf("store %s: the file changed while it was read (SHA-256 %s, then %s)",
			l.file.Name, l.file.SHA256, l.storedSHA)
	}
	return nil
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

// idle says whether every queued ingest is done: one queued now starts at
// once.
func (w *writer) idle() bool {
	if w.last == nil {
		return true
	}
	select {
	case <-w.last:
		return true
	default:
		return false
	}
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
	f, err := j.fetch(ctx, name, wait)
	if err != nil {
		return nil, err
	}
	fn, err := parse.ParseName(name)
	if err != nil {
		return nil, err
	}
	l := &loaded{}
	if w != nil && async && !fn.Kind.IsSummary() && w.idle() {
		// The writer starts on this file at once: its reading of the file
		// keeps the rows for matching too, and the file is read once.
		// Matching waits for that reading, which the writer paces; the
		// writer, storing, is the run's longest part anyway.
		sink := &leanSink{done: make(chan struct{})}
		w.queue(j.ingest(ctx, f, fn, l, sink))
		<-sink.done
		if sink.file != nil {
			l.file = sink.file
			j.log().Info("statement file read", "file", fn.Name, "rows", len(l.file.Rows), "malformed", len(l.file.Malformed), "encoding", l.file.Encoding)
			return l, nil
		}
		// Not read by the store (it holds these bytes already) or not to
		// its end (the store failed: l.stored says so later).
		if l.file, err = j.read(f.Path, fn); err != nil {
			return nil, err
		}
		return l, nil
	}
	ingest := j.ingest(ctx, f, fn, l, nil)
	if w != nil && async && !fn.Kind.IsSummary() {
		// The store reads a detail file by itself, once the writer is done
		// with what is before it; meanwhile the file is read for matching.
		w.queue(ingest)
		if l.file, err = j.read(f.Path, fn); err != nil {
			return nil, err // the store fails on its own reading
		}
		return l, nil
	}
	if l.file, err = j.read(f.Path, fn); err != nil {
		return nil, err
	}
	if w != nil && async {
		w.queue(ingest)
		return l, nil
	}
	w.wait()
	ingest()
	if err := l.stored(); err != nil {
		return nil, err
	}
	return l, nil
}

// fetch fetches one file, through j.Retry when wait is set. A file not
// published comes back as an error wrapping fetch.ErrNotPublished; any
// other failure wraps ErrInputUnavailable.
func (j *Job) fetch(ctx context.Context, name string, wait bool) (fetch.Fetched, error) {
	var f fetch.Fetched
	var err error
	if wait && j.Retry != nil {
		f, err = j.Retry.Get(ctx, j.Source, name)
	} else {
		f, err = j.Source.Get(ctx, name)
	}
	if err != nil {
		if errors.Is(err, fetch.ErrNotPublished) {
			return f, err
		}
		// The source failed (unreachable after retries, refused): the
		// input is not available. Host-key and auth errors stay
		// recognisable through the wrap.
		return f, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	}
	return f, nil
}

// read reads the fetched file at path for matching. A detail file's rows
// are kept lean (recon.Row.Lean): the store reads the file again by
// itself, in batches, so that neither holds a million full rows at once.
func (j *Job) read(path string, fn recon.FileName) (*recon.StatementFile, error) {
	var sf *recon.StatementFile
	var err error
	if fn.Kind.IsSummary() {
		sf, err = parse.ReadFile(path)
	} else {
		sf, err = readLean(path)
	}
	if errors.Is(err, parse.ErrCrossBorder) {
		return nil, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	}
	if err != nil {
		return nil, err
	}
	j.log().Info("statement file read", "file", fn.Name, "rows", len(sf.Rows), "malformed", len(sf.Malformed), "encoding", sf.Encoding)
	return sf, nil
}

// ingest returns the function that stores the file at path into l (to be
// called once, in line behind earlier stores). A summary file is stored
// as read for matching, so its ingest runs after read; a detail file is
// read by the store itself (storeDetail), so its ingest may run before,
// beside or after the read for matching, and l.stored compares the two;
// with a sink, the store's reading is the read for matching as well.
func (j *Job) ingest(ctx context.Context, f fetch.Fetched, fn recon.FileName, l *loaded, sink *leanSink) func() {
	now := j.now()
	return func() {
		var ing store.Ingested
		var err error
		if fn.Kind.IsSummary() {
			ing, err = j.Store.IngestFile(ctx, l.file, now)
		} else {
			var sf *recon.StatementFile
			ing, sf, err = j.storeDetailKeeping(ctx, f, fn, now, sink)
			if sf != nil {
				l.storedSHA = sf.SHA256
			}
		}
		if err != nil {
			l.err = err
			return
		}
		if ing.Status == store.Replaced {
			l.changed, l.prevSHA256 = true, ing.PrevSHA256
			j.log().Warn("statement file changed since it was last read", "file", fn.Name, "old_sha256", ing.PrevSHA256, "new_sha256", l.storedSHA)
		}
		j.log().Info("statement file stored", "file", fn.Name, "status", ing.Status.String())
	}
}

// readLean reads a detail file keeping each row lean, with room for its
// rows made up front (growing a slice of a million rows copies it twenty
// times and, while it grows, holds it twice).
func readLean(path string) (*recon.StatementFile, error) {
	n, err := parse.CountRows(path)
	if err != nil {
		return nil, err
	}
	rows := alloc.Reserve[recon.Row](n)
	sf, err := parse.ScanFileLean(path,
		func(r *recon.Row) error { rows = append(rows, *r); return nil },
		func() error { rows = rows[:0]; return nil })
	if err != nil {
		return nil, err
	}
	sf.Rows = rows
	return sf, nil
}

// storeBatch is how many rows storeDetail hands the store at a time.
const storeBatch = 4096

// storeDetail stores the fetched detail file f, named fn, reading it by
// itself: the run's memory does not grow with the file, and the store need
// not wait for the reading for matching. It returns the file as its own
// reading found it (without rows), or, when the store holds these bytes
// already, only their SHA-256. Parsing and writing overlap: a goroutine
// parses into batches, at most two ahead of the writer.
func (j *Job) storeDetail(ctx context.Context, f fetch.Fetched, fn recon.FileName, now time.Time) (store.Ingested, *recon.StatementFile, error) {
	return j.storeDetailKeeping(ctx, f, fn, now, nil)
}

// leanSink is where storeDetailKeeping puts what its reading of a file
// finds for matching.
type leanSink struct {
	rows []recon.Row
	// file is the file as the store's reading found it, Rows the rows
	// lean; nil when it was not read to its end (the store holds these
	// bytes already, or the store or the reading failed).
	file *recon.StatementFile
	done chan struct{} // closed once the reading has ended, or never began
}

// storeDetailKeeping is storeDetail that, with a sink, also keeps each row
// it reads lean for matching (recon.Row.Lean), so that the file is read
// once. Matching then waits for the store's reading, which the writer
// paces: worth it only when the writer starts on the file at once.
func (j *Job) storeDetailKeeping(ctx context.Context, f fetch.Fetched, fn recon.FileName, now time.Time, sink *leanSink) (store.Ingested, *recon.StatementFile, error) {
	if sink != nil {
		defer func() {
			select {
			case <-sink.done:
			default:
				close(sink.done) // never read
			}
		}()
	}
	// The store decides from the bytes' SHA-256 whether it holds them.
	// A fetch over SFTP gives it; a file from a folder is not read before
	// it is parsed, and the parse's own pass gives it, unless the store
	// holds a file of that name: then one quick pass first (0.1 s for
	// 160 MB, which a fresh day's run no longer waits for).
	path, size, sum := f.Path, f.Size, f.SHA256
	w, err := j.Store.BeginFile(ctx, fn, size, sum, now)
	if errors.Is(err, store.ErrDigestNeeded) {
		if size, sum, err = fetch.Digest(path); err != nil {
			return store.Ingested{}, nil, err
		}
		w, err = j.Store.BeginFile(ctx, fn, size, sum, now)
	}
	if err != nil {
		return store.Ingested{}, nil, err
	}
	defer w.Rollback()
	if w.Status() == store.Unchanged {
		ing, err := w.Commit(nil)
		return ing, &recon.StatementFile{FileName: fn, Size: size, SHA256: sum}, err
	}

	// A batch of rows, or (rows nil) the word to drop what was written:
	// the file is being read again from its start. The rows' RowTexts
	// are the batch's texts: ScanFile reuses the one it hands over, and a
	// RowText per row would be 150 MB of garbage for a million rows.
	type batch struct {
		rows  []recon.Row
		texts []recon.RowText
	}
	full := make(chan batch, 2)
	free := make(chan batch, 3)
	for range cap(free) {
		free <- batch{make([]recon.Row, 0, storeBatch), make([]recon.RowText, 0, storeBatch)}
	}
	stop := make(chan struct{}) // closed when the writer fails
	var again *recon.StatementFile
	var parseErr error
	if sink != nil {
		// Room made up front, as readLean does.
		n, err := parse.CountRows(path)
		if err != nil {
			return store.Ingested{}, nil, err
		}
		sink.rows = alloc.Reserve[recon.Row](n)
	}
	go func() {
		defer close(full)
		if sink != nil {
			defer close(sink.done)
		}
		send := func(b batch) error {
			select {
			case full <- b:
				return nil
			case <-stop:
				return errStopped
			}
		}
		cur := <-free
		again, parseErr = parse.ScanFile(path,
			func(r *recon.Row) error {
				if sink != nil {
					sink.rows = append(sink.rows, r.Lean())
				}
				row := *r
				if r.RowText != nil {
					// Never past its capacity: the batch is sent when
					// it holds storeBatch rows.
					cur.texts = append(cur.texts, *r.RowText)
					row.RowText = &cur.texts[len(cur.texts)-1]
				}
				if cur.rows = append(cur.rows, row); len(cur.rows) < storeBatch {
					return nil
				}
				if err := send(cur); err != nil {
					return err
				}
				select {
				case cur = <-free:
				case <-stop:
					return errStopped
				}
				return nil
			},
			func() error {
				if sink != nil {
					clear(sink.rows)
					sink.rows = sink.rows[:0]
				}
				clear(cur.texts)
				cur.rows, cur.texts = cur.rows[:0], cur.texts[:0]
				return send(batch{})
			})
		if parseErr == nil && len(cur.rows) > 0 {
			parseErr = send(cur)
		}
		if sink != nil && parseErr == nil {
			kept := *again
			kept.Rows = sink.rows
			sink.file = &kept
		}
	}()
	var writeErr error
	for b := range full {
		if writeErr != nil {
			continue // draining: the parser stops at its next send
		}
		if b.rows == nil {
			writeErr = w.Restart()
		} else {
			writeErr = w.Write(b.rows)
			clear(b.rows) // let the rows' text go
			clear(b.texts)
			free <- batch{b.rows[:0], b.texts[:0]}
		}
		if writeErr != nil {
			close(stop)
		}
	}
	switch {
	case writeErr != nil:
		return store.Ingested{}, nil, fmt.Errorf("store %s: %w", fn.Name, writeErr)
	case parseErr != nil:
		return store.Ingested{}, nil, fmt.Errorf("store %s: %w", fn.Name, parseErr)
	case sum != "" && again.SHA256 != sum:
		return store.Ingested{}, nil, fmt.Errorf("store %s: the file changed while it was read (SHA-256 %s, then %s)", fn.Name, sum, again.SHA256)
	}
	ing, err := w.Commit(again)
	again.Rows = nil
	return ing, again, err
}

// errStopped ends a parse whose rows can no longer be stored.
var errStopped = errors.New("the store stopped")

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
func (j *Job) Daily(ctx context.Context, merchant, date string) (result *recon.Result, err error) {
	start := j.now()
	used := map[string]bool{}
	var files []*loaded
	// Before anything is written: a store that holds history before the
	// window and lacks the indexes scoped looks it up by gets them now,
	// once.
	began := time.Now()
	if created, err := j.Store.IndexHistory(ctx, match.AddDays(date, -j.Options.Window)); err != nil {
		return nil, err
	} else if created {
		j.log().Info("created the history indexes, once for this store", "took", time.Since(began).Round(time.Millisecond).String())
	}
	// D's files are stored in the background while the run reads the
	// ledger and history and matches; every store is done before the
	// result is (and before Daily returns, whatever happens).
	w := &writer{}
	defer w.wait()
	ledgerRead := func() error { return nil }
	queueLedger := func() {}
	if imp := j.Import; imp != nil {
		// The ledger file is read beside D's statements and stored after
		// D's files: the writer stores D's JYMX (read by the store itself)
		// while the ledger is being read, instead of waiting for it. The
		// ledger is stored whatever becomes of the run, as `reconcile
		// ledger import` would: queued once D's files are, or, on an
		// early return, by the deferred call (before w.wait, which runs
		// after it).
		ledgerRead = imp.start()
		queueLedger = sync.OnceFunc(func() {
			w.queue(func() {
				if ledgerRead() != nil {
					return
				}
				imp.Counts, imp.Err = j.Store.UpsertLedger(ctx, imp.Entries)
				imp.Done = true
			})
		})
		defer queueLedger()
		// A ledger that cannot be read is the run's error before any
		// other, as it would be had it been read first.
		defer func() {
			if lerr := ledgerRead(); lerr != nil {
				result, err = nil, lerr
			}
		}()
	}
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

	queueLedger()

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

	var day []*recon.StatementFile
	for _, l := range files {
		day = append(day, l.file)
	}
	in := match.Input{Merchant: merchant, Date: date, Files: day, HistoryStart: historyStart, MissingDays: missing}
	// The ledger as stored before this run's import, if it is not done
	// yet (or after it: the overlay gives the same either way), overlaid
	// with the import once it is read.
	if err := ledgerRead(); err != nil {
		return nil, err
	}
	// D's files and the ledger file are read. What their readers leave
	// behind (the ledger reader's record of its keys, 13 MB for a million
	// entries, the parsers' buffers) is garbage that the collector would
	// not take before the run ends: past this point the heap grows by
	// the stored rows and entries scoped reads, matching's index and the
	// ledger's writing, on a fresh day never to twice what was live at
	// the collector's last cycle, early in the reading. Collected now, its
	// memory holds those instead: a fresh million-row day peaks at 342
	// MiB instead of 368 (issue 6: at most 400; when this was added, 390
	// instead of 416), for a tenth of a second of one core.
	runtime.GC()
	if err := j.scoped(ctx, &in); err != nil {
		return nil, err
	}
	out := match.Daily(in, j.Options)
	w.wait()
	if j.Import != nil && j.Import.Err != nil {
		return nil, j.Import.Err
	}
	for _, l := range files {
		if err := l.stored(); err != nil {
			return nil, err
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

// scoped fills in.History and in.Ledger with the stored rows before D and
// the ledger entries, as stored overlaid with the import, that can change
// what the run decides (match.Scope): a run keeps what its day needs, not
// every row and entry of every day stored before it.
//
// What the window reaches (statement files and entries dated from
// D - window on) a run mostly needs, and reads whole. Of everything older
// it needs a few rows and entries, which the store looks up by number in
// its history indexes (Store.HistoryRows, LedgerFor): so a run's time and
// memory are those of its window, however long the history.
func (j *Job) scoped(ctx context.Context, in *match.Input) error {
	from, before := match.AddDays(in.Date, -j.Options.Window), match.AddDays(in.Date, -1)
	if j.unscoped || in.HistoryStart >= from {
		// No history before the window: everything stored is what the
		// window reaches, which scoped would read whole anyway.
		return j.everything(ctx, in)
	}
	byNumber, blobs, err := j.Store.ByNumber(ctx)
	switch {
	case err != nil:
		return err
	case blobs:
		j.log().Warn("ledger_entries holds texts written as BLOBs, which look-ups by number cannot find: reading every stored row and entry, which takes longer every day; have the program that writes the ledger bind its texts as TEXT",
			"merchant", in.Merchant)
		return j.everything(ctx, in)
	case !byNumber:
		// IndexHistory indexes a store that holds history before the
		// window; this one had none when the run began (it stored its
		// window itself): a few days, read whole.
		return j.everything(ctx, in)
	}
	scope := match.NewScope(in.Files, in.Date, in.HistoryStart, j.Options)
	older := match.AddDays(from, -1)
	// The window's rows and the payments D's legs name are read beside the
	// ledger: Named writes a part of the scope that Dated, EntryNumbers,
	// Entry and Origs do not touch (match.Scope).
	var (
		window  []recon.Row
		rowsErr error
		read    sync.WaitGroup
	)
	read.Add(1)
	go func() {
		defer read.Done()
		window, rowsErr = j.scopedWindow(ctx, in.Merchant, from, before, scope)
	}()
	numbers, err := j.ledgerNumbers(ctx, in.Merchant, from, scope)
	read.Wait()
	if err != nil {
		return err
	}
	if rowsErr != nil {
		return rowsErr
	}
	// The stored rows are chosen beside the ledger's entries: RowNumbers
	// and Row read only what Named, Dated and EntryNumbers left, and Entry
	// and Origs write nothing they read (match.Scope). On day 4 of a store
	// each side took 4-6 s, one after the other.
	var (
		history []recon.Row
		histErr error
	)
	read.Add(1)
	go func() {
		defer read.Done()
		history, histErr = j.scopedHistory(ctx, in.Merchant, from, older, window, scope)
	}()
	ledger, err := j.scopedLedger(ctx, in.Merchant, from, scope, numbers)
	read.Wait()
	if err != nil {
		return err
	}
	if histErr != nil {
		return histErr
	}
	in.History, in.Ledger = history, ledger
	return nil
}

// scopedHistory returns the stored rows that scope chooses: those of the
// window and those it looks up by number, older than from (up to older).
func (j *Job) scopedHistory(ctx context.Context, merchant, from, older string, window []recon.Row, scope *match.Scope) ([]recon.Row, error) {
	var old []recon.Row
	noOrders, paybills := scope.RowNumbers()
	if err := j.Store.HistoryRows(ctx, merchant, older, noOrders, paybills, func(r recon.Row) error {
		if scope.Row(&r) {
			old = append(old, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	j.log().Info("history read", "from", from, "rows", len(window), "looked_up", len(old))
	history := append(make([]recon.Row, 0, len(old)+len(window)), old...)
	for i := range window { // after the older rows: StatementRows' order
		if scope.Row(&window[i]) {
			history = append(history, window[i])
		}
	}
	return history, nil
}

// scopedWindow returns the stored rows of the window, from from to before,
// and shows scope every stored payment a leg of D names (Named).
func (j *Job) scopedWindow(ctx context.Context, merchant, from, before string, scope *match.Scope) ([]recon.Row, error) {
	n, err := j.Store.StatementRowCount(ctx, merchant, from, before)
	if err != nil {
		return nil, err
	}
	window := alloc.Reserve[recon.Row](n)
	if err := j.Store.StatementRowsFrom(ctx, merchant, from, before, func(_ string, r recon.Row) error {
		scope.Named(&r)
		window = append(window, r)
		return nil
	}); err != nil {
		return nil, err
	}
	if refs := scope.Refs(); len(refs) > 0 {
		// Up to D - 1, the window again included: Named is idempotent,
		// and it must see every stored payment a leg of D names.
		if err := j.Store.HistoryRows(ctx, merchant, before, refs, refs, func(r recon.Row) error {
			scope.Named(&r)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return window, nil
}

// everything fills in.History and in.Ledger with every stored row before
// D and every entry, as the run did before match.Scope: the reference the
// tests hold scoped to.
func (j *Job) everything(ctx context.Context, in *match.Input) error {
	ledger, err := j.Store.LedgerEntries(ctx, in.Merchant)
	if err != nil {
		return err
	}
	if j.Import != nil {
		ledger = overlay(ledger, j.Import.Entries, in.Merchant)
	}
	before := match.AddDays(in.Date, -1)
	n, err := j.Store.StatementRowCount(ctx, in.Merchant, "", before)
	if err != nil {
		return err
	}
	history := alloc.Reserve[recon.Row](n)
	if err := j.Store.StatementRows(ctx, in.Merchant, before, func(_ string, r recon.Row) error {
		history = append(history, r)
		return nil
	}); err != nil {
		return err
	}
	in.History, in.Ledger = history, ledger
	return nil
}

// entryNumbers is what ledgerNumbers found: the stored entries of the
// window and the numbers to look the others up by.
type entryNumbers struct {
	window   []recon.Entry
	keys     map[recon.Kind][]string
	paybills []string
}

// ledgerNumbers reads the stored entries of the window, shows scope them
// and the imported ones (Dated), and returns them with the numbers to look
// up (EntryNumbers).
func (j *Job) ledgerNumbers(ctx context.Context, merchant, from string, scope *match.Scope) (entryNumbers, error) {
	var imp []recon.Entry
	if j.Import != nil {
		imp = j.Import.Entries
	}
	window, err := j.Store.LedgerFrom(ctx, merchant, from)
	if err != nil {
		return entryNumbers{}, err
	}
	for _, list := range [][]recon.Entry{window, imp} {
		for i := range list {
			scope.Dated(list[i].Kind, list[i].NoOrder, list[i].DtOrder)
		}
	}
	keys, paybills := scope.EntryNumbers()
	return entryNumbers{window, keys, paybills}, nil
}

// scopedLedger returns the entries of merchant's ledger that can change
// what the run decides: as stored (the window's, read whole by
// ledgerNumbers, and those looked up by n's numbers), overlaid with the
// import, if any, once it has been read.
func (j *Job) scopedLedger(ctx context.Context, merchant, from string, scope *match.Scope, n entryNumbers) ([]recon.Entry, error) {
	var imp []recon.Entry
	if j.Import != nil {
		imp = j.Import.Entries
	}
	window := n.window
	stored, err := j.Store.LedgerFor(ctx, merchant, from, n.keys, n.paybills)
	if err != nil {
		return nil, err
	}
	j.log().Info("ledger read", "from", from, "entries", len(window), "looked_up", len(stored), "imported", len(imp))
	stored = mergeEntries(stored, window)
	ledger := chosen(stored, imp, merchant, scope.Entry)
	if need := scope.Origs(ledger); len(need) > 0 {
		more, err := j.Store.LedgerFor(ctx, merchant, from, map[recon.Kind][]string{recon.KindPayment: need}, nil)
		if err != nil {
			return nil, err
		}
		stored = mergeEntries(stored, more)
		ledger = chosen(stored, imp, merchant, scope.Entry)
	}
	return ledger, nil
}

// mergeEntries is the entries of a and b, both in the store's order
// (recon.CompareEntries), in that order, an entry in both once.
func mergeEntries(a, b []recon.Entry) []recon.Entry {
	out := make([]recon.Entry, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		c := -1
		switch {
		case len(a) == 0:
			c = 1
		case len(b) > 0:
			c = recon.CompareEntries(a[0], b[0])
		}
		if c <= 0 {
			out = append(out, a[0])
			a = a[1:]
		} else {
			out = append(out, b[0])
		}
		if c >= 0 {
			b = b[1:]
		}
	}
	return out
}

// chosen is overlay(stored, imp, merchant) with only the entries keep
// accepts (all of them when keep is nil), made in one pass: stored and imp
// are in the store's order, and so is what it returns. With keep nil, imp
// itself is returned when no stored entry outlives the import and every
// imported one is the merchant's.
func chosen(stored, imp []recon.Entry, merchant string, keep func(*recon.Entry) bool) []recon.Entry {
	whole := keep == nil
	if whole {
		keep = func(*recon.Entry) bool { return true }
	}
	mine := func(e *recon.Entry) bool { return e.OidPartner == "" || e.OidPartner == merchant }
	// The stored entries that stay: kept, and not replaced.
	stays := make([]bool, len(stored))
	staying := 0
	var imported *entryKeys
	if len(imp) > 0 && len(stored) > 0 {
		imported = newEntryKeys(imp)
	}
	for k := range stored {
		if keep(&stored[k]) && (imported == nil || !imported.has(&stored[k])) {
			stays[k] = true
			staying++
		}
	}
	if whole && staying == 0 && !slices.ContainsFunc(imp, func(e recon.Entry) bool { return !mine(&e) }) {
		return imp
	}
	out := alloc.Reserve[recon.Entry](len(imp) + staying)
	i, k := 0, 0
	for {
		for i < len(imp) && !(keep(&imp[i]) && mine(&imp[i])) {
			i++
		}
		for k < len(stored) && !stays[k] {
			k++
		}
		switch {
		case i == len(imp) && k == len(stored):
			return out
		case k == len(stored) || i < len(imp) && recon.CompareEntries(imp[i], stored[k]) <= 0:
			out = append(out, imp[i])
			i++
		default:
			out = append(out, stored[k])
			k++
		}
	}
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
			Rows: max(len(f.Rows), l.rows), Malformed: len(f.Malformed), Changed: l.changed, PrevSHA256: l.prevSHA256,
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
	if _, err := time.Parse("200601", month); err != nil {
		return nil, fmt.Errorf("month %q: %w", month, err)
	}
	var files []*loaded
	res := &recon.Result{Merchant: merchant, Period: month, Monthly: true}
	for _, kind := range []recon.FileKind{recon.FileJYMX, recon.FileFKMX} {
		l, out, err := j.monthly(ctx, merchant, month, kind)
		if err != nil {
			return nil, err
		}
		if l == nil {
			continue // no monthly FKMX file
		}
		files = append(files, l)
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

// monthlyWorkers is how many goroutines of a monthly run read daily files
// from the store (each on a connection of its own) and compare days: the
// machine's two cores.
const monthlyWorkers = 2

// monthly compares the month's monthly file of kind (JYMX: required;
// FKMX: nil when not published) with that month's daily files of the same
// kind, as match.MonthlyCompare does: the daily files the store lacks are
// fetched and stored first; then the monthly file is read once, keeping a
// fingerprint per row, while the daily files are read from the store; the
// monthly file is stored as a file without its rows (they repeat the daily
// files'); the days are compared; and the few rows that differ are read
// again for their details.
func (j *Job) monthly(ctx context.Context, merchant, month string, kind recon.FileKind) (*loaded, match.MonthlyOutcome, error) {
	var out match.MonthlyOutcome
	name := fileName(kind, merchant, month)
	fn, err := parse.ParseName(name)
	if err != nil {
		return nil, out, err
	}
	f, err := j.fetch(ctx, name, kind == recon.FileJYMX)
	switch {
	case kind == recon.FileFKMX && errors.Is(err, fetch.ErrNotPublished):
		return nil, out, nil
	case errors.Is(err, fetch.ErrNotPublished) || errors.Is(err, fetch.ErrDeadline):
		return nil, out, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	case err != nil:
		return nil, out, err
	}

	// The daily files, stored first where the store lacks them.
	daily := map[string]store.StoredFile{}
	var withDaily []string
	first, _ := time.Parse("200601", month)
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		day := d.Format("20060102")
		sf, ok, err := j.storedDaily(ctx, fileName(kind, merchant, day))
		if err != nil {
			return nil, out, err
		}
		if ok {
			daily[day] = sf
			withDaily = append(withDaily, day)
		}
	}

	// The daily files are read from the store while the monthly file is
	// read: by one goroutine beside the reading of the monthly file, and
	// a second once that is done.
	cmp := match.NewMonthlyCompare(month, name, kind == recon.FileFKMX)
	for day, stored := range daily {
		cmp.Reserve(day, stored.Rows)
	}
	readCtx, cancel := context.WithCancel(ctx)
	next := make(chan string, len(withDaily))
	for _, day := range withDaily {
		next <- day
	}
	close(next)
	readErrs := make(chan error, monthlyWorkers)
	readers := 0
	readDays := func() {
		var err error
		for day := range next {
			if err == nil {
				stored := daily[day]
				err = cmp.ReadDaily(day, &match.DailyFile{Name: stored.Name, Size: stored.Rows,
					Rows: func(fn func(*recon.Row) error) error { return j.Store.RowKeys(readCtx, stored, fn) },
					At:   func(lines []int) ([]recon.Row, error) { return j.Store.RowsAt(ctx, stored, lines) }})
			}
		}
		readErrs <- err
	}
	// waitReaders stops the readers (after an error) or waits for them.
	waitReaders := func(stop bool) error {
		if stop {
			cancel()
		}
		var err error
		for ; readers > 0; readers-- {
			if e := <-readErrs; e != nil && err == nil {
				err = e
			}
		}
		cancel()
		return err
	}
	defer waitReaders(true)
	readers++
	go readDays()

	rows := 0
	sf, err := parse.ScanFileLean(f.Path,
		func(r *recon.Row) error { cmp.Add(r); rows++; return nil },
		func() error { cmp.Restart(); rows = 0; return nil })
	if errors.Is(err, parse.ErrCrossBorder) {
		return nil, out, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	}
	if err != nil {
		return nil, out, err
	}
	j.log().Info("statement file read", "file", name, "rows", rows, "malformed", len(sf.Malformed), "encoding", sf.Encoding)
	readers++
	go readDays()
	l := &loaded{file: sf, rows: rows}
	if err := j.storeMonthly(ctx, fn, sf, rows, l); err != nil {
		return nil, out, err
	}
	if err := waitReaders(false); err != nil {
		return nil, out, err
	}

	days := cmp.Days()
	work := make(chan string, len(days))
	for _, day := range days {
		work <- day
	}
	close(work)
	errs := make(chan error, monthlyWorkers)
	for range monthlyWorkers {
		go func() {
			var err error
			for day := range work {
				if err == nil {
					err = cmp.Day(day)
				}
			}
			errs <- err
		}()
	}
	for range monthlyWorkers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, out, err
	}
	out, err = cmp.Finish(sf.Malformed, func(lines []int) ([]recon.Row, error) { return parse.RowsAt(f.Path, sf.Encoding, lines) })
	return l, out, err
}

// storedDaily returns the stored daily file name, fetching and storing it
// first when the store lacks it; ok is false when neither has it.
func (j *Job) storedDaily(ctx context.Context, name string) (store.StoredFile, bool, error) {
	sf, err := j.Store.Stored(ctx, name)
	if err == nil {
		return sf, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return sf, false, err
	}
	// Stored as the daily run stores it, without the reading for
	// matching, which nobody needs here.
	f, err := j.fetch(ctx, name, false)
	if errors.Is(err, fetch.ErrNotPublished) {
		return sf, false, nil
	}
	if err != nil {
		return sf, false, err
	}
	fn, err := parse.ParseName(name)
	if err != nil {
		return sf, false, err
	}
	ing, _, err := j.storeDetail(ctx, f, fn, j.now())
	if errors.Is(err, parse.ErrCrossBorder) {
		return sf, false, fmt.Errorf("%w: %w", ErrInputUnavailable, err)
	}
	if err != nil {
		return sf, false, err
	}
	j.log().Info("statement file stored", "file", name, "status", ing.Status.String())
	sf, err = j.Store.Stored(ctx, name)
	return sf, err == nil, err
}

// storeMonthly stores the monthly file read as sf, with rows good rows:
// its file row and malformed lines, not its rows (see statement_rows in
// schema.sql). A file whose name is stored with other bytes replaces it,
// as a daily file does, and l says so.
func (j *Job) storeMonthly(ctx context.Context, fn recon.FileName, sf *recon.StatementFile, rows int, l *loaded) error {
	w, err := j.Store.BeginFile(ctx, fn, sf.Size, sf.SHA256, j.now())
	if err != nil {
		return err
	}
	defer w.Rollback()
	ing, err := w.CommitUnstored(sf, rows)
	if err != nil {
		return err
	}
	if ing.Status == store.Replaced {
		l.changed, l.prevSHA256 = true, ing.PrevSHA256
		j.log().Warn("statement file changed since it was last read", "file", fn.Name, "old_sha256", ing.PrevSHA256, "new_sha256", sf.SHA256)
	}
	j.log().Info("statement file stored", "file", fn.Name, "status", ing.Status.String())
	return nil
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
