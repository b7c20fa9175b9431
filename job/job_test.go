package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/ledger"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/match"
	"github.com/lianlian-recon/reconcile/store"
)

const (
	merchant = "201403251000001147"
	date     = "20240312"
)

// setup generates a day of payments with planted findings, opens a fresh
// store and imports the ledger, as `reconcile run --ledger` does.
func setup(t testing.TB, payments int) (*Job, gen.Planted) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ledgerPath := filepath.Join(dir, "ledger.csv")
	p, err := gen.Write(src, ledgerPath, gen.Config{Merchant: merchant, Date: date, Payments: payments,
		RefundRate: 0.02, Payouts: 10, GBK: true, Seed: 1, LedgerFindings: 25})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "reconcile.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	entries, _, err := ledger.ReadFile(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertLedger(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 3, 13, 9, 0, 0, 0, Shanghai)
	return &Job{Store: st, Source: fetch.Dir{Path: src}, Out: filepath.Join(dir, "out"),
		Options: match.Options{Window: 3}, Now: func() time.Time { return now }}, p
}

// D's files are stored in the background while matching runs; the run
// must still find the planted findings, and a rerun (files unchanged)
// decide and write exactly the same.
func TestDailyFindsPlantedAndRerunsIdentically(t *testing.T) {
	j, p := setup(t, 3000)
	ctx := context.Background()
	res, err := j.Daily(ctx, merchant, date)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range res.Findings {
		got[string(f.Kind)]++
	}
	want := map[string]int{"missing_in_ledger": len(p.MissingInLedger), "amount_mismatch": len(p.AmountMismatch),
		"status_mismatch": len(p.StatusMismatch), "fee_mismatch": len(p.FeeMismatch)}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d findings, want %d (all: %v)", k, got[k], n, got)
		}
	}
	if len(res.Pending) != len(p.MissingInStatement) {
		t.Errorf("%d pending, want %d", len(res.Pending), len(p.MissingInStatement))
	}
	// Every file was stored by the time Daily returned.
	for _, f := range res.Files {
		sf, err := j.Store.File(ctx, f.Name)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(sf.Rows) != f.Rows {
			t.Errorf("%s: %d rows stored, want %d", f.Name, len(sf.Rows), f.Rows)
		}
	}
	csvPath := filepath.Join(j.Out, merchant, date, "discrepancies.csv")
	first, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	j.Now = func() time.Time { return time.Date(2024, 3, 14, 9, 0, 0, 0, Shanghai) }
	res2, err := j.Daily(ctx, merchant, date)
	if err != nil {
		t.Fatal(err)
	}
	if res2.RanAt != res.RanAt {
		t.Errorf("rerun ran at %s, want the first run's %s", res2.RanAt, res.RanAt)
	}
	second, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("rerun wrote other discrepancies.csv bytes")
	}
}

// A statement file that cannot be stored fails the run, though it is
// stored in the background, and no report is written.
func TestDailyFailsWhenIngestFails(t *testing.T) {
	j, _ := setup(t, 500)
	_, err := j.Store.DB().Exec(`CREATE TRIGGER refuse BEFORE INSERT ON statement_rows
		BEGIN SELECT RAISE(ABORT, 'disk says no'); END`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.Daily(context.Background(), merchant, date)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk says no")) {
		t.Fatalf("Daily = %v, %v; want the store's error", res, err)
	}
	if _, err := os.Stat(filepath.Join(j.Out, merchant, date)); !os.IsNotExist(err) {
		t.Errorf("report folder: %v, want none", err)
	}
	if _, _, err := j.Store.LoadRun(context.Background(), merchant, date); err == nil {
		t.Error("a run was stored")
	}
}

// BenchmarkDaily is one day end to end on a fresh store (ledger imported
// first, outside the timing): fetch from a folder, parse, store, read the
// ledger back, match, store the result, write the reports.
func BenchmarkDaily(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		j, p := setup(b, 100_000)
		b.StartTimer()
		if _, err := j.Daily(context.Background(), merchant, date); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(p.Rows), "rows/op")
	}
	b.ReportMetric(float64(100_000*b.N)/b.Elapsed().Seconds(), "payments/s")
}

// History starts at the earliest stored day, and D counts as stored while
// its file is still being written: a day run after a later one keeps its
// ledger entries in scope (they stay pending, not dropped).
func TestDailyAfterLaterDayKeepsHistoryStart(t *testing.T) {
	j, p := setup(t, 300)
	src := j.Source.(fetch.Dir).Path
	later := "20240322" // beyond the window: D's files are not fetched for it
	if _, err := gen.Write(src, filepath.Join(t.TempDir(), "later.csv"), gen.Config{Merchant: merchant,
		Date: later, Payments: 100, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// An entry dated before D, the first day stored: out of history.
	old := recon.Entry{OidPartner: merchant, Kind: recon.KindPayment, NoOrder: "OLD1", DtOrder: "20240305120000",
		Amount: 100, Status: recon.StatusSuccess}
	if _, err := j.Store.UpsertLedger(ctx, []recon.Entry{old}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Daily(ctx, merchant, later); err != nil {
		t.Fatal(err)
	}
	// Another writer holds the store for a while (well within the busy
	// time-out), so that D's file is surely not stored yet when the run
	// asks where history starts.
	tx, err := j.Store.DB().Begin() // the store's transactions begin IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, func() { tx.Rollback() })
	res, err := j.Daily(ctx, merchant, date)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pending) != len(p.MissingInStatement) || len(p.MissingInStatement) == 0 {
		t.Errorf("%d pending, want %d", len(res.Pending), len(p.MissingInStatement))
	}
	if n := res.Ledger.IgnoredReasons["before history"]; n != 1 {
		t.Errorf("%d entries ignored as before history, want 1 (%+v)", n, res.Ledger)
	}
}

// Two generated days: D−1's payments, then D with refunds of some of them.
// Every cross-day refund pairs (no unpaired_refund), D−1's planted
// missing entries are pending on D−1 and missing_in_statement on D, and
// both days' tallies add up.
func TestTwoGeneratedDays(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	const d1, d2 = "20240311", "20240312"
	p1, err := gen.Write(src, filepath.Join(dir, "l1.csv"), gen.Config{Merchant: merchant, Date: d1,
		Payments: 2000, RefundRate: 0.05, GBK: true, Seed: 7, LedgerFindings: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Refundable) == 0 {
		t.Fatal("the generator left no payment to refund the next day")
	}
	p2, err := gen.Write(src, filepath.Join(dir, "l2.csv"), gen.Config{Merchant: merchant, Date: d2,
		Payments: 2000, RefundRate: 0.05, GBK: true, Seed: 8, RefundOf: p1.Refundable})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "reconcile.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	// The ledger lacks the D−1 payments that D refunds, so only the stored
	// statement rows can pair those refunds.
	refunded := map[string]bool{}
	for _, r := range p1.Refundable {
		refunded[r.NoOrder] = true
	}
	for _, l := range []string{"l1.csv", "l2.csv"} {
		entries, rejects, err := ledger.ReadFile(filepath.Join(dir, l))
		if err != nil || len(rejects) > 0 {
			t.Fatalf("ledger %s: %v %v", l, err, rejects)
		}
		kept := entries[:0]
		for _, e := range entries {
			if !(e.Kind == recon.KindPayment && refunded[e.NoOrder]) {
				kept = append(kept, e)
			}
		}
		if _, err := st.UpsertLedger(ctx, kept); err != nil {
			t.Fatal(err)
		}
	}
	j := &Job{Store: st, Source: fetch.Dir{Path: src}, Out: filepath.Join(dir, "out"),
		Options: match.Options{Window: 1}}
	count := func(res *recon.Result) map[recon.FindingKind]int {
		m := map[recon.FindingKind]int{}
		for _, f := range res.Findings {
			m[f.Kind]++
		}
		return m
	}
	r1, err := j.Daily(ctx, merchant, d1)
	if err != nil {
		t.Fatal(err)
	}
	if c := count(r1); c[recon.MissingInStatement] != 0 || c[recon.UnpairedRefund] != 0 ||
		c[recon.MissingInLedger] != len(p1.MissingInLedger)+len(p1.Refundable) {
		t.Errorf("D-1 findings %v, want %d missing_in_ledger", c, len(p1.MissingInLedger)+len(p1.Refundable))
	}
	if len(r1.Pending) < len(p1.MissingInStatement) {
		t.Errorf("D-1: %d pending, want at least the %d planted", len(r1.Pending), len(p1.MissingInStatement))
	}
	r2, err := j.Daily(ctx, merchant, d2)
	if err != nil {
		t.Fatal(err)
	}
	c := count(r2)
	if c[recon.UnpairedRefund] != 0 || c[recon.RefundExceedsPayment] != 0 {
		t.Errorf("D: cross-day refunds did not pair: %v", c)
	}
	if c[recon.MissingInStatement] != len(p1.MissingInStatement) {
		t.Errorf("D: %d missing_in_statement, want D-1's %d planted", c[recon.MissingInStatement], len(p1.MissingInStatement))
	}
	for _, r := range []*recon.Result{r1, r2} {
		if !r.Statement.Balanced() || !r.Ledger.Balanced() {
			t.Errorf("%s: tallies do not add up: %+v %+v", r.Period, r.Statement, r.Ledger)
		}
	}
	if r2.Statement.Read != p2.Rows {
		t.Errorf("D: %d rows read, generator wrote %d", r2.Statement.Read, p2.Rows)
	}
}
