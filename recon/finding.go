package recon

import "sort"

// FindingKind is the kind column of the report (SPEC §4).
type FindingKind string

const (
	MissingInLedger      FindingKind = "missing_in_ledger"
	MissingInStatement   FindingKind = "missing_in_statement"
	AmountMismatch       FindingKind = "amount_mismatch"
	StatusMismatch       FindingKind = "status_mismatch"
	FeeMismatch          FindingKind = "fee_mismatch"
	DuplicateInStatement FindingKind = "duplicate_in_statement"
	UnpairedRefund       FindingKind = "unpaired_refund"
	RefundExceedsPayment FindingKind = "refund_exceeds_payment"
	SummaryMismatch      FindingKind = "summary_mismatch"
	MonthlyDailyMismatch FindingKind = "monthly_daily_mismatch"
	MalformedRow         FindingKind = "malformed_row"
	MerchantMismatch     FindingKind = "merchant_mismatch"
	SettleDateMismatch   FindingKind = "settle_date_mismatch"
)

// FindingKinds lists every kind in report order (alphabetical, as the CSV
// sorts).
var FindingKinds = []FindingKind{
	AmountMismatch, DuplicateInStatement, FeeMismatch, MalformedRow,
	MerchantMismatch, MissingInLedger, MissingInStatement,
	MonthlyDailyMismatch, RefundExceedsPayment, SettleDateMismatch,
	StatusMismatch, SummaryMismatch, UnpairedRefund,
}

// Finding is one discrepancy: one row of discrepancies.csv (SPEC §6).
type Finding struct {
	SettleDate string // the run's settle date (or month)
	Kind       FindingKind
	NoOrder    string // for summary_mismatch: the figure's name
	OidPaybill string

	// Amounts in fen; a Has flag false means the cell is empty. For an
	// amount figure of summary_mismatch, StatementAmount is the summary
	// file's figure and LedgerAmount the one computed from the detail rows;
	// a count figure leaves both empty and says the counts in Detail.
	StatementAmount    Fen
	HasStatementAmount bool
	LedgerAmount       Fen
	HasLedgerAmount    bool

	File   string
	Line   int // 0 = none
	Detail string
}

// Difference is statement minus ledger, defined when both are present.
func (f *Finding) Difference() (Fen, bool) {
	if !f.HasStatementAmount || !f.HasLedgerAmount {
		return 0, false
	}
	return f.StatementAmount - f.LedgerAmount, true
}

// SortFindings puts findings in report order (SPEC §6): kind, then
// no_order, then file, then line; the sort is stable.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.NoOrder != b.NoOrder {
			return a.NoOrder < b.NoOrder
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}
