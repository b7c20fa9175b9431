package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// keySets are the no_orders of each category the peers can see from a bare
// join: statement rows with no ledger entry, ledger entries with no
// statement row, and matched pairs whose amounts differ.
type keySets map[string][]string

var categories = []string{"missing_in_ledger", "missing_in_statement", "amount_mismatch"}

// readOurKeys reads one run's reports (SPEC §6). A ledger entry with no
// statement row is, in our report, either a missing_in_statement finding or
// pending (the generator dates those entries on the run's date, so they are
// pending): both count as the peers' missing_in_statement.
func readOurKeys(dir string) (keySets, error) {
	k := keySets{}
	b, err := os.ReadFile(filepath.Join(dir, "discrepancies.csv"))
	if err != nil {
		return nil, err
	}
	recs, err := readCSV(bytes.TrimPrefix(b, []byte("\ufeff")))
	if err != nil {
		return nil, fmt.Errorf("%s/discrepancies.csv: %w", dir, err)
	}
	for _, r := range recs {
		if slices.Contains(categories, r["kind"]) {
			k[r["kind"]] = append(k[r["kind"]], r["no_order"])
		}
	}
	b, err = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var sum struct {
		Pending []struct {
			NoOrder string `json:"no_order"`
		} `json:"pending"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, fmt.Errorf("%s/summary.json: %w", dir, err)
	}
	for _, p := range sum.Pending {
		k["missing_in_statement"] = append(k["missing_in_statement"], p.NoOrder)
	}
	return k, nil
}

// readPeerKeys reads a peer's output CSV (header finding,kind,no_order,…).
func readPeerKeys(path string) (keySets, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := readCSV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k := keySets{}
	for _, r := range recs {
		k[r["finding"]] = append(k[r["finding"]], r["no_order"])
	}
	return k, nil
}

// readCSV reads a CSV with a header into one map per record.
func readCSV(b []byte) ([]map[string]string, error) {
	cr := csv.NewReader(bytes.NewReader(b))
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var out []map[string]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(head))
		for i, h := range head {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
}

// compareKeys lists, per category, the keys one side has and the other not;
// a category the peer reports that we do not know is a difference too.
func compareKeys(ours, peer keySets) []string {
	var diffs []string
	for c := range peer {
		if !slices.Contains(categories, c) {
			diffs = append(diffs, fmt.Sprintf("peer reports unknown category %q", c))
		}
	}
	for _, c := range categories {
		if only := minus(ours[c], peer[c]); len(only) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: %d only in ours: %s", c, len(only), few(only)))
		}
		if only := minus(peer[c], ours[c]); len(only) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: %d only in the peer's: %s", c, len(only), few(only)))
		}
	}
	return diffs
}

func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			in[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func few(s []string) string {
	if len(s) > 5 {
		return fmt.Sprintf("%q …", s[:5])
	}
	return fmt.Sprintf("%q", s)
}
