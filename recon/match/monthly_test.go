package match

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func TestMonthly(t *testing.T) {
	d1, d2, d3 := "20240101", "20240102", "20240103"
	file := func(name string, rows ...recon.Row) *recon.StatementFile {
		return &recon.StatementFile{FileName: recon.FileName{Name: name, Kind: recon.FileJYMX, Merchant: merchant}, Rows: rows}
	}
	a := row(d1, 1, "A1", "1000000000000001", 100, 0)
	b := row(d1, 2, "B1", "1000000000000002", 200, 0)
	c := row(d2, 1, "C1", "1000000000000003", 300, 0)
	x := row(d3, 1, "X1", "1000000000000004", 400, 0)
	bChanged := b
	bChanged.Amount = 201
	monthly := file("JYMX_"+merchant+"_202401.txt", a, bChanged, c, x)
	for i := range monthly.Rows {
		monthly.Rows[i].EditMeta().File, monthly.Rows[i].Line = monthly.Name, i+1
	}
	o := compareMonthly(t, MonthlyInput{Month: "202401", Monthly: monthly, Daily: map[string]*recon.StatementFile{
		d1: file("JYMX_"+merchant+"_"+d1+".txt", a, b),
		d2: file("JYMX_"+merchant+"_"+d2+".txt", c, row(d2, 2, "D1", "1000000000000005", 500, 0)),
	}})
	var got []string
	for _, f := range o.Findings {
		got = append(got, f.NoOrder+"@"+f.File)
	}
	want := []string{
		"20240103@JYMX_" + merchant + "_202401.txt", // day 3: no daily file
		"B1@JYMX_" + merchant + "_202401.txt",       // amount differs: in monthly…
		"B1@JYMX_" + merchant + "_" + d1 + ".txt",   // …and the daily one in daily only
		"D1@JYMX_" + merchant + "_" + d2 + ".txt",   // only in the daily file
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(o.DayTotals) != 3 || o.DayTotals[1].DailyAmount != 800 || o.DayTotals[1].MonthlyAmount != 300 || o.DayTotals[2].DailyAvailable {
		t.Errorf("day totals %+v", o.DayTotals)
	}
	// Monthly rows a, B1', C1, X1 and daily rows a, B1, C1, D1: a and C1
	// matched on both sides, the rest findings.
	if o.Statement.Read != 8 || o.Statement.Matched != 4 || o.Statement.Findings != 4 || !o.Statement.Balanced() {
		t.Errorf("tally %+v", o.Statement)
	}
}

// MonthlyInput is one monthly detail file and the daily files of the same
// kind for that month, held in memory, as the tests give them.
type MonthlyInput struct {
	Month   string
	Monthly *recon.StatementFile
	// Daily maps each day ("yyyymmdd") to its daily file; a day absent
	// from the map had no file.
	Daily         map[string]*recon.StatementFile
	DailyOptional bool
}

// compareMonthly runs MonthlyCompare over in as the job runs it: the daily
// files read while the monthly rows are added, then the days compared
// concurrently; and checks that the details of the rows that differ are
// asked for once, in line order.
func compareMonthly(t testing.TB, in MonthlyInput) MonthlyOutcome {
	t.Helper()
	at := func(rows []recon.Row, lines []int) ([]recon.Row, error) {
		if !slices.IsSorted(lines) || len(slices.Compact(slices.Clone(lines))) != len(lines) {
			return nil, fmt.Errorf("lines %v not sorted or repeated", lines)
		}
		var out []recon.Row
		for _, r := range rows {
			if _, ok := slices.BinarySearch(lines, r.Line); ok {
				out = append(out, r.Lean())
			}
		}
		return out, nil
	}
	c := NewMonthlyCompare(in.Month, in.Monthly.Name, in.DailyOptional)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for day, f := range in.Daily {
		df := &DailyFile{Name: f.Name,
			Rows: func(fn func(r *recon.Row) error) error {
				// In reverse: ReadDaily may not rely on line order.
				for i := len(f.Rows) - 1; i >= 0; i-- {
					r := f.Rows[i].Lean()
					if err := fn(&r); err != nil {
						return err
					}
				}
				return nil
			},
			At: func(lines []int) ([]recon.Row, error) { return at(f.Rows, lines) }}
		wg.Go(func() {
			if err := c.ReadDaily(day, df); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	for i := range in.Monthly.Rows {
		c.Add(&in.Monthly.Rows[i])
	}
	wg.Wait()
	for _, day := range c.Days() {
		wg.Go(func() {
			if err := c.Day(day); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	out, err := c.Finish(in.Monthly.Malformed, func(lines []int) ([]recon.Row, error) { return at(in.Monthly.Rows, lines) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMonthlySameAsInMemory holds MonthlyCompare to the comparison of the
// two sides' rows held in memory (monthlyInMemory, the first version):
// random months with repeated rows, rows that differ in one field, extra
// and missing rows, days without a daily file, required and optional.
func TestMonthlySameAsInMemory(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 11))
	days := []string{"20240101", "20240102", "20240103", "20240104"}
	monthlyName := "JYMX_" + merchant + "_202401.txt"
	for n := range 300 {
		in := MonthlyInput{Month: "202401", Daily: map[string]*recon.StatementFile{}, DailyOptional: n%3 == 0,
			Monthly: &recon.StatementFile{FileName: recon.FileName{Name: monthlyName, Kind: recon.FileJYMX, Merchant: merchant}}}
		if n%5 == 0 {
			in.Monthly.Malformed = []recon.Malformed{{File: monthlyName, Line: 1000, NoOrder: "bad", Reason: "too few fields"}}
		}
		// A small pool of rows, so that rows repeat.
		var pool []recon.Row
		for i := range 1 + rnd.IntN(12) {
			d := days[rnd.IntN(len(days))]
			r := row(d, 0, fmt.Sprintf("N%d", i%5), fmt.Sprintf("P%d", i%3), recon.Fen(100+rnd.IntN(3)), int8(rnd.IntN(2)*5))
			if rnd.IntN(4) == 0 {
				r.Amount = -r.Amount
				r.Kind = recon.KindRefund
			}
			pool = append(pool, r)
		}
		pick := func() recon.Row {
			r := pool[rnd.IntN(len(pool))]
			switch rnd.IntN(12) {
			case 0:
				r.Fee++
			case 1:
				r.Status = 5 - r.Status
			case 2:
				r.OidPaybill += "x"
			}
			return r
		}
		for _, d := range days {
			if rnd.IntN(5) == 0 {
				continue // no daily file
			}
			f := &recon.StatementFile{FileName: recon.FileName{Name: "JYMX_" + merchant + "_" + d + ".txt", Kind: recon.FileJYMX, Merchant: merchant}}
			for range rnd.IntN(8) {
				r := pick()
				if rnd.IntN(3) > 0 {
					r.EditMeta().SettleDate = d
				}
				r.EditMeta().File, r.Line = f.Name, len(f.Rows)+1
				f.Rows = append(f.Rows, r)
			}
			in.Daily[d] = f
		}
		for range rnd.IntN(20) {
			r := pick()
			r.EditMeta().File, r.Line = monthlyName, len(in.Monthly.Rows)+1
			in.Monthly.Rows = append(in.Monthly.Rows, r)
		}
		want := monthlyInMemory(in)
		got := compareMonthly(t, in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("month %d:\ngot  %+v\nwant %+v", n, got, want)
		}
	}
}

// TestMonthlyRestart: rows added before the reader starts the file again
// are forgotten.
func TestMonthlyRestart(t *testing.T) {
	d := "20240101"
	name := "JYMX_" + merchant + "_202401.txt"
	a := row(d, 1, "A1", "1000000000000001", 100, 0)
	c := NewMonthlyCompare("202401", name, true)
	c.Add(&a)
	c.Restart()
	if days := c.Days(); len(days) != 0 {
		t.Fatalf("days after Restart: %v", days)
	}
	out, err := c.Finish(nil, nil)
	if err != nil || len(out.Findings) != 0 || out.Statement.Read != 0 {
		t.Errorf("after Restart: %+v, %v", out, err)
	}
}

// monthlyInMemory is the comparison as it was first written, with every
// row of both sides in memory: the reference TestMonthlySameAsInMemory
// holds MonthlyCompare to.
func monthlyInMemory(in MonthlyInput) MonthlyOutcome {
	var out MonthlyOutcome
	m := in.Monthly
	finding := func(no, paybill string, amount recon.Fen, hasAmount bool, file string, line int, detail string) {
		out.Findings = append(out.Findings, recon.Finding{
			SettleDate: in.Month, Kind: recon.MonthlyDailyMismatch, NoOrder: no, OidPaybill: paybill,
			StatementAmount: amount, HasStatementAmount: hasAmount, File: file, Line: line, Detail: detail,
		})
	}
	for _, mal := range m.Malformed {
		out.Statement.Read++
		out.Statement.Findings++
		out.Findings = append(out.Findings, recon.Finding{SettleDate: in.Month, Kind: recon.MalformedRow,
			NoOrder: mal.NoOrder, File: mal.File, Line: mal.Line, Detail: malformedDetail(mal)})
	}
	totals := map[string]*recon.DayTotal{}
	dayOf := func(date string) *recon.DayTotal {
		t := totals[date]
		if t == nil {
			t = &recon.DayTotal{Date: date}
			totals[date] = t
		}
		return t
	}
	for day := range in.Daily {
		dayOf(day)
	}
	byDay := map[string][]*recon.Row{}
	for i := range m.Rows {
		r := &m.Rows[i]
		t := dayOf(r.SettleDate)
		t.MonthlyCount++
		t.MonthlyAmount += r.Amount
		byDay[r.SettleDate] = append(byDay[r.SettleDate], r)
	}
	days := make([]string, 0, len(totals))
	for d := range totals {
		days = append(days, d)
	}
	slices.Sort(days)
	for _, d := range days {
		t := totals[d]
		daily, ok := in.Daily[d]
		t.DailyAvailable = ok || in.DailyOptional
		if ok {
			for i := range daily.Rows {
				t.DailyCount++
				t.DailyAmount += daily.Rows[i].Amount
			}
		}
		rows := byDay[d]
		out.Statement.Read += len(rows)
		if !t.DailyAvailable {
			out.Statement.Findings += len(rows)
			finding(d, "", t.MonthlyAmount, true, m.Name, 0,
				fmt.Sprintf("no daily file for %s: the monthly file has %d rows totalling %s", d, t.MonthlyCount, t.MonthlyAmount))
			continue
		}
		left := map[lineKey]int{}
		var dailyRows []recon.Row
		if daily != nil {
			dailyRows = daily.Rows
		}
		for i := range dailyRows {
			left[lineKeyOf(&dailyRows[i])]++
		}
		for _, r := range rows {
			k := lineKeyOf(r)
			if left[k] > 0 {
				left[k]--
				out.Statement.Matched++
				continue
			}
			out.Statement.Findings++
			where := "no daily file (none published that day)"
			if daily != nil {
				where = daily.Name
			}
			finding(r.NoOrder, r.OidPaybill, r.Amount, true, r.File, r.Line,
				fmt.Sprintf("in the monthly file, not in %s", where))
		}
		for i := range dailyRows {
			r := &dailyRows[i]
			k := lineKeyOf(r)
			out.Statement.Read++
			if left[k] == 0 {
				out.Statement.Matched++
				continue
			}
			left[k]--
			out.Statement.Findings++
			finding(r.NoOrder, r.OidPaybill, r.Amount, true, r.File, r.Line,
				fmt.Sprintf("in %s, not in the monthly file %s", daily.Name, m.Name))
		}
	}
	for _, d := range days {
		out.DayTotals = append(out.DayTotals, *totals[d])
	}
	recon.SortFindings(out.Findings)
	return out
}

// TestSortPrints: the radix sort gives the order of a comparison sort, on
// fingerprints that differ in every 16-bit digit and repeat.
func TestSortPrints(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 5))
	for _, n := range []int{0, 1, 255, 256, 10_000} {
		p := make([]rowPrint, n)
		for i := range p {
			h := rnd.Uint64()
			if i > 0 && rnd.IntN(4) == 0 {
				h = p[rnd.IntN(i)].h // repeated
			}
			p[i] = rowPrint{h: h, line: rnd.IntN(1 << 20)}
		}
		want := slices.Clone(p)
		slices.SortFunc(want, comparePrints)
		sortPrints(p)
		if !slices.Equal(p, want) {
			t.Fatalf("n=%d: radix order differs", n)
		}
	}
}

// TestMonthlyFileChanged: a row read again for its details that is not
// the row first read (the file changed in between) fails the comparison
// rather than reporting another row.
func TestMonthlyFileChanged(t *testing.T) {
	d := "20240101"
	name := "JYMX_" + merchant + "_202401.txt"
	a, b := row(d, 1, "A1", "1000000000000001", 100, 0), row(d, 2, "B1", "1000000000000002", 200, 0)
	for _, side := range []string{"monthly", "daily"} {
		// a only in the monthly file, b only in the daily one.
		c := NewMonthlyCompare("202401", name, false)
		c.Add(&a)
		dailyRows := []recon.Row{b}
		again := b // what the daily file gives when read again
		if side == "daily" {
			again.Amount++
		}
		err := c.ReadDaily(d, &DailyFile{Name: "JYMX_" + merchant + "_" + d + ".txt",
			Rows: func(fn func(*recon.Row) error) error {
				for i := range dailyRows {
					if err := fn(&dailyRows[i]); err != nil {
						return err
					}
				}
				return nil
			},
			At: func([]int) ([]recon.Row, error) { return []recon.Row{again}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Day(d)
		if err == nil {
			_, err = c.Finish(nil, func([]int) ([]recon.Row, error) {
				again := a
				if side == "monthly" {
					again.Fee++
				}
				return []recon.Row{again}, nil
			})
		}
		if err == nil || !strings.Contains(err.Error(), "changed") {
			t.Errorf("%s side changed: %v", side, err)
		}
	}
}
