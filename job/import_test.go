package job

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// As a source fetches it, with its size and SHA-256, and without (a
	// folder's: the parse gives them, or a pass before it when the store
	// holds the name).
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
	// Kept for matching as it is read, as the first file of a run is.
	sink := &leanSink{done: make(chan struct{})}
	_, sf, err := j.storeDetailKeeping(context.Background(), f, want.FileName, time.Now(), sink)
	if err != nil {
		t.Fatal(err)
	}
	<-sink.done
	if k := sink.file; k == nil || k.SHA256 != want.SHA256 || k.Encoding != want.Encoding || len(k.Rows) != len(want.Rows) {
		t.Fatalf("kept for matching: %+v", k)
	}
	for i := range want.Rows {
		if g, w := sink.file.Rows[i], want.Rows[i].Lean(); !reflect.DeepEqual(g, w) {
			t.Fatalf("row %d kept as %+v, want %+v", i, g, w)
		}
	}
	// Stored already: nothing is read, and the sink says so.
	again := &leanSink{done: make(chan struct{})}
	if _, _, err := j.storeDetailKeeping(context.Background(), f, want.FileName, time.Now(), again); err != nil {
		t.Fatal(err)
	}
	<-again.done
	if again.file != nil {
		t.Error("a file stored already was read for matching by the store")
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
	if got.SHA256 != want.SHA256 || got.Size != want.Size {
		t.Errorf("stored with SHA-256 %s and size %d, want %s and %d", got.SHA256, got.Size, want.SHA256, want.Size)
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

// TestScopedSameAsEverything: four days in a row, with refunds of earlier
// days' payments and planted findings, each run with its ledger file, at
// windows of 0, 1 and 2 days: matching only what match.Scope chooses (the
// window read whole, older rows and entries looked up by number) decides
// what matching everything stored decides, day after day.
func TestScopedSameAsEverything(t *testing.T) {
	for _, window := range []int{0, 1, 2} {
		t.Run(fmt.Sprint("window ", window), func(t *testing.T) { testScopedSameAsEverything(t, window) })
	}
}

func testScopedSameAsEverything(t *testing.T, window int) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	days := []string{"20240310", "20240311", "20240312", "20240313"}
	// Every later day refunds the first day's refundable payments in full
	// again, under new refund numbers, beyond the window from the third
	// day on: legs pair with payments, and add to legs, of days the window
	// does not reach, and exceed them.
	var first []gen.Refundable
	for i, d := range days {
		var again []gen.Refundable
		for _, r := range first {
			if i > 1 {
				r.NoOrder += string(rune('a' + i))
			}
			again = append(again, r)
		}
		p, err := gen.Write(src, filepath.Join(dir, "ledger_"+d+".csv"), gen.Config{Merchant: merchant, Date: d,
			Payments: 3000, RefundRate: 0.05, Payouts: 20, GBK: i%2 == 0, Seed: int64(10 + i), LedgerFindings: 30,
			RefundOf: again})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p.Refundable
		}
		if i > 0 {
			// The entry of one of the day's payments was imported the
			// day before, with no merchant number, and dated the day
			// before the window: only a look-up by number finds it.
			moveEntry(t, filepath.Join(dir, "ledger_"+d+".csv"), filepath.Join(dir, "ledger_"+days[i-1]+".csv"),
				p.Refundable[0].NoOrder, match.AddDays(d, -window-1)+"235959")
		}
	}
	ctx := context.Background()
	jobs := map[bool]*Job{}
	for _, unscoped := range []bool{false, true} {
		st, err := store.Open(filepath.Join(dir, fmt.Sprintf("unscoped-%v.db", unscoped)))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		jobs[unscoped] = &Job{Store: st, Source: fetch.Dir{Path: src}, Out: filepath.Join(dir, fmt.Sprint(unscoped)),
			Options: match.Options{Window: window}, Now: func() time.Time { return time.Date(2024, 3, 14, 9, 0, 0, 0, Shanghai) },
			unscoped: unscoped}
	}
	exceeded := 0
	for _, d := range days {
		var res [2]*recon.Result
		for i, unscoped := range []bool{false, true} {
			j := jobs[unscoped]
			j.Import = &Import{Load: func() ([]recon.Entry, error) {
				entries, _, err := ledger.ReadFile(filepath.Join(dir, "ledger_"+d+".csv"))
				return entries, err
			}}
			r, err := j.Daily(ctx, merchant, d)
			if err != nil {
				t.Fatal(err)
			}
			res[i] = r
		}
		got, want := res[0], res[1]
		if len(want.Findings) == 0 || len(want.Pending) == 0 && window > 0 { // a window of 0 leaves nothing pending
			c := map[recon.FindingKind]int{}
			for _, f := range want.Findings {
				c[f.Kind]++
			}
			t.Fatalf("%s: %d findings %v, %d pending: the day tests too little", d, len(want.Findings), c, len(want.Pending))
		}
		if !reflect.DeepEqual(got.Findings, want.Findings) || !reflect.DeepEqual(got.Pending, want.Pending) ||
			!reflect.DeepEqual(got.Statement, want.Statement) || !reflect.DeepEqual(got.Ledger, want.Ledger) ||
			!reflect.DeepEqual(got.Totals, want.Totals) {
			t.Errorf("%s: scoped %d findings %d pending %+v %+v; everything %d findings %d pending %+v %+v", d,
				len(got.Findings), len(got.Pending), got.Statement, got.Ledger,
				len(want.Findings), len(want.Pending), want.Statement, want.Ledger)
		}
		for _, f := range got.Findings {
			if f.Kind == recon.RefundExceedsPayment {
				exceeded++
			}
		}
	}
	if exceeded == 0 {
		t.Error("no refund_exceeds_payment over four days: the legs of earlier days were not tested")
	}
}

// moveEntry moves the payment entry noOrder from the ledger CSV at path
// (as gen writes it) to the one at to, dated dt and naming no merchant.
func moveEntry(t *testing.T, path, to, noOrder, dt string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	cols := strings.Split(lines[0], ",")
	at := func(name string) int {
		i := slices.Index(cols, name)
		if i < 0 {
			t.Fatalf("%s: no column %s", path, name)
		}
		return i
	}
	for i, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) == len(cols) && f[at("kind")] == "payment" && f[at("no_order")] == noOrder {
			f[at("dt_order")], f[at("oid_partner")] = dt, ""
			if err := os.WriteFile(path, []byte(strings.Join(slices.Delete(lines, i+1, i+2), "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			o, err := os.OpenFile(to, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if _, err := o.WriteString(strings.Join(f, ",") + "\n"); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s: no payment entry %s", path, noOrder)
}

// TestChosenIsOverlayFiltered: chosen gives what overlay gives, less the
// entries keep refuses, in the same order, on random ledgers.
func TestChosenIsOverlayFiltered(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	partners := []string{"", merchant, "209999999999999999"}
	kinds := []recon.Kind{recon.KindPayment, recon.KindRefund, recon.KindPayout}
	random := func() []recon.Entry {
		seen := map[string]bool{}
		var out []recon.Entry
		for range rnd.IntN(30) {
			e := recon.Entry{OidPartner: partners[rnd.IntN(3)], Kind: kinds[rnd.IntN(3)], NoOrder: fmt.Sprint("N", rnd.IntN(12)),
				DtOrder: fmt.Sprintf("202403%02d100000", 1+rnd.IntN(5)), Amount: recon.Fen(1 + rnd.IntN(3)), Status: recon.StatusSuccess}
			if k := e.OidPartner + e.Kind.String() + e.NoOrder; !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
		slices.SortFunc(out, recon.CompareEntries)
		return out
	}
	for i := range 5000 {
		stored, imp := random(), random()
		stored = slices.DeleteFunc(stored, func(e recon.Entry) bool { return e.OidPartner == partners[2] }) // as LedgerEntries reads them
		keep := func(e *recon.Entry) bool { return e.Amount != 2 }
		var want []recon.Entry
		for _, e := range overlay(stored, imp, merchant) {
			if keep(&e) {
				want = append(want, e)
			}
		}
		if got := chosen(stored, imp, merchant, keep); !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("case %d: chosen\n%+v\nwant\n%+v\nstored %+v\nimport %+v", i, got, want, stored, imp)
		}
	}
}

// TestMergeEntries: mergeEntries is sorting both lists together and
// dropping the repeats, on random lists that share entries.
func TestMergeEntries(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		var pool []recon.Entry
		for n := range rnd.IntN(12) {
			pool = append(pool, recon.Entry{OidPartner: []string{"", merchant}[rnd.IntN(2)], Kind: recon.KindPayment,
				NoOrder: fmt.Sprint("N", n), DtOrder: fmt.Sprintf("202403%02d100000", 1+rnd.IntN(3)), Amount: 1})
		}
		slices.SortFunc(pool, recon.CompareEntries)
		pick := func() []recon.Entry {
			return slices.DeleteFunc(slices.Clone(pool), func(recon.Entry) bool { return rnd.IntN(2) == 0 })
		}
		a, b := pick(), pick()
		want := slices.CompactFunc(slices.SortedFunc(slices.Values(append(slices.Clone(a), b...)), recon.CompareEntries),
			func(x, y recon.Entry) bool { return recon.CompareEntries(x, y) == 0 })
		if got := mergeEntries(a, b); !slices.Equal(got, want) {
			t.Fatalf("case %d: mergeEntries(%v, %v) = %v, want %v", i, a, b, got, want)
		}
	}
}
