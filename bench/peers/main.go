// Command peers runs the one-off scripts `reconcile` has to beat (issue 6)
// on the data `reconcile-bench` generated, beside our own run measured in
// the same `make bench-peers` invocation: DuckDB (read_csv both files, FULL
// OUTER JOIN → CSV) and the sqlite3 command line (import, index, FULL OUTER
// JOIN → CSV), each after converting the GBK statement to UTF-8. It prints
// wall, CPU and peak RSS (medians), the ratios to ours, and checks that each
// peer finds the same missing and amount-mismatched keys we do.
//
// A separate module so that the main module never depends on DuckDB.
package main

import (
	"bytes"
	"encoding/json"

	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peers: error:", err)
		os.Exit(1)
	}
}

// ours is the part of reconcile-bench's latest.json this program reads.
type ours struct {
	Merchant  string      `json:"merchant"`
	Date      string      `json:"date"`
	JYMX      string      `json:"jymx"`
	Ledger    string      `json:"ledger"`
	Rows      int         `json:"rows"`
	Entries   int         `json:"entries"`
	ReportDir string      `json:"report_dir"`
	Runs      []any       `json:"runs"`
	Median    measurement `json:"median"`
	Correct   bool        `json:"correct"`
}

type measurement struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	MaxRSS int64         `json:"max_rss_kib"`
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	resultPath := fs.String("result", "/tmp/reconcile-bench/latest.json", "reconcile-bench's result file")
	runs := fs.Int("runs", 3, "runs of each peer; the median is printed")
	child := fs.String("child", "", "internal: run one peer (duckdb, sqlite3) once")
	work := fs.String("work", "", "internal: the peer's work folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*resultPath)
	if err != nil {
		return fmt.Errorf("%w (run reconcile-bench first: make bench-peers does)", err)
	}
	var o ours
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("%s: %w", *resultPath, err)
	}
	if *child != "" {
		return runChild(*child, o, *work, out)
	}
	if !o.Correct {
		return fmt.Errorf("%s: our own run was not correct; fix that first", *resultPath)
	}
	root := filepath.Dir(*resultPath)
	ourKeys, err := readOurKeys(o.ReportDir)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "peers on %s (%d statement rows) and %s (%d ledger entries)\n\n", o.JYMX, o.Rows, o.Ledger, o.Entries)
	fmt.Fprintf(out, "  %-66s %9s %9s %12s %16s\n", "", "wall", "cpu", "peak RSS", "ours / peer wall")
	fmt.Fprintf(out, "  %-66s %8.3fs %8.3fs %8.1f MiB %15s×\n",
		fmt.Sprintf("reconcile run (ours: reconcile-bench, median of %d)", len(o.Runs)),
		o.Median.Wall.Seconds(), o.Median.CPU.Seconds(), mib(o.Median.MaxRSS), "1.00")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var failed []string
	for _, p := range []struct{ name, label string }{
		{"duckdb", "DuckDB: GBK→UTF-8, read_csv both, FULL OUTER JOIN → CSV"},
		{"sqlite3", "sqlite3 CLI: GBK→UTF-8, import both, index, FULL OUTER JOIN → CSV"},
	} {
		dir := filepath.Join(root, "peer-"+p.name)
		ms := make([]measurement, *runs)
		var childOut bytes.Buffer
		for i := range ms {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			var stderr bytes.Buffer
			childOut.Reset()
			cmd := exec.Command(self, "-child", p.name, "-work", dir, "-result", *resultPath)
			cmd.Stdout, cmd.Stderr = &childOut, &stderr
			if ms[i], err = measure(cmd); err != nil {
				return fmt.Errorf("%s: %w: %s", p.name, err, stderr.Bytes())
			}
		}
		m := median(ms)
		fmt.Fprintf(out, "  %-66s %8.3fs %8.3fs %8.1f MiB %15.2f×\n", p.label,
			m.Wall.Seconds(), m.CPU.Seconds(), mib(m.MaxRSS), float64(o.Median.Wall)/float64(m.Wall))
		if s := bytes.TrimSpace(childOut.Bytes()); len(s) > 0 {
			fmt.Fprintf(out, "      %s\n", s)
		}
		got, err := readPeerKeys(filepath.Join(dir, "out.csv"))
		if err != nil {
			return err
		}
		if diffs := compareKeys(ourKeys, got); len(diffs) > 0 {
			failed = append(failed, p.name)
			fmt.Fprintf(out, "      keys: DIFFER from ours\n")
			for _, d := range diffs {
				fmt.Fprintf(out, "        %s\n", d)
			}
		} else {
			fmt.Fprintf(out, "      keys: OK, same as ours (%s)\n", countsLine(got))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%v found other keys than reconcile", failed)
	}
	return nil
}

// runChild runs one peer once and prints its phases on one line; the
// parent measures the process as a whole.
func runChild(name string, o ours, work string, out io.Writer) error {
	outCSV := filepath.Join(work, "out.csv")
	var ph phases
	var note string
	var err error
	switch name {
	case "duckdb":
		ph, err = duckdbPeer(o.JYMX, o.Ledger, work, outCSV)
	case "sqlite3":
		var n int
		ph, n, err = sqlitePeer(o.JYMX, o.Ledger, work, outCSV)
		note = fmt.Sprintf("; .import: %d rows with commas in field 14, the extra field ignored", n)
	default:
		return fmt.Errorf("no peer %q", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "last run: GBK→UTF-8 %.3f s, then %s %.3f s%s\n", ph.convert.Seconds(), name, ph.query.Seconds(), note)
	return nil
}

// measure runs cmd and reads its rusage. wait4's rusage of a child counts
// the grandchildren it waited for (the sqlite3 process), and ru_maxrss is
// the largest of them (KiB on Linux).
func measure(cmd *exec.Cmd) (measurement, error) {
	// What earlier runs wrote is on disk before the clock starts, as
	// reconcile-bench does for ours: its runs leave 700 MB of dirty pages
	// each, the sqlite3 peer's a database, whose writeback would
	// otherwise take a core from whatever runs next.
	syscall.Sync()
	start := time.Now()
	err := cmd.Run()
	m := measurement{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			m.MaxRSS = ru.Maxrss
		}
	}
	return m, err
}

func median(ms []measurement) measurement {
	pick := func(get func(measurement) int64) int64 {
		v := make([]int64, len(ms))
		for i, m := range ms {
			v[i] = get(m)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return measurement{
		Wall:   time.Duration(pick(func(m measurement) int64 { return int64(m.Wall) })),
		CPU:    time.Duration(pick(func(m measurement) int64 { return int64(m.CPU) })),
		MaxRSS: pick(func(m measurement) int64 { return m.MaxRSS }),
	}
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func countsLine(k keySets) string {
	var b []byte
	for _, c := range categories {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, c...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(k[c])), 10)
	}
	return string(b)
}
