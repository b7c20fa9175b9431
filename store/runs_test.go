package store

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func sampleResult() *recon.Result {
	return &recon.Result{
		Merchant: merchant, Period: "20240102", RanAt: "2024-01-03T08:30:00+08:00",
		Files: []recon.InputFile{
			{Name: "JYMX_" + merchant + "_20240102.txt", Kind: recon.FileJYMX, Size: 1234, SHA256: "ab", Encoding: recon.EncodingGB18030, Rows: 8, Malformed: 1, Changed: true, PrevSHA256: "cd"},
		},
		Totals: []recon.TotalCheck{{File: "JYMXSUM_" + merchant + "_20240102.txt", Figure: "success_amount", Amount: true, Summary: 55123, Computed: 55023}},
		Findings: []recon.Finding{
			{SettleDate: "20240102", Kind: recon.AmountMismatch, NoOrder: "o1", OidPaybill: "2014000000000001", StatementAmount: -150, HasStatementAmount: true, LedgerAmount: 100, HasLedgerAmount: true, File: "JYMX_" + merchant + "_20240102.txt", Line: 3, Detail: "<b>&\"引号\""},
			{SettleDate: "20240102", Kind: recon.MissingInStatement, NoOrder: "o2", LedgerAmount: 700, HasLedgerAmount: true, Detail: "window closed"},
			{SettleDate: "20240102", Kind: recon.SummaryMismatch, NoOrder: "total_count", File: "JYMXSUM_" + merchant + "_20240102.txt", Line: 1, Detail: "summary 8, computed 7"},
		},
		Pending: []recon.Pending{
			{Entry: recon.Entry{Kind: recon.KindRefund, NoOrder: "r1", DtOrder: "20240102120000", Amount: 50, Status: recon.StatusSuccess, OrigNoOrder: "o1", Fee: 0, HasFee: true}, DecideOn: "20240103", Reason: "window open"},
		},
		MissingDays: []string{"20231231"},
		Statement:   recon.Tally{Read: 9, Matched: 6, Findings: 2, Ignored: 1, IgnoredReasons: map[string]int{"busi_partner 108001": 1}},
		Ledger:      recon.Tally{Read: 3, Matched: 1, Findings: 1, Pending: 1},
	}
}

func TestSaveLoadRun(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, _, err := s.LoadRun(ctx, merchant, "20240102"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadRun before SaveRun: err = %v, want ErrNotFound", err)
	}
	res := sampleResult()
	if err := s.SaveRun(ctx, res, "digest-1"); err != nil {
		t.Fatal(err)
	}
	got, digest, err := s.LoadRun(ctx, merchant, "20240102")
	if err != nil {
		t.Fatal(err)
	}
	if digest != "digest-1" || !reflect.DeepEqual(got, res) {
		t.Errorf("LoadRun = %+v, %q\nwant %+v, digest-1", got, digest, res)
	}

	// The findings table holds the report's columns, NULL where a cell is empty.
	var stmt, ledger, diff, line sql.NullInt64
	err = s.DB().QueryRow(`SELECT statement_amount, ledger_amount, difference, line FROM findings
		WHERE kind = 'amount_mismatch' AND no_order = 'o1'`).Scan(&stmt, &ledger, &diff, &line)
	if err != nil {
		t.Fatal(err)
	}
	if stmt.Int64 != -150 || ledger.Int64 != 100 || diff.Int64 != -250 || line.Int64 != 3 {
		t.Errorf("amount_mismatch row: %v %v %v %v, want -150 100 -250 3", stmt, ledger, diff, line)
	}
	err = s.DB().QueryRow(`SELECT statement_amount, ledger_amount, difference, line FROM findings
		WHERE kind = 'missing_in_statement'`).Scan(&stmt, &ledger, &diff, &line)
	if err != nil {
		t.Fatal(err)
	}
	if stmt.Valid || !ledger.Valid || diff.Valid || line.Valid {
		t.Errorf("missing_in_statement row: %v %v %v %v, want NULL 700 NULL NULL", stmt, ledger, diff, line)
	}

	// A rerun of the period replaces the result: no duplicate rows.
	res2 := sampleResult()
	res2.Findings = res2.Findings[:2]
	res2.Pending = nil
	for range 2 {
		if err := s.SaveRun(ctx, res2, "digest-2"); err != nil {
			t.Fatal(err)
		}
	}
	other := sampleResult()
	other.Period = "20240103"
	if err := s.SaveRun(ctx, other, "digest-3"); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"runs": 2, "findings": 2 + 3, "pending": 0 + 1} {
		var n int
		if err := s.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s has %d rows after reruns, want %d", table, n, want)
		}
	}
	got, digest, err = s.LoadRun(ctx, merchant, "20240102")
	if err != nil {
		t.Fatal(err)
	}
	if digest != "digest-2" || !reflect.DeepEqual(got, res2) {
		t.Errorf("LoadRun after rerun = %+v, %q\nwant %+v, digest-2", got, digest, res2)
	}
}
