package match

import (
	"slices"

	"github.com/lianlian-recon/reconcile/recon"
)

// Scope says which stored statement rows (history) and ledger entries can
// change what Daily decides for a day, and by which numbers a store finds
// them, so that a run reads and keeps only those: its time and memory are
// those of its window, not of every day stored before it. Given the
// history rows Row keeps and the entries Entry keeps, Daily decides
// exactly what it decides given all of them (TestScopeSameAsAll holds it
// to that, the store's look-ups by RowNumbers and EntryNumbers included).
// Where it is cheap to keep more, Scope keeps more; what it keeps is
// closed under what Daily does with it, so adding other rows is not
// harmless in general.
//
// Why these and no others, from what Daily does with them:
//   - A row of D duplicates the stored rows of its key, and matches the
//     entries of its key: rows and entries with the keys of D's rows.
//   - decideLedger looks at entries dated from D − window on (and, on the
//     first day of history, at every entry before it): those entries,
//     every other entry of their keys (which of them a row matches
//     depends on all), and the stored rows of their keys, which may have
//     matched them.
//   - A refund leg of D pairs with the first payment whose paybill, else
//     whose order number, is the leg's field 5, and adds to what earlier
//     legs of that payment refunded. With ids the field-5 values of D's
//     legs and both numbers of every payment (D's or stored) one of them
//     names: every stored payment with a number in ids (so that "first" is
//     the same), and every stored leg whose field 5 is in ids (so that the
//     refunded sums are the same). A leg kept for another reason whose
//     field 5 is not in ids pairs with no payment a leg of D pairs with.
//   - A leg of D without a payment asks whether the ledger knows one: the
//     payment entries whose order number or paybill is the leg's field 5,
//     and the payment entry named by the orig_no_order of the leg's own
//     refund entry (Origs).
//
// Use (job.Daily's scoped): NewScope with D's files; Named with every
// stored row that is a payment a leg of D names (Refs gives the numbers to
// look up; more rows may be given); Dated with every entry dated from
// D − window on, stored or imported; then EntryNumbers to look the
// entries up, Entry to choose among them, Origs to complete them (look up
// what it returns, choose again); then RowNumbers to look the stored rows
// up and Row to choose the history. On the first day of history (All)
// every entry matters and no row is stored before it. Named and Refs may
// run on one goroutine while Dated, EntryNumbers, Entry and Origs run on
// another: they write different fields, and read only those NewScope
// filled in. Once Named and EntryNumbers are done, RowNumbers and Row may
// run on one goroutine while Entry and Origs run on another: those read
// only what is done then, and Origs writes nothing they read.
type Scope struct {
	from  string // D − window: entries dated from here on are decided now or pending
	first bool   // D is the first day of history: every entry before it is decided now
	// seen holds the keys of D's rows (ofDay) and of the entries dated
	// from D − window on (dated): one set, so that one look-up answers
	// both, for every row and entry the run reads (a million each).
	seen  *keyFlags
	refs  map[string]bool // field 5 of D's refund legs
	ids   map[string]bool // refs, and both numbers of every payment one of them names
	origs map[string]bool // payment order numbers the refund entries of D's legs name

	sorted map[recon.Kind][]string // keys and dated, by kind, sorted (sortedKeys)
}

// What seen says of a key.
const (
	ofDay uint8 = 1 << iota // a key of D's rows
	dated                   // a key of an entry dated from D − window on
)

// NewScope starts the scope of a run of date whose day holds files;
// historyStart is the earliest stored settle date (date itself on the
// first day).
func NewScope(files []*recon.StatementFile, date, historyStart string, opt Options) *Scope {
	s := &Scope{from: addDays(date, -opt.Window), first: date == historyStart}
	if s.first {
		return s // every entry, and no stored row
	}
	n := 0
	for _, f := range files {
		n += len(f.Rows)
	}
	// Room for D's keys and as many dated ones: growing a map of a
	// million keys rehashes it twenty times.
	s.seen = newKeyFlags(2 * n)
	s.refs, s.ids, s.origs = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, f := range files {
		for i := range f.Rows {
			r := &f.Rows[i]
			s.seen.set(key{r.Kind, r.NoOrder}, ofDay)
			if r.Kind == recon.KindRefund {
				s.refs[r.OidPaybill], s.ids[r.OidPaybill] = true, true
			}
		}
	}
	for _, f := range files {
		for i := range f.Rows {
			s.Named(&f.Rows[i])
		}
	}
	return s
}

// All reports whether every entry matters to the run (the first day of
// history decides every entry dated before it).
func (s *Scope) All() bool { return s.first }

// Named notes a payment (of D or stored) that a leg of D may name.
func (s *Scope) Named(r *recon.Row) {
	if !s.first && r.Kind == recon.KindPayment && (s.refs[r.OidPaybill] || s.refs[r.NoOrder]) {
		s.ids[r.OidPaybill], s.ids[r.NoOrder] = true, true
	}
}

// Dated notes an entry, stored or imported, by its key and dt_order
// ("yyyymmddhhmmss"): when D decides it or it is pending, every entry of
// its key is chosen, for which of them a row matches depends on all of
// them (an entry naming the merchant wins over one that names none).
func (s *Scope) Dated(kind recon.Kind, noOrder, dtOrder string) {
	if s.sorted != nil {
		panic("match: Scope.Dated after EntryNumbers or RowNumbers")
	}
	if !s.first && dtOrder[:8] >= s.from {
		s.seen.set(key{kind, noOrder}, dated)
	}
}

// Entry reports whether a ledger entry can change what the run decides;
// every entry must have been noted with Dated first.
func (s *Scope) Entry(e *recon.Entry) bool {
	return s.whole(key{e.Kind, e.NoOrder}) || (e.Kind == recon.KindPayment && e.OidPaybill != "" && s.refs[e.OidPaybill])
}

// Origs takes the entries Entry chose and returns the order numbers of the
// payment entries that the refund entries of D's legs name, which Entry
// chooses from then on: read the stored entries of those keys (both
// partners), and choose again.
func (s *Scope) Origs(entries []recon.Entry) []string {
	var need []string
	for i := range entries {
		e := &entries[i]
		if e.Kind == recon.KindRefund && s.seen.get(key{e.Kind, e.NoOrder})&ofDay != 0 && e.OrigNoOrder != "" && !s.origs[e.OrigNoOrder] &&
			!s.whole(key{recon.KindPayment, e.OrigNoOrder}) {
			s.origs[e.OrigNoOrder] = true
			need = append(need, e.OrigNoOrder)
		}
	}
	return need
}

// whole reports whether Entry chooses every entry of k, whatever its
// partner, date or paybill.
func (s *Scope) whole(k key) bool {
	return s.first || s.seen.get(k) != 0 || (k.kind == recon.KindPayment && (s.refs[k.noOrder] || s.origs[k.noOrder]))
}

// Row reports whether a stored row can change what the run decides.
func (s *Scope) Row(r *recon.Row) bool {
	switch {
	case s.seen.get(key{r.Kind, r.NoOrder}) != 0:
		return true
	case r.Kind == recon.KindPayment:
		return s.ids[r.OidPaybill] || s.ids[r.NoOrder]
	case r.Kind == recon.KindRefund:
		return s.ids[r.OidPaybill]
	}
	return false
}

// Refs returns the field-5 values of D's refund legs: the order numbers
// and paybills of the payments that Named must be shown (every stored
// payment whose oid_paybill or no_order is one of them).
func (s *Scope) Refs() []string { return setList(s.refs) }

// RowNumbers returns what a store looks up to find every stored row Row
// may keep (after Named and Dated): the rows whose no_order is one of
// noOrders, and those whose oid_paybill is one of paybills. It finds more
// than Row keeps (any kind, any partner), never less. Both lists are
// sorted, so that the store looks them up in the order of its indexes.
func (s *Scope) RowNumbers() (noOrders, paybills []string) {
	keys := s.sortedKeys()
	ids := setList(s.ids)
	return merged(keys[recon.KindPayment], keys[recon.KindRefund], keys[recon.KindPayout], ids), ids
}

// EntryNumbers returns what a store looks up to find every entry Entry may
// keep (after Dated, and again after Origs): the entries whose kind and
// no_order are in keys, and the payment entries whose oid_paybill is one
// of paybills. The lists are sorted, as RowNumbers' are.
func (s *Scope) EntryNumbers() (keys map[recon.Kind][]string, paybills []string) {
	keys = map[recon.Kind][]string{}
	for kind, list := range s.sortedKeys() {
		keys[kind] = list
	}
	keys[recon.KindPayment] = merged(keys[recon.KindPayment], setList(s.refs), setList(s.origs))
	return keys, setList(s.refs)
}

// sortedKeys returns the order numbers of the keys of D's rows and of the
// entries noted by Dated, by kind, sorted: made once, after Dated.
func (s *Scope) sortedKeys() map[recon.Kind][]string {
	if s.sorted != nil {
		return s.sorted
	}
	s.sorted = map[recon.Kind][]string{}
	// Made to measure: grown by append, the lists of two million keys
	// (day 4 of a store) took 0.9 s of CPU here, most of it the kernel
	// clearing fresh pages; now 0.5 s, most of it the sort.
	count := map[recon.Kind]int{}
	for k := range s.seen.keys() {
		count[k.kind]++
	}
	for kind, n := range count {
		s.sorted[kind] = make([]string, 0, n)
	}
	for k := range s.seen.keys() {
		s.sorted[k.kind] = append(s.sorted[k.kind], k.noOrder)
	}
	for kind, list := range s.sorted {
		slices.Sort(list)
		s.sorted[kind] = slices.Clip(slices.Compact(list))
	}
	return s.sorted
}

// setList is the members of set, sorted.
func setList(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// merged is the sorted lists as one sorted list, each value once.
func merged(lists ...[]string) []string {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]string, 0, n)
	for {
		least, at := "", -1
		for i, l := range lists {
			if len(l) > 0 && (at < 0 || l[0] < least) {
				least, at = l[0], i
			}
		}
		if at < 0 {
			return out
		}
		if len(out) == 0 || out[len(out)-1] != least {
			out = append(out, least)
		}
		lists[at] = lists[at][1:]
	}
}
