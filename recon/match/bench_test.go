package match

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// BenchmarkDaily matches 1,000,000 statement rows of one day (2% of them
// refund legs of the day before's payments) against 1,000,000 ledger
// entries, with a few hundred planted discrepancies.
func BenchmarkDaily(b *testing.B) {
	const n = 1_000_000
	const D, D1 = "20240102", "20240101"
	rows := make([]recon.Row, 0, n)
	history := make([]recon.Row, 0, n/50)
	ledger := make([]recon.Entry, 0, n)
	for i := 0; len(rows) < n; i++ {
		no := fmt.Sprintf("O%015d", i)
		paybill := fmt.Sprintf("%016d", 2024010200000000+i)
		amount := recon.Fen(100 + i%100000)
		if i%50 == 49 {
			// A refund leg of yesterday's payment.
			pno := fmt.Sprintf("P%015d", i)
			history = append(history, row(D1, len(history)+1, pno, paybill, amount, 0))
			ledger = append(ledger, entry(recon.KindPayment, pno, D1, amount))
			rno := fmt.Sprintf("R%015d", i)
			rows = append(rows, row(D, len(rows)+1, rno, paybill, -amount/2, 5))
			ledger = append(ledger, entry(recon.KindRefund, rno, D, amount/2))
			continue
		}
		rows = append(rows, row(D, len(rows)+1, no, paybill, amount, 0))
		switch {
		case i%5000 == 1: // missing in ledger
		case i%5000 == 2:
			ledger = append(ledger, entry(recon.KindPayment, no, D, amount+1))
		default:
			ledger = append(ledger, entry(recon.KindPayment, no, D, amount))
		}
	}
	in := Input{Merchant: merchant, Date: D, Files: day(D, rows...), History: history,
		Ledger: ledger, HistoryStart: D1}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	var o Outcome
	for b.Loop() {
		o = Daily(in, Options{Window: 1})
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB-alloc/op")
	if !o.Statement.Balanced() || !o.Ledger.Balanced() || len(o.Findings) != 400 {
		b.Fatalf("%d findings, tallies %+v %+v", len(o.Findings), o.Statement, o.Ledger)
	}
}

// BenchmarkUnpairedRefunds: a first run whose day holds 10,000 refund legs
// of payments from before history, against 200,000 ledger entries that
// know none of them; each leg looks for its payment in the ledger.
func BenchmarkUnpairedRefunds(b *testing.B) {
	const legs, entries = 10_000, 200_000
	const D = "20240102"
	var rows []recon.Row
	ledger := make([]recon.Entry, 0, entries)
	for i := range legs {
		rno := fmt.Sprintf("R%015d", i)
		rows = append(rows, row(D, i+1, rno, fmt.Sprintf("%016d", 2023000000000000+i), -100, 5))
		ledger = append(ledger, entry(recon.KindRefund, rno, D, 100))
	}
	for i := len(ledger); i < entries; i++ {
		e := entry(recon.KindPayment, fmt.Sprintf("O%015d", i), "20231201", 100)
		e.OidPaybill = fmt.Sprintf("%016d", 2024010200000000+i)
		ledger = append(ledger, e)
	}
	in := Input{Merchant: merchant, Date: D, Files: day(D, rows...), Ledger: ledger, HistoryStart: D}
	var o Outcome
	for b.Loop() {
		o = Daily(in, Options{Window: 1})
	}
	b.ReportMetric(float64(legs)*float64(b.N)/b.Elapsed().Seconds(), "legs/s")
	if len(o.Findings) != legs {
		b.Fatalf("%d findings, want %d unpaired refunds", len(o.Findings), legs)
	}
}

// BenchmarkMonthlyDay compares one day of a million rows in a monthly file
// with its daily file, as a monthly run does each day: the monthly rows
// added, the daily rows read, the day compared (one row differs on each
// side); rows/s counts both sides.
func BenchmarkMonthlyDay(b *testing.B) {
	const n = 1_000_000
	const D = "20240102"
	rows := make([]recon.Row, n)
	for i := range rows {
		rows[i] = row(D, i+1, fmt.Sprintf("O%015d", i), fmt.Sprintf("%016d", 2024010200000000+i), recon.Fen(100+i%100000), 0)
	}
	dailyRows := slices.Clone(rows)
	dailyRows[n/2].Amount++
	daily := &DailyFile{Name: "JYMX_" + merchant + "_" + D + ".txt", Size: n,
		Rows: func(fn func(*recon.Row) error) error {
			for i := range dailyRows {
				if err := fn(&dailyRows[i]); err != nil {
					return err
				}
			}
			return nil
		},
		At: func(lines []int) ([]recon.Row, error) { return []recon.Row{dailyRows[lines[0]-1]}, nil }}
	for b.Loop() {
		c := NewMonthlyCompare("202401", "JYMX_"+merchant+"_202401.txt", false)
		c.Reserve(D, n)
		for i := range rows {
			c.Add(&rows[i])
		}
		if err := c.ReadDaily(D, daily); err != nil {
			b.Fatal(err)
		}
		if err := c.Day(D); err != nil {
			b.Fatal(err)
		}
		o, err := c.Finish(nil, func(lines []int) ([]recon.Row, error) { return []recon.Row{rows[lines[0]-1]}, nil })
		if err != nil || len(o.Findings) != 2 {
			b.Fatalf("%d findings, %v", len(o.Findings), err)
		}
	}
	b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
