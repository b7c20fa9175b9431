package report

import (
	"fmt"
	"io"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// bigResult has n findings of mixed kinds, as a bad day of 1,000,000 rows
// could give.
func bigResult(n int) *recon.Result {
	res := fixture()
	res.Findings = make([]recon.Finding, n)
	for i := range res.Findings {
		f := recon.Finding{SettleDate: "20240528", Kind: recon.FindingKinds[i%len(recon.FindingKinds)],
			NoOrder: fmt.Sprintf("2024052%09d", n-i), OidPaybill: fmt.Sprintf("2024052800%06d", i%1000000),
			File: jymx, Line: i + 2, Detail: "手机应用支付网关 储蓄卡快捷支付"}
		f.StatementAmount, f.HasStatementAmount = recon.Fen(i*37%100000), true
		if i%2 == 0 {
			f.LedgerAmount, f.HasLedgerAmount = recon.Fen(i*41%100000), true
		}
		res.Findings[i] = f
	}
	return res
}

func BenchmarkWriters(b *testing.B) {
	res := bigResult(100_000)
	for _, w := range []struct {
		name  string
		write func(io.Writer, *recon.Result) error
	}{{"CSV", WriteCSV}, {"JSON", WriteJSON}, {"HTML", WriteHTML}} {
		b.Run(w.name+"/100k", func(b *testing.B) {
			for b.Loop() {
				if err := w.write(io.Discard, res); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteAll(b *testing.B) {
	res := bigResult(100_000)
	dir := b.TempDir()
	for b.Loop() {
		if err := WriteAll(dir, res); err != nil {
			b.Fatal(err)
		}
	}
}
