package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// monthTarget is the target for a warm monthly run of 30 days of a
// million payments each (30,000,000 daily rows and as many monthly rows).
const (
	monthTarget         = 90 * time.Second
	monthTargetDays     = 30
	monthTargetPayments = 1000000
)

// benchMonthly measures `reconcile run --month` o.runs times on one store:
// the first run on a fresh store, which fetches and stores the daily files
// as well (cold), the others on the store it left (warm: the usual case,
// when the month's daily runs have stored the daily files). Each run's
// findings must be exactly the planted differences.
func benchMonthly(o options, out io.Writer) error {
	first, err := time.Parse("200601", o.month)
	if err != nil || len(o.month) != 6 {
		return fmt.Errorf("-month %q: want yyyymm", o.month)
	}
	if last := first.AddDate(0, 1, -1).Day(); o.days < 1 || o.days > last {
		return fmt.Errorf("-days %d: want 1 to %d for %s", o.days, last, o.month)
	}
	if o.cfg.Payments < 1 || o.plant < 0 {
		return fmt.Errorf("-payments %d, -plant %d: want at least 1 and 0", o.cfg.Payments, o.plant)
	}
	c := monthConfig{Merchant: o.cfg.Merchant, Month: o.month, Days: o.days, Payments: o.cfg.Payments,
		RefundRate: o.cfg.RefundRate, Seed: o.cfg.Seed, Plant: o.plant}
	if err := os.MkdirAll(o.root, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	d, err := loadOrGenerateMonth(o.root, c, o.genHash)
	if err != nil {
		return err
	}
	how := "cached"
	if !d.Cached {
		how = fmt.Sprintf("generated in %.1f s", time.Since(t0).Seconds())
	}
	p := d.Planted
	var dailySize int64
	for _, name := range p.Daily {
		st, err := os.Stat(filepath.Join(d.Source, name))
		if err != nil {
			return err
		}
		dailySize += st.Size()
	}
	mst, err := os.Stat(filepath.Join(d.Source, p.Monthly))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "data (%s): %s\n  %d daily JYMX files, %d rows, %.1f MB; %s, %d rows, %.1f MB (GBK)\n",
		how, d.Dir, len(p.Daily), p.DailyRows, mb(dailySize), p.Monthly, p.MonthlyRows, mb(mst.Size()))
	fmt.Fprintf(out, "  planted: %d rows dropped, %d amounts +0.01, %d extra rows: %d lines in the monthly file only, %d in a daily file only\n",
		len(p.Dropped), len(p.Changed), len(p.Extra), len(p.monthlyOnly()), len(p.dailyOnly()))

	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	runDir := filepath.Join(o.root, "run-monthly")
	db, outDir := filepath.Join(runDir, "reconcile.db"), filepath.Join(runDir, "out")
	reportDir := filepath.Join(outDir, c.Merchant, c.Month)
	rows := p.MonthlyRows + p.DailyRows
	if err := os.RemoveAll(runDir); err != nil {
		return err
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nreconcile run --month %s --source DIR, %d runs on one store; rows/s counts monthly and daily rows (%d):\n", c.Month, o.runs, rows)
	var warm []measurement
	var diffs []string
	for r := 0; r < o.runs; r++ {
		// Only this run's report may pass the check.
		if err := os.RemoveAll(outDir); err != nil {
			return err
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "--merchant", c.Merchant, "--month", c.Month,
			"--source", d.Source, "--db", db, "--out", outDir)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		m, err := measure(cmd)
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: reconciled, findings (SPEC §5)
			return fmt.Errorf("reconcile run --month, run %d: %w\n%s%s", r+1, err, stdout.Bytes(), stderr.Bytes())
		}
		if r == 0 {
			printLine(out, "run 1, cold (fresh store, stores the dailies)", m, rows)
			size, err := storeSize(db)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  %-48s %.1f MB\n", "store after run 1 (database and WAL)", mb(size))
		} else {
			warm = append(warm, m)
			printLine(out, fmt.Sprintf("run %d, warm", r+1), m, rows)
		}
		got, err := readFindings(reportDir, "file", "line")
		if err != nil {
			return err
		}
		if diffs = compareMonth(p, got); len(diffs) > 0 {
			fmt.Fprintf(out, "  run %d reported other findings than the planted ones; no further run\n", r+1)
			break
		}
		if r == o.runs-1 {
			fmt.Fprintf(out, "  (%s)\n", strings.TrimSpace(lastLine(stdout.String())))
		}
	}
	if len(warm) > 0 {
		med := median(warm)
		printLine(out, fmt.Sprintf("median of the warm runs (%d)", len(warm)), med, rows)
		verdict := "under"
		if med.Wall >= monthTarget {
			verdict = "NOT under"
		}
		fmt.Fprintf(out, "\ntarget: warm median %.1f s, %s %.0f s", med.Wall.Seconds(), verdict, monthTarget.Seconds())
		if c.Days != monthTargetDays || c.Payments != monthTargetPayments {
			fmt.Fprintf(out, " (the target is for %d days of %d payments; this month is %d days of %d)",
				monthTargetDays, monthTargetPayments, c.Days, c.Payments)
		}
		fmt.Fprintln(out)
	} else {
		fmt.Fprintln(out, "\ntarget: no warm run to judge (-runs 1); the target is for warm runs")
	}

	if len(diffs) > 0 {
		fmt.Fprintln(out, "\ncorrectness: MISMATCH")
		for _, s := range diffs {
			fmt.Fprintln(out, "  "+s)
		}
		return errMismatch
	}
	fmt.Fprintf(out, "\ncorrectness: OK — every run reported exactly the planted monthly_daily_mismatch lines (%d in the monthly file only, %d in a daily file only) and nothing else; %d rows read\n",
		len(p.monthlyOnly()), len(p.dailyOnly()), rows)
	return nil
}

// storeSize is the size of the SQLite file at path and of its WAL, if any.
func storeSize(path string) (int64, error) {
	var n int64
	for _, f := range []string{path, path + "-wal"} {
		st, err := os.Stat(f)
		if errors.Is(err, os.ErrNotExist) && f != path {
			continue
		}
		if err != nil {
			return 0, err
		}
		n += st.Size()
	}
	return n, nil
}
