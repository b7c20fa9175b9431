package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/ledger"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/match"
	"github.com/lianlian-recon/reconcile/recon/parse"
	"github.com/lianlian-recon/reconcile/store"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestOverlayIsTheStoredLedger: what overlay gives before an import is
// stored is what LedgerEntries reads once it is — replaced, added, kept,
// and other merchants' entries left out — in the same order.
func TestOverlayIsTheStoredLedger(t *testing.T) {
	const other = "209999999999999999"
	e := func(partner string, kind recon.Kind, no, dt string, amount recon.Fen) recon.Entry {
		en := recon.Entry{OidPartner: partner, Kind: kind, NoOrder: no, DtOrder: dt, Amount: amount, Status: recon.StatusSuccess}
		if kind == recon.KindRefund {
			en.OrigNoOrder = "P1"
		}
		return en
	}
	stored := []recon.Entry{
		e(merchant, recon.KindPayment, "P1", "20240312100000", 100),
		e("", recon.KindPayment, "P2", "20240311100000", 200),
		e(merchant, recon.KindRefund, "R1", "20240312110000", 50),
		e(other, recon.KindPayment, "P9", "20240312100000", 900),
	}
	imp := []recon.Entry{
		e(merchant, recon.KindPayment, "P1", "20240312100000", 150), // changed
		e("", recon.KindPayment, "P1", "20240312090000", 120),       // same no_order, no merchant: a key of its own
		e(merchant, recon.KindPayout, "P3", "20240310100000", 300),  // new
		e(other, recon.KindPayment, "P8", "20240312100000", 800),    // another merchant's
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.UpsertLedger(ctx, stored); err != nil {
		t.Fatal(err)
	}
	before, err := st.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(imp, recon.CompareEntries)
	got := overlay(before, imp, merchant)
	if _, err := st.UpsertLedger(ctx, imp); err != nil {
		t.Fatal(err)
	}
	want, err := st.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 5 {
		t.Fatalf("the store holds %d entries of the merchant, want 5: %+v", len(want), want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overlay:\n%+v\nthe store after the import:\n%+v", got, want)
	}
	// On a fresh store the import is the ledger, not a copy of it.
	mine := slices.DeleteFunc(slices.Clone(imp), func(e recon.Entry) bool { return e.OidPartner == other })
	if got := overlay(nil, mine, merchant); len(got) != len(mine) || &got[0] != &mine[0] {
		t.Errorf("overlay on a fresh store copied the import")
	}
}

// TestDailyImportsTheLedger: a run given the ledger file (Import) decides
// exactly what a run after `reconcile ledger import` decides, and leaves
// the same ledger in the store.
func TestDailyImportsTheLedger(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	ledgerPath := filepath.Join(dir, "ledger.csv")
	if _, err := gen.Write(src, ledgerPath, gen.Config{Merchant: merchant, Date: date, Payments: 2000,
		RefundRate: 0.02, Payouts: 10, GBK: true, Seed: 3, LedgerFindings: 20}); err != nil {
		t.Fatal(err)
	}
	entries, _, err := ledger.ReadFile(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2024, 3, 13, 9, 0, 0, 0, Shanghai)
	run := func(name string, imp *Import) (*recon.Result, []recon.Entry) {
		st, err := store.Open(filepath.Join(dir, name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if imp == nil {
			if _, err := st.UpsertLedger(ctx, entries); err != nil {
				t.Fatal(err)
			}
		}
		j := &Job{Store: st, Source: fetch.Dir{Path: src}, Out: filepath.Join(dir, name),
			Options: match.Options{Window: 1}, Now: func() time.Time { return now }, Import: imp}
		res, err := j.Daily(ctx, merchant, date)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := st.LedgerEntries(ctx, merchant)
		if err != nil {
			t.Fatal(err)
		}
		return res, stored
	}
	want, wantLedger := run("first", nil)
	if len(want.Findings) == 0 {
		t.Fatal("the generated day has no findings to compare")
	}
	for _, tc := range []struct {
		name string
		imp  *Import
	}{
		{"entries", &Import{Entries: slices.Clone(entries)}},
		{"load", &Import{Load: func() ([]recon.Entry, error) { return slices.Clone(entries), nil }}},
	} {
		imp := tc.imp
		got, gotLedger := run(tc.name, imp)
		if !imp.Done || imp.Err != nil || imp.Counts.Inserted != len(entries) {
			t.Errorf("%s: import done %v err %v counts %+v, want %d inserted", tc.name, imp.Done, imp.Err, imp.Counts, len(entries))
		}
		if !reflect.DeepEqual(got.Findings, want.Findings) || !reflect.DeepEqual(got.Pending, want.Pending) ||
			!reflect.DeepEqual(got.Statement, want.Statement) || !reflect.DeepEqual(got.Ledger, want.Ledger) {
			t.Errorf("%s: with the import: %d findings %d pending %+v %+v; after importing first: %d findings %d pending %+v %+v",
				tc.name, len(got.Findings), len(got.Pending), got.Statement, got.Ledger,
				len(want.Findings), len(want.Pending), want.Statement, want.Ledger)
		}
		if !reflect.DeepEqual(gotLedger, wantLedger) {
			t.Errorf("%s: the stored ledgers differ", tc.name)
		}
	}
}

// TestStoreDetailReadAgain: a file that is UTF-8 for its first 64 KiB and
// GB18030 further on is read again from the start as GB18030; storeDetail
// then stores only the second reading, which equals what ReadFile reads.
// storeDetail reads the file by itself, as it does in a run.
func TestStoreDetailReadAgain(t *testing.T) {
	j, _ := setup(t, 10)
	dir := t.TempDir()
	if _, err := gen.Write(dir, filepath.Join(dir, "ledger.csv"), gen.Config{Merchant: merchant, Date: date,
		Payments: 9000, RefundRate: 0.02, GBK: false, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fileName(recon.FileJYMX, merchant, date))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gbkLine, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(
		"LATE1," + merchant + "," + date + " 23:00:00,101001,2024031299999999," + date + ",1.00,0,0," + date + " 23:00:01,0.01,网关,快捷支付,国标编码\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, gbkLine...), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := parse.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want.Encoding != recon.EncodingGB18030 || len(want.Rows) < 2*storeBatch {
		t.Fatalf("the file reads as %s with %d rows; the test needs a late GB18030 line after two batches", want.Encoding, len(want.Rows))
	}
	// As a source fetches it, with its size and SHA-256, and without.
	for _, f := range []fetch.Fetched{{Path: path}, {Path: path, Size: want.Size, SHA256: want.SHA256}} {
		testStoreDetail(t, j, f, want)
	}
	// Bytes other than those fetched are not stored.
	f := fetch.Fetched{Path: path, Size: want.Size, SHA256: strings.Repeat("0", 64)}
	if _, _, err := j.storeDetail(context.Background(), f, want.FileName, time.Now()); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("storeDetail of other bytes than fetched = %v, want the change", err)
	}
}

func testStoreDetail(t *testing.T, j *Job, f fetch.Fetched, want *recon.StatementFile) {
	t.Helper()
	if _, err := j.Store.DB().Exec("DELETE FROM statement_files"); err != nil {
		t.Fatal(err)
	}
	_, sf, err := j.storeDetail(context.Background(), f, want.FileName, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sf.SHA256 != want.SHA256 || sf.Encoding != want.Encoding {
		t.Errorf("storeDetail read %s as %s, want %s as %s", sf.SHA256, sf.Encoding, want.SHA256, want.Encoding)
	}
	got, err := j.Store.File(context.Background(), want.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != len(want.Rows) || got.Encoding != want.Encoding {
		t.Fatalf("stored %d rows as %s, want %d as %s", len(got.Rows), got.Encoding, len(want.Rows), want.Encoding)
	}
	for i := range want.Rows {
		g, w := got.Rows[i], want.Rows[i]
		if g.Line != w.Line || g.NoOrder != w.NoOrder || g.Amount != w.Amount || g.InfoOrder != w.InfoOrder || g.Product != w.Product {
			t.Fatalf("row %d: stored %+v %+v, want %+v %+v", i, g, *g.RowText, w, *w.RowText)
		}
	}
}

// TestImportWhateverTheRun: a run whose statements are not there still
// stores the ledger, as `reconcile ledger import` would.
func TestImportWhateverTheRun(t *testing.T) {
	ctx := context.Background()
	entry := recon.Entry{Kind: recon.KindPayment, NoOrder: "P1", DtOrder: "20240312100000", Amount: 100, Status: recon.StatusSuccess}
	j, _ := setup(t, 10)
	j.Import = &Import{Entries: []recon.Entry{entry}}
	if _, err := j.Daily(ctx, merchant, "20240401"); !errors.Is(err, ErrInputUnavailable) {
		t.Fatalf("Daily of a day without files = %v, want ErrInputUnavailable", err)
	}
	if !j.Import.Done || j.Import.Counts.Inserted != 1 {
		t.Errorf("import done %v counts %+v err %v, want 1 inserted", j.Import.Done, j.Import.Counts, j.Import.Err)
	}
	got, err := j.Store.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(got, func(e recon.Entry) bool { return e == entry }) {
		t.Error("the ledger was not stored")
	}
}

// TestLedgerThatCannotBeRead: a ledger whose Load fails is the run's
// error, before the statements' (here: none published), and nothing of it
// is stored.
func TestLedgerThatCannotBeRead(t *testing.T) {
	ctx := context.Background()
	j, _ := setup(t, 10)
	before, err := j.Store.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("ledger.csv line 3: not UTF-8")
	j.Import = &Import{Load: func() ([]recon.Entry, error) { return nil, bad }}
	if _, err := j.Daily(ctx, merchant, "20240401"); !errors.Is(err, bad) {
		t.Fatalf("Daily = %v, want the ledger's error", err)
	}
	if j.Import.Done {
		t.Error("an unreadable ledger was imported")
	}
	after, err := j.Store.LedgerEntries(ctx, merchant)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("the stored ledger changed (%v): %d entries, then %d", err, len(before), len(after))
	}
}

// TestChangedBetweenReads: a detail file whose bytes the store read are
// not those read for matching fails the run, naming both.
func TestChangedBetweenReads(t *testing.T) {
	l := &loaded{file: &recon.StatementFile{FileName: recon.FileName{Name: "JYMX_x.txt"}, SHA256: "aaa"}, storedSHA: "bbb"}
	if err := l.stored(); err == nil || !strings.Contains(err.Error(), "aaa") || !strings.Contains(err.Error(), "bbb") {
		t.Errorf("stored() = %v, want the change with both SHA-256s", err)
	}
	l.storedSHA = "aaa"
	if err := l.stored(); err != nil {
		t.Errorf("stored() of the same bytes = %v", err)
	}
}
