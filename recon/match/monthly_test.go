package match

import (
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func TestMonthly(t *testing.T) {
	d1, d2, d3 := "20240101", "20240102", "20240103"
	file := func(name string, rows ...recon.Row) *recon.StatementFile {
		return &recon.StatementFile{FileName: recon.FileName{Name: name, Kind: recon.FileJYMX, Merchant: merchant}, Rows: rows}
	}
	a := row(d1, 1, "A1", "1000000000000001", 100, 0)
	b := row(d1, 2, "B1", "1000000000000002", 200, 0)
	c := row(d2, 1, "C1", "1000000000000003", 300, 0)
	x := row(d3, 1, "X1", "1000000000000004", 400, 0)
	bChanged := b
	bChanged.Amount = 201
	monthly := file("JYMX_"+merchant+"_202401.txt", a, bChanged, c, x)
	for i := range monthly.Rows {
		monthly.Rows[i].File, monthly.Rows[i].Line = monthly.Name, i+1
	}
	o := Monthly(MonthlyInput{Month: "202401", Monthly: monthly, Daily: map[string]*recon.StatementFile{
		d1: file("JYMX_"+merchant+"_"+d1+".txt", a, b),
		d2: file("JYMX_"+merchant+"_"+d2+".txt", c, row(d2, 2, "D1", "1000000000000005", 500, 0)),
	}})
	var got []string
	for _, f := range o.Findings {
		got = append(got, f.NoOrder+"@"+f.File)
	}
	want := []string{
		"20240103@JYMX_" + merchant + "_202401.txt", // day 3: no daily file
		"B1@JYMX_" + merchant + "_202401.txt",       // amount differs: in monthly…
		"B1@JYMX_" + merchant + "_" + d1 + ".txt",   // …and the daily one in daily only
		"D1@JYMX_" + merchant + "_" + d2 + ".txt",   // only in the daily file
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(o.DayTotals) != 3 || o.DayTotals[1].DailyAmount != 800 || o.DayTotals[1].MonthlyAmount != 300 || o.DayTotals[2].DailyAvailable {
		t.Errorf("day totals %+v", o.DayTotals)
	}
	// Monthly rows a, B1', C1, X1 and daily rows a, B1, C1, D1: a and C1
	// matched on both sides, the rest findings.
	if o.Statement.Read != 8 || o.Statement.Matched != 4 || o.Statement.Findings != 4 || !o.Statement.Balanced() {
		t.Errorf("tally %+v", o.Statement)
	}
}
