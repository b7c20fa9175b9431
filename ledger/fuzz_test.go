package ledger

import (
	"strings"
	"testing"

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
				len(e.DtOrder) != 14 || !isDigits(e.DtOrder, 14) || (e.HasFee && e.Fee < 0) ||
				(e.OidPartner != "" && !isDigits(e.OidPartner, 18)) ||
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
