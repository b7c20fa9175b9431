// Command gen-statements writes generated LianLian statement files and a
// matching ledger CSV for one settle date (see package gen).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lianlian-recon/reconcile/gen"
)

func main() {
	var cfg gen.Config
	dir := flag.String("dir", ".", "folder for the statement files")
	ledger := flag.String("ledger", "", "ledger CSV to write (default DIR/ledger_DATE.csv)")
	flag.StringVar(&cfg.Merchant, "merchant", "201403251000001147", "18-digit merchant number")
	flag.StringVar(&cfg.Date, "date", "20140528", "settle date yyyymmdd")
	flag.IntVar(&cfg.Payments, "payments", 1000, "number of payments")
	flag.Float64Var(&cfg.RefundRate, "refund-rate", 0.05, "fraction of payments refunded")
	flag.IntVar(&cfg.Payouts, "payouts", 10, "number of FKMX rows (0: no FKMX file)")
	flag.BoolVar(&cfg.GBK, "gbk", false, "encode the statement files in GBK")
	flag.Int64Var(&cfg.Seed, "seed", 1, "random seed")
	flag.IntVar(&cfg.LedgerFindings, "findings", 0, "number of planted ledger discrepancies")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "gen-statements: error: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	if *ledger == "" {
		*ledger = filepath.Join(*dir, "ledger_"+cfg.Date+".csv")
	}
	p, err := gen.Write(*dir, *ledger, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-statements: error:", err)
		os.Exit(1)
	}
	for _, f := range p.Files {
		fmt.Println(filepath.Join(*dir, f))
	}
	fmt.Println(*ledger)
	fmt.Printf("rows %d, ledger entries %d, refundable later %d\n", p.Rows, p.Entries, len(p.Refundable))
	fmt.Printf("planted: missing_in_ledger %d, missing_in_statement %d, amount_mismatch %d, status_mismatch %d, fee_mismatch %d\n",
		len(p.MissingInLedger), len(p.MissingInStatement), len(p.AmountMismatch), len(p.StatusMismatch), len(p.FeeMismatch))
}
