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
	"strings"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// runFindings is what one run reported: the findings of each kind (from
// discrepancies.csv) by a key, the no_order unless told otherwise, the
// pending no_orders and the statement rows read (from summary.json).
type runFindings struct {
	ByKind  map[string][]string
	Pending []string
	Read    int
}

// readFindings reads the report folder of one run (SPEC §6); each finding
// is keyed by the values of keyCols joined by ":", by default its no_order
// ("file", "line" key a monthly run's findings by where they are).
func readFindings(dir string, keyCols ...string) (runFindings, error) {
	got := runFindings{ByKind: map[string][]string{}}
	if len(keyCols) == 0 {
		keyCols = []string{"no_order"}
	}
	f, err := os.Open(dir + "/discrepancies.csv")
	if err != nil {
		return got, err
	}
	defer f.Close()
	if err := parseDiscrepancies(f, got.ByKind, keyCols); err != nil {
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

// parseDiscrepancies adds every finding to byKind under its kind, keyed by
// the values of keyCols joined by ":".
func parseDiscrepancies(r io.Reader, byKind map[string][]string, keyCols []string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff"))))
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	kindCol := slices.Index(head, "kind")
	if kindCol < 0 {
		return fmt.Errorf("header %q lacks kind", head)
	}
	cols := make([]int, len(keyCols))
	for i, name := range keyCols {
		if cols[i] = slices.Index(head, name); cols[i] < 0 {
			return fmt.Errorf("header %q lacks %s", head, name)
		}
	}
	key := make([]string, len(cols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i, c := range cols {
			key[i] = rec[c]
		}
		byKind[rec[kindCol]] = append(byKind[rec[kindCol]], strings.Join(key, ":"))
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

// compareMonth lists every difference between the planted monthly/daily
// differences and what a monthly run reported (keyed by file and line):
// each side's lines must be exactly the planted ones, each reported once;
// any other kind of finding is a difference; and the run must have read
// every row of both sides.
func compareMonth(p monthPlanted, got runFindings) []string {
	var gotMonthly, gotDaily []string
	for _, k := range got.ByKind[string(recon.MonthlyDailyMismatch)] {
		if strings.HasPrefix(k, p.Monthly+":") {
			gotMonthly = append(gotMonthly, k)
		} else {
			gotDaily = append(gotDaily, k)
		}
	}
	var diffs []string
	diffs = append(diffs, diffSets("in the monthly file only", placeKeys(p.monthlyOnly()), gotMonthly)...)
	diffs = append(diffs, diffSets("in a daily file only", placeKeys(p.dailyOnly()), gotDaily)...)
	if twice := repeated(got.ByKind[string(recon.MonthlyDailyMismatch)]); len(twice) > 0 {
		diffs = append(diffs, fmt.Sprintf("%d lines reported more than once: %s", len(twice), firstFew(twice)))
	}
	kinds := make([]string, 0, len(got.ByKind))
	for k := range got.ByKind {
		if k != string(recon.MonthlyDailyMismatch) {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		diffs = append(diffs, fmt.Sprintf("%s: %d reported, none planted: %s", k, len(got.ByKind[k]), firstFew(got.ByKind[k])))
	}
	if want := p.MonthlyRows + p.DailyRows; got.Read != want {
		diffs = append(diffs, fmt.Sprintf("statement rows read: want %d (monthly %d + daily %d), got %d", want, p.MonthlyRows, p.DailyRows, got.Read))
	}
	return diffs
}

func placeKeys(ps []place) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.String()
	}
	return keys
}

// repeated returns the members of s that occur more than once, sorted.
func repeated(s []string) []string {
	seen := make(map[string]int, len(s))
	var out []string
	for _, k := range s {
		if seen[k]++; seen[k] == 2 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
