package store

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestHistoryIndexes: IndexHistory creates the history indexes once the
// store holds a daily statement dated before its bound, and not before; a
// monthly file is not history.
func TestHistoryIndexes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	indexed := func(before string) bool {
		t.Helper()
		had, err := s.HistoryIndexed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		created, err := s.IndexHistory(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := s.HistoryIndexed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if created != (ok && !had) {
			t.Errorf("IndexHistory(%s) says created %v; indexed before %v, after %v", before, created, had, ok)
		}
		return ok
	}
	if indexed("20991231") {
		t.Fatal("a new store has the history indexes")
	}
	if ok, blobs, err := s.ByNumber(ctx); err != nil || ok || blobs {
		t.Errorf("ByNumber without the indexes = %v, %v, %v", ok, blobs, err)
	}
	m := "JYMX_" + merchant + "_202401.txt"
	ingest(t, s, file(m, "m", row(m, 1, "a", 1)))
	if indexed("20991231") {
		t.Fatal("a store with a monthly file only has the history indexes")
	}
	d := "JYMX_" + merchant + "_20240101.txt"
	ingest(t, s, file(d, "d", row(d, 1, "a", 1)))
	if indexed("20240101") {
		t.Fatal("history indexes for a file not before the bound")
	}
	if !indexed("20240102") {
		t.Fatal("a store with a daily file before the bound has no history indexes")
	}
	if _, err := s.DB().Exec("DROP INDEX ledger_entries_dt_order"); err != nil {
		t.Fatal(err)
	}
	if !indexed("20240102") {
		t.Fatal("an index dropped is not created again")
	}

	// An entry another program wrote with a text as a BLOB is seen.
	if _, err := s.UpsertLedger(ctx, []recon.Entry{{Kind: recon.KindPayment, NoOrder: "T1", DtOrder: "20240101101112",
		Amount: 1, Status: recon.StatusSuccess}}); err != nil {
		t.Fatal(err)
	}
	for _, blob := range []bool{false, true} {
		if blob {
			if _, err := s.DB().Exec(`INSERT INTO ledger_entries (oid_partner, kind, no_order, dt_order, amount, status, oid_paybill)
				VALUES ('', 'payment', 'B1', '20240101101112', 100, 'SUCCESS', CAST('2024010100000001' AS BLOB))`); err != nil {
				t.Fatal(err)
			}
		}
		if has, err := s.LedgerHasBlobs(ctx); err != nil || has != blob {
			t.Errorf("LedgerHasBlobs = %v, %v; want %v", has, err, blob)
		}
		if ok, blobs, err := s.ByNumber(ctx); err != nil || ok == blob || blobs != blob {
			t.Errorf("ByNumber = %v, %v, %v; want %v, %v", ok, blobs, err, !blob, blob)
		}
	}
}

// TestHistoryRows: HistoryRows gives what StatementRows gives, less the
// rows neither of whose numbers is listed, each once and in the same order.
func TestHistoryRows(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	name := func(kind, m, date string) string { return kind + "_" + m + "_" + date + ".txt" }
	j1, f1 := name("JYMX", merchant, "20240101"), name("FKMX", merchant, "20240101")
	j2, j3 := name("JYMX", merchant, "20240102"), name("JYMX", merchant, "20240103")
	mj, oj := name("JYMX", merchant, "202401"), name("JYMX", other, "20231231")
	mk := func(f string, line int, no, paybill string) recon.Row {
		r := row(f, line, no, 100)
		r.OidPaybill = paybill
		return r
	}
	foreign := mk(j2, 2, "a", "PA")
	foreign.EditMeta().OidPartner = other
	// Files ingested out of date order, numbers repeated across files,
	// kinds and columns: "a" is an order number in some rows and a paybill
	// in others.
	for _, f := range []*recon.StatementFile{
		file(j3, "3", mk(j3, 1, "a", "PC"), mk(j3, 2, "c", "a")),
		file(mj, "m", mk(mj, 1, "a", "PA")),
		file(oj, "o", mk(oj, 1, "a", "PA")),
		file(j2, "2", foreign, mk(j2, 3, "b", "PB"), mk(j2, 5, "a", "PA2")),
		file(f1, "f", mk(f1, 1, "a", "PF"), mk(f1, 2, "p", "a")),
		file(j1, "1", mk(j1, 1, "a", "PA"), mk(j1, 2, "x", "PX"), mk(j1, 3, "y", "a")),
		file(name("JYMXSUM", merchant, "20240101"), "s"),
	} {
		ingest(t, s, f)
	}
	if _, err := s.IndexHistory(ctx, "20991231"); err != nil {
		t.Fatal(err)
	}
	type seen struct{ file, no, paybill string }
	for _, tc := range []struct {
		upTo               string
		noOrders, paybills []string
	}{
		{"20240102", []string{"a"}, nil},
		{"20240103", nil, []string{"a"}},
		{"20240103", []string{"a", "b", "a", "none"}, []string{"a", "PA", "PX"}},
		{"20240101", []string{"x", "y", "p"}, []string{"PF"}},
		{"20231231", []string{"a"}, []string{"a"}},
		{"20240103", nil, nil},
	} {
		var got, want []seen
		err := s.HistoryRows(ctx, merchant, tc.upTo, tc.noOrders, tc.paybills, func(r recon.Row) error {
			got = append(got, seen{r.File, r.NoOrder, r.OidPaybill})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.StatementRows(ctx, merchant, tc.upTo, func(_ string, r recon.Row) error {
			if slices.Contains(tc.noOrders, r.NoOrder) || slices.Contains(tc.paybills, r.OidPaybill) {
				want = append(want, seen{r.File, r.NoOrder, r.OidPaybill})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("HistoryRows(%s, %q, %q) =\n %v\nwant %v", tc.upTo, tc.noOrders, tc.paybills, got, want)
		}
	}
	stop := fmt.Errorf("stop")
	n := 0
	err := s.HistoryRows(ctx, merchant, "20240103", []string{"a"}, nil, func(recon.Row) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("fn error: err = %v after %d calls, want stop after 1", err, n)
	}
}

// TestHistoryLookupsUseIndexes: each look-up by number is a search in an
// index, never a scan of a table per number, which on a store of a year
// would take hours.
func TestHistoryLookupsUseIndexes(t *testing.T) {
	s := openTest(t)
	ingest(t, s, file("JYMX_"+merchant+"_20240101.txt", "1"))
	if _, err := s.IndexHistory(context.Background(), "20991231"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		args  []any
		uses  []string // an index each table must be searched by
	}{
		{historyRowsSQL("no_order"), []any{`["a"]`, merchant, "20240101"}, []string{"statement_rows_no_order"}},
		{historyRowsSQL("oid_paybill"), []any{`["a"]`, merchant, "20240101"}, []string{"statement_rows_oid_paybill"}},
		{ledgerByKeySQL, []any{`["a"]`, "", "payment", "20240101"}, []string{"PRIMARY KEY"}},
		{ledgerKeysSQL, []any{`["a"]`, merchant, "payment"}, []string{"PRIMARY KEY"}},
		{ledgerByPaybillSQL, []any{`["a"]`, merchant, "20240101"}, []string{"ledger_entries_oid_paybill"}},
		{ledgerFromSQL, []any{merchant, "20240101"}, []string{"ledger_entries_dt_order"}},
		{`SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE ` + ledgerBlobs + `)`, nil, []string{"ledger_entries_blob_texts"}},
	} {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
			t.Log(detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		for _, d := range plan {
			// The list of numbers is scanned, and the partial index that
			// holds only the entries with BLOBs (none, as a rule).
			if strings.HasPrefix(d, "SCAN") && !strings.Contains(d, "VIRTUAL TABLE") && !strings.HasSuffix(d, "USING INDEX ledger_entries_blob_texts") && d != "SCAN CONSTANT ROW" {
				t.Errorf("plan scans a table:\n%s\n%s", all, tc.query)
			}
		}
		for _, u := range tc.uses {
			if !strings.Contains(all, u) {
				t.Errorf("plan does not use %s:\n%s\n%s", u, all, tc.query)
			}
		}
	}
}

// A store indexed by an earlier version has ledger_entries_blobs, whose
// WHERE calls typeof(): IndexHistory replaces it, and the blob look-up
// still finds a BLOB. And the WHERE calls no function (see ledgerBlobs:
// one makes every ledger INSERT keep a statement journal).
func TestBlobIndexReplaced(t *testing.T) {
	if regexp.MustCompile(`[A-Za-z_]\s*\(`).MatchString(ledgerBlobs) {
		t.Errorf("ledgerBlobs calls a function: %s", ledgerBlobs)
	}
	s := openTest(t)
	ctx := context.Background()
	ingest(t, s, file("JYMX_"+merchant+"_20240101.txt", "1"))
	old := strings.NewReplacer("ledger_entries_blob_texts", "ledger_entries_blobs", ledgerBlobs,
		`(typeof(oid_partner) = 'blob' OR typeof(kind) = 'blob' OR typeof(no_order) = 'blob'
	OR typeof(dt_order) = 'blob' OR typeof(oid_paybill) = 'blob' OR typeof(orig_no_order) = 'blob')`).Replace(historyIndexesSQL)
	old = strings.Replace(old, "DROP INDEX IF EXISTS ledger_entries_blobs;", "", 1)
	if _, err := s.DB().Exec(old); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HistoryIndexed(ctx); err != nil || ok {
		t.Fatalf("indexed the old way: HistoryIndexed = %v, %v; want false", ok, err)
	}
	if created, err := s.IndexHistory(ctx, "20991231"); err != nil || !created {
		t.Fatalf("IndexHistory = %v, %v", created, err)
	}
	var names []string
	rows, err := s.DB().Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'ledger_entries' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if want := []string{"ledger_entries_blob_texts", "ledger_entries_dt_order", "ledger_entries_oid_paybill"}; !slices.Equal(names, want) {
		t.Errorf("indexes %v, want %v", names, want)
	}
	if ok, err := s.HistoryIndexed(ctx); err != nil || !ok {
		t.Errorf("HistoryIndexed = %v, %v after IndexHistory", ok, err)
	}
	if has, err := s.LedgerHasBlobs(ctx); err != nil || has {
		t.Fatalf("LedgerHasBlobs = %v, %v on texts", has, err)
	}
	if _, err := s.DB().Exec(`INSERT INTO ledger_entries (kind, no_order, dt_order, amount, status, oid_paybill)
		VALUES ('payment', 'b1', '20240101101112', 5, 'SUCCESS', CAST('p1' AS BLOB))`); err != nil {
		t.Fatal(err)
	}
	if has, err := s.LedgerHasBlobs(ctx); err != nil || !has {
		t.Errorf("LedgerHasBlobs = %v, %v with a BLOB paybill", has, err)
	}
}

// TestJSONStrings: SQLite's json_each gives back every string jsonStrings
// wrote, plain or escaped, in order.
func TestJSONStrings(t *testing.T) {
	s := openTest(t)
	in := []string{"2014052800000001", "", `say "no"`, `back\slash`, "tab\there", "<&>", "订单,一件", "\x7f", "a\nb"}
	rows, err := s.DB().Query("SELECT value FROM json_each(?) ORDER BY key", jsonStrings(in))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("json_each(jsonStrings(%q)) = %q", in, out)
	}
	if got := jsonStrings(nil); got != "[]" {
		t.Errorf("jsonStrings(nil) = %s", got)
	}
}
