package gen_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/parse"
)

const merchant = "201403251000001147"

type ledgerEntry struct {
	kind, noOrder, dtOrder, amount, status, orig, paybill, partner, fee string
}

func readLedger(t *testing.T, path string) map[string]ledgerEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kind", "no_order", "dt_order", "amount", "status", "orig_no_order", "oid_paybill", "oid_partner", "fee"}
	if !slices.Equal(recs[0], want) {
		t.Fatalf("header %v", recs[0])
	}
	m := make(map[string]ledgerEntry)
	for _, r := range recs[1:] {
		e := ledgerEntry{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]}
		key := e.kind + "/" + e.noOrder
		if _, dup := m[key]; dup {
			t.Fatalf("duplicate ledger entry %s", key)
		}
		m[key] = e
	}
	return m
}

// summarise is SPEC §2.5's reading, written out again independently.
func summarise(rows []recon.Row) recon.Summary {
	var s recon.Summary
	for _, r := range rows {
		s.TotalCount++
		if r.Status == 0 {
			s.SuccessCount++
			s.SuccessAmount += r.Amount
		}
		if r.Amount < 0 {
			s.RefundCount++
			s.RefundAmount += r.Amount
		}
		if r.Status == 5 && r.Amount > 0 {
			s.RevokeCount++
			s.RevokeAmount -= r.Amount
		}
	}
	return s
}

func TestWrite(t *testing.T) {
	for _, gbk := range []bool{false, true} {
		name := "UTF-8"
		if gbk {
			name = "GBK"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ledgerPath := filepath.Join(dir, "ledger.csv")
			cfg := gen.Config{Merchant: merchant, Date: "20240301", Payments: 3000, RefundRate: 0.1, Payouts: 40, GBK: gbk, Seed: 7, LedgerFindings: 10}
			p, err := gen.Write(dir, ledgerPath, cfg)
			if err != nil {
				t.Fatal(err)
			}
			wantEnc := recon.EncodingUTF8
			if gbk {
				wantEnc = recon.EncodingGB18030
			}
			var rows []recon.Row
			var jymx []recon.Row
			for _, kind := range []string{"JYMX", "FKMX"} {
				sf, err := parse.ReadFile(filepath.Join(dir, kind+"_"+merchant+"_20240301.txt"))
				if err != nil {
					t.Fatal(err)
				}
				if len(sf.Malformed) != 0 || sf.Encoding != wantEnc {
					t.Fatalf("%s: encoding %s malformed %v", kind, sf.Encoding, sf.Malformed[:min(3, len(sf.Malformed))])
				}
				for _, r := range sf.Rows {
					if r.OidPartner != merchant || r.SettleDate != "20240301" || len(r.Warnings) != 0 {
						t.Fatalf("row %+v", r)
					}
				}
				if kind == "JYMX" {
					jymx = sf.Rows
				} else if len(sf.Rows) != cfg.Payouts {
					t.Errorf("FKMX rows %d, want %d", len(sf.Rows), cfg.Payouts)
				}
				rows = append(rows, sf.Rows...)
			}
			if len(rows) != p.Rows {
				t.Errorf("rows %d, Planted.Rows %d", len(rows), p.Rows)
			}
			sf, err := parse.ReadFile(filepath.Join(dir, "JYMXSUM_"+merchant+"_20240301.txt"))
			if err != nil || sf.Summary == nil {
				t.Fatalf("summary: %v %v", err, sf.Malformed)
			}
			if got := summarise(jymx); *sf.Summary != got || p.Summary != got {
				t.Errorf("summary file %+v, planted %+v, computed %+v", *sf.Summary, p.Summary, got)
			}
			if sf.Summary.RevokeCount == 0 || sf.Summary.RefundCount == 0 {
				t.Errorf("no revokes or refunds: %+v", *sf.Summary)
			}

			// Revoke pairs: a status-5 payment and its negative leg share
			// the paybill, the leg no larger than the payment.
			payments := map[string]recon.Row{}
			for _, r := range jymx {
				if r.Kind == recon.KindPayment {
					payments[r.OidPaybill] = r
				}
			}
			for _, r := range jymx {
				if r.Kind != recon.KindRefund {
					continue
				}
				pay, ok := payments[r.OidPaybill]
				if !ok || pay.Status != 5 || r.Status != 5 || -r.Amount > pay.Amount || r.Fee > 0 {
					t.Fatalf("refund leg %+v, payment %+v", r, pay)
				}
			}

			// The ledger mirrors the rows but for what was planted.
			ledger := readLedger(t, ledgerPath)
			if len(ledger) != p.Entries {
				t.Errorf("ledger entries %d, Planted.Entries %d", len(ledger), p.Entries)
			}
			planted := func(list []string, no string) bool { return slices.Contains(list, no) }
			for _, r := range rows {
				e, ok := ledger[r.Kind.String()+"/"+r.NoOrder]
				if planted(p.MissingInLedger, r.NoOrder) {
					if ok {
						t.Errorf("%s planted missing but in the ledger", r.NoOrder)
					}
					continue
				}
				if !ok {
					t.Fatalf("row %s/%s not in the ledger", r.Kind, r.NoOrder)
				}
				amount, err := recon.ParseYuan(e.amount)
				if err != nil {
					t.Fatal(err)
				}
				if (amount != r.Amount.Abs()) != planted(p.AmountMismatch, r.NoOrder) {
					t.Errorf("%s: ledger amount %s, row %s", r.NoOrder, e.amount, r.Amount)
				}
				if (e.status != "SUCCESS") != planted(p.StatusMismatch, r.NoOrder) {
					t.Errorf("%s: ledger status %s", r.NoOrder, e.status)
				}
				if r.Kind == recon.KindRefund {
					if e.orig == "" || e.fee != "" {
						t.Errorf("refund entry %+v", e)
					}
					continue
				}
				fee, err := recon.ParseYuan(e.fee)
				if err != nil {
					t.Fatal(err)
				}
				if (fee != r.Fee) != planted(p.FeeMismatch, r.NoOrder) {
					t.Errorf("%s: ledger fee %s, row %s", r.NoOrder, e.fee, r.Fee)
				}
				if e.dtOrder[:8] != r.DtOrder[:8] || e.dtOrder[8:] != r.DtOrder[9:11]+r.DtOrder[12:14]+r.DtOrder[15:17] {
					t.Errorf("dt_order %s vs %s", e.dtOrder, r.DtOrder)
				}
			}
			for _, no := range p.MissingInStatement {
				if _, ok := ledger["payment/"+no]; !ok {
					t.Errorf("%s planted missing in statement, not in the ledger", no)
				}
			}
			counts := []int{len(p.MissingInLedger), len(p.MissingInStatement), len(p.AmountMismatch), len(p.StatusMismatch), len(p.FeeMismatch)}
			if !slices.Equal(counts, []int{2, 2, 2, 2, 2}) {
				t.Errorf("planted %v, want 2 of each", counts)
			}
		})
	}
}

// TestWriteDeterministic: the same seed writes the same bytes.
func TestWriteDeterministic(t *testing.T) {
	write := func(seed int64) []byte {
		dir := t.TempDir()
		_, err := gen.Write(dir, filepath.Join(dir, "l.csv"), gen.Config{Merchant: merchant, Date: "20240301", Payments: 500, RefundRate: 0.2, Payouts: 5, Seed: seed, LedgerFindings: 5})
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, n := range []string{"JYMX_" + merchant + "_20240301.txt", "FKMX_" + merchant + "_20240301.txt", "l.csv"} {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if !bytes.Equal(write(1), write(1)) {
		t.Error("same seed, different files")
	}
	if bytes.Equal(write(1), write(2)) {
		t.Error("different seeds, same files")
	}
}

// TestWriteCrossDay: refunds of one day's payments written on the next.
func TestWriteCrossDay(t *testing.T) {
	dir := t.TempDir()
	p1, err := gen.Write(dir, filepath.Join(dir, "l1.csv"), gen.Config{Merchant: merchant, Date: "20240229", Payments: 1000, RefundRate: 0.2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Refundable) == 0 {
		t.Fatal("nothing left to refund")
	}
	if _, err := os.Stat(filepath.Join(dir, "FKMX_"+merchant+"_20240229.txt")); !os.IsNotExist(err) {
		t.Errorf("FKMX file on a day without payouts: %v", err)
	}
	p2, err := gen.Write(dir, filepath.Join(dir, "l2.csv"), gen.Config{Merchant: merchant, Date: "20240301", Payments: 10, Seed: 2, RefundOf: p1.Refundable})
	if err != nil {
		t.Fatal(err)
	}
	day1, err := parse.ReadFile(filepath.Join(dir, "JYMX_"+merchant+"_20240229.txt"))
	if err != nil {
		t.Fatal(err)
	}
	day2, err := parse.ReadFile(filepath.Join(dir, "JYMX_"+merchant+"_20240301.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]recon.Row{}
	for _, r := range day1.Rows {
		byKey[r.OidPaybill], byKey[r.NoOrder] = r, r
	}
	legs, byOrder := 0, 0
	for _, r := range day2.Rows {
		if r.Kind != recon.KindRefund {
			continue
		}
		legs++
		pay, ok := byKey[r.OidPaybill]
		if !ok || pay.Status != 0 || pay.Amount != -r.Amount || r.Status != 0 {
			t.Fatalf("leg %+v pairs with %+v", r, pay)
		}
		if r.OidPaybill == pay.NoOrder {
			byOrder++
		}
	}
	if legs != len(p1.Refundable) || p2.Rows != 10+legs || byOrder == 0 {
		t.Errorf("legs %d (by order number %d), refundable %d, rows %d", legs, byOrder, len(p1.Refundable), p2.Rows)
	}
	ledger := readLedger(t, filepath.Join(dir, "l2.csv"))
	for _, ref := range p1.Refundable {
		if e, ok := ledger["refund/R"+ref.NoOrder]; !ok || e.orig != ref.NoOrder {
			t.Fatalf("no ledger refund for %s: %+v", ref.NoOrder, e)
		}
	}
}

func TestWriteBadConfig(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []gen.Config{
		{Merchant: "123", Date: "20240301"},
		{Merchant: merchant, Date: "20240230"},
		{Merchant: merchant, Date: "2024-03-01"},
	} {
		if _, err := gen.Write(dir, filepath.Join(dir, "l.csv"), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if _, err := gen.Write(filepath.Join(dir, "missing"), filepath.Join(dir, "l.csv"), gen.Config{Merchant: merchant, Date: "20240301"}); err == nil {
		t.Error("missing folder: no error")
	}
}
