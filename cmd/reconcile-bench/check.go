package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/lianlian-recon/reconcile/gen"
)

// runFindings is what one run reported: no_orders per finding kind (from
// discrepancies.csv), the pending no_orders and the statement rows read
// (from summary.json).
type runFindings struct {
	ByKind  map[string][]string
	Pending []string
	Read    int
}

// readFindings reads the report folder of one run (SPEC §6).
func readFindings(dir string) (runFindings, error) {
	got := runFindings{ByKind: map[string][]string{}}
	f, err := os.Open(dir + "/discrepancies.csv")
	if err != nil {
		return got, err
	}
	defer f.Close()
	if err := parseDiscrepancies(f, got.ByKind); err != nil {
		return got, fmt.Errorf("%s: %w", f.Name(), err)
	}
	b, err := os.ReadFile(dir + "/summary.json")
	if err != nil {
		return got, err
	}
	var sum struct {
		Pending []struct {
			NoOrder string `json:"no_order"`
		} `json:"pending"`
		Statement struct {
			Read int `json:"read"`
		} `json:"statement"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return got, fmt.Errorf("%s/summary.json: %w", dir, err)
	}
	for _, p := range sum.Pending {
		got.Pending = append(got.Pending, p.NoOrder)
	}
	got.Read = sum.Statement.Read
	return got, nil
}

// parseDiscrepancies adds the (kind, no_order) of every finding to byKind.
func parseDiscrepancies(r io.Reader, byKind map[string][]string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	kindCol, noCol := slices.Index(head, "kind"), slices.Index(head, "no_order")
	if kindCol < 0 || noCol < 0 {
		return fmt.Errorf("header %q lacks kind or no_order", head)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		byKind[rec[kindCol]] = append(byKind[rec[kindCol]], rec[noCol])
	}
}

// compare lists every difference between what the generator planted and
// what the run reported; none means the run is correct. Kinds the generator
// does not plant must not be reported at all.
func compare(p gen.Planted, got runFindings) []string {
	var diffs []string
	want := map[string][]string{
		"missing_in_ledger": p.MissingInLedger,
		"amount_mismatch":   p.AmountMismatch,
		"status_mismatch":   p.StatusMismatch,
		"fee_mismatch":      p.FeeMismatch,
	}
	kinds := make([]string, 0, len(want)+len(got.ByKind))
	for k := range want {
		kinds = append(kinds, k)
	}
	for k := range got.ByKind {
		if _, ok := want[k]; !ok {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		diffs = append(diffs, diffSets(k, want[k], got.ByKind[k])...)
	}
	// missing_in_statement entries are dated on the run's date: pending.
	diffs = append(diffs, diffSets("pending", p.MissingInStatement, got.Pending)...)
	if got.Read != p.Rows {
		diffs = append(diffs, fmt.Sprintf("statement rows read: want %d, got %d", p.Rows, got.Read))
	}
	return diffs
}

// diffSets says which keys are missing from got and which are extra, the
// first few of each.
func diffSets(what string, want, got []string) []string {
	missing, extra := setMinus(want, got), setMinus(got, want)
	var diffs []string
	if len(missing) > 0 {
		diffs = append(diffs, fmt.Sprintf("%s: %d planted but not reported: %s", what, len(missing), firstFew(missing)))
	}
	if len(extra) > 0 {
		diffs = append(diffs, fmt.Sprintf("%s: %d reported but not planted: %s", what, len(extra), firstFew(extra)))
	}
	return diffs
}

// setMinus returns the distinct members of a that are not in b, sorted.
func setMinus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
			in[s] = true
		}
	}
	sort.Strings(out)
	return out
}

func firstFew(s []string) string {
	if len(s) > 5 {
		return fmt.Sprintf("%q …", s[:5])
	}
	return fmt.Sprintf("%q", s)
}
