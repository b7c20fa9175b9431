package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/gen"
)

func TestCompare(t *testing.T) {
	planted := gen.Planted{
		MissingInLedger:    []string{"A1", "A2"},
		AmountMismatch:     []string{"B1"},
		StatusMismatch:     []string{"C1"},
		FeeMismatch:        []string{"D1"},
		MissingInStatement: []string{"M1"},
		Rows:               10,
	}
	exact := func() runFindings {
		return runFindings{ByKind: map[string][]string{
			"missing_in_ledger": {"A2", "A1"}, "amount_mismatch": {"B1"},
			"status_mismatch": {"C1"}, "fee_mismatch": {"D1"},
		}, Pending: []string{"M1"}, Read: 10}
	}
	tests := []struct {
		name   string
		change func(*runFindings)
		want   []string // substrings, one per expected difference, in order
	}{
		{"exact, any order", func(*runFindings) {}, nil},
		{"one not reported", func(g *runFindings) { g.ByKind["missing_in_ledger"] = []string{"A1"} },
			[]string{`missing_in_ledger: 1 planted but not reported: ["A2"]`}},
		{"extra kind", func(g *runFindings) { g.ByKind["duplicate_in_statement"] = []string{"X"} },
			[]string{`duplicate_in_statement: 1 reported but not planted: ["X"]`}},
		{"reported under the wrong kind", func(g *runFindings) {
			g.ByKind["amount_mismatch"] = nil
			g.ByKind["fee_mismatch"] = []string{"D1", "B1"}
		}, []string{`amount_mismatch: 1 planted but not reported: ["B1"]`, `fee_mismatch: 1 reported but not planted: ["B1"]`}},
		{"pending missing and rows short", func(g *runFindings) { g.Pending = nil; g.Read = 9 },
			[]string{`pending: 1 planted but not reported: ["M1"]`, "statement rows read: want 10, got 9"}},
		{"missing_in_statement reported instead of pending", func(g *runFindings) {
			g.Pending = nil
			g.ByKind["missing_in_statement"] = []string{"M1"}
		}, []string{`missing_in_statement: 1 reported but not planted`, `pending: 1 planted but not reported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exact()
			tt.change(&got)
			diffs := compare(planted, got)
			if len(diffs) != len(tt.want) {
				t.Fatalf("got %d differences %q, want %d", len(diffs), diffs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(diffs[i], w) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], w)
				}
			}
		})
	}
}

func TestReadFindings(t *testing.T) {
	dir := t.TempDir()
	csv := "\ufeffsettle_date,kind,no_order,oid_paybill,statement_amount,ledger_amount,difference,file,line,detail\n" +
		"20240528,amount_mismatch,B1,P1,1.00,2.00,-1.00,JYMX.txt,3,\"statement 1.00, ledger 2.00\"\n" +
		"20240528,missing_in_ledger,A1,P2,5.00,,,JYMX.txt,4,\n"
	js := `{"statement":{"read":7},"pending":[{"kind":"payment","no_order":"M1"},{"kind":"payment","no_order":"M2"}]}`
	if err := os.WriteFile(filepath.Join(dir, "discrepancies.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readFindings(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := runFindings{
		ByKind:  map[string][]string{"amount_mismatch": {"B1"}, "missing_in_ledger": {"A1"}},
		Pending: []string{"M1", "M2"}, Read: 7,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestMedian(t *testing.T) {
	m := func(w, c, r int64) measurement {
		return measurement{Wall: time.Duration(w), CPU: time.Duration(c), MaxRSS: r}
	}
	tests := []struct {
		in   []measurement
		want measurement
	}{
		{[]measurement{m(5, 1, 9)}, m(5, 1, 9)},
		{[]measurement{m(3, 9, 1), m(1, 8, 3), m(2, 7, 2)}, m(2, 8, 2)}, // each field on its own
		{[]measurement{m(4, 1, 10), m(2, 3, 20)}, m(3, 2, 15)},
	}
	for _, tt := range tests {
		if got := median(slices.Clone(tt.in)); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCacheKey(t *testing.T) {
	base := gen.Config{Merchant: "201403251000001147", Date: "20240528", Payments: 1000000, RefundRate: 0.02, GBK: true, Seed: 1, LedgerFindings: 300}
	keys := map[string]string{cacheKey(base, "h1"): "base"}
	for name, change := range map[string]func(*gen.Config){
		"payments": func(c *gen.Config) { c.Payments++ },
		"refunds":  func(c *gen.Config) { c.RefundRate = 0.05 },
		"seed":     func(c *gen.Config) { c.Seed = 2 },
		"findings": func(c *gen.Config) { c.LedgerFindings = 5 },
		"date":     func(c *gen.Config) { c.Date = "20240529" },
		"utf8":     func(c *gen.Config) { c.GBK = false },
	} {
		c := base
		change(&c)
		k := cacheKey(c, "h1")
		if prev, ok := keys[k]; ok {
			t.Errorf("%s: key %q same as %s's", name, k, prev)
		}
		keys[k] = name
	}
	if cacheKey(base, "h2") == cacheKey(base, "h1") {
		t.Error("a changed generator hash keeps the key")
	}
}
