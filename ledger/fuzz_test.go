package ledger

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lianlian-recon/reconcile/recon"
)

// FuzzRead checks what every entry Read returns promises, whatever the
// input: the invariants recon/match and the store rely on.
func FuzzRead(f *testing.F) {
	f.Add(header + "payment,o1,20240101101112,100,SUCCESS,,2014052800000001,201403251000001147,0.5\n")
	f.Add("\ufeffstatus,amount,dt_order,no_order,kind,orig_no_order\r\nFAILURE,2.5,2024-01-01 00:00:01,\"o,2\",refund,o1\r\n")
	f.Add(header + "payment,\"a\"\"b\",20240101101112,1,SUCCESS\n,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		entries, rejects, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range entries {
			if _, ok := recon.ParseKind(e.Kind.String()); !ok || e.NoOrder == "" || e.Amount <= 0 ||
				len(e.DtOrder) != 14 || !recon.IsDigits(e.DtOrder, 14) || (e.HasFee && e.Fee < 0) ||
				(e.OidPartner != "" && !recon.IsDigits(e.OidPartner, 18)) ||
				(e.Kind == recon.KindRefund && e.OrigNoOrder == "") {
				t.Errorf("entry breaks an invariant: %+v", e)
			}
		}
		for i, r := range rejects {
			if r.Line < 2 || r.Reason == "" || (i > 0 && r.Line <= rejects[i-1].Line) {
				t.Errorf("reject %d: %+v (previous %+v)", i, r, rejects[max(i-1, 0)])
			}
		}
	})
}

// FuzzReadSame checks that a ledger reads the same whether its size is
// known up front (slice and duplicate index sized from the line count) or
// not (both grow), and through the streaming Reader.
func FuzzReadSame(f *testing.F) {
	f.Add(header + "payment,o1,20240101101112,100,SUCCESS,,,201403251000001147,\npayment,o1,20240101101112,1,SUCCESS,,,201403251000001147,\n")
	f.Add(header + "payment,\"o\n1\",20240101101112,1,SUCCESS,,,,\npayout,\"o\n1\",2024-01-01 10:11:12,1,FAILURE,,,,\npayout,\"o\n1\",20240101101112,1,SUCCESS,,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		entries, rejects, err := Read(strings.NewReader(in))
		unsized, unsizedRejects, unsizedErr := Read(iotest.HalfReader(strings.NewReader(in)))
		if !reflect.DeepEqual(unsized, entries) || !reflect.DeepEqual(unsizedRejects, rejects) || !sameError(unsizedErr, err) {
			t.Fatalf("sized: %+v %+v %v\nunsized: %+v %+v %v", entries, rejects, err, unsized, unsizedRejects, unsizedErr)
		}
		if err != nil {
			return
		}
		r := NewReader(strings.NewReader(in))
		var streamed []recon.Entry
		var streamedRejects []Reject
		for {
			e, err := r.Read()
			if err == io.EOF {
				break
			}
			if err == nil {
				streamed = append(streamed, e)
				continue
			}
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("Reader.Read: %v, where Read read the whole ledger", err)
			}
			streamedRejects = append(streamedRejects, Reject{Line: pe.Line, Reason: pe.Err.Error()})
		}
		if !reflect.DeepEqual(streamed, entries) || !reflect.DeepEqual(streamedRejects, rejects) {
			t.Fatalf("Read: %+v %+v\nReader: %+v %+v", entries, rejects, streamed, streamedRejects)
		}
	})
}

func sameError(a, b error) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Error() == b.Error()
}

// FuzzFastSameAsCSV checks that the fast path (a line without quotes split
// in place) reads what encoding/csv reads, call by call: the same entries,
// the same rejects and errors on the same lines.
func FuzzFastSameAsCSV(f *testing.F) {
	for _, s := range []string{
		header + "payment,o1,20240101101112,100,SUCCESS,,,201403251000001147,0.5\n",
		header + "\n\r\n\npayment,o1,20240101101112,1,SUCCESS,,,,\r\npayment,\"o\r\n2\",20240101101112,1,SUCCESS,,,,\r\n\r\npayout,o3,20240101101112,1,SUCCESS,,,,\r",
		header + "payment,o\"1,20240101101112,1,SUCCESS,,,,\npayment,\"o2\"x,20240101101112,1,SUCCESS,,,,\npayment,o3,20240101101112,1,SUCCESS,,,,",
		"\ufeff\n\"kind\",no_order,dt_order,amount,status\npayment,\"a\"\"b\",2024-01-01 10:11:12,1,FAILURE\npayment,\"x\n\n,y\",20240101101112,1,SUCCESS\r\n\r",
		header + "payment,\"o1,20240101101112,1,SUCCESS,,,,\npayment,o2,20240101101112,1,SUCCESS,,,,\n",
		header + "payment,o1,20240101101112,1,SUCCESS,,,,\xff\n",
		header + "payment, o1 ,20240101101112,1,SUCCESS,,,,,,\npayment,o1,20240101101112,1,SUCCESS,,,\n",
	} {
		f.Add(s)
	}
	f.Fuzz(fastSameAsCSV)
}

// TestFastSameAsCSVLongLines reads lines longer than the reader's buffer,
// with and without quotes, both ways.
func TestFastSameAsCSVLongLines(t *testing.T) {
	fastSameAsCSV(t, "memo,"+header+strings.Repeat("m", 100<<10)+",payment,o1,20240101101112,1,SUCCESS,,,,\n"+
		"\""+strings.Repeat("m\n", 50<<10)+"\",payment,o2,20240101101112,1,SUCCESS,,,,\n"+
		strings.Repeat("m", 70<<10)+",payment,o1,20240101101112,1,SUCCESS,,,,\n"+
		strings.Repeat("m", 70<<10)+",payment,o3,20240101101112,1,SUCCESS,,,,\xff\n")
}

func fastSameAsCSV(t *testing.T, in string) {
	fast := NewReader(iotest.HalfReader(strings.NewReader(in)))
	slow := NewReader(strings.NewReader(in))
	slow.slow = true
	for i := 0; ; i++ {
		fe, ferr := fast.Read()
		se, serr := slow.Read()
		if !reflect.DeepEqual(fe, se) || !sameError(ferr, serr) {
			t.Fatalf("read %d: fast path %+v, %v; csv %+v, %v", i, fe, ferr, se, serr)
		}
		if ferr != nil {
			if _, reject := ferr.(*ParseError); !reject {
				return
			}
		}
	}
}
