package match

import (
	"fmt"
	"sort"

	"github.com/lianlian-recon/reconcile/recon"
)

// MonthlyInput is one monthly detail file (JYMX or FKMX of a month) and the
// daily files of the same kind for that month (SPEC §2.6).
type MonthlyInput struct {
	Month   string // "yyyymm"
	Monthly *recon.StatementFile
	// Daily maps each day of the month ("yyyymmdd") to its daily file of the
	// same kind; a day absent from the map had no file in store or source.
	Daily map[string]*recon.StatementFile
	// DailyOptional says an absent daily file means an empty day (FKMX
	// files are not published on a day without payouts, SPEC §2.1).
	DailyOptional bool
}

// MonthlyOutcome is what a monthly comparison decided.
type MonthlyOutcome struct {
	Findings  []recon.Finding
	DayTotals []recon.DayTotal
	// Statement counts the rows of the monthly file and of the daily files
	// it was compared with: each is matched by a row of the other side, or
	// a finding (a missing daily file's day: one finding, its rows counted
	// as findings).
	Statement recon.Tally
}

// lineKey is what makes two statement rows the same row: everything LianLian
// prints but the info_order text and the order/update times, which a
// re-generated file may reformat.
type lineKey struct {
	kind       recon.Kind
	noOrder    string
	oidPaybill string
	settleDate string
	amount     recon.Fen
	fee        recon.Fen
	status     int8
	direction  int8
}

func lineKeyOf(r *recon.Row) lineKey {
	return lineKey{r.Kind, r.NoOrder, r.OidPaybill, r.SettleDate, r.Amount, r.Fee, r.Status, r.Direction}
}

// Monthly compares a monthly file with the union of that month's daily
// files: each row in one and not the other is a monthly_daily_mismatch
// finding, and so is a day whose (required) daily file is missing; per-day
// count and amount totals are returned for the report. A day whose daily
// file is missing gives one finding for the day, not one per row.
func Monthly(in MonthlyInput) MonthlyOutcome {
	var out MonthlyOutcome
	m := in.Monthly
	finding := func(no, paybill string, amount recon.Fen, hasAmount bool, file string, line int, detail string) {
		out.Findings = append(out.Findings, recon.Finding{
			SettleDate: in.Month, Kind: recon.MonthlyDailyMismatch, NoOrder: no, OidPaybill: paybill,
			StatementAmount: amount, HasStatementAmount: hasAmount, File: file, Line: line, Detail: detail,
		})
	}
	for _, mal := range m.Malformed {
		out.Statement.Read++
		out.Statement.Findings++
		out.Findings = append(out.Findings, recon.Finding{SettleDate: in.Month, Kind: recon.MalformedRow,
			NoOrder: mal.NoOrder, File: mal.File, Line: mal.Line, Detail: malformedDetail(mal)})
	}

	// Per-day totals of the monthly file, and its rows by day.
	totals := map[string]*recon.DayTotal{}
	dayOf := func(date string) *recon.DayTotal {
		t := totals[date]
		if t == nil {
			t = &recon.DayTotal{Date: date}
			totals[date] = t
		}
		return t
	}
	for day := range in.Daily {
		dayOf(day)
	}
	byDay := map[string][]*recon.Row{}
	for i := range m.Rows {
		r := &m.Rows[i]
		t := dayOf(r.SettleDate)
		t.MonthlyCount++
		t.MonthlyAmount += r.Amount
		byDay[r.SettleDate] = append(byDay[r.SettleDate], r)
	}

	days := make([]string, 0, len(totals))
	for d := range totals {
		days = append(days, d)
	}
	sort.Strings(days)
	for _, d := range days {
		t := totals[d]
		daily, ok := in.Daily[d]
		t.DailyAvailable = ok || in.DailyOptional
		if ok {
			for i := range daily.Rows {
				t.DailyCount++
				t.DailyAmount += daily.Rows[i].Amount
			}
		}
		rows := byDay[d]
		out.Statement.Read += len(rows)
		if !t.DailyAvailable {
			out.Statement.Findings += len(rows)
			finding(d, "", t.MonthlyAmount, true, m.Name, 0,
				fmt.Sprintf("no daily file for %s: the monthly file has %d rows totalling %s", d, t.MonthlyCount, t.MonthlyAmount))
			continue
		}
		// Multiset difference: a row present twice in one and once in the
		// other is one finding.
		left := map[lineKey]int{}
		var dailyRows []recon.Row
		if daily != nil {
			dailyRows = daily.Rows
		}
		for i := range dailyRows {
			left[lineKeyOf(&dailyRows[i])]++
		}
		for _, r := range rows {
			k := lineKeyOf(r)
			if left[k] > 0 {
				left[k]--
				out.Statement.Matched++
				continue
			}
			out.Statement.Findings++
			where := "no daily file (none published that day)"
			if daily != nil {
				where = daily.Name
			}
			finding(r.NoOrder, r.OidPaybill, r.Amount, true, r.File, r.Line,
				fmt.Sprintf("in the monthly file, not in %s", where))
		}
		for i := range dailyRows {
			r := &dailyRows[i]
			k := lineKeyOf(r)
			out.Statement.Read++
			if left[k] == 0 {
				out.Statement.Matched++
				continue
			}
			left[k]--
			out.Statement.Findings++
			finding(r.NoOrder, r.OidPaybill, r.Amount, true, r.File, r.Line,
				fmt.Sprintf("in %s, not in the monthly file %s", daily.Name, m.Name))
		}
	}
	for _, d := range days {
		out.DayTotals = append(out.DayTotals, *totals[d])
	}
	recon.SortFindings(out.Findings)
	return out
}
