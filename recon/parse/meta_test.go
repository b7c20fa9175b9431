package parse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// Rows that share OidPartner, BusiPartner and SettleDate share one
// RowMeta, whichever path read them (fast, slow, lean): a million rows
// then cost one each, not a million.
func TestRowsShareMeta(t *testing.T) {
	var lines []string
	for i := range 300 {
		switch i % 3 {
		case 0:
			lines = append(lines, line()) // fast
		case 1:
			lines = append(lines, line(3, "109001")) // fast, another busi_partner
		case 2:
			lines = append(lines, line(0, "订单"+strings.Repeat("1", i%7))) // not ASCII: slow, lean too
		}
	}
	text := strings.Join(lines, "\n") + "\n"
	check := func(how string, rows []recon.Row) {
		t.Helper()
		if len(rows) != len(lines) {
			t.Fatalf("%s: %d rows of %d lines", how, len(rows), len(lines))
		}
		metas := map[recon.RowMeta]*recon.RowMeta{}
		for _, r := range rows {
			if r.RowMeta == nil || r.File != jymxName.Name {
				t.Fatalf("%s: line %d has meta %+v", how, r.Line, r.RowMeta)
			}
			if p, ok := metas[*r.RowMeta]; ok && p != r.RowMeta {
				t.Fatalf("%s: line %d has a RowMeta of its own equal to another's: %+v", how, r.Line, *r.RowMeta)
			}
			metas[*r.RowMeta] = r.RowMeta
		}
		if len(metas) != 2 {
			t.Errorf("%s: %d distinct metas, want 2: %v", how, len(metas), metas)
		}
	}
	res := readAll(t, jymxName, strings.NewReader(text), 0)
	if res.fatal != nil || len(res.errs) > 0 {
		t.Fatal(res.fatal, res.errs)
	}
	check("read", res.rows)

	path := filepath.Join(t.TempDir(), jymxName.Name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var lean []recon.Row
	if _, err := ScanFileLean(path, func(r *recon.Row) error { lean = append(lean, *r); return nil }, func() error { lean = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	check("lean", lean)
}
