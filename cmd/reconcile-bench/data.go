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
// the folder has no planted.json. planted.json is written last, so an
// interrupted generation is redone rather than half used.
func loadOrGenerate(root string, cfg gen.Config, genHash string) (dataset, error) {
	d := dataset{Dir: filepath.Join(root, cacheKey(cfg, genHash))}
	d.Source = filepath.Join(d.Dir, "statements")
	d.Ledger = filepath.Join(d.Dir, "ledger.csv")
	d.JYMX = filepath.Join(d.Source, "JYMX_"+cfg.Merchant+"_"+cfg.Date+".txt")
	plantedPath := filepath.Join(d.Dir, "planted.json")
	if b, err := os.ReadFile(plantedPath); err == nil {
		if err := json.Unmarshal(b, &d.Planted); err != nil {
			return d, fmt.Errorf("read %s: %w", plantedPath, err)
		}
		d.Cached = true
		return d, nil
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		return d, err
	}
	if err := os.MkdirAll(d.Source, 0o755); err != nil {
		return d, err
	}
	p, err := gen.Write(d.Source, d.Ledger, cfg)
	if err != nil {
		return d, fmt.Errorf("generate: %w", err)
	}
	d.Planted = p
	b, err := json.Marshal(p)
	if err != nil {
		return d, err
	}
	if err := os.WriteFile(plantedPath, b, 0o644); err != nil {
		return d, err
	}
	return d, nil
}
