// Package report renders a run's *recon.Result as the three files finance
// and machines read (SPEC §6): discrepancies.csv, summary.json and
// report.html. Every writer is a pure function of the Result — no clock, no
// map iteration order — so the same Result gives the same bytes; WriteAll
// puts the three files in place atomically.
package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/lianlian-recon/reconcile/recon"
)

// File names inside a report folder (SPEC §6).
const (
	CSVName  = "discrepancies.csv"
	JSONName = "summary.json"
	HTMLName = "report.html"
)

// Dir is where a run's reports go: {out}/{merchant}/{period} (SPEC §6), the
// period being "yyyymmdd" for a daily run and "yyyymm" for a monthly one.
func Dir(out, merchant, period string) string {
	return filepath.Join(out, merchant, period)
}

// WriteAll writes the three reports into dir, creating it if missing. Each
// is rendered into a temporary file in dir and fsynced; only when all three
// are complete are they renamed over their final names, and the directory is
// fsynced. On any error the temporary files are removed, so a crash or a
// failure never leaves a partial report under a final name (SPEC §8).
func WriteAll(dir string, res *recon.Result) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: create folder: %w", err)
	}
	writers := []struct {
		name  string
		write func(io.Writer, *recon.Result) error
	}{
		{CSVName, WriteCSV},
		{JSONName, WriteJSON},
		{HTMLName, WriteHTML},
	}
	var temps []string
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()
	for _, w := range writers {
		tmp, err := writeTemp(dir, w.name, func(out io.Writer) error { return w.write(out, res) })
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return fmt.Errorf("report: write %s: %w", filepath.Join(dir, w.name), err)
		}
	}
	for i, w := range writers {
		final := filepath.Join(dir, w.name)
		if err := os.Rename(temps[i], final); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	temps = nil // renamed: nothing left to clean up
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("report: sync folder %s: %w", dir, err)
	}
	return nil
}

// writeTemp renders into a new temporary file in dir whose name starts with
// a dot, so a listing of the folder does not show it as a report. It returns
// the temporary file's path whenever one was created, even with an error, so
// the caller can remove it.
func writeTemp(dir, name string, render func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 64<<10)
	err = render(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; reports are for reading
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return tmp, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot fsync a directory; the renames are done and
	// that is not a failure of the report.
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// sortedFindings returns a copy of the findings in report order: kind, then
// no_order, then file, then line (SPEC §6). The Result promises this order;
// the report does not rely on it, so a caller's slip cannot reorder the CSV.
func sortedFindings(fs []recon.Finding) []recon.Finding {
	out := make([]recon.Finding, len(fs))
	copy(out, fs)
	recon.SortFindings(out)
	return out
}

// involved is the amount a finding puts in question, the figure the verdict
// and the per-kind totals add up: |statement − ledger| when both amounts are
// present, otherwise the absolute value of the one that is, and 0 for a
// finding without amounts (a count figure, most malformed rows).
func involved(f *recon.Finding) recon.Fen {
	if d, ok := f.Difference(); ok {
		return d.Abs()
	}
	if f.HasStatementAmount {
		return f.StatementAmount.Abs()
	}
	if f.HasLedgerAmount {
		return f.LedgerAmount.Abs()
	}
	return 0
}

// kindTotal is one finding kind's line of the per-kind counts.
type kindTotal struct {
	Kind      recon.FindingKind
	Count     int
	Statement recon.Fen // sum of the statement amounts present
	Involved  recon.Fen // sum of involved()
}

// kindTotals counts every kind of recon.FindingKinds, in that order, with
// zeros for kinds without findings; a kind outside the list (a newer one) is
// appended, sorted, so that nothing is lost.
func kindTotals(fs []recon.Finding) []kindTotal {
	idx := make(map[recon.FindingKind]int, len(recon.FindingKinds))
	out := make([]kindTotal, 0, len(recon.FindingKinds))
	for _, k := range recon.FindingKinds {
		idx[k] = len(out)
		out = append(out, kindTotal{Kind: k})
	}
	var extra []recon.FindingKind
	for i := range fs {
		f := &fs[i]
		j, ok := idx[f.Kind]
		if !ok {
			j = len(out)
			idx[f.Kind] = j
			out = append(out, kindTotal{Kind: f.Kind})
			extra = append(extra, f.Kind)
		}
		t := &out[j]
		t.Count++
		if f.HasStatementAmount {
			t.Statement += f.StatementAmount
		}
		t.Involved += involved(f)
	}
	if len(extra) > 0 {
		tail := out[len(recon.FindingKinds):]
		sort.Slice(tail, func(i, j int) bool { return tail[i].Kind < tail[j].Kind })
	}
	return out
}

// sortedReasons returns a Tally's ignored reasons in name order, so that the
// same Tally renders the same way whatever the map's iteration order.
func sortedReasons(m map[string]int) []reasonCount {
	out := make([]reasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, reasonCount{Reason: r, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
	return out
}

type reasonCount struct {
	Reason string
	Count  int
}
