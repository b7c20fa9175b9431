package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/lianlian-recon/reconcile/recon"
)

// csvHeader is the header of discrepancies.csv, exactly as SPEC §6 gives it.
var csvHeader = []string{
	"settle_date", "kind", "no_order", "oid_paybill",
	"statement_amount", "ledger_amount", "difference",
	"file", "line", "detail",
}

// utf8BOM starts the file so that Excel reads it as UTF-8 and shows the
// Chinese (SPEC §6).
const utf8BOM = "\ufeff"

// WriteCSV writes discrepancies.csv: a BOM, the header, then one row per
// finding sorted by kind, no_order, file and line (SPEC §6). Amounts are yuan
// with two decimals and empty where the finding has none; difference is
// statement − ledger when both are present; line is empty when 0.
//
// Spreadsheet safety (OWASP "CSV Injection"): a text cell that begins with
// '=', '+', '-', '@', a tab or a carriage return would be taken by Excel or
// LibreOffice as a formula, so it is written with a single quote in front
// ("'=HYPERLINK(…)"). Text cells are every cell that holds text from a file
// or the ledger: settle_date, kind, no_order, oid_paybill, file and detail.
// Amount cells are numbers we format ourselves, and a negative amount such as
// "-1.50" is a number, not a formula: it is never prefixed, so that finance
// can still add the column up. The line cell is a number too.
func WriteCSV(w io.Writer, res *recon.Result) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	rec := make([]string, len(csvHeader))
	for _, f := range sortedFindings(res.Findings) {
		rec[0] = safeText(f.SettleDate)
		rec[1] = safeText(string(f.Kind))
		rec[2] = safeText(f.NoOrder)
		rec[3] = safeText(f.OidPaybill)
		rec[4] = amountCell(f.StatementAmount, f.HasStatementAmount)
		rec[5] = amountCell(f.LedgerAmount, f.HasLedgerAmount)
		d, ok := f.Difference()
		rec[6] = amountCell(d, ok)
		rec[7] = safeText(f.File)
		rec[8] = ""
		if f.Line != 0 {
			rec[8] = strconv.Itoa(f.Line)
		}
		rec[9] = safeText(f.Detail)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

func amountCell(v recon.Fen, ok bool) string {
	if !ok {
		return ""
	}
	return v.String()
}

// safeText neutralises a text cell that a spreadsheet would evaluate as a
// formula (see WriteCSV).
func safeText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
