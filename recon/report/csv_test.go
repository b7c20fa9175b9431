package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// readCSV checks the BOM and returns the records after it.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no UTF-8 BOM at the start: % x", b[:min(len(b), 8)])
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	return recs
}

func writeCSV(t *testing.T, res *recon.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteCSVGolden(t *testing.T) {
	golden(t, "discrepancies.golden.csv", writeCSV(t, fixture()))
}

func TestWriteCSVHeaderAndOrder(t *testing.T) {
	recs := readCSV(t, writeCSV(t, fixture()))
	const header = "settle_date,kind,no_order,oid_paybill,statement_amount,ledger_amount,difference,file,line,detail"
	if got := strings.Join(recs[0], ","); got != header {
		t.Fatalf("header = %q, want %q", got, header)
	}
	// kind, then no_order (the injected ones carry their quote), then line.
	want := []string{
		"amount_mismatch 2024052800002",
		"duplicate_in_statement 2024052800001",
		"malformed_row '=HYPERLINK(\"http://evil.example/\",\"x\")",
		"missing_in_ledger '+8613800000000",
		"missing_in_ledger 2024052800001",
		"missing_in_ledger 2024052800007",
		"missing_in_statement L20240527009",
		"summary_mismatch success_amount",
		"summary_mismatch total_count",
		"unpaired_refund R2024052800003",
	}
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[1]+" "+r[2])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("row order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWriteCSVSortsTies(t *testing.T) {
	// Same kind and no_order: file, then line, whatever the input order.
	res := &recon.Result{Findings: []recon.Finding{
		{Kind: recon.DuplicateInStatement, NoOrder: "A", File: "b.txt", Line: 2},
		{Kind: recon.DuplicateInStatement, NoOrder: "A", File: "a.txt", Line: 10},
		{Kind: recon.DuplicateInStatement, NoOrder: "A", File: "a.txt", Line: 9},
		{Kind: recon.AmountMismatch, NoOrder: "Z", File: "z.txt", Line: 1},
	}}
	recs := readCSV(t, writeCSV(t, res))
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[1]+":"+r[7]+":"+r[8])
	}
	want := "amount_mismatch:z.txt:1 duplicate_in_statement:a.txt:9 duplicate_in_statement:a.txt:10 duplicate_in_statement:b.txt:2"
	if strings.Join(got, " ") != want {
		t.Errorf("order = %q, want %q", strings.Join(got, " "), want)
	}
	if res.Findings[0].File != "b.txt" {
		t.Error("WriteCSV reordered the caller's slice")
	}
}

func TestWriteCSVCells(t *testing.T) {
	tests := []struct {
		name string
		f    recon.Finding
		want string // the data row, as CSV without the trailing newline
	}{
		{"amounts two decimals, difference",
			ledger(stmt(recon.Finding{SettleDate: "20240528", Kind: recon.AmountMismatch, NoOrder: "1", File: "f", Line: 3}, 10050), 10000),
			"20240528,amount_mismatch,1,,100.50,100.00,0.50,f,3,"},
		{"statement only: ledger and difference empty",
			stmt(recon.Finding{Kind: recon.MissingInLedger, NoOrder: "2"}, 5),
			",missing_in_ledger,2,,0.05,,,,,"},
		{"ledger only",
			ledger(recon.Finding{Kind: recon.MissingInStatement, NoOrder: "3"}, 100),
			",missing_in_statement,3,,,1.00,,,,"},
		{"no amounts, line 0 empty",
			recon.Finding{Kind: recon.SummaryMismatch, NoOrder: "total_count", Detail: "summary 8, computed 7"},
			`,summary_mismatch,total_count,,,,,,,"summary 8, computed 7"`},
		{"negative amount stays numeric",
			ledger(stmt(recon.Finding{Kind: recon.AmountMismatch, NoOrder: "4"}, -150), 0),
			",amount_mismatch,4,,-1.50,0.00,-1.50,,,"},
		{"negative difference stays numeric",
			ledger(stmt(recon.Finding{Kind: recon.AmountMismatch, NoOrder: "5"}, 100), 250),
			",amount_mismatch,5,,1.00,2.50,-1.50,,,"},
		{"formula = in no_order",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "=1+2"},
			",malformed_row,'=1+2,,,,,,,"},
		{"formula + in oid_paybill",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "x", OidPaybill: "+1"},
			",malformed_row,x,'+1,,,,,,"},
		{"formula - in detail",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "x", Detail: "-2+3"},
			",malformed_row,x,,,,,,,'-2+3"},
		{"formula @ in file",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "x", File: "@SUM(A1)"},
			",malformed_row,x,,,,,'@SUM(A1),,"},
		{"tab and carriage return",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "\tx", Detail: "\r=1"},
			",malformed_row,'\tx,,,,,,,\"'\r=1\""},
		{"= inside a cell is harmless",
			recon.Finding{Kind: recon.MalformedRow, NoOrder: "a=b", Detail: "x-y"},
			",malformed_row,a=b,,,,,,,x-y"},
		{"Chinese kept as UTF-8, quotes doubled",
			recon.Finding{Kind: recon.MissingInLedger, NoOrder: "7", Detail: `手机应用支付网关 "储蓄卡快捷支付"`},
			`,missing_in_ledger,7,,,,,,,"手机应用支付网关 ""储蓄卡快捷支付"""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := writeCSV(t, &recon.Result{Findings: []recon.Finding{tt.f}})
			lines := strings.SplitN(string(b[3:]), "\n", 2)
			if got := strings.TrimSuffix(lines[1], "\n"); got != tt.want {
				t.Errorf("row = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteCSVNoFindings(t *testing.T) {
	recs := readCSV(t, writeCSV(t, monthlyFixture()))
	if len(recs) != 1 {
		t.Errorf("%d records, want the header only", len(recs))
	}
}
