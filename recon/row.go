package recon

// Kind is what a statement row or ledger entry is, and so what it matches
// against (SPEC §2.3, §3). The zero value is invalid.
type Kind uint8

const (
	KindPayment Kind = iota + 1
	KindRefund
	KindPayout
)

func (k Kind) String() string {
	switch k {
	case KindPayment:
		return "payment"
	case KindRefund:
		return "refund"
	case KindPayout:
		return "payout"
	}
	return "invalid"
}

// ParseKind reads the ledger's kind column; ok is false for anything else.
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "payment":
		return KindPayment, true
	case "refund":
		return KindRefund, true
	case "payout":
		return KindPayout, true
	}
	return 0, false
}

// Row is one parsed detail row of a JYMX or FKMX file (SPEC §2.3). Text
// fields are UTF-8, trimmed and unquoted; dates are kept as LianLian prints
// them ("yyyymmdd hh:mm:ss", "yyyymmdd") after validation.
//
// The fields here are what matching reads; the rest, which only the store,
// inspect and a person read, hang off RowText. A run keeps a million rows
// of a day in memory for matching and drops their RowText once the store
// has them (Lean), which halves what each row costs.
type Row struct {
	// *RowMeta holds the fields that rows of a file mostly share, one
	// value for all of them (Metas): File, OidPartner, BusiPartner and
	// SettleDate. It is never nil in a row read from a file or the store.
	// Shared, it is not to be written through: EditMeta copies it first.
	*RowMeta

	Line int // 1-based physical line number in that file

	NoOrder    string // field 1: order no, refund no or payout no
	OidPaybill string // field 5: paybill, or on a refund leg the original paybill or order no
	Amount     Fen    // field 7: negative on a refund leg
	Fee        Fen    // field 11: negative on a refund leg
	Direction  int8   // field 8: 0 received, 1 paid out
	Status     int8   // field 9: 0 success, 5 refunded
	Kind       Kind   // derived by Classify

	// *RowText is nil in a lean row (Lean); reading one of its fields
	// then panics, which is the point: matching must not need them.
	*RowText
}

// RowMeta holds the fields of a row that repeat from row to row: a
// million-row day has a handful of distinct ones, and a row costs 80
// bytes instead of 136 by pointing at one (issue 6: a run holds a day's
// rows for matching).
type RowMeta struct {
	File        string // base name of the file the row came from
	OidPartner  string // field 2: 18 digits
	BusiPartner string // field 4
	SettleDate  string // field 6: "yyyymmdd"
}

// EditMeta gives the row a RowMeta of its own, equal to the one it had
// (or empty), and returns it for writing: the row's old one may be shared.
func (r *Row) EditMeta() *RowMeta {
	m := &RowMeta{}
	if r.RowMeta != nil {
		*m = *r.RowMeta
	}
	r.RowMeta = m
	return m
}

// Metas hands out one *RowMeta per distinct value, so that rows share it.
// The strings given are kept: they must hold nothing else (no line they
// were cut from). The zero value is ready; not safe for concurrent use.
type Metas struct {
	last *RowMeta
	m    map[RowMeta]*RowMeta
}

// metasMax bounds the distinct values a Metas keeps; past it each call
// makes a value of its own, so that a file of ever-new values costs
// memory per row, as it would anyway, and no more.
const metasMax = 1 << 12

// Get returns the shared RowMeta of these values.
func (ms *Metas) Get(file, oidPartner, busiPartner, settleDate string) *RowMeta {
	if l := ms.last; l != nil && l.OidPartner == oidPartner && l.SettleDate == settleDate &&
		l.BusiPartner == busiPartner && l.File == file {
		return l
	}
	k := RowMeta{File: file, OidPartner: oidPartner, BusiPartner: busiPartner, SettleDate: settleDate}
	p, ok := ms.m[k]
	if !ok {
		// A copy: &k would put k on the heap at every call that gets
		// here, found or not (47 MB for a million-row file whose
		// busi_partner changes from row to row).
		p = new(RowMeta)
		*p = k
		if ms.m == nil {
			ms.m = make(map[RowMeta]*RowMeta)
		}
		if len(ms.m) < metasMax {
			ms.m[k] = p
		}
	}
	ms.last = p
	return p
}

// RowText holds the fields of a row that matching never reads.
type RowText struct {
	DtOrder   string // field 3: "yyyymmdd hh:mm:ss"
	UpdatedAt string // field 10: "yyyymmdd hh:mm:ss"
	Product   string // field 12
	PayMethod string // field 13
	InfoOrder string // field 14: free text, may contain commas

	// FKMX rows of 17 fields (SPEC §2.3); empty otherwise.
	PayeeBank    string
	PayeeAccount string
	PayeeName    string

	// Warnings are tolerated quirks (a stray quote, the dropped empty
	// field); the row is still good.
	Warnings []string
}

// Lean returns the row with only what matching reads. Its strings are
// its own: the parser and the store give NoOrder and OidPaybill memory that
// holds nothing else of the line, and the other fields repeat from row to
// row and are shared, so a lean row keeps no parsed line alive.
func (r Row) Lean() Row {
	r.RowText = nil
	return r
}

// Revoked reports a payment refunded on its own settle date: status 5 with a
// positive amount (SPEC §2.3).
func (r *Row) Revoked() bool { return r.Direction == 0 && r.Status == 5 && r.Amount > 0 }

// Classify decides what a row is, in the order SPEC §2.3 gives.
func Classify(direction int8, amount Fen) Kind {
	switch {
	case direction == 1:
		return KindPayout
	case amount < 0:
		return KindRefund
	default:
		return KindPayment
	}
}

// Malformed is a line that could not be read as a row (SPEC §2.3, §4.1): it
// becomes exactly one malformed_row finding and takes no further part.
type Malformed struct {
	File    string
	Line    int
	NoOrder string // the raw first field, as far as it could be split
	Field   string // the field at fault ("amount", "dt_order", …), or "" for the line
	Raw     string // the decoded line
	Reason  string
}

// Summary is the seven figures of a JYMXSUM or FKMXSUM file (SPEC §2.5), in
// the order the file prints them.
type Summary struct {
	TotalCount    int64
	SuccessCount  int64
	SuccessAmount Fen
	RefundCount   int64
	RefundAmount  Fen // ≤ 0
	RevokeCount   int64
	RevokeAmount  Fen // ≤ 0
}

// SummaryFigures names the seven figures in file order; findings carry the
// name in their no_order column.
var SummaryFigures = [7]string{
	"total_count", "success_count", "success_amount",
	"refund_count", "refund_amount", "revoke_count", "revoke_amount",
}

// Figures returns the seven values in file order; amounts are in fen.
func (s Summary) Figures() [7]int64 {
	return [7]int64{
		s.TotalCount, s.SuccessCount, int64(s.SuccessAmount),
		s.RefundCount, int64(s.RefundAmount), s.RevokeCount, int64(s.RevokeAmount),
	}
}

// IsAmountFigure reports whether figure i of Figures is money.
func IsAmountFigure(i int) bool { return i == 2 || i == 4 || i == 6 }
