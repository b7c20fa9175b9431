package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lianlian-recon/reconcile/gen"
)

// dataset is one generated day: statement folder, ledger CSV, and what the
// generator planted.
type dataset struct {
	Dir     string // the cache folder for this configuration
	Source  string // statement files (--source)
	Ledger  string // ledger CSV (--ledger)
	JYMX    string // the JYMX file the floors read
	Planted gen.Planted
	Cached  bool // true when an earlier invocation generated it
}

// cacheKey names the folder of a generator configuration; genHash (a hash
// of gen/gen.go, from the Makefile) makes a changed generator regenerate.
func cacheKey(cfg gen.Config, genHash string) string {
	k := fmt.Sprintf("%s-%s-p%d-r%s-f%d-s%d-o%d-gbk%t", cfg.Merchant, cfg.Date, cfg.Payments,
		strconv.FormatFloat(cfg.RefundRate, 'g', -1, 64), cfg.LedgerFindings, cfg.Seed, cfg.Payouts, cfg.GBK)
	if genHash != "" {
		k += "-" + genHash
	}
	return k
}

// loadOrGenerate returns the dataset for cfg under root, generating it when
// the folder has no planted.json (see cached).
func loadOrGenerate(root string, cfg gen.Config, genHash string) (dataset, error) {
	d := dataset{Dir: filepath.Join(root, cacheKey(cfg, genHash))}
	d.Source = filepath.Join(d.Dir, "statements")
	d.Ledger = filepath.Join(d.Dir, "ledger.csv")
	d.JYMX = filepath.Join(d.Source, "JYMX_"+cfg.Merchant+"_"+cfg.Date+".txt")
	var err error
	d.Planted, d.Cached, err = cached(d.Dir, d.Source, func() (gen.Planted, error) {
		p, err := gen.Write(d.Source, d.Ledger, cfg)
		if err != nil {
			return p, fmt.Errorf("generate: %w", err)
		}
		return p, nil
	})
	return d, err
}

// cached returns what generated dir last time, from dir/planted.json, or
// empties dir, makes source in it, runs generate and keeps what it says in
// planted.json. planted.json is written last, so an interrupted generation
// is redone rather than half used.
func cached[P any](dir, source string, generate func() (P, error)) (p P, ok bool, err error) {
	plantedPath := filepath.Join(dir, "planted.json")
	if b, err := os.ReadFile(plantedPath); err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			return p, false, fmt.Errorf("read %s: %w", plantedPath, err)
		}
		return p, true, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return p, false, err
	}
	if err := os.MkdirAll(source, 0o755); err != nil {
		return p, false, err
	}
	if p, err = generate(); err != nil {
		return p, false, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, false, err
	}
	return p, false, os.WriteFile(plantedPath, b, 0o644)
}
