package match

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// scoped is in with only the history rows and ledger entries its Scope
// chooses, chosen as job.Daily chooses them from the store: first what the
// store finds by the numbers Scope gives it, then what Scope keeps of that.
func scoped(in Input, opt Options) Input {
	s := NewScope(in.Files, in.Date, in.HistoryStart, opt)
	if s.All() {
		return in // the job reads everything
	}
	in2 := func(v string, list []string) bool { return slices.Contains(list, v) }
	refs := s.Refs()
	for i := range in.History {
		if r := &in.History[i]; in2(r.NoOrder, refs) || in2(r.OidPaybill, refs) {
			s.Named(r)
		}
	}
	for _, e := range in.Ledger {
		s.Dated(e.Kind, e.NoOrder, e.DtOrder)
	}
	choose := func() []recon.Entry {
		keys, paybills := s.EntryNumbers()
		var out []recon.Entry
		for i := range in.Ledger {
			e := &in.Ledger[i]
			found := in2(e.NoOrder, keys[e.Kind]) || e.Kind == recon.KindPayment && e.OidPaybill != "" && in2(e.OidPaybill, paybills)
			if found && s.Entry(e) {
				out = append(out, *e)
			}
		}
		return out
	}
	ledger := choose()
	if len(s.Origs(ledger)) > 0 {
		ledger = choose()
	}
	var history []recon.Row
	noOrders, paybills := s.RowNumbers()
	for i := range in.History {
		r := &in.History[i]
		if (in2(r.NoOrder, noOrders) || in2(r.OidPaybill, paybills)) && s.Row(r) {
			history = append(history, *r)
		}
	}
	out := in
	out.History, out.Ledger = history, ledger
	return out
}

// randomInput makes a day and its history from a few order numbers and
// paybills, so that keys, paybills and order numbers collide across rows,
// days, kinds and merchants as often as they can.
func randomInput(rnd *rand.Rand) (Input, Options) {
	const D = "20240110"
	opt := Options{Window: 1 + rnd.IntN(2)}
	if rnd.IntN(4) == 0 {
		opt.IgnoreBusi = []string{"110001"}
	}
	pick := func(xs ...string) string { return xs[rnd.IntN(len(xs))] }
	orders := func() string { return pick("A1", "A2", "A3", "A4", "R1", "R2", "R3", "X1") }
	paybills := func() string { return pick("P1", "P2", "P3", "A1", "A2", "R1", "") }
	mkRow := func(date string, line int) recon.Row {
		var r recon.Row
		switch rnd.IntN(6) {
		case 0, 1, 2: // payment
			r = row(date, line, orders(), paybills(), recon.Fen(100+rnd.IntN(5)*100), int8(pick("0", "0", "5")[0]-'0'))
		case 3, 4: // refund leg
			r = row(date, line, orders(), paybills(), -recon.Fen(50+rnd.IntN(4)*100), 5)
		default:
			r = payout(date, line, orders(), recon.Fen(100+rnd.IntN(3)*100))
		}
		switch rnd.IntN(12) {
		case 0:
			r.EditMeta().OidPartner = "201403251000009999"
		case 1:
			r.EditMeta().BusiPartner = "110001"
		}
		return r
	}
	start := 5 + rnd.IntN(6) // history starts on the 5th to the 10th
	in := Input{Merchant: merchant, Date: D, HistoryStart: fmt.Sprintf("202401%02d", start)}
	for d := start; d < 10; d++ {
		date := fmt.Sprintf("202401%02d", d)
		for i := range rnd.IntN(8) {
			in.History = append(in.History, mkRow(date, i+1))
		}
	}
	var rows []recon.Row
	for i := range rnd.IntN(12) {
		rows = append(rows, mkRow(D, i+1))
	}
	in.Files = day(D, rows...)

	seen := map[string]bool{}
	for range rnd.IntN(20) {
		kind := []recon.Kind{recon.KindPayment, recon.KindRefund, recon.KindPayout}[rnd.IntN(3)]
		e := entry(kind, orders(), fmt.Sprintf("202401%02d", 3+rnd.IntN(9)), recon.Fen(50+rnd.IntN(5)*100))
		e.OidPartner = pick("", "", merchant, "201403251000009999")
		e.OidPaybill = paybills()
		e.Status = []recon.LedgerStatus{recon.StatusSuccess, recon.StatusSuccess, recon.StatusFailure}[rnd.IntN(3)]
		if kind == recon.KindRefund {
			e.OrigNoOrder = orders()
		}
		if rnd.IntN(3) == 0 {
			e.Fee, e.HasFee = recon.Fen(rnd.IntN(3)), true
		}
		if k := e.OidPartner + e.Kind.String() + e.NoOrder; !seen[k] { // one entry a key, as the store holds them
			seen[k] = true
			in.Ledger = append(in.Ledger, e)
		}
	}
	slices.SortFunc(in.Ledger, recon.CompareEntries)
	return in, opt
}

// TestScopeSameAsAll: Daily decides the same given the history rows and
// entries Scope chooses as given all of them, on 20,000 random days full
// of colliding numbers; and Scope does leave some out.
func TestScopeSameAsAll(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	droppedRows, droppedEntries := 0, 0
	for i := range 20000 {
		in, opt := randomInput(rnd)
		sub := scoped(in, opt)
		droppedRows += len(in.History) - len(sub.History)
		droppedEntries += len(in.Ledger) - len(sub.Ledger)
		want, got := Daily(in, opt), Daily(sub, opt)
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Fatalf("case %d: with the scope\n%+v\nwith everything\n%+v\nhistory %+v\nscoped %+v\nledger %+v\nscoped %+v\nday %+v",
				i, got, want, in.History, sub.History, in.Ledger, sub.Ledger, in.Files[0].Rows)
		}
	}
	if droppedRows == 0 || droppedEntries == 0 {
		t.Errorf("the scope left out %d rows and %d entries: it chooses everything", droppedRows, droppedEntries)
	}
}

// normal makes empty lists nil, which DeepEqual tells apart.
func normal(o Outcome) Outcome {
	if len(o.Findings) == 0 {
		o.Findings = nil
	}
	if len(o.Pending) == 0 {
		o.Pending = nil
	}
	if len(o.Totals) == 0 {
		o.Totals = nil
	}
	return o
}
