package store

import (
	"context"
	"database/sql"
	_ "embed"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// schemaV1 is schema.sql as version 1 had it, as the stores that version
// wrote hold it.
//
//go:embed testdata/schema_v1.sql
var schemaV1 string

// v1Store makes a database of schema version 1 at path holding files
// (name, then the lines of its rows) and rows, inserted in the order
// given, interleaved across files and out of line order.
func v1Store(t *testing.T, path string, files []string, rows [][2]int) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schemaV1); err != nil {
		t.Fatal(err)
	}
	for i, name := range files {
		n := parseName(name)
		if _, err := db.Exec(`INSERT INTO statement_files (id, name, kind, merchant, date, monthly, size, sha256, encoding, rows, malformed, ingested_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, 'v1', 'UTF-8', ?, 0, 'then')`, i+1, name, string(n.Kind), n.Merchant, n.Date, n.Monthly(), 1234); err != nil {
			t.Fatal(err)
		}
	}
	for _, fl := range rows {
		id, line := fl[0], fl[1]
		r := v1Row(files, id, line)
		if _, err := db.Exec(`INSERT INTO statement_rows (file_id, line, no_order, oid_partner, dt_order, busi_partner,
			oid_paybill, settle_date, amount, direction, status, updated_at, fee, product, pay_method, info_order,
			payee_bank, payee_account, payee_name, kind, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, line, r.NoOrder, r.OidPartner, r.DtOrder, r.BusiPartner, r.OidPaybill, r.SettleDate, int64(r.Amount),
			r.Direction, r.Status, r.UpdatedAt, int64(r.Fee), r.Product, r.PayMethod, r.InfoOrder,
			r.PayeeBank, r.PayeeAccount, r.PayeeName, r.Kind.String(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// v1Row is the row v1Store stores at line of file id (from 1).
func v1Row(files []string, id, line int) recon.Row {
	name := files[min(id, len(files))-1] // a row of no file looks like one of the first's
	return row(name, line, strings.TrimSuffix(name, ".txt")+"#"+string(rune('0'+line)), recon.Fen(100*id+line))
}

// Open migrates a store of schema version 1: every row kept, each file's
// rows in line order at a rowid range of their own, a view that names the
// table still working, the history indexes gone with the old table, and
// the store then written and read as any other.
func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	files := []string{
		"JYMX_" + merchant + "_20240102.txt",
		"JYMX_" + merchant + "_20240101.txt",
		"JYMX_" + merchant + "_202401.txt", // monthly, no rows
		"FKMX_" + merchant + "_20240101.txt",
	}
	v1Store(t, path, files, [][2]int{{1, 5}, {2, 1}, {1, 2}, {4, 1}, {2, 2}, {1, 3}})
	func() {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{
			"CREATE VIEW merchant_numbers AS SELECT no_order FROM statement_rows",
			"CREATE INDEX statement_rows_no_order ON statement_rows (no_order)",
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v, views, old, indexes int
	for q, dst := range map[string]*int{
		"PRAGMA user_version":                                                                     &v,
		"SELECT count(*) FROM merchant_numbers":                                                   &views,
		"SELECT count(*) FROM sqlite_master WHERE name = 'statement_rows_v1'":                     &old,
		"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'statement_rows'": &indexes,
	} {
		if err := s.DB().QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if m := s.Migrated(); m == nil || m.From != 1 || m.To != schemaVersion || m.Rows != 6 {
		t.Errorf("Migrated() = %+v, want from 1 to %d, 6 rows", m, schemaVersion)
	}
	if v != schemaVersion || views != 6 || old != 0 || indexes != 0 {
		t.Errorf("after the migration: version %d, %d rows through the view, %d old tables, %d indexes on statement_rows; want %d, 6, 0, 0",
			v, views, old, indexes, schemaVersion)
	}
	for id, lines := range map[int][]int{1: {2, 3, 5}, 2: {1, 2}, 3: nil, 4: {1}} {
		f, err := s.File(ctx, files[id-1])
		if err != nil {
			t.Fatal(err)
		}
		var want []recon.Row
		for _, l := range lines {
			want = append(want, v1Row(files, id, l))
		}
		if !reflect.DeepEqual(f.Rows, want) {
			t.Errorf("%s after the migration:\n got %+v\nwant %+v", files[id-1], f.Rows, want)
		}
	}
	var order []string
	if err := s.StatementRows(ctx, merchant, "20240102", func(_ string, r recon.Row) error {
		order = append(order, r.NoOrder)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"JYMX_" + merchant + "_20240101#1", "JYMX_" + merchant + "_20240101#2", "FKMX_" + merchant + "_20240101#1",
		"JYMX_" + merchant + "_20240102#2", "JYMX_" + merchant + "_20240102#3", "JYMX_" + merchant + "_20240102#5"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("StatementRows after the migration: %q, want %q", order, want)
	}
	// Written after: a new file, and one of the migrated files replaced.
	ingest(t, s, file("JYMX_"+merchant+"_20240103.txt", "3", row("JYMX_"+merchant+"_20240103.txt", 1, "new", 1)))
	ingest(t, s, file(files[1], "again", row(files[1], 7, "replaced", 1)))
	f, err := s.File(ctx, files[1])
	if err != nil || len(f.Rows) != 1 || f.Rows[0].NoOrder != "replaced" {
		t.Errorf("a migrated file replaced: %+v, %v", f, err)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM statement_rows").Scan(&n); err != nil || n != 6 {
		t.Errorf("statement_rows holds %d rows (%v), want 6", n, err)
	}
}

// A row of no statement file stops the migration, which leaves the store
// at version 1, with the row.
func TestMigrateV1Orphan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	files := []string{"JYMX_" + merchant + "_20240102.txt"}
	v1Store(t, path, files, [][2]int{{1, 1}, {2, 1}}) // file 2 does not exist
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "1 rows of no statement file") {
		t.Fatalf("Open: %v, want an error about the row of no file", err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v, n int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT count(*) FROM statement_rows").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if v != 1 || n != 2 {
		t.Errorf("after the refusal: version %d, %d rows; want 1, 2", v, n)
	}
}

// A daily file stored by an earlier version after the upgrade (its rows
// without a rowid range: an old daemon still running) is an error that
// names it wherever its rows are read, not a file without rows.
func TestUnrangedFileIsAnError(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	name := "JYMX_" + merchant + "_20240101.txt"
	ingest(t, s, file(name, "1", row(name, 1, "a", 1), row(name, 2, "b", 2)))
	if _, err := s.DB().Exec("UPDATE statement_files SET first_row = NULL, last_row = NULL WHERE name = ?", name); err != nil {
		t.Fatal(err)
	}
	_, errFile := s.File(ctx, name)
	_, errStored := s.Stored(ctx, name)
	errRows := s.StatementRows(ctx, merchant, "20240101", func(string, recon.Row) error { return nil })
	for what, err := range map[string]error{"File": errFile, "Stored": errStored, "StatementRows": errRows} {
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "earlier version") {
			t.Errorf("%s: %v, want an error naming %s", what, err, name)
		}
	}
}
