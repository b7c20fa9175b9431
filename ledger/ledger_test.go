package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

const header = "kind,no_order,dt_order,amount,status,orig_no_order,oid_paybill,oid_partner,fee\n"

// TestReadRejects reads one ledger in which every bad row sits between good
// ones: each is rejected with its line and a reason naming the column and
// the value, and every good row comes back.
func TestReadRejects(t *testing.T) {
	good := func(no string) string { return "payment," + no + ",20240101101112,10.00,SUCCESS,,,,\n" }
	cases := []struct {
		row    string
		reason string // a part of the reason; "" for a good row
	}{
		{good("g1"), ""},
		{"sale,b1,20240101101112,1,SUCCESS,,,,\n", `kind "sale"`},
		{"payment,,20240101101112,1,SUCCESS,,,,\n", `no_order "": empty`},
		{"payment," + strings.Repeat("x", 33) + ",20240101101112,1,SUCCESS,,,,\n", `no_order "xxx`},
		{"payment,b3,20240230101112,1,SUCCESS,,,,\n", `dt_order "20240230101112"`},
		{"payment,b4,2024-01-01 24:00:00,1,SUCCESS,,,,\n", `dt_order "2024-01-01 24:00:00"`},
		{"payment,b5,2024/01/01 10:11:12,1,SUCCESS,,,,\n", `dt_order "2024/01/01 10:11:12"`},
		{"payment,b6,20240101,1,SUCCESS,,,,\n", `dt_order "20240101"`},
		{good("g2"), ""},
		{"payment,b7,20240101101112,0,SUCCESS,,,,\n", `amount "0": invalid: must be greater than 0`},
		{"payment,b8,20240101101112,-5.00,SUCCESS,,,,\n", `amount "-5.00"`},
		{"payment,b9,20240101101112,1.234,SUCCESS,,,,\n", `amount "1.234": bad amount "1.234": more than 2 decimals`},
		{"payment,b10,20240101101112,,SUCCESS,,,,\n", `amount "": empty amount`},
		{"payment,b11,20240101101112,1,success,,,,\n", `status "success"`},
		{"refund,b12,20240101101112,1,SUCCESS,,,,\n", `orig_no_order "": empty`},
		{"payment,b13,20240101101112,1,SUCCESS,,,20140325100000114,\n", `oid_partner "20140325100000114"`},
		{"payment,b14,20240101101112,1,SUCCESS,,,2014032510000011AB,\n", `oid_partner "2014032510000011AB"`},
		{"payment,b15,20240101101112,1,SUCCESS,,,,-0.01\n", `fee "-0.01"`},
		{"payment,b16,20240101101112,1,SUCCESS,,,,abc\n", `fee "abc"`},
		{"payment,b17,20240101101112,1,SUCCESS\n", "wrong number of fields: 5, the header has 9"},
		{"payment,b18,20240101101112,1,SUCCESS,,,,,extra\n", "wrong number of fields: 10, the header has 9"},
		{good("g3"), ""},
		{good("g1"), `no_order "g1": duplicate entry: the same oid_partner, kind and no_order as line 2`},
		{`payment,"b19,20240101101112,1,SUCCESS,,,,` + "\n" + good("g4"), "extraneous or missing \" in quoted-field"},
	}
	var b strings.Builder
	b.WriteString(header)
	var wantRejects []Reject
	var wantGood []string
	for i, c := range cases {
		line := i + 2
		b.WriteString(c.row)
		if c.reason == "" {
			wantGood = append(wantGood, strings.Split(c.row, ",")[1])
		} else {
			wantRejects = append(wantRejects, Reject{Line: line, Reason: c.reason})
		}
	}
	// The unterminated quote swallows the rest of the file, so it comes last.
	b.WriteString(good("g5"))

	entries, rejects, err := Read(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	var gotGood []string
	for _, e := range entries {
		gotGood = append(gotGood, e.NoOrder)
	}
	if !reflect.DeepEqual(gotGood, wantGood) {
		t.Errorf("good rows %v, want %v", gotGood, wantGood)
	}
	if len(rejects) != len(wantRejects) {
		t.Errorf("%d rejects, want %d: %+v", len(rejects), len(wantRejects), rejects)
	}
	for i := range min(len(rejects), len(wantRejects)) {
		got, want := rejects[i], wantRejects[i]
		if got.Line != want.Line || !strings.Contains(got.Reason, want.Reason) {
			t.Errorf("reject %d = line %d %q, want line %d containing %q", i, got.Line, got.Reason, want.Line, want.Reason)
		}
	}
}

func TestReadEntries(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      []recon.Entry
	}{
		{
			name: "every column, both date forms, white space trimmed",
			csv: header +
				"payment, o1 ,20240101101112,100,SUCCESS,,2014052800000001,201403251000001147,0.5\n" +
				" refund ,r1,2024-01-02 03:04:05,0.5,FAILURE,o1,,,\n" +
				"payout,p1,2024-02-29 23:59:59,12345.67,PROCESSING,,,,0\n",
			want: []recon.Entry{
				{OidPartner: "201403251000001147", Kind: recon.KindPayment, NoOrder: "o1", DtOrder: "20240101101112", Amount: 10000, Status: recon.StatusSuccess, OidPaybill: "2014052800000001", Fee: 50, HasFee: true},
				{Kind: recon.KindRefund, NoOrder: "r1", DtOrder: "20240102030405", Amount: 50, Status: recon.StatusFailure, OrigNoOrder: "o1"},
				{Kind: recon.KindPayout, NoOrder: "p1", DtOrder: "20240229235959", Amount: 1234567, Status: recon.StatusProcessing, Fee: 0, HasFee: true},
			},
		},
		{
			name: "BOM, columns in another order, unknown columns, only required ones, CRLF",
			csv: "\ufeffmemo,Status,amount,DT_ORDER,no_order,kind\r\n" +
				"第一笔,SUCCESS,1,20240101000000,o1,payment\r\n" +
				"\"quoted, with comma\",FAILURE,2.5,20240101000001,\"o,2\",payment\r\n",
			want: []recon.Entry{
				{Kind: recon.KindPayment, NoOrder: "o1", DtOrder: "20240101000000", Amount: 100, Status: recon.StatusSuccess},
				{Kind: recon.KindPayment, NoOrder: "o,2", DtOrder: "20240101000001", Amount: 250, Status: recon.StatusFailure},
			},
		},
		{
			name: "the same no_order under other kinds or merchants is no duplicate",
			csv: header +
				"payment,x,20240101000000,1,SUCCESS,,,,\n" +
				"payout,x,20240101000000,1,SUCCESS,,,,\n" +
				"payment,x,20240101000000,1,SUCCESS,,,201403251000001147,\n" +
				"\n" + // blank lines are skipped
				"refund,x,20240101000000,1,SUCCESS,y,,,\n",
			want: []recon.Entry{
				{Kind: recon.KindPayment, NoOrder: "x", DtOrder: "20240101000000", Amount: 100, Status: recon.StatusSuccess},
				{Kind: recon.KindPayout, NoOrder: "x", DtOrder: "20240101000000", Amount: 100, Status: recon.StatusSuccess},
				{OidPartner: "201403251000001147", Kind: recon.KindPayment, NoOrder: "x", DtOrder: "20240101000000", Amount: 100, Status: recon.StatusSuccess},
				{Kind: recon.KindRefund, NoOrder: "x", DtOrder: "20240101000000", Amount: 100, Status: recon.StatusSuccess, OrigNoOrder: "y"},
			},
		},
		{name: "header only", csv: header, want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rejects, err := Read(strings.NewReader(tc.csv))
			if err != nil || len(rejects) > 0 {
				t.Fatalf("err %v, rejects %+v", err, rejects)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadFatal(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		is        error
		mention   string
	}{
		{"empty file", "", ErrNoHeader, ""},
		{"BOM only", "\ufeff", ErrNoHeader, ""},
		{"amount column missing", "kind,no_order,dt_order,status\npayment,o,20240101000000,SUCCESS\n", ErrMissingColumn, "amount"},
		{"two columns missing", "kind,no_order,amount\n", ErrMissingColumn, "dt_order, status"},
		{"column twice", "kind,no_order,dt_order,amount,status,Amount\n", ErrColumnTwice, "amount"},
		{"GBK text", header + "payment,\xb6\xa9\xb5\xa5,20240101000000,1,SUCCESS,,,,\n", ErrNotUTF8, "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tc.csv))
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("err = %v, want %v mentioning %q", err, tc.is, tc.mention)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.csv")
	if err := os.WriteFile(path, []byte(header+"payment,o1,20240101000000,1,SUCCESS,,,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, rejects, err := ReadFile(path)
	if err != nil || len(entries) != 1 || len(rejects) != 0 {
		t.Errorf("ReadFile = %v, %v, %v; want one entry", entries, rejects, err)
	}
	missing := filepath.Join(t.TempDir(), "nope.csv")
	if _, _, err := ReadFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadFile of a missing file: err = %v, want one naming the path", err)
	}
	if err := os.WriteFile(path, []byte("kind\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFile(path); !errors.Is(err, ErrMissingColumn) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadFile without columns: err = %v, want ErrMissingColumn naming the path", err)
	}
}

func TestNormaliseTime(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"20240229000000", "20240229000000"},
		{"2024-12-31 23:59:59", "20241231235959"},
		{"20230229000000", ""}, // not a leap year
		{"19000229000000", ""}, // nor this
		{"20000229000000", "20000229000000"},
		{"20240431000000", ""},
		{"20241301000000", ""},
		{"20240100000000", ""},
		{"20240101006000", ""},
		{"20240101000060", ""},
		{"2024-01-01T10:11:12", ""},
		{"2024-1-01 10:11:12x", ""},
		{"２０２４0101000000", ""},
		{"", ""},
	} {
		got, ok := normaliseTime(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("normaliseTime(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

// A fatal error stays: a caller that reads on gets no rows from a ledger
// whose columns are unknown.
func TestReaderFatalErrorSticks(t *testing.T) {
	r := NewReader(strings.NewReader("kind,no_order\npayment,o1\npayment,o2\n"))
	for range 3 {
		if _, err := r.Read(); !errors.Is(err, ErrMissingColumn) {
			t.Fatalf("err = %v, want ErrMissingColumn every time", err)
		}
	}
}
