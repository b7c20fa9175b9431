// Package match decides what a day's statements and the merchant's ledger
// say about each other (SPEC §4). It is a pure function: everything it needs
// (statement rows of the day and of history, ledger entries, the settle date,
// options) is handed in, and everything it decides is handed back. No
// database, file or clock.
package match

import (
	"fmt"
	"sort"
	"time"

	"github.com/lianlian-recon/reconcile/internal/alloc"
	"github.com/lianlian-recon/reconcile/recon"
)

// Options are the merchant's matching knobs.
type Options struct {
	// Window is how many days after its own date a ledger entry may still
	// appear in a statement (SPEC §4; 1 by default, the seed's "前后相差一天").
	Window int
	// IgnoreBusi lists busi_partner codes that are counted in the control
	// totals but not matched (seed §5.2 note 2).
	IgnoreBusi []string
}

// Input is one daily run's material.
type Input struct {
	Merchant string // 18-digit oid_partner the run is for
	Date     string // settle date D, "yyyymmdd"

	// Files are D's statement files: JYMX and FKMX detail files and their
	// summaries. Their rows are the rows this run reports on.
	Files []*recon.StatementFile
	// History holds every good row of stored daily detail files dated before
	// D, in file-date order: refund pairing, duplicates and ledger matches
	// look across days (SPEC §2.4, §4.1).
	History []recon.Row
	// Ledger is every ledger entry of the merchant (its own and those
	// without oid_partner).
	Ledger []recon.Entry
	// HistoryStart is the earliest settle date whose statement the store
	// holds (≤ D). Unmatched entries dated before it are out of scope.
	HistoryStart string
	// MissingDays are days inside history and inside the window whose
	// statement neither the store nor the source had; the entries they
	// would decide stay pending.
	MissingDays []string
}

// Outcome is what a run decided.
type Outcome struct {
	Findings  []recon.Finding // sorted by kind, no_order, file, line
	Pending   []recon.Pending // sorted by decide date, no_order
	Totals    []recon.TotalCheck
	Statement recon.Tally
	Ledger    recon.Tally
}

// Ignored reasons, as the report prints them.
const (
	reasonBeforeHistory = "before history"
	reasonNotSuccess    = "not SUCCESS, absent from statements as expected"
)

func reasonBusi(code string) string { return "busi_partner " + code + " ignored" }

type key struct {
	kind    recon.Kind
	noOrder string
}

// rowState is what the run decided about one of D's rows.
type rowState uint8

const (
	rowMatched rowState = iota
	rowFinding
	rowIgnored
)

// payment is a stored payment row that refund legs pair with.
type payment struct {
	row      *recon.Row
	refunded recon.Fen // sum of |amount| of the legs paired so far
	exceeded bool      // refund_exceeds_payment already true before D
}

// Daily reconciles one settle date. It never fails: every problem in the
// input is a finding.
func Daily(in Input, opt Options) Outcome {
	r := runner{in: in, opt: opt, ignore: map[string]bool{}}
	for _, c := range opt.IgnoreBusi {
		r.ignore[c] = true
	}
	r.run()
	recon.SortFindings(r.out.Findings)
	sort.SliceStable(r.out.Pending, func(i, j int) bool {
		a, b := r.out.Pending[i], r.out.Pending[j]
		if a.DecideOn != b.DecideOn {
			return a.DecideOn < b.DecideOn
		}
		if a.Entry.NoOrder != b.Entry.NoOrder {
			return a.Entry.NoOrder < b.Entry.NoOrder
		}
		return a.Entry.Kind < b.Entry.Kind
	})
	return r.out
}

type runner struct {
	in     Input
	opt    Options
	ignore map[string]bool
	out    Outcome

	// keys indexes slots by (kind, no_order): the ledger entry of the key
	// and how many statement rows carry it. One index serves matching and
	// duplicates, so a row costs one look-up.
	keys  *keyIndex
	slots []slot

	payments  []payment
	byPaybill map[string]int32 // index into payments
	byOrder   map[string]int32
	matched   []bool // ledger entry seen in some statement row (history or D)

	ledgerPaybills map[string]bool // oid_paybill of the merchant's payment entries, once ledgerKnowsPayment needs it
	inScope        []bool          // ledger entry counted in this run's tally
}

type slot struct {
	entry int32 // index into Input.Ledger, -1 for none
	seen  int32 // statement rows with this key so far, history first
}

// slot returns the key's slot, creating an empty one.
func (r *runner) slot(k key) *slot {
	i, added := r.keys.add(k)
	if added {
		r.slots = append(r.slots, slot{entry: -1})
	}
	return &r.slots[i]
}

// entry returns the index of the key's ledger entry.
func (r *runner) entry(k key) (int, bool) {
	i, ok := r.keys.get(k)
	if !ok || r.slots[i].entry < 0 {
		return 0, false
	}
	return int(r.slots[i].entry), true
}

// usable reports whether a row takes part in pairing, duplicates and
// matching: rows of another merchant are set aside and ignored busi_partner
// codes are not matched (SPEC §4, §4.1).
func (r *runner) usable(row *recon.Row) bool {
	return row.OidPartner == r.in.Merchant && !r.ignore[row.BusiPartner]
}

func (r *runner) run() {
	r.indexLedger()
	r.indexStatements()

	for _, f := range r.in.Files {
		if f.Kind.IsSummary() {
			continue
		}
		r.detailFile(f)
	}
	r.controlTotals()
	r.decideLedger()
}

func (r *runner) indexLedger() {
	n := len(r.in.Ledger) + len(r.in.History)
	for _, f := range r.in.Files {
		n += len(f.Rows) / 64 // statement keys the ledger lacks are rare
	}
	// Sized up front: growing an index of a million keys costs more than
	// filling it.
	r.keys = newKeyIndex(n)
	r.slots = alloc.Reserve[slot](n)
	r.matched = make([]bool, len(r.in.Ledger))
	r.inScope = make([]bool, len(r.in.Ledger))
	for i := range r.in.Ledger {
		e := &r.in.Ledger[i]
		if e.OidPartner != "" && e.OidPartner != r.in.Merchant {
			continue
		}
		s := r.slot(key{e.Kind, e.NoOrder})
		// An entry that names the merchant wins over one that leaves it
		// empty for the same key.
		if s.entry >= 0 && r.in.Ledger[s.entry].OidPartner != "" {
			continue
		}
		s.entry = int32(i)
	}
}

// indexStatements walks history before D's rows are judged: keys already
// seen, ledger entries already matched, refunds already paired. Payments
// are indexed only under the values some refund leg names in field 5, so
// the pairing maps stay as small as the refunds.
func (r *runner) indexStatements() {
	wanted := map[string]bool{}
	each := func(fn func(row *recon.Row)) {
		for i := range r.in.History {
			fn(&r.in.History[i])
		}
		for _, f := range r.in.Files {
			for i := range f.Rows {
				fn(&f.Rows[i])
			}
		}
	}
	each(func(row *recon.Row) {
		if row.Kind == recon.KindRefund && r.usable(row) {
			wanted[row.OidPaybill] = true
		}
	})
	r.byPaybill = make(map[string]int32, len(wanted))
	r.byOrder = make(map[string]int32, len(wanted))
	each(func(row *recon.Row) {
		if row.Kind != recon.KindPayment || !r.usable(row) {
			return
		}
		byPaybill, byOrder := wanted[row.OidPaybill], wanted[row.NoOrder]
		if !byPaybill && !byOrder {
			return
		}
		i := int32(len(r.payments))
		r.payments = append(r.payments, payment{row: row})
		if _, dup := r.byPaybill[row.OidPaybill]; byPaybill && !dup {
			r.byPaybill[row.OidPaybill] = i
		}
		if _, dup := r.byOrder[row.NoOrder]; byOrder && !dup {
			r.byOrder[row.NoOrder] = i
		}
	})
	for i := range r.in.History {
		row := &r.in.History[i]
		if !r.usable(row) {
			continue
		}
		s := r.slot(key{row.Kind, row.NoOrder})
		s.seen++
		if s.entry >= 0 {
			r.matched[s.entry] = true
		}
		if row.Kind == recon.KindRefund {
			if p := r.pairOf(row); p != nil {
				p.refunded += row.Amount.Abs()
				if p.refunded > p.row.Amount {
					p.exceeded = true
				}
			}
		}
	}
}

// pairOf finds the payment a refund leg belongs to: the one whose
// oid_paybill, else whose no_order, equals the leg's field 5 (SPEC §2.4).
func (r *runner) pairOf(leg *recon.Row) *payment {
	i, ok := r.byPaybill[leg.OidPaybill]
	if !ok {
		i, ok = r.byOrder[leg.OidPaybill]
	}
	if !ok {
		return nil
	}
	return &r.payments[i]
}

func (r *runner) finding(kind recon.FindingKind, row *recon.Row, detail string) *recon.Finding {
	r.out.Findings = append(r.out.Findings, recon.Finding{
		SettleDate:         r.in.Date,
		Kind:               kind,
		NoOrder:            row.NoOrder,
		OidPaybill:         row.OidPaybill,
		StatementAmount:    row.Amount,
		HasStatementAmount: true,
		File:               row.File,
		Line:               row.Line,
		Detail:             detail,
	})
	return &r.out.Findings[len(r.out.Findings)-1]
}

func (r *runner) detailFile(f *recon.StatementFile) {
	t := &r.out.Statement
	for _, m := range f.Malformed {
		t.Read++
		t.Findings++
		r.out.Findings = append(r.out.Findings, recon.Finding{
			SettleDate: r.in.Date,
			Kind:       recon.MalformedRow,
			NoOrder:    m.NoOrder,
			File:       m.File,
			Line:       m.Line,
			Detail:     malformedDetail(m),
		})
	}
	for i := range f.Rows {
		t.Read++
		switch r.row(f, &f.Rows[i]) {
		case rowMatched:
			t.Matched++
		case rowFinding:
			t.Findings++
		case rowIgnored:
			t.Ignore(reasonBusi(f.Rows[i].BusiPartner))
		}
	}
}

func malformedDetail(m recon.Malformed) string {
	s := m.Reason
	if m.Field != "" {
		s = m.Field + ": " + s
	}
	return s + "; raw: " + m.Raw
}

// row judges one of D's rows.
func (r *runner) row(f *recon.StatementFile, row *recon.Row) rowState {
	if row.OidPartner != r.in.Merchant {
		r.finding(recon.MerchantMismatch, row, fmt.Sprintf("row is for merchant %s, file %s is for %s", row.OidPartner, f.Name, f.Merchant))
		return rowFinding
	}
	if r.ignore[row.BusiPartner] {
		// Seen, though not matched: the entry it would match is not a
		// missing_in_statement, and is ignored for the same reason.
		if j, ok := r.entry(key{row.Kind, row.NoOrder}); ok && !r.inScope[j] {
			r.matched[j] = true
			r.inScope[j] = true
			r.out.Ledger.Read++
			r.out.Ledger.Ignore(reasonBusi(row.BusiPartner))
		}
		return rowIgnored
	}
	state := rowMatched
	if !f.Monthly() && row.SettleDate != f.Date {
		r.finding(recon.SettleDateMismatch, row, fmt.Sprintf("settle_date %s in the file of %s", row.SettleDate, f.Date))
		state = rowFinding
	}

	k := key{row.Kind, row.NoOrder}
	sl := r.slot(k)
	sl.seen++
	switch n := sl.seen; {
	case n == 2:
		r.finding(recon.DuplicateInStatement, row, fmt.Sprintf("second statement row for %s %s", row.Kind, row.NoOrder))
		return rowFinding
	case n > 2:
		// Reported once, with the second row; later copies are part of
		// the same finding.
		return rowFinding
	}

	if row.Kind == recon.KindRefund && r.refundLeg(row) {
		state = rowFinding
	}

	if sl.entry < 0 {
		r.finding(recon.MissingInLedger, row, fmt.Sprintf("%s in %s, not in the ledger", row.Kind, f.Name))
		return rowFinding
	}
	j := int(sl.entry)
	r.matched[j] = true
	r.inScope[j] = true
	r.out.Ledger.Read++
	e := &r.in.Ledger[j]
	if r.compare(row, e) {
		r.out.Ledger.Findings++
		return rowFinding
	}
	r.out.Ledger.Matched++
	return state
}

// refundLeg pairs a leg of D with its payment and reports whether that gave
// a finding.
func (r *runner) refundLeg(leg *recon.Row) bool {
	p := r.pairOf(leg)
	if p == nil {
		if r.ledgerKnowsPayment(leg) {
			return false
		}
		r.finding(recon.UnpairedRefund, leg, fmt.Sprintf("no stored payment or ledger payment has paybill or order no %s", leg.OidPaybill))
		return true
	}
	p.refunded += leg.Amount.Abs()
	if p.refunded <= p.row.Amount || p.exceeded {
		return false
	}
	p.exceeded = true
	r.out.Findings = append(r.out.Findings, recon.Finding{
		SettleDate:         r.in.Date,
		Kind:               recon.RefundExceedsPayment,
		NoOrder:            p.row.NoOrder,
		OidPaybill:         p.row.OidPaybill,
		StatementAmount:    p.refunded,
		HasStatementAmount: true,
		File:               leg.File,
		Line:               leg.Line,
		Detail: fmt.Sprintf("refunds add up to %s, payment %s (%s line %d) is %s; refund %s crossed it",
			p.refunded, p.row.NoOrder, p.row.File, p.row.Line, p.row.Amount, leg.NoOrder),
	})
	return true
}

// ledgerKnowsPayment: a payment entry whose no_order or oid_paybill equals
// the leg's field 5, or whose no_order is the orig_no_order of the leg's own
// ledger refund entry (SPEC §4.1).
func (r *runner) ledgerKnowsPayment(leg *recon.Row) bool {
	if _, ok := r.entry(key{recon.KindPayment, leg.OidPaybill}); ok {
		return true
	}
	if j, ok := r.entry(key{recon.KindRefund, leg.NoOrder}); ok {
		if _, ok := r.entry(key{recon.KindPayment, r.in.Ledger[j].OrigNoOrder}); ok {
			return true
		}
	}
	if r.ledgerPaybills == nil {
		// Made on the first leg that needs it, not per leg: a first run
		// can hold thousands of legs of payments from before history,
		// and the ledger millions of entries.
		r.ledgerPaybills = map[string]bool{}
		for i := range r.in.Ledger {
			e := &r.in.Ledger[i]
			if e.Kind == recon.KindPayment && e.OidPaybill != "" && (e.OidPartner == "" || e.OidPartner == r.in.Merchant) {
				r.ledgerPaybills[e.OidPaybill] = true
			}
		}
	}
	return r.ledgerPaybills[leg.OidPaybill]
}

// compare reports the first of status, amount, fee that disagrees (SPEC
// §4.1) as a finding, and whether there was one.
func (r *runner) compare(row *recon.Row, e *recon.Entry) bool {
	add := func(kind recon.FindingKind, stmt, ledger recon.Fen, detail string) {
		f := r.finding(kind, row, detail)
		f.StatementAmount = stmt
		f.LedgerAmount, f.HasLedgerAmount = ledger, true
	}
	switch {
	case e.Status != recon.StatusSuccess:
		add(recon.StatusMismatch, row.Amount.Abs(), e.Amount,
			fmt.Sprintf("statement says status %d (success), ledger says %s", row.Status, e.Status))
	case row.Amount.Abs() != e.Amount:
		add(recon.AmountMismatch, row.Amount.Abs(), e.Amount,
			fmt.Sprintf("statement %s, ledger %s", row.Amount.Abs(), e.Amount))
	case e.HasFee && row.Kind != recon.KindRefund && row.Fee.Abs() != e.Fee:
		add(recon.FeeMismatch, row.Fee.Abs(), e.Fee,
			fmt.Sprintf("fee: statement %s, ledger %s (amounts are fees)", row.Fee.Abs(), e.Fee))
	default:
		return false
	}
	return true
}

// decideLedger settles the entries no row of D matched: decided today,
// still pending, or not yet looked at (SPEC §4.1, the window).
func (r *runner) decideLedger() {
	t := &r.out.Ledger
	first := r.in.Date == r.in.HistoryStart
	for i := range r.in.Ledger {
		e := &r.in.Ledger[i]
		if r.inScope[i] || (e.OidPartner != "" && e.OidPartner != r.in.Merchant) {
			continue
		}
		d := e.Date()
		decide := addDays(d, r.opt.Window)
		switch {
		case d > r.in.Date:
			continue // not looked at yet
		case decide > r.in.Date:
			if r.matched[i] || e.Status != recon.StatusSuccess {
				continue // matched by an earlier day, or correct when absent
			}
			t.Read++
			t.Pending++
			r.out.Pending = append(r.out.Pending, recon.Pending{Entry: *e, DecideOn: decide, Reason: "window open"})
		case decide == r.in.Date || (first && d < r.in.HistoryStart):
			if r.matched[i] {
				continue // counted in the run whose row matched it
			}
			t.Read++
			switch {
			case d < r.in.HistoryStart:
				t.Ignore(reasonBeforeHistory)
			case e.Status != recon.StatusSuccess:
				t.Ignore(reasonNotSuccess)
			default:
				if day := r.missingDay(d, decide); day != "" {
					t.Pending++
					r.out.Pending = append(r.out.Pending, recon.Pending{Entry: *e, DecideOn: decide,
						Reason: "statement of " + day + " missing"})
					continue
				}
				t.Findings++
				r.out.Findings = append(r.out.Findings, recon.Finding{
					SettleDate:      r.in.Date,
					Kind:            recon.MissingInStatement,
					NoOrder:         e.NoOrder,
					OidPaybill:      e.OidPaybill,
					LedgerAmount:    e.Amount,
					HasLedgerAmount: true,
					Detail: fmt.Sprintf("%s dated %s, in no statement of %s…%s", e.Kind, e.DtOrder,
						d, decide),
				})
			}
		}
	}
}

func (r *runner) missingDay(from, to string) string {
	for _, m := range r.in.MissingDays {
		if m >= from && m <= to {
			return m
		}
	}
	return ""
}

// controlTotals checks each summary file of D against its detail file.
func (r *runner) controlTotals() {
	detail := map[recon.FileKind]*recon.StatementFile{}
	for _, f := range r.in.Files {
		if !f.Kind.IsSummary() {
			detail[f.Kind] = f
		}
	}
	for _, f := range r.in.Files {
		if !f.Kind.IsSummary() {
			continue
		}
		for _, m := range f.Malformed {
			r.out.Findings = append(r.out.Findings, recon.Finding{
				SettleDate: r.in.Date, Kind: recon.MalformedRow, NoOrder: m.NoOrder,
				File: m.File, Line: m.Line, Detail: malformedDetail(m),
			})
		}
		if f.Summary == nil {
			continue // malformed: no figure is compared
		}
		var rows []recon.Row
		if d := detail[detailKindOf(f.Kind)]; d != nil {
			rows = d.Rows
		}
		checks, findings := CheckTotals(r.in.Date, f, rows)
		r.out.Totals = append(r.out.Totals, checks...)
		r.out.Findings = append(r.out.Findings, findings...)
	}
}

func detailKindOf(k recon.FileKind) recon.FileKind {
	if k == recon.FileFKMXSUM {
		return recon.FileFKMX
	}
	return recon.FileJYMX
}

// addDays adds n days to a "yyyymmdd" date.
func addDays(date string, n int) string {
	t, err := time.Parse("20060102", date)
	if err != nil {
		return date // dates are validated at parse and import
	}
	return t.AddDate(0, 0, n).Format("20060102")
}

// AddDays is addDays for callers that plan which days a run needs.
func AddDays(date string, n int) string { return addDays(date, n) }
