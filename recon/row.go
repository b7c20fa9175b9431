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
	File string // base name of the file the row came from
	Line int    // 1-based physical line number in that file

	NoOrder     string // field 1: order no, refund no or payout no
	OidPartner  string // field 2: 18 digits
	BusiPartner string // field 4
	OidPaybill  string // field 5: paybill, or on a refund leg the original paybill or order no
	SettleDate  string // field 6: "yyyymmdd"
	Amount      Fen    // field 7: negative on a refund leg
	Fee         Fen    // field 11: negative on a refund leg
	Direction   int8   // field 8: 0 received, 1 paid out
	Status      int8   // field 9: 0 success, 5 refunded
	Kind        Kind   // derived by Classify

	// *RowText is nil in a lean row (Lean); reading one of its fields
	// then panics, which is the point: matching must not need them.
	*RowText
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
