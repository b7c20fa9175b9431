package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func writeJSON(t *testing.T, res *recon.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteJSONGolden(t *testing.T) {
	golden(t, "summary.golden.json", writeJSON(t, fixture()))
	golden(t, "summary_monthly.golden.json", writeJSON(t, monthlyFixture()))
}

func TestWriteJSONDecodes(t *testing.T) {
	var got jsonSummary
	dec := json.NewDecoder(bytes.NewReader(writeJSON(t, fixture())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("summary.json does not decode: %v", err)
	}
	if got.Merchant != merchant || got.Period != "20240528" || got.Monthly || got.RanAt != "2024-05-29T08:30:00+08:00" {
		t.Errorf("header = %q %q %v %q", got.Merchant, got.Period, got.Monthly, got.RanAt)
	}
	// Involved: 0.50 + 150.00 + (0.05 + 150.00 + 2000.00) + 88.00 + 1.23 + 1.50.
	if got.Balanced || got.FindingCount != 10 || got.FindingsAmountFen != 239128 || got.FindingsAmount != "2391.28" {
		t.Errorf("verdict = balanced %v, %d findings, %d fen %q", got.Balanced, got.FindingCount, got.FindingsAmountFen, got.FindingsAmount)
	}
	wantKinds := map[recon.FindingKind]jsonKindCount{
		recon.AmountMismatch:       {1, 10050, "100.50", 50, "0.50"},
		recon.DuplicateInStatement: {1, 15000, "150.00", 15000, "150.00"},
		recon.MalformedRow:         {1, 0, "0.00", 0, "0.00"},
		recon.MissingInLedger:      {3, 215005, "2150.05", 215005, "2150.05"},
		recon.MissingInStatement:   {1, 0, "0.00", 8800, "88.00"},
		recon.SummaryMismatch:      {2, 55123, "551.23", 123, "1.23"},
		recon.UnpairedRefund:       {1, -150, "-1.50", 150, "1.50"},
	}
	if len(got.FindingsBy) != len(recon.FindingKinds) {
		t.Errorf("%d kinds in findings_by_kind, want every one of %d", len(got.FindingsBy), len(recon.FindingKinds))
	}
	for _, k := range recon.FindingKinds {
		c, ok := got.FindingsBy[string(k)]
		if !ok {
			t.Errorf("kind %s missing from findings_by_kind", k)
			continue
		}
		want, found := wantKinds[k]
		if !found {
			want = jsonKindCount{StatementAmount: "0.00", InvolvedAmount: "0.00"}
		}
		if c != want {
			t.Errorf("%s = %+v, want %+v", k, c, want)
		}
	}
	if len(got.ControlTotals) != 7 {
		t.Fatalf("%d control totals, want 7", len(got.ControlTotals))
	}
	sa := got.ControlTotals[2]
	if sa.Figure != "success_amount" || sa.Unit != "fen" || sa.Summary != 55123 || sa.Computed != 55000 ||
		sa.Difference != 123 || sa.DifferenceYuan != "1.23" || sa.OK {
		t.Errorf("success_amount = %+v", sa)
	}
	tc := got.ControlTotals[0]
	if tc.Unit != "count" || tc.SummaryYuan != "" || tc.Difference != 1 || tc.OK {
		t.Errorf("total_count = %+v", tc)
	}
	if !got.Statement.Balanced || got.Statement.Read != 9 || got.Statement.IgnoredReasons["busi_partner 108001"] != 1 {
		t.Errorf("statement tally = %+v", got.Statement)
	}
	if !got.Ledger.Balanced || got.Ledger.Pending != 2 {
		t.Errorf("ledger tally = %+v", got.Ledger)
	}
	if len(got.Pending) != 2 || got.Pending[0].AmountFen != 9900 || got.Pending[0].Amount != "99.00" || got.Pending[1].Kind != "refund" {
		t.Errorf("pending = %+v", got.Pending)
	}
	if len(got.Files) != 2 || !got.Files[0].Changed || got.Files[0].PrevSHA256 == "" || got.Files[1].Encoding != recon.EncodingUTF8 {
		t.Errorf("files = %+v", got.Files)
	}
}

func TestWriteJSONShape(t *testing.T) {
	tests := []struct {
		name  string
		res   *recon.Result
		check func(*testing.T, map[string]any)
	}{
		{"unbalanced tally says so", &recon.Result{Statement: recon.Tally{Read: 5, Matched: 3}}, func(t *testing.T, m map[string]any) {
			if m["statement"].(map[string]any)["balanced"] != false {
				t.Error("a tally of 5 read, 3 accounted for is reported balanced")
			}
		}},
		{"empty lists are [] not null", &recon.Result{}, func(t *testing.T, m map[string]any) {
			for _, k := range []string{"files", "control_totals", "pending", "missing_days", "day_totals"} {
				if _, ok := m[k].([]any); !ok {
					t.Errorf("%s = %v, want []", k, m[k])
				}
			}
			if _, ok := m["ledger"].(map[string]any)["ignored_reasons"].(map[string]any); !ok {
				t.Error("ignored_reasons is not an object")
			}
		}},
		{"monthly day totals", monthlyFixture(), func(t *testing.T, m map[string]any) {
			days := m["day_totals"].([]any)
			if len(days) != 2 {
				t.Fatalf("%d day totals", len(days))
			}
			d0, d1 := days[0].(map[string]any), days[1].(map[string]any)
			if d0["ok"] != true || d0["monthly_amount"] != "300.00" || d0["monthly_amount_fen"] != 30000.0 {
				t.Errorf("day 1 = %v", d0)
			}
			if d1["ok"] != false || d1["daily_available"] != false {
				t.Errorf("day 2 without a daily file = %v", d1)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := writeJSON(t, tt.res)
			if strings.Contains(string(b), "e+") || strings.Contains(string(b), ".0,") {
				t.Errorf("a float in summary.json:\n%s", b)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}
