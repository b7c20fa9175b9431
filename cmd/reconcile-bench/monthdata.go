package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// The monthly benchmark's data: days 1..N of a month as generated daily
// JYMX files, and the monthly JYMX file that repeats them (SPEC §2.6) with
// planted differences, each one known by the file and line the run must
// name.

// plantVersion is part of the cache key: change it whenever the planting
// below changes, so that cached months are planted again.
const plantVersion = 1

// extraPrefix starts the no_order of each extra row: the generator's
// no_orders start with a digit, "R" or "FK", so none of them can match.
const extraPrefix = "X"

// monthConfig says what to generate for a monthly run.
type monthConfig struct {
	Merchant   string
	Month      string // yyyymm
	Days       int    // days 1..Days of the month have daily files
	Payments   int    // per day
	RefundRate float64
	Seed       int64 // day i (0-based) is generated with Seed+i
	Plant      int   // rows of each kind of difference: dropped, changed, extra
}

// place is a line of a statement file, as a finding names it.
type place struct {
	File string `json:"file"`
	Line int    `json:"line"` // 1-based
}

func (p place) String() string { return p.File + ":" + strconv.Itoa(p.Line) }

// changedRow is a daily row repeated in the monthly file with field 7
// (amount) 0.01 yuan higher: both lines are findings.
type changedRow struct {
	Daily   place `json:"daily"`
	Monthly place `json:"monthly"`
}

// monthPlanted is what the monthly file holds and how it differs from the
// daily files.
type monthPlanted struct {
	Monthly     string       `json:"monthly"` // file name
	Daily       []string     `json:"daily"`   // file names, in date order
	MonthlyRows int          `json:"monthly_rows"`
	DailyRows   int          `json:"daily_rows"`
	Dropped     []place      `json:"dropped"` // daily lines left out of the monthly file
	Changed     []changedRow `json:"changed"`
	Extra       []place      `json:"extra"` // monthly lines of rows no daily file has
}

// monthlyOnly is the set of lines the run must report as in the monthly
// file and not in a daily file.
func (p monthPlanted) monthlyOnly() []place {
	s := make([]place, 0, len(p.Changed)+len(p.Extra))
	for _, c := range p.Changed {
		s = append(s, c.Monthly)
	}
	return append(s, p.Extra...)
}

// dailyOnly is the set of lines the run must report as in a daily file and
// not in the monthly file.
func (p monthPlanted) dailyOnly() []place {
	s := make([]place, 0, len(p.Dropped)+len(p.Changed))
	s = append(s, p.Dropped...)
	for _, c := range p.Changed {
		s = append(s, c.Daily)
	}
	return s
}

// monthData is one generated month in the cache.
type monthData struct {
	Dir     string // the cache folder for this configuration
	Source  string // statement files (--source)
	Planted monthPlanted
	Cached  bool // true when an earlier invocation generated it
}

// monthCacheKey names the folder of a month's configuration; genHash (of
// gen/gen.go) and plantVersion make a changed generator or planting
// regenerate.
func monthCacheKey(c monthConfig, genHash string) string {
	k := fmt.Sprintf("%s-m%s-d%d-p%d-r%s-s%d-n%d-v%d", c.Merchant, c.Month, c.Days, c.Payments,
		strconv.FormatFloat(c.RefundRate, 'g', -1, 64), c.Seed, c.Plant, plantVersion)
	if genHash != "" {
		k += "-" + genHash
	}
	return k
}

// dayDate is the yyyymmdd of day i (0-based) of month.
func dayDate(month string, i int) string { return fmt.Sprintf("%s%02d", month, i+1) }

// loadOrGenerateMonth returns the month for c under root, generating it when
// the folder has no planted.json (see cached).
func loadOrGenerateMonth(root string, c monthConfig, genHash string) (monthData, error) {
	d := monthData{Dir: filepath.Join(root, monthCacheKey(c, genHash))}
	d.Source = filepath.Join(d.Dir, "statements")
	var err error
	d.Planted, d.Cached, err = cached(d.Dir, d.Source, func() (monthPlanted, error) {
		days, err := generateDays(d.Source, c)
		if err != nil {
			return monthPlanted{}, err
		}
		return writeMonthly(d.Source, c, days)
	})
	return d, err
}

// dailyFile is one generated daily JYMX file.
type dailyFile struct {
	Name string
	Rows int // one row a line, no title row
}

// generateDays writes the daily files of days 1..c.Days into dir, two days
// at a time (the generator uses one core), and deletes their ledgers: a
// monthly run reads none.
func generateDays(dir string, c monthConfig) ([]dailyFile, error) {
	days := make([]dailyFile, c.Days)
	errs := make([]error, c.Days)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := range next {
				date := dayDate(c.Month, i)
				ledger := filepath.Join(dir, "ledger-"+date+".csv")
				p, err := gen.Write(dir, ledger, gen.Config{Merchant: c.Merchant, Date: date, Payments: c.Payments,
					RefundRate: c.RefundRate, GBK: true, Seed: c.Seed + int64(i)})
				if err == nil {
					err = os.Remove(ledger)
				}
				if err != nil {
					errs[i] = fmt.Errorf("generate %s: %w", date, err)
					continue
				}
				days[i] = dailyFile{Name: "JYMX_" + c.Merchant + "_" + date + ".txt", Rows: p.Rows}
			}
		})
	}
	for i := range c.Days {
		next <- i
	}
	close(next)
	wg.Wait()
	return days, errors.Join(errs...)
}

// plan is what the monthly writer does with one daily line.
type plan uint8

const (
	keep plan = iota
	drop
	change
	extra // kept, and a copy under a new no_order follows the day's rows
)

// choosePlants picks n lines of each kind (drop, change, extra), all
// distinct, taking the days in turn so that the differences fall on
// different days: plans[d] maps a line of day d to what is done with it.
func choosePlants(days []dailyFile, n int, rng *rand.Rand) ([]map[int]plan, error) {
	plans := make([]map[int]plan, len(days))
	for d := range plans {
		plans[d] = map[int]plan{}
	}
	if len(days) == 0 {
		if n > 0 {
			return nil, errors.New("no day to plant differences in")
		}
		return plans, nil
	}
	for j := range 3 * n {
		d := j % len(days)
		if len(plans[d]) >= days[d].Rows {
			return nil, fmt.Errorf("%s has %d rows, too few for the differences planted in it", days[d].Name, days[d].Rows)
		}
		for {
			line := 1 + rng.IntN(days[d].Rows)
			if _, taken := plans[d][line]; !taken {
				plans[d][line] = plan(1 + j/n) // drop, then change, then extra
				break
			}
		}
	}
	return plans, nil
}

// writeMonthly writes JYMX_<merchant>_<yyyymm>.txt into dir by streaming the
// daily files in date order, with c.Plant rows dropped, c.Plant rows with
// their amount 0.01 yuan higher, and c.Plant extra rows (copies of daily
// rows under a new no_order) after their day's rows.
//
// It works on the raw bytes: fields 1–13 never hold a comma and GBK is
// ASCII-compatible there, so a row is split at its first commas without
// decoding, and lines are copied with their line ends as they are.
func writeMonthly(dir string, c monthConfig, days []dailyFile) (monthPlanted, error) {
	p := monthPlanted{Monthly: "JYMX_" + c.Merchant + "_" + c.Month + ".txt"}
	plans, err := choosePlants(days, c.Plant, rand.New(rand.NewPCG(uint64(c.Seed), plantVersion)))
	if err != nil {
		return p, err
	}
	f, err := os.Create(filepath.Join(dir, p.Monthly))
	if err != nil {
		return p, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	mline := 0
	var scratch []byte
	for d, day := range days {
		p.Daily = append(p.Daily, day.Name)
		var extras [][]byte
		lines, err := eachLine(filepath.Join(dir, day.Name), func(line int, b []byte) error {
			here := place{day.Name, line}
			switch plans[d][line] {
			case drop:
				p.Dropped = append(p.Dropped, here)
				return nil
			case change:
				up, err := withAmountUp(scratch[:0], b)
				if err != nil {
					return fmt.Errorf("%s: %w", here, err)
				}
				scratch, b = up, up
				p.Changed = append(p.Changed, changedRow{Daily: here, Monthly: place{p.Monthly, mline + 1}})
			case extra:
				extras = append(extras, append([]byte(extraPrefix), b...)) // field 1 is first: the prefix changes it alone
			}
			mline++
			_, err := w.Write(b)
			return err
		})
		if err != nil {
			return p, err
		}
		if lines != day.Rows {
			return p, fmt.Errorf("%s has %d lines, the generator wrote %d rows", day.Name, lines, day.Rows)
		}
		p.DailyRows += lines
		for _, b := range extras {
			mline++
			p.Extra = append(p.Extra, place{p.Monthly, mline})
			if _, err := w.Write(b); err != nil {
				return p, err
			}
		}
	}
	p.MonthlyRows = mline
	if err := w.Flush(); err != nil {
		return p, fmt.Errorf("write %s: %w", p.Monthly, err)
	}
	if err := f.Close(); err != nil {
		return p, fmt.Errorf("write %s: %w", p.Monthly, err)
	}
	return p, nil
}

// eachLine calls fn with each line of the file at path, its line end
// included, and returns the number of lines. fn must not keep b.
func eachLine(path string, fn func(line int, b []byte) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	line := 0
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			line++
			if b[len(b)-1] != '\n' { // the monthly file would join it to the next day's first line
				return line, fmt.Errorf("%s:%d: no line end", filepath.Base(path), line)
			}
			if err := fn(line, b); err != nil {
				return line, err
			}
		}
		if errors.Is(err, io.EOF) {
			return line, nil
		}
		if err != nil {
			return line, fmt.Errorf("%s:%d: %w", filepath.Base(path), line+1, err)
		}
	}
}

// fieldBounds returns where field i (0-based, i ≤ 12: fields 1–13, which
// never hold a comma) of a raw row starts and ends.
func fieldBounds(b []byte, i int) (start, end int, ok bool) {
	for ; i > 0; i-- {
		j := bytes.IndexByte(b[start:], ',')
		if j < 0 {
			return 0, 0, false
		}
		start += j + 1
	}
	j := bytes.IndexByte(b[start:], ',')
	if j < 0 {
		return 0, 0, false
	}
	return start, start + j, true
}

// withAmountUp appends to dst the row b with field 7 (amount) 0.01 yuan
// higher, written with two decimals.
func withAmountUp(dst, b []byte) ([]byte, error) {
	s, e, ok := fieldBounds(b, 6)
	if !ok {
		return dst, errors.New("fewer than 8 fields")
	}
	amount, err := recon.ParseYuan(string(b[s:e]))
	if err != nil {
		return dst, fmt.Errorf("field 7: %w", err)
	}
	dst = append(dst, b[:s]...)
	dst = append(dst, (amount + 1).String()...)
	return append(dst, b[e:]...), nil
}
