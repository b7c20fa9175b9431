package ledger

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/lianlian-recon/reconcile/gen"
)

// TestMain removes the generated benchmark ledger.
func TestMain(m *testing.M) {
	code := m.Run()
	if genLedger.dir != "" {
		os.RemoveAll(genLedger.dir)
	}
	os.Exit(code)
}

// genLedger is a ledger of about a million entries written by gen, made
// once for every benchmark that needs it.
var genLedger struct {
	once    sync.Once
	dir     string
	path    string
	entries int
	err     error
}

func generatedLedger(b *testing.B) (string, int) {
	g := &genLedger
	g.once.Do(func() {
		if g.dir, g.err = os.MkdirTemp("", "ledger-bench-"); g.err != nil {
			return
		}
		g.path = filepath.Join(g.dir, "ledger.csv")
		var p gen.Planted
		p, g.err = gen.Write(g.dir, g.path, gen.Config{
			Merchant: "201403251000001147", Date: "20140528", Payments: 985000, RefundRate: 0.05, Seed: 1,
		})
		g.entries = p.Entries
	})
	if g.err != nil {
		b.Fatal(g.err)
	}
	return g.path, g.entries
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkReadFile reads the generated ledger as `reconcile run` does and
// reports entries per second and the heap its result keeps alive, per
// entry: what a run holds for the whole of matching.
func BenchmarkReadFile(b *testing.B) {
	path, n := generatedLedger(b)
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	b.ReportAllocs()
	for b.Loop() {
		entries, rejects, err := ReadFile(path)
		if err != nil || len(rejects) > 0 || len(entries) != n {
			b.Fatalf("%d entries (want %d), %d rejects, err %v", len(entries), n, len(rejects), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")

	b.StopTimer()
	before := liveHeap()
	entries, _, err := ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	live := liveHeap() - before
	runtime.KeepAlive(entries)
	b.ReportMetric(float64(live)/float64(n), "B/entry-live")
	b.ReportMetric(float64(live)/(1<<20), "MiB-live")
}
