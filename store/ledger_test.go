package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestUpsertLedger runs twice: entry by entry through SQL, and with the
// pass that finds unchanged entries first (ledgerDiffMin 0), which must
// count and store the same.
//
// With the history indexes, that pass looks the keys up instead of reading
// the table.
func TestUpsertLedger(t *testing.T) {
	for _, diffMin := range []int{1 << 30, 0} {
		for _, indexed := range []bool{false, true} {
			t.Run(fmt.Sprint("diffMin=", diffMin, ",indexed=", indexed), func(t *testing.T) {
				defer func(old int) { ledgerDiffMin = old }(ledgerDiffMin)
				ledgerDiffMin = diffMin
				testUpsertLedger(t, indexed)
			})
		}
	}
}

// openIndexed is openTest with the history indexes, made at once.
func openIndexed(t testing.TB, indexed bool) *Store {
	t.Helper()
	s := openTest(t)
	if indexed {
		if _, err := s.DB().Exec(historyIndexesSQL); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func testUpsertLedger(t *testing.T, indexed bool) {
	s := openIndexed(t, indexed)
	ctx := context.Background()
	entries := []recon.Entry{
		{OidPartner: "", Kind: recon.KindPayment, NoOrder: "o1", DtOrder: "20240101101112", Amount: 1000, Status: recon.StatusSuccess, OidPaybill: "2014000000000001"},
		{OidPartner: merchant, Kind: recon.KindPayment, NoOrder: "o1", DtOrder: "20240101101112", Amount: 1000, Status: recon.StatusSuccess},
		{OidPartner: merchant, Kind: recon.KindRefund, NoOrder: "r1", DtOrder: "20240102000000", Amount: 500, Status: recon.StatusProcessing, OrigNoOrder: "o1"},
		{OidPartner: merchant, Kind: recon.KindPayout, NoOrder: "p1", DtOrder: "20240101000000", Amount: 99999, Status: recon.StatusFailure, Fee: 0, HasFee: true},
		{OidPartner: other, Kind: recon.KindPayment, NoOrder: "o9", DtOrder: "20231231235959", Amount: 1, Status: recon.StatusSuccess, Fee: 3, HasFee: true},
	}
	upsert := func(es []recon.Entry, want LedgerCounts) {
		t.Helper()
		got, err := s.UpsertLedger(ctx, es)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("UpsertLedger = %+v, want %+v", got, want)
		}
	}
	upsert(nil, LedgerCounts{})
	upsert(entries, LedgerCounts{Inserted: 5})
	upsert(entries, LedgerCounts{Unchanged: 5})

	changed := append([]recon.Entry(nil), entries...)
	changed[1].Amount = 1001                // amount changed
	changed[3].HasFee = false               // a fee of 0 and no fee differ
	changed[2].Status = recon.StatusSuccess // status changed
	changed[0].OidPaybill = ""              // paybill forgotten
	upsert(changed, LedgerCounts{Updated: 4, Unchanged: 1})
	upsert(changed, LedgerCounts{Unchanged: 5})

	// More entries than one statement holds, one key given twice (the later
	// wins, as if written one by one), counted the same way.
	many := make([]recon.Entry, 2*ledgerBatch+3)
	for i := range many {
		many[i] = recon.Entry{OidPartner: other, Kind: recon.KindPayout, NoOrder: fmt.Sprintf("m%d", i),
			DtOrder: "20240103000000", Amount: recon.Fen(i + 1), Status: recon.StatusSuccess}
	}
	many[len(many)-1].NoOrder, many[len(many)-1].Amount = "m0", 999
	upsert(many, LedgerCounts{Inserted: len(many) - 1, Updated: 1})
	upsert(many, LedgerCounts{Updated: 2, Unchanged: len(many) - 2}) // m0 goes back to 1, then to 999 again
	// Entries are written in key order, "m0" twice among them: the later
	// of the two is the one stored.
	var m0 int64
	if err := s.DB().QueryRow(`SELECT amount FROM ledger_entries WHERE oid_partner = ? AND kind = 'payout'
		AND no_order = 'm0'`, other).Scan(&m0); err != nil || m0 != 999 {
		t.Errorf("m0 stored with amount %d (%v), want the later 999", m0, err)
	}

	got, err := s.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	// Ordered by dt_order, kind (payment, refund, payout), no_order, oid_partner;
	// the other merchant's entry is left out, the one without a merchant kept.
	want := []recon.Entry{changed[3], changed[0], changed[1], changed[2]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LedgerEntries =\n %+v\nwant %+v", got, want)
	}

	// New, changed and unchanged keys, each once: with the first pass the
	// new ones are inserted and the changed ones upserted; without it, a
	// batch is inserted and then, holding stored keys, upserted whole.
	mixed := []recon.Entry{entries[4], many[1], many[2],
		{OidPartner: other, Kind: recon.KindPayment, NoOrder: "x1", DtOrder: "20240104000000", Amount: 11, Status: recon.StatusSuccess},
		{OidPartner: other, Kind: recon.KindRefund, NoOrder: "x2", DtOrder: "20240104000000", Amount: 12, Status: recon.StatusFailure}}
	mixed[1].Amount = 7
	upsert(mixed, LedgerCounts{Inserted: 2, Updated: 1, Unchanged: 2})
	upsert(mixed, LedgerCounts{Unchanged: 5})
	for _, e := range mixed {
		var amount int64
		if err := s.DB().QueryRow(`SELECT amount FROM ledger_entries WHERE oid_partner = ? AND kind = ? AND no_order = ?`,
			e.OidPartner, e.Kind.String(), e.NoOrder).Scan(&amount); err != nil || amount != int64(e.Amount) {
			t.Errorf("%s %s stored with amount %d (%v), want %d", e.Kind, e.NoOrder, amount, err, e.Amount)
		}
	}

	// An entry the schema refuses fails the whole call: nothing of it stays.
	bad := []recon.Entry{
		{Kind: recon.KindPayment, NoOrder: "new", DtOrder: "20240105000000", Amount: 5, Status: recon.StatusSuccess},
		{Kind: recon.KindPayment, NoOrder: "zero", DtOrder: "20240105000000", Amount: 0, Status: recon.StatusSuccess},
	}
	if _, err := s.UpsertLedger(ctx, bad); err == nil {
		t.Fatal("amount 0 accepted")
	}
	if after, _ := s.LedgerEntries(ctx, merchant); len(after) != len(want) {
		t.Errorf("a failed upsert left %d entries, want %d", len(after), len(want))
	}
}

// The schema is the contract for merchants who write ledger_entries
// themselves (SPEC §3): it must refuse what the program could not read.
func TestLedgerSchemaChecks(t *testing.T) {
	s := openTest(t)
	for _, tc := range []struct {
		name, values string
		ok           bool
		partner      string // oid_partner
	}{
		{"merchant number", `('payment', 'p1', '20240101101112', 100, 'SUCCESS', NULL)`, true, other},
		{"17-digit merchant", `('payment', 'p2', '20240101101112', 100, 'SUCCESS', NULL)`, false, other[1:]},
		{"19-digit merchant", `('payment', 'p3', '20240101101112', 100, 'SUCCESS', NULL)`, false, other + "0"},
		{"merchant with a letter", `('payment', 'p4', '20240101101112', 100, 'SUCCESS', NULL)`, false, other[1:] + "x"},
		{"full-width digit in date", `('payment', 'p5', '2024010110111２', 100, 'SUCCESS', NULL)`, false, ""},
		{"letter in date", `('payment', 'p6', '2024010110111x', 100, 'SUCCESS', NULL)`, false, ""},
		{"15-digit date", `('payment', 'p7', '202401011011120', 100, 'SUCCESS', NULL)`, false, ""},
		{"minimal row", `('payment', 'o1', '20240101101112', 100, 'SUCCESS', NULL)`, true, ""},
		{"amount as REAL", `('payment', 'o2', '20240101101112', 1.5, 'SUCCESS', NULL)`, false, ""},
		{"amount 0", `('payment', 'o3', '20240101101112', 0, 'SUCCESS', NULL)`, false, ""},
		{"dashed date", `('payment', 'o4', '2024-01-01 10:11', 100, 'SUCCESS', NULL)`, false, ""},
		{"short date", `('payment', 'o5', '20240101', 100, 'SUCCESS', NULL)`, false, ""},
		{"upper-case kind", `('PAYMENT', 'o6', '20240101101112', 100, 'SUCCESS', NULL)`, false, ""},
		{"lower-case status", `('payment', 'o7', '20240101101112', 100, 'success', NULL)`, false, ""},
		{"negative fee", `('payment', 'o8', '20240101101112', 100, 'SUCCESS', -1)`, false, ""},
		{"empty no_order", `('payment', '', '20240101101112', 100, 'SUCCESS', NULL)`, false, ""},
	} {
		_, err := s.DB().Exec(`INSERT INTO ledger_entries (oid_partner, kind, no_order, dt_order, amount, status, fee)
			SELECT ?, * FROM (VALUES `+tc.values+`)`, tc.partner)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	got, err := s.LedgerEntries(context.Background(), merchant)
	if err != nil {
		t.Fatal(err)
	}
	want := []recon.Entry{{Kind: recon.KindPayment, NoOrder: "o1", DtOrder: "20240101101112", Amount: 100, Status: recon.StatusSuccess}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entry written by hand reads as %+v, want %+v", got, want)
	}
}

// TestLedgerEntriesWrittenAsBlobs: a merchant's system that binds its
// texts as BLOBs (the columns are TEXT, SQLite keeps what it is given) is
// read back as text, by LedgerEntries and by the unchanged pass of an
// import, which then sees the entry as unchanged.
func TestLedgerEntriesWrittenAsBlobs(t *testing.T) {
	for _, indexed := range []bool{false, true} {
		t.Run(fmt.Sprint("indexed=", indexed), func(t *testing.T) { testLedgerEntriesWrittenAsBlobs(t, indexed) })
	}
}

// A status the schema refuses, written by a program that turned its CHECKs
// off, is an error that names the entry, not an entry read as something
// else.
func TestLedgerStoredStatusRefused(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA ignore_check_constraints = ON",
		`INSERT INTO ledger_entries (kind, no_order, dt_order, amount, status) VALUES ('payment', 'S1', '20240101101112', 5, 'DONE')`,
		"PRAGMA ignore_check_constraints = OFF"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	if got, err := s.LedgerEntries(ctx, merchant); err == nil || !strings.Contains(err.Error(), `"S1"`) || !strings.Contains(err.Error(), `"DONE"`) {
		t.Errorf("LedgerEntries = %+v, %v; want an error naming S1 and DONE", got, err)
	}
}

func testLedgerEntriesWrittenAsBlobs(t *testing.T, indexed bool) {
	s := openIndexed(t, indexed)
	ctx := context.Background()
	_, err := s.DB().Exec(`INSERT INTO ledger_entries (oid_partner, kind, no_order, dt_order, amount, status, orig_no_order, oid_paybill)
		VALUES ('', 'payment', CAST('B1' AS BLOB), CAST('20240101101112' AS BLOB), 100, 'SUCCESS', X'', CAST('2024010100000001' AS BLOB))`)
	if err != nil {
		t.Fatal(err)
	}
	want := recon.Entry{Kind: recon.KindPayment, NoOrder: "B1", DtOrder: "20240101101112", Amount: 100,
		Status: recon.StatusSuccess, OidPaybill: "2024010100000001"}
	got, err := s.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("LedgerEntries = %+v, want %+v", got, want)
	}
	defer func(n int) { ledgerDiffMin = n }(ledgerDiffMin)
	ledgerDiffMin = 1 // take the unchanged pass with one entry
	c, err := s.UpsertLedger(ctx, []recon.Entry{want})
	if err != nil {
		t.Fatal(err)
	}
	if c != (LedgerCounts{Unchanged: 1}) {
		t.Errorf("import of the same entry: %+v, want 1 unchanged", c)
	}
}

// TestLedgerReadsForAScope: the reads by which a run looks up only the
// entries that can matter to it.
func TestLedgerReadsForAScope(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mk := func(partner string, kind recon.Kind, no, dt string) recon.Entry {
		return recon.Entry{OidPartner: partner, Kind: kind, NoOrder: no, DtOrder: dt, Amount: 100, Status: recon.StatusSuccess,
			OidPaybill: "PB" + no}
	}
	all := []recon.Entry{
		mk("", recon.KindPayment, "P1", "20240101120000"),
		mk(merchant, recon.KindPayment, "P1", "20240109000000"),
		mk(other, recon.KindPayment, "P1", "20240110000000"),
		mk("", recon.KindRefund, "R1", "20240108235959"),
		mk("", recon.KindPayment, "P2", "20240110080000"),
	}
	if _, err := s.UpsertLedger(ctx, all); err != nil {
		t.Fatal(err)
	}

	from, err := s.LedgerFrom(ctx, merchant, "20240109")
	if err != nil {
		t.Fatal(err)
	}
	if want := []recon.Entry{all[1], all[4]}; !reflect.DeepEqual(from, want) {
		t.Errorf("LedgerFrom = %+v, want %+v", from, want)
	}

	// Not stored: LedgerFor finds each of them once, by key or payment
	// paybill, for merchant and for no partner only, dated before its
	// bound.
	for _, tc := range []struct {
		keys     map[recon.Kind][]string
		paybills []string
		want     []recon.Entry
	}{
		{map[recon.Kind][]string{recon.KindPayment: {"P2", "R1", "P1", "none"}}, nil, []recon.Entry{all[0], all[1], all[4]}},
		{map[recon.Kind][]string{recon.KindRefund: {"R1", "P1"}}, nil, []recon.Entry{all[3]}},
		{nil, []string{"PBP1", "PBR1", ""}, []recon.Entry{all[0], all[1]}},
		{map[recon.Kind][]string{recon.KindPayment: {"P1"}, recon.KindRefund: {"R1"}}, []string{"PBP1", "PBP2"},
			[]recon.Entry{all[0], all[3], all[1], all[4]}},
		{nil, nil, nil},
	} {
		got, err := s.LedgerFor(ctx, merchant, "20240111", tc.keys, tc.paybills)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("LedgerFor(%v, %q) =\n%+v\nwant\n%+v", tc.keys, tc.paybills, got, tc.want)
		}
		// Before 20240109: the same, less the entries dated from then on.
		got, err = s.LedgerFor(ctx, merchant, "20240109", tc.keys, tc.paybills)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(tc.want), func(e recon.Entry) bool { return e.DtOrder >= "20240109" })
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("LedgerFor(before 20240109, %v, %q) =\n%+v\nwant\n%+v", tc.keys, tc.paybills, got, want)
		}
	}
}

// TestUnchangedByKeySameAsScan: looking the import's keys up finds the
// same unchanged, stored and absent entries as reading the table, and
// those are what the table holds, on random imports of
// stored, changed, new and repeated entries, small and (with a sample
// first) large.
func TestUnchangedByKeySameAsScan(t *testing.T) {
	s := openIndexed(t, true)
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(7, 8))
	partners := []string{"", merchant}
	kinds := []recon.Kind{recon.KindPayment, recon.KindRefund, recon.KindPayout}
	var stored []recon.Entry
	for i := range 5000 {
		stored = append(stored, recon.Entry{OidPartner: partners[i%2], Kind: kinds[i%3], NoOrder: fmt.Sprint("N", i),
			DtOrder: "20240101101112", Amount: recon.Fen(1 + i), Status: recon.StatusSuccess})
	}
	if _, err := s.UpsertLedger(ctx, stored); err != nil {
		t.Fatal(err)
	}
	type ledgerKey struct {
		partner string
		kind    recon.Kind
		noOrder string
	}
	keys := map[ledgerKey]bool{}
	for _, e := range stored {
		keys[ledgerKey{e.OidPartner, e.Kind, e.NoOrder}] = true
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for c := range 40 {
		var imp []recon.Entry
		n := 1 + rnd.IntN(50)
		if c%10 == 0 {
			n = 3000 // more than a sample
		}
		for range n {
			e := stored[rnd.IntN(len(stored))]
			switch rnd.IntN(5) {
			case 0:
				e.Amount++
			case 1:
				e.NoOrder += "new"
			case 2:
				e.OidPartner = partners[1-slices.Index(partners, e.OidPartner)]
			}
			imp = append(imp, e)
		}
		want, err := unchanged(ctx, conn, imp)
		if err != nil {
			t.Fatal(err)
		}
		groups, _ := groupByKey(imp)
		got, err := unchangedByKey(ctx, conn, imp, groups)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil { // nothing found in the sample: every entry is written
			if slices.Contains(want.stored, true) && n <= 1024 {
				t.Fatalf("case %d: nothing found by key, the table holds %v", c, want.stored)
			}
			continue
		}
		if !slices.Equal(got.same, want.same) || !slices.Equal(got.stored, want.stored) {
			t.Fatalf("case %d: by key %v %v\nby scan %v %v", c, got.same, got.stored, want.same, want.stored)
		}
		// Against the import itself: what the table holds, by key.
		for i, e := range imp {
			_, held := keys[ledgerKey{e.OidPartner, e.Kind, e.NoOrder}]
			dup := slices.IndexFunc(imp, func(o recon.Entry) bool { return o.NoOrder == e.NoOrder }) != i ||
				slices.IndexFunc(imp[i+1:], func(o recon.Entry) bool { return o.NoOrder == e.NoOrder }) >= 0
			switch {
			case dup && (want.stored[i] || want.same[i]):
				t.Fatalf("case %d: entry %d shares its no_order, yet stored %v same %v", c, i, want.stored[i], want.same[i])
			case !dup && want.stored[i] != held:
				t.Fatalf("case %d: entry %d %+v: stored %v, the table holds it: %v", c, i, e, want.stored[i], held)
			case want.same[i] && !want.stored[i]:
				t.Fatalf("case %d: entry %d same but not stored", c, i)
			}
		}
	}
}

// TestGroupByKey: each group lists exactly the places of its entries, in
// no_order order, though the groups' lists share one array; the groups
// come in key order.
func TestGroupByKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	partners := []string{"", "201403251000001147"}
	kinds := []recon.Kind{recon.KindPayment, recon.KindRefund, recon.KindPayout}
	var entries []recon.Entry
	for i := range 300 {
		entries = append(entries, recon.Entry{OidPartner: partners[rng.IntN(2)], Kind: kinds[rng.IntN(3)],
			NoOrder: fmt.Sprintf("O%05d", rng.IntN(100000)*1000+i)})
	}
	groups, order := groupByKey(entries)
	want := map[ledgerGroup][]int{}
	for i, e := range entries {
		g := ledgerGroup{e.OidPartner, e.Kind.String()}
		want[g] = append(want[g], i)
	}
	for g, places := range want {
		slices.SortFunc(places, func(a, b int) int { return strings.Compare(entries[a].NoOrder, entries[b].NoOrder) })
		if !reflect.DeepEqual(groups[g], places) {
			t.Errorf("group %v: %v, want %v", g, groups[g], places)
		}
	}
	if len(groups) != len(want) || len(order) != len(want) ||
		!slices.IsSortedFunc(order, func(x, y ledgerGroup) int {
			if x.partner != y.partner {
				return strings.Compare(x.partner, y.partner)
			}
			return strings.Compare(x.kind, y.kind)
		}) {
		t.Errorf("groups in order %v", order)
	}
}
