package main

// End-to-end tests of the command as a user runs it: the built binary on
// fixture folders, checking exit codes, stdout, stderr and the files.

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/lianlian-recon/reconcile/runlock"
)

var update = flag.Bool("update", false, "rewrite the golden discrepancies.csv files")

const merchant = "201403251000001147"

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "reconcile-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	binary = filepath.Join(dir, "reconcile")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(4)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, so.String(), se.String()}
}

// TestFindingFixtures runs every folder of testdata/fixtures/findings: each
// produces exactly its own finding kind (clean: none), and the last run's
// discrepancies.csv equals the folder's golden expected.csv.
func TestFindingFixtures(t *testing.T) {
	root := "../../testdata/fixtures/findings"
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 14 {
		t.Errorf("%d fixture folders, want one per finding kind (13) and a clean one", len(dirs))
	}
	for _, d := range dirs {
		kind := d.Name()
		t.Run(kind, func(t *testing.T) {
			fx := filepath.Join(root, kind)
			tmp := t.TempDir()
			runs, err := os.ReadFile(filepath.Join(fx, "runs.txt"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(runs)), "\n")
			var last result
			var period string
			for i, line := range lines {
				args := append([]string{"run", "--merchant", merchant,
					"--source", filepath.Join(fx, "statements"), "--ledger", filepath.Join(fx, "ledger.csv"),
					"--db", filepath.Join(tmp, "r.db"), "--out", filepath.Join(tmp, "out")}, strings.Fields(line)...)
				last = run(t, args...)
				period = strings.Fields(line)[1]
				if i < len(lines)-1 && last.code != 0 {
					t.Fatalf("run %q: exit %d\n%s%s", line, last.code, last.stdout, last.stderr)
				}
			}
			wantCode := 1
			if kind == "clean" {
				wantCode = 0
			}
			if last.code != wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", last.code, wantCode, last.stdout, last.stderr)
			}
			if !strings.Contains(last.stdout, "reconciled "+merchant+" "+period) {
				t.Errorf("no verdict on stdout: %q", last.stdout)
			}
			got, err := os.ReadFile(filepath.Join(tmp, "out", merchant, period, "discrepancies.csv"))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(got, []byte("\xef\xbb\xbf")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if kind == "clean" && len(recs) != 1 {
				t.Errorf("clean fixture has %d findings", len(recs)-1)
			}
			if kind != "clean" && len(recs) < 2 {
				t.Errorf("no finding")
			}
			for _, r := range recs[1:] {
				if r[1] != kind {
					t.Errorf("fixture %s produced a %s finding: %v", kind, r[1], r)
				}
			}
			golden := filepath.Join(fx, "expected.csv")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it, then read it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("discrepancies.csv differs from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func demoRun(t *testing.T, db, out, date string, extra ...string) result {
	t.Helper()
	args := append([]string{"run", "--merchant", merchant, "--date", date,
		"--source", "../../testdata/fixtures/demo/statements", "--ledger", "../../testdata/fixtures/demo/ledger.csv",
		"--db", db, "--out", out}, extra...)
	return run(t, args...)
}

func readReports(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, name := range []string{"discrepancies.csv", "summary.json", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

func tableCounts(t *testing.T, db string) map[string]int {
	t.Helper()
	conn, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	counts := map[string]int{}
	for _, n := range names {
		var c int
		if err := conn.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		counts[n] = c
	}
	return counts
}

// TestDemoTwoDaysAndIdempotency is the two-day case on the bundled GBK
// sample: D−1 has an amount mismatch and two pending entries; D has the
// cross-day refund paired, the 23:59:30 order matched, and the entry that
// was pending on D−1 now missing_in_statement. Rerunning D gives the same
// bytes and the same store.
func TestDemoTwoDaysAndIdempotency(t *testing.T) {
	tmp := t.TempDir()
	db, out := filepath.Join(tmp, "r.db"), filepath.Join(tmp, "out")

	r := demoRun(t, db, out, "20240311")
	if r.code != 1 || !strings.Contains(r.stdout, "1 findings (amount_mismatch 1), 2 pending") {
		t.Fatalf("D-1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("D-1 stderr: %q", r.stderr)
	}
	r = demoRun(t, db, out, "20240312")
	want := "3 findings (fee_mismatch 1, missing_in_ledger 1, missing_in_statement 1), 0 pending"
	if r.code != 1 || !strings.Contains(r.stdout, want) {
		t.Fatalf("D: exit %d, want %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	dir := filepath.Join(out, merchant, "20240312")
	first := readReports(t, dir)
	csvText := string(first["discrepancies.csv"])
	for _, s := range []string{"missing_in_statement,2024031100006", "missing_in_ledger,2024031200002", "fee_mismatch,2024031200003"} {
		if !strings.Contains(csvText, s) {
			t.Errorf("discrepancies.csv lacks %q:\n%s", s, csvText)
		}
	}
	for _, s := range []string{"2024031123590", "TK2024031200001", "unpaired"} {
		if strings.Contains(csvText, s) {
			t.Errorf("discrepancies.csv mentions %q, which is matched:\n%s", s, csvText)
		}
	}
	if !strings.Contains(string(first["report.html"]), "GB18030") {
		t.Errorf("report.html does not say the files were GB18030")
	}
	counts := tableCounts(t, db)

	r = demoRun(t, db, out, "20240312")
	if r.code != 1 {
		t.Fatalf("rerun: exit %d %s", r.code, r.stderr)
	}
	again := readReports(t, dir)
	for name := range first {
		if !bytes.Equal(first[name], again[name]) {
			t.Errorf("%s differs after a rerun", name)
		}
	}
	if c := tableCounts(t, db); fmt.Sprint(c) != fmt.Sprint(counts) {
		t.Errorf("store changed on rerun:\n%v\n%v", counts, c)
	}

	// reconcile report re-renders the same bytes from the store alone.
	os.RemoveAll(dir)
	r = run(t, "report", "--merchant", merchant, "--date", "20240312", "--db", db, "--out", out)
	if r.code != 1 {
		t.Fatalf("report: exit %d %s", r.code, r.stderr)
	}
	for name, b := range readReports(t, dir) {
		if !bytes.Equal(first[name], b) {
			t.Errorf("report re-rendered %s differently", name)
		}
	}

	// After a ledger fix the rerun shows the fix.
	fixed := filepath.Join(tmp, "fixed.csv")
	led, _ := os.ReadFile("../../testdata/fixtures/demo/ledger.csv")
	led = append(led, []byte("payment,2024031200002,2024-03-12 11:11:11,35.50,SUCCESS,,,,\n")...)
	os.WriteFile(fixed, led, 0o644)
	r = demoRun(t, db, out, "20240312", "--ledger", fixed)
	if r.code != 1 || !strings.Contains(r.stdout, "2 findings (fee_mismatch 1, missing_in_statement 1)") {
		t.Errorf("after the fix: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
}

func TestExitCodes(t *testing.T) {
	tmp := t.TempDir()
	db := filepath.Join(tmp, "r.db")
	demo := "../../testdata/fixtures/demo/statements"
	badConfig := filepath.Join(tmp, "bad.toml")
	os.WriteFile(badConfig, []byte("[[merchant]]\nid = \"123\"\ncolour = \"red\"\nsource = \"/srv\"\n"), 0o644)
	badLedger := filepath.Join(tmp, "ledger.csv")
	os.WriteFile(badLedger, []byte("foo,bar\n1,2\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"date and month", []string{"run", "--merchant", merchant, "--date", "20240312", "--month", "202403", "--source", demo}, 2, "not both"},
		{"bad date", []string{"run", "--merchant", merchant, "--date", "2024-03-12", "--source", demo}, 2, "--date"},
		{"bad merchant", []string{"run", "--merchant", "123", "--date", "20240312", "--source", demo}, 2, "18-digit"},
		{"no source", []string{"run", "--merchant", merchant, "--date", "20240312"}, 2, "no source"},
		{"files not published", []string{"run", "--merchant", merchant, "--date", "20240401", "--source", demo, "--db", db}, 3, "JYMX_" + merchant + "_20240401.txt"},
		{"unreadable ledger", []string{"run", "--merchant", merchant, "--date", "20240312", "--source", demo, "--db", db, "--ledger", badLedger}, 2, "missing required column: kind"},
		{"missing config file", []string{"run", "--config", filepath.Join(tmp, "nope.toml"), "--date", "20240312"}, 2, "nope.toml"},
		{"version", []string{"version"}, 0, ""},
		{"config check ok", []string{"config", "check", "../../testdata/config/example.toml"}, 0, ""},
		{"config check names the key", []string{"config", "check", badConfig}, 2, "merchant[0].colour: unknown key"},
		{"run with an invalid config", []string{"run", "--config", badConfig, "--date", "20240312"}, 2, "merchant[0].id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
			if tc.code >= 2 && !strings.HasPrefix(r.stderr, "reconcile: error: ") && tc.name != "no command" {
				t.Errorf("stderr does not start with reconcile: error: %q", r.stderr)
			}
		})
	}
}

func TestLedgerImportCLI(t *testing.T) {
	tmp := t.TempDir()
	db := filepath.Join(tmp, "r.db")
	csvPath := filepath.Join(tmp, "l.csv")
	os.WriteFile(csvPath, []byte("\xef\xbb\xbfno_order,kind,amount,dt_order,status\n"+
		"A1,payment,10.00,20240312100000,SUCCESS\n"+
		"A2,payment,1.234,20240312100000,SUCCESS\n"+
		"A3,payment,3.00,2024-03-12 10:00:00,SUCCESS\n"), 0o644)
	r := run(t, "ledger", "import", csvPath, "--db", db)
	if r.code != 1 || !strings.Contains(r.stdout, "inserted 2, updated 0, unchanged 0, rejected 1") || !strings.Contains(r.stderr, "line 3") {
		t.Fatalf("first import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "ledger", "import", csvPath, "--db", db)
	if !strings.Contains(r.stdout, "inserted 0, updated 0, unchanged 2, rejected 1") {
		t.Errorf("second import: %s", r.stdout)
	}
}

func TestInspectCLI(t *testing.T) {
	seed := "../../testdata/fixtures/seed/JYMX_201403251000001147_20140528.txt"
	r := run(t, "inspect", seed)
	if r.code != 0 {
		t.Fatalf("inspect seed: exit %d %s", r.code, r.stderr)
	}
	// The seed's three rows, field by field (row 2 without its stray quote).
	for _, s := range []string{"JYMX", "UTF-8", "215.00", "1.10", "stray double quote",
		"201405287094244  (商户订单号)", "2014052846671022", "15.00  (订单金额)", "0.10  (手续费)",
		"line 3", "2014052846671934", "100.00  (订单金额)", "0.50  (手续费)", "彩票连连支付充值"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("inspect output lacks %q:\n%s", s, r.stdout)
		}
	}
	r = run(t, "inspect", "../../testdata/fixtures/findings/malformed_row/statements/JYMX_201403251000001147_20240312.txt")
	if r.code != 1 || !strings.Contains(r.stdout, "line 2") || !strings.Contains(r.stdout, "amount") {
		t.Errorf("inspect malformed: exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, "inspect", filepath.Join(t.TempDir(), "JYMX_201403251000001147_20240312.txt"))
	if r.code != 2 {
		t.Errorf("inspect a missing file: exit %d", r.code)
	}
}

// TestChangedFileIsReported: the same name with other bytes replaces the
// stored rows and the report says so, with the old SHA-256.
func TestChangedFileIsReported(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	fx := "../../testdata/fixtures/findings/clean/statements"
	for _, n := range []string{"JYMX_" + merchant + "_20240312.txt", "JYMXSUM_" + merchant + "_20240312.txt"} {
		b, _ := os.ReadFile(filepath.Join(fx, n))
		os.WriteFile(filepath.Join(src, n), b, 0o644)
	}
	args := []string{"run", "--merchant", merchant, "--date", "20240312", "--source", src,
		"--ledger", "../../testdata/fixtures/findings/clean/ledger.csv",
		"--db", filepath.Join(tmp, "r.db"), "--out", filepath.Join(tmp, "out")}
	if r := run(t, args...); r.code != 0 {
		t.Fatalf("first run: exit %d %s", r.code, r.stderr)
	}
	name := filepath.Join(src, "JYMX_"+merchant+"_20240312.txt")
	old, _ := os.ReadFile(name)
	// LianLian re-publishes the day with one more payment.
	extra := "2024031200009," + merchant + ",20240312 12:00:00,109001,2024031200000009,20240312,1.00,0,0,20240312 12:00:01,0.01,WEB支付网关,余额支付,x\r\n"
	os.WriteFile(name, append(old, extra...), 0o644)
	r := run(t, args...)
	if r.code != 1 || !strings.Contains(r.stdout, "missing_in_ledger 1") || !strings.Contains(r.stdout, "summary_mismatch") {
		t.Fatalf("after the change: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sum, err := os.ReadFile(filepath.Join(tmp, "out", merchant, "20240312", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sum), `"changed": true`) || !bytes.Contains(sum, []byte(sha256hex(old))) {
		t.Errorf("summary.json does not record the change and the old SHA-256:\n%s", sum)
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestSecondRunForMerchantRefuses: while another process holds the
// merchant's lock, a run refuses with exit 3 and says why.
func TestSecondRunForMerchantRefuses(t *testing.T) {
	tmp := t.TempDir()
	lock, err := runlock.Acquire(tmp, merchant)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	r := demoRun(t, filepath.Join(tmp, "r.db"), filepath.Join(tmp, "out"), "20240312")
	if r.code != 3 || !strings.Contains(r.stderr, merchant) || !strings.Contains(r.stderr, "hint") {
		t.Errorf("exit %d, want 3 with a message naming the merchant:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(tmp, "out")); err == nil {
		t.Errorf("a report was written while the merchant was locked")
	}
}

// TestCrossBorderFileStops: LianLian's 19-column cross-border layout is
// said so, and the run stops with exit 3 instead of guessing.
func TestCrossBorderFileStops(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	os.MkdirAll(src, 0o755)
	row := "ORD1," + merchant + ",20240312 10:00:00,109001,2024031200000001,20240312,100.00,CNY,100.00,USD,15.00,0,0,20240312 10:00:02,0.50,WEB支付网关,储蓄卡快捷支付,info,x\n"
	os.WriteFile(filepath.Join(src, "JYMX_"+merchant+"_20240312.txt"), []byte(row), 0o644)
	os.WriteFile(filepath.Join(src, "JYMXSUM_"+merchant+"_20240312.txt"), []byte("1|1|100.00|0|0|0|0\n"), 0o644)
	r := run(t, "run", "--merchant", merchant, "--date", "20240312", "--source", src,
		"--db", filepath.Join(tmp, "r.db"), "--out", filepath.Join(tmp, "out"))
	if r.code != 3 || !strings.Contains(r.stderr, "cross-border") || !strings.Contains(r.stderr, "JYMX_"+merchant+"_20240312.txt") {
		t.Errorf("exit %d, want 3 naming the file and the layout:\n%s", r.code, r.stderr)
	}
}

// A store written by an earlier version (schema version 1) is upgraded
// when a command opens it, and the command says so once, on stderr, even
// without -v: an earlier reconcile refuses the store from then on.
func TestOldStoreUpgradeIsLogged(t *testing.T) {
	schemaV1, err := os.ReadFile("../../store/testdata/schema_v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(schemaV1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for i, wantLog := range []bool{true, false} {
		r := run(t, "report", "--date", "20240528", "--merchant", merchant, "--db", path)
		if got := strings.Contains(r.stderr, "upgraded the store") && strings.Contains(r.stderr, "from=1 to=2"); got != wantLog {
			t.Errorf("open %d: upgrade logged %v, want %v; stderr:\n%s", i+1, got, wantLog, r.stderr)
		}
		if !strings.Contains(r.stderr, "no stored run") {
			t.Errorf("open %d: stderr %q, want the report's own complaint", i+1, r.stderr)
		}
	}
	db, err = sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Errorf("user_version %d (%v), want 2", v, err)
	}
}

// TestFetchFromFolder: `reconcile fetch` from a folder prints each file
// with its size and SHA-256, which the folder source itself does not read
// (the run's parse gives them), and leaves out a file not published.
func TestFetchFromFolder(t *testing.T) {
	demo := "../../testdata/fixtures/demo/statements"
	r := run(t, "fetch", "--merchant", merchant, "--date", "20240312", "--source", demo)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, name := range []string{"JYMX", "JYMXSUM", "FKMX", "FKMXSUM"} {
		path := filepath.Join(demo, name+"_"+merchant+"_20240312.txt")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		want := fmt.Sprintf("%s\t%d bytes\tsha256 %s\n", path, len(b), hex.EncodeToString(sum[:]))
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, "fetch", "--merchant", merchant, "--date", "20240311", "--source", demo); r.code != 0 || strings.Contains(r.stdout, "FKMX") {
		t.Errorf("20240311 (no FKMX): exit %d, output\n%s", r.code, r.stdout)
	}
}
