package job

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// TestMonthlyAgainstStoredDays: the monthly files of March, the union of
// two generated days with a row dropped, a row whose amount differs and a
// row added. The first day is stored by its daily run; the second only in
// the source, so the monthly run stores it first. Every difference is one
// finding at the right file and line, the tallies add up, the monthly
// file is stored without its rows, and a second run decides the same.
func TestMonthlyAgainstStoredDays(t *testing.T) {
	ctx := context.Background()
	j, _ := setup(t, 50)
	src := j.Source.(fetch.Dir).Path
	const d2 = "20240313"
	if _, err := gen.Write(src, filepath.Join(t.TempDir(), "ledger.csv"), gen.Config{Merchant: merchant, Date: d2,
		Payments: 40, RefundRate: 0.1, Payouts: 5, GBK: true, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Daily(ctx, merchant, date); err != nil {
		t.Fatal(err)
	}
	lines := func(kind, day string) [][]byte {
		b, err := os.ReadFile(filepath.Join(src, kind+"_"+merchant+"_"+day+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	}
	jymx1, jymx2 := lines("JYMX", date), lines("JYMX", d2)
	daily1, daily2 := "JYMX_"+merchant+"_"+date+".txt", "JYMX_"+merchant+"_"+d2+".txt"
	monthly := "JYMX_" + merchant + "_202403.txt"

	// Day 1's line 3 dropped; day 2's line 5 with another amount; a copy of
	// day 2's line 7 under another order number added at the end.
	var m [][]byte
	m = append(m, jymx1[:2]...)
	m = append(m, jymx1[3:]...)
	m = append(m, jymx2...)
	changed := len(jymx1) - 1 + 4 // index in m of day 2's line 5
	f := bytes.SplitN(m[changed], []byte(","), 8)
	f[6] = append([]byte("1"), f[6]...)
	m[changed] = bytes.Join(f, []byte(","))
	extra := bytes.Replace(jymx2[6], []byte(d2), []byte("20240399"), 1) // the order number
	m = append(m, extra)
	if err := os.WriteFile(filepath.Join(src, monthly), append(bytes.Join(m, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	fkmx := append(lines("FKMX", date), lines("FKMX", d2)...)
	if err := os.WriteFile(filepath.Join(src, "FKMX_"+merchant+"_202403.txt"), append(bytes.Join(fkmx, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}

	want := []string{
		fmt.Sprintf("%s:%d", daily1, 3),
		fmt.Sprintf("%s:%d", daily2, 5),
		fmt.Sprintf("%s:%d", monthly, changed+1),
		fmt.Sprintf("%s:%d", monthly, len(m)),
	}
	slices.Sort(want)
	for run := range 2 {
		res, err := j.Monthly(ctx, merchant, "202403")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Findings {
			if f.Kind != recon.MonthlyDailyMismatch {
				t.Errorf("run %d: finding %+v", run, f)
			}
			got = append(got, fmt.Sprintf("%s:%d", f.File, f.Line))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("run %d: findings at\n%v\nwant\n%v", run, got, want)
		}
		rows := len(m) + len(jymx1) + len(jymx2) + 2*len(fkmx)
		if s := res.Statement; s.Read != rows || s.Findings != 4 || s.Matched != rows-4 || !s.Balanced() {
			t.Errorf("run %d: tally %+v, want %d rows read, 4 findings", run, s, rows)
		}
		for _, in := range res.Files {
			wantRows := map[string]int{monthly: len(m), "FKMX_" + merchant + "_202403.txt": len(fkmx)}[in.Name]
			if in.Rows != wantRows {
				t.Errorf("run %d: %s has %d rows, want %d", run, in.Name, in.Rows, wantRows)
			}
		}
		// Two days of JYMX, then two of FKMX; day 2 has the added row.
		if tt := res.DayTotals; len(tt) != 4 || tt[0].MonthlyCount != int64(len(jymx1)-1) || tt[0].DailyCount != int64(len(jymx1)) ||
			tt[1].MonthlyCount != int64(len(jymx2)+1) || tt[1].DailyCount != int64(len(jymx2)) {
			t.Errorf("run %d: day totals %+v", run, tt)
		}
	}
	var monthlyRows, stored2 int
	db := j.Store.DB()
	if err := db.QueryRow(`SELECT count(*) FROM statement_rows r JOIN statement_files f ON f.id = r.file_id
		WHERE f.monthly = 1`).Scan(&monthlyRows); err != nil || monthlyRows != 0 {
		t.Errorf("%d monthly rows stored (%v), want none", monthlyRows, err)
	}
	if err := db.QueryRow(`SELECT rows FROM statement_files WHERE name = ?`, daily2).Scan(&stored2); err != nil || stored2 != len(jymx2) {
		t.Errorf("day 2 stored with %d rows (%v), want %d", stored2, err, len(jymx2))
	}
}
