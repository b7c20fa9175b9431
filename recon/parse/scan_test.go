package parse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// scanAll is ScanFile collecting rows, counting restarts.
func scanAll(t *testing.T, path string) (*recon.StatementFile, []recon.Row, int) {
	t.Helper()
	var rows []recon.Row
	restarts := 0
	sf, err := ScanFile(path,
		func(r *recon.Row) error { rows = append(rows, keep(r)); return nil },
		func() error { restarts++; rows = nil; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return sf, rows, restarts
}

// keep copies what ScanFile hands fn and fn may not keep: the row and its
// RowText.
func keep(r *recon.Row) recon.Row {
	row := *r
	if r.RowText != nil {
		t := *r.RowText
		row.RowText = &t
	}
	return row
}

// TestScanFileEqualsReadFile: ScanFile hands over exactly the rows ReadFile
// keeps, with the same file facts, for a plain file and for one that is
// read again as GB18030 (restart called once, rows from the first again).
func TestScanFileEqualsReadFile(t *testing.T) {
	var plain bytes.Buffer
	for i := range 50 {
		plain.WriteString(line(0, "order"+string(rune('a'+i%26)), 13, "彩票连连支付充值") + "\n")
	}
	plain.WriteString("not,a,row\n")
	var late bytes.Buffer
	for late.Len() < 100<<10 {
		late.WriteString(line() + "\n")
	}
	late.Write(gbk(t, line(0, "late", 13, "国标编码")+"\n"))

	for _, tc := range []struct {
		name     string
		data     []byte
		restarts int
	}{
		{"plain", plain.Bytes(), 0},
		{"late GB18030", late.Bytes(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), jymxName.Name)
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			want, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sf, rows, restarts := scanAll(t, path)
			if restarts != tc.restarts {
				t.Errorf("restart called %d times, want %d", restarts, tc.restarts)
			}
			if sf.Rows != nil {
				t.Errorf("ScanFile kept %d rows", len(sf.Rows))
			}
			if !reflect.DeepEqual(rows, want.Rows) {
				t.Errorf("ScanFile rows differ from ReadFile's (%d vs %d)", len(rows), len(want.Rows))
			}
			sf.Rows = want.Rows
			if !reflect.DeepEqual(sf, want) {
				t.Errorf("file facts differ:\n got %+v\nwant %+v", sf, want)
			}
		})
	}
}

// TestScanFileStops: an error of fn or restart ends the scan and comes back
// as it is.
func TestScanFileStops(t *testing.T) {
	var b bytes.Buffer
	for range 10 {
		b.WriteString(line() + "\n")
	}
	path := filepath.Join(t.TempDir(), jymxName.Name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	_, err := ScanFile(path, func(*recon.Row) error { calls++; return stop }, func() error { return nil })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want stop after 1", err, calls)
	}
}

// TestScanFileAllocatesPerBatchNotPerRow: a scan hands every row over in
// one Row of its own, not one allocated per line (fn's pointer escapes, so
// a Row per line was 80 bytes of garbage each, 80 MB a million-row file).
// What it does allocate (values met first, RowText and string chunks) is
// shared by many rows.
func TestScanFileAllocatesPerBatchNotPerRow(t *testing.T) {
	dir := t.TempDir()
	p, err := gen.Write(dir, filepath.Join(dir, "ledger.csv"), gen.Config{
		Merchant: merchant, Date: "20140528", Payments: 3000, RefundRate: 0.05, GBK: true, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, jymxName.Name)
	for _, lean := range []bool{true, false} {
		rows := 0
		allocs := testing.AllocsPerRun(2, func() {
			rows = 0
			if _, err := scanFile(path, lean, !lean, func(*recon.Row) error { rows++; return nil }, func() error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
		if rows != p.Rows {
			t.Fatalf("lean %v: %d rows handed over, %d written", lean, rows, p.Rows)
		}
		perRow := allocs / float64(rows)
		t.Logf("lean %v: %.3f allocations per row", lean, perRow)
		if perRow > 0.5 {
			t.Errorf("lean %v: %.2f allocations per row (%v for %d rows)", lean, perRow, allocs, rows)
		}
	}
}
