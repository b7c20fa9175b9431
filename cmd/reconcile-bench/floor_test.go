package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

func gbk(t *testing.T, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFloorsOnRows(t *testing.T) {
	const row = "20140528000000001,201403251000001147,20140528 10:00:00,101001,2014052800000001,20140528,%s,0,0,20140528 10:00:05,%s,WEB支付网关,余额支付,%s"
	fill := func(amount, fee, info string) string {
		s := strings.Replace(row, "%s", amount, 1)
		s = strings.Replace(s, "%s", fee, 1)
		return strings.Replace(s, "%s", info, 1)
	}
	tests := []struct {
		name   string
		in     string
		want   floorResult
		errIs  error
		errHas string
	}{
		{"crlf, commas in field 14", fill("100", "0.6", "订单:蓝牙耳机,数据线") + "\r\n" + fill("-0.5", "-0.01", "游戏点卡, 100点") + "\r\n",
			floorResult{Rows: 2, Amount: 9950, Fee: 59}, nil, ""},
		{"no final newline, blank line skipped", fill("12.34", "0", "") + "\n\n" + fill("1", "0.07", "x"),
			floorResult{Rows: 2, Amount: 1334, Fee: 7}, nil, ""},
		{"bad amount", fill("1.234", "0", ""), floorResult{}, recon.ErrBadAmount, "line 1: field 7"},
		{"bad fee on line 2", fill("1", "0", "") + "\n" + fill("1", "x", ""), floorResult{}, recon.ErrBadAmount, "line 2: field 11"},
		{"too few fields", "a,b,c\n", floorResult{}, errFewFields, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []struct {
				name string
				fn   func(string) (floorResult, error)
			}{
				{"splitRaw", func(s string) (floorResult, error) { return splitRaw(strings.NewReader(gbk(t, s))) }},
				{"decodeSplit", func(s string) (floorResult, error) { return decodeSplit(strings.NewReader(gbk(t, s))) }},
			} {
				got, err := f.fn(tt.in)
				if tt.errIs != nil {
					if !errors.Is(err, tt.errIs) || !strings.Contains(err.Error(), tt.errHas) {
						t.Fatalf("%s: error %v, want %v containing %q", f.name, err, tt.errIs, tt.errHas)
					}
					continue
				}
				if err != nil || got != tt.want {
					t.Fatalf("%s: got %+v, %v; want %+v", f.name, got, err, tt.want)
				}
			}
		})
	}
}

// TestFloorsOnGenerated checks the floors against what the generator says
// it wrote: the row count, and the amounts, which add up to the summary's
// figures (same-day refund legs and revoked payments are status 5).
func TestFloorsOnGenerated(t *testing.T) {
	dir := t.TempDir()
	p, err := gen.Write(dir, filepath.Join(dir, "ledger.csv"), gen.Config{
		Merchant: "201403251000001147", Date: "20240528", Payments: 3000, RefundRate: 0.1, GBK: true, Seed: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary
	wantAmount := s.SuccessAmount + s.RefundAmount - s.RevokeAmount
	for _, fl := range floors {
		f, err := os.Open(filepath.Join(dir, "JYMX_201403251000001147_20240528.txt"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fl.fn(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", fl.name, err)
		}
		if got.Rows != p.Rows {
			t.Errorf("%s: %d rows, generator wrote %d", fl.name, got.Rows, p.Rows)
		}
		if fl.name != "count" && got.Amount != wantAmount {
			t.Errorf("%s: amounts add up to %s, summary says %s", fl.name, got.Amount, wantAmount)
		}
	}
}
