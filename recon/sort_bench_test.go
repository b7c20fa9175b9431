package recon

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkSortEntries sorts a million entries by order number and time,
// 2% of them from the evening before among the others (the bench ledger's
// shape), by SortEntries and by slices.SortFunc.
func BenchmarkSortEntries(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(3, 4))
	base := make([]Entry, n)
	for i := range base {
		dt := fmt.Sprintf("20240528%06d", i*86399/n)
		if rng.IntN(50) == 0 {
			dt = fmt.Sprintf("20240527%06d", 230000+rng.IntN(5959))
		}
		base[i] = Entry{OidPartner: "201403251000001147", Kind: KindPayment, NoOrder: fmt.Sprintf("2024052800%07d", i),
			DtOrder: dt, Amount: Fen(i + 1)}
	}
	for _, s := range []struct {
		name string
		sort func([]Entry)
	}{
		{"SortEntries", SortEntries},
		{"slices.SortFunc", func(es []Entry) { slices.SortFunc(es, CompareEntries) }},
	} {
		b.Run(s.name, func(b *testing.B) {
			es := make([]Entry, n)
			for b.Loop() {
				b.StopTimer()
				copy(es, base)
				b.StartTimer()
				s.sort(es)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
