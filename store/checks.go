package store

import (
	"errors"
	"fmt"

	"github.com/lianlian-recon/reconcile/recon"
)

// The CHECK constraints of schema.sql are the contract for programs that
// write the tables themselves. The store's own bulk writes (UpsertLedger,
// FileWriter) check the same rules here, in Go, before anything is bound,
// and then run with SQLite's ignore_check_constraints (see beginWrite).
// Evaluating the CHECKs costs SQLite more than the inserts they guard: a
// million fresh ledger entries take 5.7 s with them and 3.1 s without (the
// GLOBs of 14 and 18 character classes), a million statement rows 5.6 s
// and 4.5 s.
//
// Each function here must refuse at least what its table's CHECKs refuse;
// TestChecksAgreeWithSchema and FuzzEntryCheck hold them to it. They may
// refuse more: a text with a NUL byte passes SQLite's GLOB, which stops
// reading at the NUL, but not checkEntry.

// errCheck marks a value the schema's CHECK constraints refuse.
var errCheck = errors.New("refused by the schema's CHECK constraints")

// checkEntry enforces the CHECKs of ledger_entries.
func checkEntry(e *recon.Entry) error {
	bad := func(col, v string) error { return fmt.Errorf("%s %q: %w", col, v, errCheck) }
	switch {
	case e.OidPartner != "" && !recon.IsDigits(e.OidPartner, 18):
		return bad("oid_partner", e.OidPartner)
	case !validKind(e.Kind):
		return bad("kind", e.Kind.String())
	case e.NoOrder == "" || sqliteLength(e.NoOrder) > 32:
		return bad("no_order", e.NoOrder)
	case !recon.IsDigits(e.DtOrder, 14):
		return bad("dt_order", e.DtOrder)
	case e.Amount <= 0:
		return bad("amount", e.Amount.String())
	case e.Status != recon.StatusSuccess && e.Status != recon.StatusFailure && e.Status != recon.StatusProcessing:
		return bad("status", e.Status.String())
	case e.HasFee && e.Fee < 0:
		return bad("fee", e.Fee.String())
	}
	return nil
}

// checkRow enforces the CHECKs of statement_rows: amount and fee are
// bound as integers, which leaves the kind.
func checkRow(r *recon.Row) error {
	if !validKind(r.Kind) {
		return fmt.Errorf("line %d: kind %s: %w", r.Line, r.Kind, errCheck)
	}
	return nil
}

// checkFileName enforces the CHECKs of statement_files; monthly is bound
// from a bool.
func checkFileName(n recon.FileName) error {
	switch n.Kind {
	case recon.FileJYMX, recon.FileFKMX, recon.FileJYMXSUM, recon.FileFKMXSUM:
		return nil
	}
	return fmt.Errorf("kind %q: %w", n.Kind, errCheck)
}

func validKind(k recon.Kind) bool {
	return k == recon.KindPayment || k == recon.KindRefund || k == recon.KindPayout
}

// sqliteLength is SQLite's length() of a TEXT value: the characters
// before the first NUL, counting every byte that does not continue a
// UTF-8 sequence (so each invalid byte counts as one).
func sqliteLength(s string) int {
	n := 0
	for i := 0; i < len(s) && s[i] != 0; i++ {
		if s[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}
