package parse

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// benchData is a generated file of a million rows (payments plus refund
// legs), made once per test binary for each encoding.
type benchData struct {
	once sync.Once
	dir  string
	path string
	rows int
	err  error
}

var bench, benchUTF8 benchData

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*benchData{&bench, &benchUTF8} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

func (d *benchData) file(b *testing.B, gbk bool) (string, int) {
	d.once.Do(func() {
		d.dir, d.err = os.MkdirTemp("", "parse-bench-")
		if d.err != nil {
			return
		}
		var p gen.Planted
		p, d.err = gen.Write(d.dir, filepath.Join(d.dir, "ledger.csv"), gen.Config{
			Merchant: merchant, Date: "20140528", Payments: 985000, RefundRate: 0.05, GBK: gbk, Seed: 1,
		})
		d.path, d.rows = filepath.Join(d.dir, jymxName.Name), p.Rows
	})
	if d.err != nil {
		b.Fatal(d.err)
	}
	return d.path, d.rows
}

// benchFile is the GBK file.
func benchFile(b *testing.B) (string, int) { return bench.file(b, true) }

func BenchmarkParseGBK(b *testing.B) {
	path, rows := benchFile(b)
	benchDetail(b, path, rows, recon.EncodingGB18030, false)
}

func BenchmarkParseUTF8(b *testing.B) {
	path, rows := benchUTF8.file(b, false)
	benchDetail(b, path, rows, recon.EncodingUTF8, false)
}

// BenchmarkParseGBKLean reads the GBK file as ScanFileLean does: lean rows.
func BenchmarkParseGBKLean(b *testing.B) {
	path, rows := benchFile(b)
	benchDetail(b, path, rows, recon.EncodingGB18030, true)
}

func BenchmarkParseUTF8Lean(b *testing.B) {
	path, rows := benchUTF8.file(b, false)
	benchDetail(b, path, rows, recon.EncodingUTF8, true)
}

// benchDetail streams the file at path with a DetailReader, in lean mode
// if lean is set.
func benchDetail(b *testing.B, path string, rows int, enc string, lean bool) {
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
		dr.lean = lean
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
		if n != rows || dr.Encoding() != enc {
			b.Fatalf("read %d rows as %s, want %d %s", n, dr.Encoding(), rows, enc)
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
