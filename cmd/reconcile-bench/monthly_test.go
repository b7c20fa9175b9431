package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/parse"
)

// readLines returns the lines of a statement file without their line ends;
// lines[0] is line 1.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("%s does not end with a line end", path)
	}
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n"), "\n")
}

// fields splits a raw row into fields 1–13 and the rest (field 14 may hold
// commas).
func fields(line string) []string { return strings.SplitN(line, ",", 14) }

func TestWriteMonthly(t *testing.T) {
	dir := t.TempDir()
	c := monthConfig{Merchant: "201403251000001147", Month: "202405", Days: 3, Payments: 200,
		RefundRate: 0.05, Seed: 7, Plant: 2}
	days, err := generateDays(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := writeMonthly(dir, c, days)
	if err != nil {
		t.Fatal(err)
	}
	if ledgers, _ := filepath.Glob(filepath.Join(dir, "*.csv")); len(ledgers) > 0 {
		t.Errorf("ledgers kept: %q", ledgers)
	}

	// The daily files, and their no_orders distinct across the month.
	daily := map[string][]string{}
	noOrders := map[string]place{}
	total := 0
	for _, name := range p.Daily {
		daily[name] = readLines(t, filepath.Join(dir, name))
		total += len(daily[name])
		for i, l := range daily[name] {
			no := fields(l)[0]
			if prev, ok := noOrders[no]; ok {
				t.Fatalf("no_order %s at %s:%d and at %s", no, name, i+1, prev)
			}
			noOrders[no] = place{name, i + 1}
		}
	}
	if len(p.Daily) != c.Days || total != p.DailyRows {
		t.Fatalf("%d daily files, %d rows; planted says %d files, %d rows", len(p.Daily), total, len(p.Daily), p.DailyRows)
	}
	monthly := readLines(t, filepath.Join(dir, p.Monthly))
	if want := total - len(p.Dropped) + len(p.Extra); len(monthly) != want || p.MonthlyRows != want {
		t.Fatalf("monthly file has %d lines, planted says %d; want %d daily − %d dropped + %d extra = %d",
			len(monthly), p.MonthlyRows, total, len(p.Dropped), len(p.Extra), want)
	}
	if len(p.Dropped) != c.Plant || len(p.Changed) != c.Plant || len(p.Extra) != c.Plant {
		t.Fatalf("planted %d dropped, %d changed, %d extra; want %d each", len(p.Dropped), len(p.Changed), len(p.Extra), c.Plant)
	}
	lineAt := func(at place) string {
		t.Helper()
		lines := daily[at.File]
		if at.File == p.Monthly {
			lines = monthly
		}
		if at.Line < 1 || at.Line > len(lines) {
			t.Fatalf("%s: no such line", at)
		}
		return lines[at.Line-1]
	}
	inMonthly := map[string]bool{}
	for _, l := range monthly {
		inMonthly[l] = true
	}
	spread := func(what string, files []string) {
		t.Helper()
		if len(slices.Compact(slices.Sorted(slices.Values(files)))) != len(files) {
			t.Errorf("%s rows share a day: %q", what, files)
		}
	}

	var files []string
	for _, at := range p.Dropped {
		if l := lineAt(at); inMonthly[l] {
			t.Errorf("dropped %s is in the monthly file: %s", at, l)
		}
		files = append(files, at.File)
	}
	spread("dropped", files)

	files = nil
	for _, ch := range p.Changed {
		d, m := fields(lineAt(ch.Daily)), fields(lineAt(ch.Monthly))
		if inMonthly[lineAt(ch.Daily)] {
			t.Errorf("changed %s is in the monthly file unchanged", ch.Daily)
		}
		da, err1 := recon.ParseYuan(d[6])
		ma, err2 := recon.ParseYuan(m[6])
		if err1 != nil || err2 != nil || ma != da+1 {
			t.Errorf("%s → %s: amount %q → %q, want 0.01 more", ch.Daily, ch.Monthly, d[6], m[6])
		}
		d[6], m[6] = "", ""
		if !slices.Equal(d, m) {
			t.Errorf("%s → %s: differ beyond the amount:\n%q\n%q", ch.Daily, ch.Monthly, d, m)
		}
		files = append(files, ch.Daily.File)
	}
	spread("changed", files)

	files = nil
	for _, at := range p.Extra {
		f := fields(lineAt(at))
		if !strings.HasPrefix(f[0], extraPrefix) {
			t.Fatalf("extra %s has no_order %q", at, f[0])
		}
		orig, ok := noOrders[strings.TrimPrefix(f[0], extraPrefix)]
		if !ok {
			t.Fatalf("extra %s copies no daily row", at)
		}
		if _, used := noOrders[f[0]]; used {
			t.Errorf("extra %s: no_order %s is a daily file's", at, f[0])
		}
		if lineAt(at) != extraPrefix+lineAt(orig) {
			t.Errorf("extra %s = %q, want a copy of %s %q under a new no_order", at, lineAt(at), orig, lineAt(orig))
		}
		files = append(files, orig.File)
	}
	spread("extra", files)

	// Everything else is the daily rows, unchanged.
	rest := map[string]int{}
	for _, l := range monthly {
		rest[l]++
	}
	for _, at := range p.monthlyOnly() {
		rest[lineAt(at)]--
	}
	for _, name := range p.Daily {
		for _, l := range daily[name] {
			rest[l]--
		}
	}
	for _, at := range p.dailyOnly() {
		rest[lineAt(at)]++
	}
	for l, n := range rest {
		if n != 0 {
			t.Errorf("line %d times more in the monthly file than planted: %q", n, l)
		}
	}

	// The reader the run uses takes every monthly line as a good row.
	sf, err := parse.ReadFile(filepath.Join(dir, p.Monthly))
	if err != nil {
		t.Fatal(err)
	}
	if len(sf.Malformed) > 0 || len(sf.Rows) != p.MonthlyRows {
		t.Fatalf("parse: %d rows, %d malformed (%+v); want %d rows", len(sf.Rows), len(sf.Malformed), sf.Malformed, p.MonthlyRows)
	}
}

func TestChoosePlants(t *testing.T) {
	days := []dailyFile{{"A", 5}, {"B", 5}, {"C", 2}}
	plans, err := choosePlants(days, 2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// Round robin over the days: drop A B, change C A, extra B C.
	want := []map[plan]int{{drop: 1, change: 1}, {drop: 1, extra: 1}, {change: 1, extra: 1}}
	for d, lines := range plans {
		got := map[plan]int{}
		for line, pl := range lines {
			if line < 1 || line > days[d].Rows {
				t.Errorf("%s: line %d out of range", days[d].Name, line)
			}
			got[pl]++
		}
		if len(got) != len(want[d]) || got[drop] != want[d][drop] || got[change] != want[d][change] || got[extra] != want[d][extra] {
			t.Errorf("%s: plans %v, want %v", days[d].Name, got, want[d])
		}
	}
	if _, err := choosePlants(days, 3, rand.New(rand.NewPCG(1, 2))); err == nil || !strings.Contains(err.Error(), "C has 2 rows") {
		t.Errorf("3 plants of each kind into a 2-row day: err %v, want too few rows", err)
	}
}

func TestWithAmountUp(t *testing.T) {
	const row = "20240501000000001,201403251000001147,20240501 10:00:00,101001,2024050100000001,20240501,%s,0,0,20240501 10:00:05,0.58,WEB,余额,订单:耳机,数据线\r\n"
	tests := []struct{ in, want string }{
		{"97.19", "97.20"},
		{"100", "100.01"}, // whole yuan, as LianLian sometimes prints it
		{"0.5", "0.51"},
		{"-5.00", "-4.99"}, // a refund leg
		{"99.99", "100.00"},
	}
	for _, tt := range tests {
		got, err := withAmountUp(nil, []byte(strings.Replace(row, "%s", tt.in, 1)))
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if want := strings.Replace(row, "%s", tt.want, 1); string(got) != want {
			t.Errorf("%s:\n got %q\nwant %q", tt.in, got, want)
		}
	}
	for _, bad := range []string{"a,b,c,d,e,f,g", "1,2,3,4,5,6,1.234,8"} {
		if _, err := withAmountUp(nil, []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCompareMonth(t *testing.T) {
	const m, d1, d2 = "JYMX_M_202405.txt", "JYMX_M_20240501.txt", "JYMX_M_20240502.txt"
	p := monthPlanted{
		Monthly: m, Daily: []string{d1, d2}, MonthlyRows: 20, DailyRows: 20,
		Dropped: []place{{d1, 5}},
		Changed: []changedRow{{Daily: place{d2, 7}, Monthly: place{m, 16}}},
		Extra:   []place{{m, 20}},
	}
	kind := string(recon.MonthlyDailyMismatch)
	exact := func() runFindings {
		return runFindings{ByKind: map[string][]string{kind: {m + ":20", d2 + ":7", m + ":16", d1 + ":5"}}, Read: 40}
	}
	tests := []struct {
		name   string
		change func(*runFindings)
		want   []string // substrings, one per expected difference, in order
	}{
		{"exact, any order", func(*runFindings) {}, nil},
		{"one not reported", func(g *runFindings) {
			g.ByKind[kind] = slices.DeleteFunc(g.ByKind[kind], func(k string) bool { return k == d1+":5" })
		},
			[]string{`in a daily file only: 1 planted but not reported: ["` + d1 + `:5"]`}},
		{"one not planted", func(g *runFindings) { g.ByKind[kind] = append(g.ByKind[kind], m+":3") },
			[]string{`in the monthly file only: 1 reported but not planted: ["` + m + `:3"]`}},
		{"a planted line at another line", func(g *runFindings) { g.ByKind[kind][1] = d2 + ":8" },
			[]string{`planted but not reported: ["` + d2 + `:7"]`, `reported but not planted: ["` + d2 + `:8"]`}},
		{"reported twice", func(g *runFindings) { g.ByKind[kind] = append(g.ByKind[kind], m+":20") },
			[]string{`1 lines reported more than once: ["` + m + `:20"]`}},
		{"another kind", func(g *runFindings) { g.ByKind["malformed_row"] = []string{m + ":4"} },
			[]string{`malformed_row: 1 reported, none planted: ["` + m + `:4"]`}},
		{"rows short", func(g *runFindings) { g.Read = 39 },
			[]string{"statement rows read: want 40 (monthly 20 + daily 20), got 39"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exact()
			tt.change(&got)
			diffs := compareMonth(p, got)
			if len(diffs) != len(tt.want) {
				t.Fatalf("got %d differences %q, want %d", len(diffs), diffs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(diffs[i], w) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], w)
				}
			}
		})
	}
}

func TestReadFindingsByPlace(t *testing.T) {
	dir := t.TempDir()
	csv := "\ufeffsettle_date,kind,no_order,oid_paybill,statement_amount,ledger_amount,difference,file,line,detail\n" +
		"202405,monthly_daily_mismatch,A1,P1,1.00,,,JYMX_M_202405.txt,3,\"in the monthly file, not in JYMX_M_20240501.txt\"\n" +
		"202405,monthly_daily_mismatch,A2,P2,2.00,,,JYMX_M_20240501.txt,12,\n"
	if err := os.WriteFile(filepath.Join(dir, "discrepancies.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{"statement":{"read":9},"pending":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readFindings(dir, "file", "line")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"JYMX_M_202405.txt:3", "JYMX_M_20240501.txt:12"}
	if !slices.Equal(got.ByKind["monthly_daily_mismatch"], want) || len(got.ByKind) != 1 || got.Read != 9 {
		t.Fatalf("got %+v, want %q and 9 rows read", got, want)
	}
}

func TestModeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-monthly", "-date", "20240501"},
		{"-monthly", "-findings", "3"},
		{"-days", "3"},
		{"-plant", "1"},
	} {
		err := run(append(args, "-bin", "/nonexistent"), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "is for the other mode") {
			t.Errorf("%q: err %v, want the flag refused", args, err)
		}
	}
}
