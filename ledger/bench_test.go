package ledger

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkLedgerRead reads a generated ledger of 1,000,000 rows (both date
// forms, refunds, fees) and reports rows per second.
func BenchmarkLedgerRead(b *testing.B) {
	const n = 1_000_000
	var buf bytes.Buffer
	buf.WriteString("kind,no_order,dt_order,amount,status,orig_no_order,oid_paybill,oid_partner,fee\n")
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&buf, "refund,R%011d,2024-01-%02d 10:11:12,%d.%02d,SUCCESS,P%011d,,201403251000001147,\n", i, 1+i%28, 1+i%500, i%100, i-1)
		default:
			fmt.Fprintf(&buf, "payment,P%011d,202401%02d101112,%d.%02d,SUCCESS,,2014052800%06d,,0.%02d\n", i, 1+i%28, 1+i%5000, i%100, i%1000000, i%100)
		}
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		entries, rejects, err := Read(bytes.NewReader(data))
		if err != nil || len(rejects) > 0 || len(entries) != n {
			b.Fatalf("%d entries, rejects %v, err %v", len(entries), rejects[:min(3, len(rejects))], err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
