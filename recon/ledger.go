package recon

import (
	"cmp"
	"strings"
)

// LedgerStatus is the merchant's own status for an entry (SPEC §3).
type LedgerStatus string

const (
	StatusSuccess    LedgerStatus = "SUCCESS"
	StatusFailure    LedgerStatus = "FAILURE"
	StatusProcessing LedgerStatus = "PROCESSING"
)

// Entry is one row of the merchant ledger (SPEC §3).
type Entry struct {
	OidPartner  string // "" means the run's merchant (SPEC §4.1)
	Kind        Kind
	NoOrder     string
	DtOrder     string // normalised "yyyymmddhhmmss", merchant local time
	Amount      Fen    // positive
	Status      LedgerStatus
	OrigNoOrder string // refunds: no_order of the refunded payment
	OidPaybill  string
	Fee         Fen
	HasFee      bool // the ledger gave a fee; Fee is compared only then
}

// Date is the entry's date, "yyyymmdd".
func (e *Entry) Date() string { return e.DtOrder[:8] }

// CompareEntries orders entries as a ledger is read back from the store:
// by dt_order, then kind, no_order and oid_partner, so that every run lists
// the same ledger in the same order (the key makes it a total order).
func CompareEntries(a, b Entry) int {
	if c := strings.Compare(a.DtOrder, b.DtOrder); c != 0 {
		return c
	}
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	if c := strings.Compare(a.NoOrder, b.NoOrder); c != 0 {
		return c
	}
	return strings.Compare(a.OidPartner, b.OidPartner)
}
