package match

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

const merchant = "201403251000001147"

// row builds a statement row of file JYMX for date; amount and fee in fen.
func row(date string, line int, no, paybill string, amount recon.Fen, status int8) recon.Row {
	r := recon.Row{
		RowMeta: &recon.RowMeta{File: fmt.Sprintf("JYMX_%s_%s.txt", merchant, date), OidPartner: merchant, BusiPartner: "101001", SettleDate: date}, Line: line,
		NoOrder:    no,
		OidPaybill: paybill, Amount: amount, Status: status,
		Fee:     amount.Abs() / 200,
		RowText: &recon.RowText{DtOrder: date + " 10:00:00", UpdatedAt: date + " 10:00:00"},
	}
	if amount < 0 {
		r.Fee = -r.Fee
	}
	r.Kind = recon.Classify(r.Direction, r.Amount)
	return r
}

func payout(date string, line int, no string, amount recon.Fen) recon.Row {
	r := row(date, line, no, "P"+no, amount, 0)
	r.Direction = 1
	r.Kind = recon.KindPayout
	return r
}

func entry(kind recon.Kind, no, date string, amount recon.Fen) recon.Entry {
	return recon.Entry{Kind: kind, NoOrder: no, DtOrder: date + "100000", Amount: amount, Status: recon.StatusSuccess}
}

// day wraps rows as D's JYMX file plus a JYMXSUM computed from them, so
// control totals agree unless a test says otherwise.
func day(date string, rows ...recon.Row) []*recon.StatementFile {
	s := ComputeSummary(rows)
	return []*recon.StatementFile{
		{FileName: recon.FileName{Name: fmt.Sprintf("JYMX_%s_%s.txt", merchant, date), Kind: recon.FileJYMX, Merchant: merchant, Date: date}, Rows: rows},
		{FileName: recon.FileName{Name: fmt.Sprintf("JYMXSUM_%s_%s.txt", merchant, date), Kind: recon.FileJYMXSUM, Merchant: merchant, Date: date}, Summary: &s},
	}
}

// kinds lists the outcome's findings as "kind no_order" in report order.
func kinds(o Outcome) []string {
	var out []string
	for _, f := range o.Findings {
		out = append(out, string(f.Kind)+" "+f.NoOrder)
	}
	return out
}

func checkBalanced(t *testing.T, o Outcome) {
	t.Helper()
	if !o.Statement.Balanced() {
		t.Errorf("statement tally does not add up: %+v", o.Statement)
	}
	if !o.Ledger.Balanced() {
		t.Errorf("ledger tally does not add up: %+v", o.Ledger)
	}
}

func TestDailyFindingKinds(t *testing.T) {
	const D, D1 = "20240102", "20240101"
	tests := []struct {
		name    string
		in      Input
		opt     Options
		want    []string
		matched int
	}{
		{
			name: "clean day",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 10000)}},
			matched: 1,
		},
		{
			name: "missing in ledger",
			in:   Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0))},
			want: []string{"missing_in_ledger A1"},
		},
		{
			name: "missing in statement once the window closed",
			in: Input{Files: day(D), HistoryStart: D1,
				Ledger: []recon.Entry{entry(recon.KindPayment, "L1", D1, 500)}},
			want: []string{"missing_in_statement L1"},
		},
		{
			name: "amount mismatch",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 9900)}},
			want: []string{"amount_mismatch A1"},
		},
		{
			name: "status mismatch wins over amount",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				Ledger: []recon.Entry{func() recon.Entry {
					e := entry(recon.KindPayment, "A1", D, 1)
					e.Status = recon.StatusProcessing
					return e
				}()}},
			want: []string{"status_mismatch A1"},
		},
		{
			name: "fee mismatch",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				Ledger: []recon.Entry{func() recon.Entry {
					e := entry(recon.KindPayment, "A1", D, 10000)
					e.Fee, e.HasFee = 51, true
					return e
				}()}},
			want: []string{"fee_mismatch A1"},
		},
		{
			name: "duplicate across days: reported on D's second row",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				History: []recon.Row{row(D1, 1, "A1", "1000000000000001", 10000, 0)},
				Ledger:  []recon.Entry{entry(recon.KindPayment, "A1", D1, 10000)}},
			want: []string{"duplicate_in_statement A1"},
		},
		{
			name: "third copy is not reported again",
			in: Input{Files: day(D, row(D, 1, "A1", "1000000000000001", 10000, 0)),
				History: []recon.Row{row(D1, 1, "A1", "1000000000000001", 10000, 0), row(D1, 2, "A1", "1000000000000001", 10000, 0)},
				Ledger:  []recon.Entry{entry(recon.KindPayment, "A1", D1, 10000)}},
		},
		{
			name: "refund pairs with yesterday's payment",
			in: Input{Files: day(D, row(D, 1, "R1", "1000000000000001", -4000, 5)),
				History: []recon.Row{row(D1, 1, "A1", "1000000000000001", 10000, 0)},
				Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D1, 10000),
					entry(recon.KindRefund, "R1", D, 4000)}},
			matched: 1,
		},
		{
			name: "refund by original order number",
			in: Input{Files: day(D, row(D, 1, "R1", "A1", -4000, 5)),
				History: []recon.Row{row(D1, 1, "A1", "1000000000000001", 10000, 0)},
				Ledger:  []recon.Entry{entry(recon.KindRefund, "R1", D, 4000)}},
			matched: 1,
		},
		{
			name: "unpaired refund",
			in: Input{Files: day(D, row(D, 1, "R1", "1000000000000009", -4000, 5)),
				Ledger: []recon.Entry{entry(recon.KindRefund, "R1", D, 4000)}},
			want: []string{"unpaired_refund R1"},
		},
		{
			name: "refund whose payment only the ledger knows is not unpaired",
			in: Input{Files: day(D, row(D, 1, "R1", "1000000000000009", -4000, 5)),
				Ledger: []recon.Entry{func() recon.Entry {
					e := entry(recon.KindRefund, "R1", D, 4000)
					e.OrigNoOrder = "OLD1"
					return e
				}(), entry(recon.KindPayment, "OLD1", "20231201", 9000)}},
			matched: 1,
		},
		{
			name: "refund whose payment the ledger knows by paybill is not unpaired",
			in: Input{Files: day(D, row(D, 1, "R1", "1000000000000009", -4000, 5)),
				Ledger: []recon.Entry{entry(recon.KindRefund, "R1", D, 4000), func() recon.Entry {
					e := entry(recon.KindPayment, "OLD1", "20231201", 9000)
					e.OidPaybill = "1000000000000009"
					return e
				}()}},
			matched: 1,
		},
		{
			name: "a paybill in another merchant's payment entry does not pair",
			in: Input{Files: day(D, row(D, 1, "R1", "1000000000000009", -4000, 5)),
				Ledger: []recon.Entry{entry(recon.KindRefund, "R1", D, 4000), func() recon.Entry {
					e := entry(recon.KindPayment, "OLD1", "20231201", 9000)
					e.OidPaybill, e.OidPartner = "1000000000000009", "201403251000009999"
					return e
				}()}},
			want: []string{"unpaired_refund R1"},
		},
		{
			name: "refunds exceed payment, reported once under the payment",
			in: Input{Files: day(D, row(D, 1, "R2", "1000000000000001", -5000, 5), row(D, 2, "R3", "1000000000000001", -1000, 5)),
				History: []recon.Row{row(D1, 1, "A1", "1000000000000001", 10000, 0), row(D1, 2, "R1", "1000000000000001", -6000, 5)},
				Ledger: []recon.Entry{entry(recon.KindRefund, "R2", D, 5000), entry(recon.KindRefund, "R3", D, 1000),
					entry(recon.KindPayment, "A1", D1, 10000), entry(recon.KindRefund, "R1", D1, 6000)}},
			want:    []string{"refund_exceeds_payment A1"},
			matched: 1,
		},
		{
			name: "merchant mismatch is set aside",
			in: Input{Files: day(D, func() recon.Row {
				r := row(D, 1, "A1", "1000000000000001", 10000, 0)
				r.EditMeta().OidPartner = "201403251000009999"
				return r
			}()), Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 10000)}},
			want: []string{"merchant_mismatch A1"},
		},
		{
			name: "settle date mismatch is still matched",
			in: Input{Files: day(D, func() recon.Row {
				r := row(D, 1, "A1", "1000000000000001", 10000, 0)
				r.EditMeta().SettleDate = D1
				return r
			}()), Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 10000)}},
			want: []string{"settle_date_mismatch A1"},
		},
		{
			name: "ignored busi_partner is neither matched nor missing",
			in: Input{Files: day(D, func() recon.Row {
				r := row(D, 1, "T1", "1000000000000001", 10000, 0)
				r.EditMeta().BusiPartner = "110001"
				return r
			}())},
			opt: Options{Window: 1, IgnoreBusi: []string{"110001"}},
		},
		{
			name: "payout matches a payout entry",
			in: Input{Files: day(D, payout(D, 1, "W1", 50000)),
				Ledger: []recon.Entry{entry(recon.KindPayout, "W1", D, 50000)}},
			matched: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Merchant, tc.in.Date = merchant, D
			if tc.in.HistoryStart == "" {
				tc.in.HistoryStart = D1
			}
			if tc.opt.Window == 0 {
				tc.opt.Window = 1
			}
			o := Daily(tc.in, tc.opt)
			if got, want := strings.Join(kinds(o), "\n"), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("findings:\n%s\nwant:\n%s", got, want)
			}
			if o.Statement.Matched != tc.matched {
				t.Errorf("matched %d, want %d", o.Statement.Matched, tc.matched)
			}
			checkBalanced(t, o)
		})
	}
}

func TestMalformedRowsAreFindingsAndCounted(t *testing.T) {
	const D = "20240102"
	files := day(D, row(D, 2, "A1", "1000000000000001", 100, 0))
	files[0].Malformed = []recon.Malformed{{File: files[0].Name, Line: 1, NoOrder: "X", Field: "amount", Raw: "X,…", Reason: "bad amount"}}
	files[1].Summary = nil
	files[1].Malformed = []recon.Malformed{{File: files[1].Name, Line: 1, NoOrder: "8|8", Raw: "8|8", Reason: "2 figures, want 7"}}
	o := Daily(Input{Merchant: merchant, Date: D, HistoryStart: D, Files: files,
		Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 100)}}, Options{Window: 1})
	want := []string{"malformed_row 8|8", "malformed_row X"}
	if got := kinds(o); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("findings %v, want %v", got, want)
	}
	if len(o.Totals) != 0 {
		t.Errorf("a malformed summary must compare no figure, got %d", len(o.Totals))
	}
	if o.Statement.Read != 2 || o.Statement.Findings != 1 || o.Statement.Matched != 1 {
		t.Errorf("statement tally %+v", o.Statement)
	}
}

func TestSummaryMismatchNamesTheFigure(t *testing.T) {
	const D = "20240102"
	files := day(D, row(D, 1, "A1", "1000000000000001", 10000, 0), row(D, 2, "R1", "1000000000000001", -2500, 5))
	files[1].Summary.SuccessAmount = 9999
	files[1].Summary.RefundCount = 2
	o := Daily(Input{Merchant: merchant, Date: D, HistoryStart: D, Files: files,
		Ledger: []recon.Entry{entry(recon.KindPayment, "A1", D, 10000), entry(recon.KindRefund, "R1", D, 2500)}}, Options{Window: 1})
	want := "summary_mismatch refund_count,summary_mismatch success_amount"
	if got := strings.Join(kinds(o), ","); got != want {
		t.Fatalf("findings %s, want %s", got, want)
	}
	f := o.Findings[1]
	if f.StatementAmount != 9999 || f.LedgerAmount != 10000 {
		t.Errorf("success_amount finding carries %d/%d, want 9999/10000", f.StatementAmount, f.LedgerAmount)
	}
	if len(o.Totals) != 7 {
		t.Errorf("%d total checks, want 7", len(o.Totals))
	}
}

func TestComputeSummary(t *testing.T) {
	const D = "20240102"
	rows := []recon.Row{
		row(D, 1, "A1", "1", 10000, 0),  // success
		row(D, 2, "A2", "2", 5000, 5),   // revoked
		row(D, 3, "R2", "2", -5000, 5),  // refund leg of A2
		payout(D, 4, "W1", 30000),       // direction 1, status 0: success
		row(D, 5, "R9", "9", -100, 0),   // a refund leg with status 0 counts in both
		row(D, 6, "A1", "1", 10000, 0),  // a duplicate still counts
		row(D, 7, "A7", "7", 12345, 0),  // success
		row(D, 8, "R7", "7", -12345, 5), // refund leg
	}
	got := ComputeSummary(rows)
	want := recon.Summary{TotalCount: 8, SuccessCount: 5, SuccessAmount: 10000 + 30000 - 100 + 10000 + 12345,
		RefundCount: 3, RefundAmount: -5000 - 100 - 12345, RevokeCount: 1, RevokeAmount: -5000}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// The two-day case of issue 3: D−1 then D, a refund on D of a payment from
// D−1, a ledger order at 23:59:30 on D−1 that LianLian settles on D, and an
// entry pending on D−1 that is missing_in_statement on D.
func TestTwoDays(t *testing.T) {
	const D1, D = "20240101", "20240102"
	late := row(D, 2, "LATE", "1000000000000002", 3000, 0)
	ledger := []recon.Entry{
		entry(recon.KindPayment, "A1", D1, 10000),
		{Kind: recon.KindPayment, NoOrder: "LATE", DtOrder: D1 + "235930", Amount: 3000, Status: recon.StatusSuccess},
		entry(recon.KindPayment, "GONE", D1, 700),
		entry(recon.KindRefund, "R1", D, 4000),
		entry(recon.KindPayment, "TOMORROW", "20240103", 100),
	}
	day1 := day(D1, row(D1, 1, "A1", "1000000000000001", 10000, 0))
	o1 := Daily(Input{Merchant: merchant, Date: D1, HistoryStart: D1, Files: day1, Ledger: ledger}, Options{Window: 1})
	if len(o1.Findings) != 0 {
		t.Fatalf("D-1 findings: %v", kinds(o1))
	}
	var pend []string
	for _, p := range o1.Pending {
		pend = append(pend, p.Entry.NoOrder+"@"+p.DecideOn)
	}
	sort.Strings(pend)
	if got := strings.Join(pend, ","); got != "GONE@20240102,LATE@20240102" {
		t.Errorf("D-1 pending %s", got)
	}
	checkBalanced(t, o1)

	day2 := day(D, row(D, 1, "R1", "1000000000000001", -4000, 5), late)
	o2 := Daily(Input{Merchant: merchant, Date: D, HistoryStart: D1, Files: day2, History: day1[0].Rows, Ledger: ledger}, Options{Window: 1})
	if got := strings.Join(kinds(o2), ","); got != "missing_in_statement GONE" {
		t.Errorf("D findings: %s", got)
	}
	// R1 and LATE matched; TOMORROW is dated after D and not looked at yet.
	if o2.Statement.Matched != 2 || len(o2.Pending) != 0 {
		t.Errorf("D matched %d pending %+v", o2.Statement.Matched, o2.Pending)
	}
	checkBalanced(t, o2)
	if o2.Ledger.Read != 3 || o2.Ledger.Matched != 2 || o2.Ledger.Findings != 1 {
		t.Errorf("D ledger tally %+v", o2.Ledger)
	}
}

func TestBeforeHistoryAndMissingDay(t *testing.T) {
	const D = "20240105"
	ledger := []recon.Entry{
		entry(recon.KindPayment, "OLD", "20231201", 100), // before history: ignored once
		entry(recon.KindPayment, "EVE", "20240104", 100), // window of a missing day: stays pending
	}
	o := Daily(Input{Merchant: merchant, Date: D, HistoryStart: D, Files: day(D), Ledger: ledger}, Options{Window: 1})
	if len(o.Findings) != 0 || o.Ledger.IgnoredReasons[reasonBeforeHistory] != 2 {
		t.Errorf("first run: findings %v, ledger %+v", kinds(o), o.Ledger)
	}
	o = Daily(Input{Merchant: merchant, Date: D, HistoryStart: "20240101", Files: day(D), Ledger: ledger, MissingDays: []string{"20240104"}}, Options{Window: 1})
	if len(o.Findings) != 0 || len(o.Pending) != 1 || !strings.Contains(o.Pending[0].Reason, "20240104") {
		t.Errorf("missing day: findings %v pending %+v", kinds(o), o.Pending)
	}
	checkBalanced(t, o)
}

func TestFailedEntryAbsentIsCorrect(t *testing.T) {
	const D = "20240102"
	e := entry(recon.KindPayment, "F1", "20240101", 100)
	e.Status = recon.StatusFailure
	o := Daily(Input{Merchant: merchant, Date: D, HistoryStart: "20240101", Files: day(D), Ledger: []recon.Entry{e}}, Options{Window: 1})
	if len(o.Findings) != 0 || len(o.Pending) != 0 || o.Ledger.IgnoredReasons[reasonNotSuccess] != 1 {
		t.Errorf("findings %v pending %v ledger %+v", kinds(o), o.Pending, o.Ledger)
	}
}
