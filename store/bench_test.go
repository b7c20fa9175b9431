package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

// benchRows generates n rows of a daily JYMX file, one in ten a refund leg.
func benchRows(name string, n int) []recon.Row {
	rows := make([]recon.Row, n)
	for i := range rows {
		rows[i] = recon.Row{
			RowMeta: &recon.RowMeta{File: name, OidPartner: merchant, BusiPartner: "101001", SettleDate: "20140528"}, Line: i + 1, NoOrder: fmt.Sprintf("201405281234%08d", i), OidPaybill: fmt.Sprintf("2014052800%06d", i), Amount: recon.Fen(100 + i%10000), Status: 0,
			Fee: recon.Fen(i % 7), Kind: recon.KindPayment,
			RowText: &recon.RowText{DtOrder: "20140528 10:11:12", UpdatedAt: "20140528 10:12:13",
				Product: "WEB支付网关", PayMethod: "储蓄卡快捷支付", InfoOrder: "商品名称,规格"},
		}
		if i%10 == 0 {
			rows[i].Amount, rows[i].Fee, rows[i].Kind = -rows[i].Amount, -rows[i].Fee, recon.KindRefund
		}
	}
	return rows
}

// BenchmarkIngest stores one daily file of generated rows per iteration,
// each under a new name, and reports rows per second.
func BenchmarkIngest(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openTest(b)
			ctx := context.Background()
			rows := benchRows("", n)
			for i := 0; b.Loop(); i++ {
				date := fmt.Sprintf("2014%04d", i)
				f := &recon.StatementFile{
					FileName: recon.FileName{Name: "JYMX_" + merchant + "_" + date + ".txt", Kind: recon.FileJYMX, Merchant: merchant, Date: date},
					SHA256:   "x", Encoding: recon.EncodingUTF8, Rows: rows,
				}
				if _, err := s.IngestFile(ctx, f, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkStatementRows streams stored rows back.
func BenchmarkStatementRows(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, _ := storedBenchFile(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				got := 0
				err := s.StatementRows(ctx, merchant, "20140528", func(string, recon.Row) error {
					got++
					return nil
				})
				if err != nil || got != n {
					b.Fatalf("%d rows, %v", got, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// benchEntries generates n ledger entries of merchant: payments with a
// refund every tenth, half of them with a fee.
func benchEntries(n int) []recon.Entry {
	entries := make([]recon.Entry, n)
	for i := range entries {
		entries[i] = recon.Entry{OidPartner: merchant, Kind: recon.KindPayment, NoOrder: fmt.Sprintf("201405281234%08d", i),
			DtOrder: fmt.Sprintf("20140528%06d", i%86400), Amount: recon.Fen(1 + i%100000), Status: recon.StatusSuccess,
			OidPaybill: fmt.Sprintf("2014052800%06d", i), Fee: recon.Fen(i % 7), HasFee: i%2 == 0}
		if i%10 == 0 {
			entries[i].Kind, entries[i].OrigNoOrder = recon.KindRefund, fmt.Sprintf("201405281234%08d", i+1)
		}
	}
	return entries
}

// BenchmarkUpsertLedger imports n entries into an empty ledger (fresh) and
// into one that holds them already (unchanged).
func BenchmarkUpsertLedger(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		entries := benchEntries(n)
		b.Run(fmt.Sprintf("fresh/%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := openTest(b)
				b.StartTimer()
				if c, err := s.UpsertLedger(ctx, entries); err != nil || c != (LedgerCounts{Inserted: n}) {
					b.Fatalf("%+v, %v", c, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("unchanged/%d", n), func(b *testing.B) {
			s := openTest(b)
			if _, err := s.UpsertLedger(ctx, entries); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if c, err := s.UpsertLedger(ctx, entries); err != nil || c != (LedgerCounts{Unchanged: n}) {
					b.Fatalf("%+v, %v", c, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkLedgerEntries reads n stored entries of a merchant back, in the
// run's order.
func BenchmarkLedgerEntries(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openTest(b)
			if _, err := s.UpsertLedger(ctx, benchEntries(n)); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				got, err := s.LedgerEntries(ctx, merchant)
				if err != nil || len(got) != n {
					b.Fatalf("%d entries, %v", len(got), err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRowKeys streams one stored file's rows back as a monthly run
// reads each daily file.
func BenchmarkRowKeys(b *testing.B) {
	const n = 1_000_000
	s, name := storedBenchFile(b, n)
	ctx := context.Background()
	stored, err := s.Stored(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got := 0
		if err := s.RowKeys(ctx, stored, func(*recon.Row) error { got++; return nil }); err != nil || got != n {
			b.Fatalf("%d rows, %v", got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// storedBenchFile opens a store holding one daily JYMX file of n generated
// rows, and returns it and the file's name.
func storedBenchFile(b *testing.B, n int) (*Store, string) {
	s := openTest(b)
	name := "JYMX_" + merchant + "_20140528.txt"
	f := &recon.StatementFile{
		FileName: recon.FileName{Name: name, Kind: recon.FileJYMX, Merchant: merchant, Date: "20140528"},
		SHA256:   "x", Encoding: recon.EncodingUTF8, Rows: benchRows(name, n),
	}
	if _, err := s.IngestFile(context.Background(), f, time.Now()); err != nil {
		b.Fatal(err)
	}
	return s, name
}
