package parse

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lianlian-recon/reconcile/gen"
)

var bench struct {
	once sync.Once
	dir  string
	path string
	rows int
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchFile generates, once per test binary, a GBK JYMX file of a million
// rows (payments plus refund legs).
func benchFile(b *testing.B) (string, int) {
	bench.once.Do(func() {
		bench.dir, bench.err = os.MkdirTemp("", "parse-bench-")
		if bench.err != nil {
			return
		}
		var p gen.Planted
		p, bench.err = gen.Write(bench.dir, filepath.Join(bench.dir, "ledger.csv"), gen.Config{
			Merchant: merchant, Date: "20140528", Payments: 985000, RefundRate: 0.05, GBK: true, Seed: 1,
		})
		bench.path, bench.rows = filepath.Join(bench.dir, jymxName.Name), p.Rows
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.path, bench.rows
}

func BenchmarkParseGBK(b *testing.B) {
	path, rows := benchFile(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		dr := NewDetailReader(f, jymxName)
		n := 0
		for {
			_, err := dr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if n != rows || dr.Encoding() != "GB18030" {
			b.Fatalf("read %d rows as %s, want %d GB18030", n, dr.Encoding(), rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadFile reads the whole file as a run does: every row held,
// size and SHA-256.
func BenchmarkReadFile(b *testing.B) {
	path, rows := benchFile(b)
	b.ReportAllocs()
	for b.Loop() {
		f, err := ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Rows) != rows {
			b.Fatalf("read %d rows, want %d", len(f.Rows), rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
