// Command reconcile-bench measures `reconcile run` end to end on a generated
// million-payment day, beside floors measured on the same file in the same
// invocation, and checks that the run's findings equal the planted ones
// (issue 6, SPEC §8). `make bench` runs it.
//
// With -monthly it measures `reconcile run --month` instead, on a generated
// month of daily files and the monthly file that repeats them with planted
// differences (monthly.go, monthdata.go). `make bench-monthly` runs it.
//
// Floors and job runs are child processes, so each one's CPU time and peak
// RSS come from its own rusage.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lianlian-recon/reconcile/gen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reconcile-bench: error:", err)
		if errors.Is(err, errMismatch) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

var errMismatch = errors.New("findings differ from the planted ones")

type options struct {
	root, bin, genHash string
	runs               int
	cfg                gen.Config
	floor, file        string // child mode: run one floor on one file

	monthly bool // a monthly run instead of a daily one (monthly.go)
	month   string
	days    int
	plant   int
}

// Flags of one mode only: given with the other mode they are refused, not
// ignored.
var (
	dailyOnly   = []string{"date", "findings"}
	monthlyOnly = []string{"month", "days", "plant"}
)

func run(args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("reconcile-bench", flag.ContinueOnError)
	fs.StringVar(&o.root, "dir", "/tmp/reconcile-bench", "cache folder for generated data and runs")
	fs.StringVar(&o.bin, "bin", "", "the reconcile binary to run (required)")
	fs.StringVar(&o.genHash, "gen-hash", "", "hash of the generator's source, part of the cache key")
	fs.IntVar(&o.runs, "runs", 3, "runs of each measurement; the median is printed (-monthly: run 1 cold, the median of the rest)")
	fs.StringVar(&o.cfg.Merchant, "merchant", "201403251000001147", "18-digit merchant number")
	fs.StringVar(&o.cfg.Date, "date", "20240528", "settle date yyyymmdd")
	fs.IntVar(&o.cfg.Payments, "payments", 1000000, "payments to generate")
	fs.Float64Var(&o.cfg.RefundRate, "refund-rate", 0.02, "fraction of payments refunded")
	fs.IntVar(&o.cfg.LedgerFindings, "findings", 300, "planted ledger discrepancies")
	fs.Int64Var(&o.cfg.Seed, "seed", 20240528, "generator seed")
	fs.StringVar(&o.floor, "floor", "", "internal: run one floor (count, split, decode) on -file and print its result")
	fs.StringVar(&o.file, "file", "", "internal: the file for -floor")
	fs.BoolVar(&o.monthly, "monthly", false, "measure `reconcile run --month` on a generated month of daily files and its monthly file")
	fs.StringVar(&o.month, "month", "202405", "monthly: the month yyyymm")
	fs.IntVar(&o.days, "days", 30, "monthly: days 1..N of the month have a daily file")
	fs.IntVar(&o.plant, "plant", 30, "monthly: rows of each planted difference (dropped, amount changed, extra)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.floor != "" {
		return childFloor(o.floor, o.file, out)
	}
	if o.bin == "" {
		return errors.New("-bin is required")
	}
	if o.runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	other := monthlyOnly
	if o.monthly {
		other = dailyOnly
	}
	var conflict error
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(other, f.Name) && conflict == nil {
			conflict = fmt.Errorf("-%s is for the other mode (-monthly=%t)", f.Name, !o.monthly)
		}
	})
	if conflict != nil {
		return conflict
	}
	if o.monthly {
		return benchMonthly(o, out)
	}
	o.cfg.GBK = true
	return bench(o, out)
}

// floors, in the order printed.
var floors = []struct {
	name, label string
	fn          func(io.Reader) (floorResult, error)
}{
	{"count", "count lines (bufio), I/O floor", countLines},
	{"split", "split raw GBK into 14 fields + amounts to fen", splitRaw},
	{"decode", "decode GB18030, split, amounts to fen", decodeSplit},
}

func childFloor(name, file string, out io.Writer) error {
	i := slices.IndexFunc(floors, func(f struct {
		name, label string
		fn          func(io.Reader) (floorResult, error)
	}) bool {
		return f.name == name
	})
	if i < 0 {
		return fmt.Errorf("no floor %q", name)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := floors[i].fn(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return json.NewEncoder(out).Encode(res)
}

// measurement is one child process: wall time, user+sys CPU, peak RSS.
type measurement struct {
	Wall   time.Duration `json:"wall_ns"`
	CPU    time.Duration `json:"cpu_ns"`
	MaxRSS int64         `json:"max_rss_kib"` // Linux reports ru_maxrss in KiB
}

// measure runs cmd and reads its rusage; the exit code is left to the
// caller, which knows which codes mean success.
func measure(cmd *exec.Cmd) (measurement, error) {
	// What earlier runs wrote is on disk before the clock starts: a
	// store run leaves 700 MB of dirty pages, whose writeback would
	// otherwise take a core from whatever runs next.
	syscall.Sync()
	start := time.Now()
	err := cmd.Run()
	m := measurement{Wall: time.Since(start)}
	if cmd.ProcessState == nil {
		return m, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.MaxRSS = ru.Maxrss
	}
	return m, err
}

// median of each field separately.
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

// result is what later tools (bench/peers) read from DIR/latest.json.
type result struct {
	Merchant  string        `json:"merchant"`
	Date      string        `json:"date"`
	Source    string        `json:"source"`
	Ledger    string        `json:"ledger"`
	JYMX      string        `json:"jymx"`
	Rows      int           `json:"rows"`
	Entries   int           `json:"entries"`
	ReportDir string        `json:"report_dir"` // the last run's reports
	Runs      []measurement `json:"runs"`
	Median    measurement   `json:"median"`
	Correct   bool          `json:"correct"`
}

func bench(o options, out io.Writer) error {
	if err := os.MkdirAll(o.root, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	d, err := loadOrGenerate(o.root, o.cfg, o.genHash)
	if err != nil {
		return err
	}
	how := "cached"
	if !d.Cached {
		how = fmt.Sprintf("generated in %.1f s", time.Since(t0).Seconds())
	}
	jst, err := os.Stat(d.JYMX)
	if err != nil {
		return err
	}
	lst, err := os.Stat(d.Ledger)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "data (%s): %s\n  JYMX %.1f MB, %d rows (GBK); ledger %.1f MB, %d entries; planted %d+%d+%d+%d findings, %d pending\n",
		how, d.Dir, mb(jst.Size()), d.Planted.Rows, mb(lst.Size()), d.Planted.Entries,
		len(d.Planted.MissingInLedger), len(d.Planted.AmountMismatch), len(d.Planted.StatusMismatch),
		len(d.Planted.FeeMismatch), len(d.Planted.MissingInStatement))

	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nfloors on the same JYMX file, median of %d:\n", o.runs)
	floorMed := make([]measurement, len(floors))
	for i, fl := range floors {
		ms := make([]measurement, o.runs)
		for r := range ms {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(self, "-floor", fl.name, "-file", d.JYMX)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if ms[r], err = measure(cmd); err != nil {
				return fmt.Errorf("floor %s: %w: %s", fl.name, err, stderr.Bytes())
			}
			var res floorResult
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				return fmt.Errorf("floor %s: %w", fl.name, err)
			}
			if res.Rows != d.Planted.Rows {
				return fmt.Errorf("floor %s read %d rows, the generator wrote %d", fl.name, res.Rows, d.Planted.Rows)
			}
		}
		floorMed[i] = median(ms)
		printLine(out, fl.label, floorMed[i], d.Planted.Rows)
	}

	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	runDir := filepath.Join(o.root, "run")
	res := result{
		Merchant: o.cfg.Merchant, Date: o.cfg.Date, Source: d.Source, Ledger: d.Ledger, JYMX: d.JYMX,
		Rows: d.Planted.Rows, Entries: d.Planted.Entries,
		ReportDir: filepath.Join(runDir, "out", o.cfg.Merchant, o.cfg.Date),
		Correct:   true,
	}
	fmt.Fprintf(out, "\nreconcile run --date %s --source DIR --ledger FILE.csv, fresh store each run, %d runs:\n", o.cfg.Date, o.runs)
	var diffs []string
	for r := 0; r < o.runs; r++ {
		if err := os.RemoveAll(runDir); err != nil {
			return err
		}
		if err := os.MkdirAll(runDir, 0o755); err != nil {
			return err
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "--merchant", o.cfg.Merchant, "--date", o.cfg.Date,
			"--source", d.Source, "--ledger", d.Ledger,
			"--db", filepath.Join(runDir, "reconcile.db"), "--out", filepath.Join(runDir, "out"))
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		m, err := measure(cmd)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: reconciled, findings (SPEC §5)
			return fmt.Errorf("reconcile run: %w\n%s%s", err, stdout.Bytes(), stderr.Bytes())
		}
		res.Runs = append(res.Runs, m)
		printLine(out, fmt.Sprintf("run %d", r+1), m, d.Planted.Rows)
		got, err := readFindings(res.ReportDir)
		if err != nil {
			return err
		}
		if diffs = compare(d.Planted, got); len(diffs) > 0 {
			res.Correct = false
			break
		}
		if r == o.runs-1 {
			fmt.Fprintf(out, "  (%s)\n", strings.TrimSpace(lastLine(stdout.String())))
		}
	}
	res.Median = median(res.Runs)
	printLine(out, "median", res.Median, d.Planted.Rows)

	fmt.Fprintf(out, "\nratios, job wall / floor wall:\n")
	for i, fl := range floors {
		fmt.Fprintf(out, "  %-48s %7.1f×\n", fl.label, float64(res.Median.Wall)/float64(floorMed[i].Wall))
	}

	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.root, "latest.json"), b, 0o644); err != nil {
		return err
	}
	if len(diffs) > 0 {
		fmt.Fprintln(out, "\ncorrectness: MISMATCH")
		for _, s := range diffs {
			fmt.Fprintln(out, "  "+s)
		}
		return errMismatch
	}
	fmt.Fprintf(out, "\ncorrectness: OK — every run reported exactly the planted findings (missing_in_ledger %d, amount_mismatch %d, status_mismatch %d, fee_mismatch %d), %d pending, %d rows read\n",
		len(d.Planted.MissingInLedger), len(d.Planted.AmountMismatch), len(d.Planted.StatusMismatch),
		len(d.Planted.FeeMismatch), len(d.Planted.MissingInStatement), d.Planted.Rows)
	return nil
}

func printLine(out io.Writer, label string, m measurement, rows int) {
	fmt.Fprintf(out, "  %-48s wall %7.3f s  cpu %7.3f s  peak RSS %6.1f MiB  %10.0f rows/s\n",
		label, m.Wall.Seconds(), m.CPU.Seconds(), float64(m.MaxRSS)/1024, float64(rows)/m.Wall.Seconds())
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
