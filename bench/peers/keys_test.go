package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCompareKeys(t *testing.T) {
	ours := keySets{
		"missing_in_ledger":    {"A1", "A2"},
		"missing_in_statement": {"M1"},
		"amount_mismatch":      {"B1"},
	}
	tests := []struct {
		name string
		peer keySets
		want []string // substrings, one per difference, in order
	}{
		{"same, other order", keySets{"missing_in_ledger": {"A2", "A1"}, "missing_in_statement": {"M1"}, "amount_mismatch": {"B1"}}, nil},
		{"peer misses one, has another", keySets{"missing_in_ledger": {"A1", "A3"}, "missing_in_statement": {"M1"}, "amount_mismatch": {"B1"}},
			[]string{`missing_in_ledger: 1 only in ours: ["A2"]`, `missing_in_ledger: 1 only in the peer's: ["A3"]`}},
		{"peer finds nothing", keySets{},
			[]string{"missing_in_ledger: 2 only in ours", "missing_in_statement: 1 only in ours", "amount_mismatch: 1 only in ours"}},
		{"unknown category", keySets{"missing_in_ledger": {"A1", "A2"}, "missing_in_statement": {"M1"}, "amount_mismatch": {"B1"}, "oops": {"X"}},
			[]string{`unknown category "oops"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs := compareKeys(ours, tt.peer)
			if len(diffs) != len(tt.want) {
				t.Fatalf("got %q, want %d differences", diffs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(diffs[i], w) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], w)
				}
			}
		})
	}
}

// TestReadOurKeys: pending entries count as the peers' missing_in_statement,
// findings the peers cannot see (fee, status) are left out.
func TestReadOurKeys(t *testing.T) {
	dir := t.TempDir()
	csv := "\ufeffsettle_date,kind,no_order,oid_paybill,statement_amount,ledger_amount,difference,file,line,detail\n" +
		"20240528,amount_mismatch,B1,,1.00,2.00,-1.00,J.txt,3,\"statement 1.00, ledger 2.00\"\n" +
		"20240528,fee_mismatch,F1,,1.00,1.00,,J.txt,4,\n" +
		"20240528,missing_in_statement,M0,,,3.00,,,,\n"
	js := `{"pending":[{"no_order":"M1"}]}`
	if err := os.WriteFile(filepath.Join(dir, "discrepancies.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readOurKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := keySets{"amount_mismatch": {"B1"}, "missing_in_statement": {"M0", "M1"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
