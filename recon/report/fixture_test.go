package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	merchant = "201403251000001147"
	jymx     = "JYMX_201403251000001147_20240528.txt"
	jymxsum  = "JYMXSUM_201403251000001147_20240528.txt"
)

// Hostile text from a statement file: it must show as text and run nothing.
const (
	hostileScript = `<script>window.__pwned=1</script>`
	hostileImg    = `<img src=x onerror="window.__pwned=2">`
)

func stmt(f recon.Finding, v recon.Fen) recon.Finding {
	f.StatementAmount, f.HasStatementAmount = v, true
	return f
}

func ledger(f recon.Finding, v recon.Fen) recon.Finding {
	f.LedgerAmount, f.HasLedgerAmount = v, true
	return f
}

// fixture is a small daily run with several finding kinds, given out of
// report order on purpose: the writers must sort.
func fixture() *recon.Result {
	d := "20240528"
	findings := []recon.Finding{
		stmt(recon.Finding{SettleDate: d, Kind: recon.MissingInLedger, NoOrder: "2024052800007", OidPaybill: "2024052800000007",
			File: jymx, Line: 9, Detail: "手机应用支付网关 储蓄卡快捷支付 " + hostileScript + " " + hostileImg}, 200000),
		ledger(stmt(recon.Finding{SettleDate: d, Kind: recon.AmountMismatch, NoOrder: "2024052800002", OidPaybill: "2024052800000002",
			File: jymx, Line: 4, Detail: "statement 100.50, ledger 100.00"}, 10050), 10000),
		ledger(recon.Finding{SettleDate: d, Kind: recon.MissingInStatement, NoOrder: "L20240527009",
			Detail: "ledger entry of 20240527 not in any statement up to 20240528"}, 8800),
		stmt(recon.Finding{SettleDate: d, Kind: recon.MissingInLedger, NoOrder: "2024052800001", OidPaybill: "2024052800000001",
			File: jymx, Line: 3, Detail: "WEB支付网关 信用卡快捷支付 会员充值"}, 15000),
		ledger(stmt(recon.Finding{SettleDate: d, Kind: recon.SummaryMismatch, NoOrder: "success_amount", File: jymxsum, Line: 1,
			Detail: "summary 551.23, computed 550.00"}, 55123), 55000),
		{SettleDate: d, Kind: recon.SummaryMismatch, NoOrder: "total_count", File: jymxsum, Line: 1, Detail: "summary 8, computed 7"},
		stmt(recon.Finding{SettleDate: d, Kind: recon.UnpairedRefund, NoOrder: "R2024052800003", OidPaybill: "2024050100000003",
			File: jymx, Line: 6, Detail: "-refund of a payment in no stored statement"}, -150),
		{SettleDate: d, Kind: recon.MalformedRow, NoOrder: `=HYPERLINK("http://evil.example/","x")`, File: jymx, Line: 8,
			Detail: "amount: bad amount \"1.234\": more than 2 decimals"},
		stmt(recon.Finding{SettleDate: d, Kind: recon.DuplicateInStatement, NoOrder: "2024052800001", OidPaybill: "2024052800000001",
			File: jymx, Line: 7, Detail: "@SUM(A1) second row of the key; first at line 3"}, 15000),
		stmt(recon.Finding{SettleDate: d, Kind: recon.MissingInLedger, NoOrder: "+8613800000000", OidPaybill: "2024052800000005",
			File: jymx, Line: 5, Detail: "API渠道 余额支付"}, 5),
	}
	return &recon.Result{
		Merchant: merchant,
		Period:   d,
		RanAt:    "2024-05-29T08:30:00+08:00",
		Files: []recon.InputFile{
			{Name: jymx, Kind: recon.FileJYMX, Size: 1843, SHA256: "9f2c4e8e0a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
				Encoding: recon.EncodingGB18030, Rows: 8, Malformed: 1, Changed: true,
				PrevSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
			{Name: jymxsum, Kind: recon.FileJYMXSUM, Size: 22, SHA256: "aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55aa55",
				Encoding: recon.EncodingUTF8},
		},
		Totals: []recon.TotalCheck{
			{File: jymxsum, Figure: "total_count", Summary: 8, Computed: 7},
			{File: jymxsum, Figure: "success_count", Summary: 7, Computed: 7},
			{File: jymxsum, Figure: "success_amount", Amount: true, Summary: 55123, Computed: 55000},
			{File: jymxsum, Figure: "refund_count", Summary: 1, Computed: 1},
			{File: jymxsum, Figure: "refund_amount", Amount: true, Summary: -150, Computed: -150},
			{File: jymxsum, Figure: "revoke_count", Summary: 0, Computed: 0},
			{File: jymxsum, Figure: "revoke_amount", Amount: true, Summary: 0, Computed: 0},
		},
		Findings: findings,
		Pending: []recon.Pending{
			{Entry: recon.Entry{Kind: recon.KindPayment, NoOrder: "L20240528001", DtOrder: "20240528231500", Amount: 9900, Status: recon.StatusSuccess},
				DecideOn: "20240529", Reason: "window open"},
			{Entry: recon.Entry{Kind: recon.KindRefund, NoOrder: "LR20240526002", DtOrder: "20240526101010", Amount: 300, Status: recon.StatusSuccess, OrigNoOrder: "L20240520001"},
				DecideOn: "20240527", Reason: "statement of 20240526 missing"},
		},
		MissingDays: []string{"20240526"},
		Statement: recon.Tally{Read: 9, Matched: 3, Findings: 5, Ignored: 1,
			IgnoredReasons: map[string]int{"busi_partner 108001": 1}},
		Ledger: recon.Tally{Read: 10, Matched: 4, Findings: 2, Pending: 2, Ignored: 2,
			IgnoredReasons: map[string]int{"before history": 1, "FAILURE not in statement": 1}},
	}
}

// monthlyFixture is a balanced monthly run with per-day totals.
func monthlyFixture() *recon.Result {
	return &recon.Result{
		Merchant: merchant, Period: "202405", Monthly: true, RanAt: "2024-06-01T08:30:00+08:00",
		Files: []recon.InputFile{{Name: "JYMX_201403251000001147_202405.txt", Kind: recon.FileJYMX, Size: 10,
			SHA256: "bb", Encoding: recon.EncodingUTF8BOM, Rows: 3}},
		Statement: recon.Tally{Read: 3, Matched: 3},
		Ledger:    recon.Tally{Read: 3, Matched: 3},
		DayTotals: []recon.DayTotal{
			{Date: "20240501", MonthlyCount: 2, MonthlyAmount: 30000, DailyCount: 2, DailyAmount: 30000, DailyAvailable: true},
			{Date: "20240502", MonthlyCount: 1, MonthlyAmount: 150, DailyAvailable: false},
		},
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}
