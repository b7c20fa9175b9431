package match

import (
	"fmt"

	"github.com/lianlian-recon/reconcile/recon"
)

// ComputeSummary is the one place that reads SPEC §2.5: the seven JYMXSUM
// figures as computed from a day's detail rows. Every parsed row counts —
// duplicates, direction-1 rows, rows of another merchant and rows of an
// ignored busi_partner included (SPEC §4.1); malformed lines are their own
// findings and are not in rows.
func ComputeSummary(rows []recon.Row) recon.Summary {
	var s recon.Summary
	for i := range rows {
		r := &rows[i]
		s.TotalCount++
		if r.Status == 0 {
			s.SuccessCount++
			s.SuccessAmount += r.Amount
		}
		if r.Amount < 0 {
			s.RefundCount++
			s.RefundAmount += r.Amount
		}
		if r.Status == 5 && r.Amount > 0 {
			s.RevokeCount++
			s.RevokeAmount -= r.Amount
		}
	}
	return s
}

// CheckTotals compares a summary file's figures with those computed from its
// detail file: one TotalCheck per figure, and one summary_mismatch finding
// per figure that differs (SPEC §2.5, §4.1).
func CheckTotals(period string, sum *recon.StatementFile, detail []recon.Row) ([]recon.TotalCheck, []recon.Finding) {
	computed := ComputeSummary(detail).Figures()
	given := sum.Summary.Figures()
	var checks []recon.TotalCheck
	var findings []recon.Finding
	for i, name := range recon.SummaryFigures {
		c := recon.TotalCheck{
			File:     sum.Name,
			Figure:   name,
			Amount:   recon.IsAmountFigure(i),
			Summary:  given[i],
			Computed: computed[i],
		}
		checks = append(checks, c)
		if c.OK() {
			continue
		}
		f := recon.Finding{
			SettleDate: period,
			Kind:       recon.SummaryMismatch,
			NoOrder:    name,
			File:       sum.Name,
		}
		if c.Amount {
			f.StatementAmount, f.HasStatementAmount = recon.Fen(c.Summary), true
			f.LedgerAmount, f.HasLedgerAmount = recon.Fen(c.Computed), true
			f.Detail = fmt.Sprintf("%s says %s, the detail rows add up to %s (statement_amount = summary file, ledger_amount = computed)",
				sum.Name, recon.Fen(c.Summary), recon.Fen(c.Computed))
		} else {
			f.Detail = fmt.Sprintf("%s says %d, the detail rows give %d", sum.Name, c.Summary, c.Computed)
		}
		findings = append(findings, f)
	}
	return checks, findings
}
