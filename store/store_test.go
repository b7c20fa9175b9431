package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	reconcile "github.com/lianlian-recon/reconcile"
	"github.com/lianlian-recon/reconcile/recon"
)

const (
	merchant = "201403251000001147"
	other    = "201403251000009999"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "reconcile.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// row builds a good detail row of file name at line; amount in fen.
func row(name string, line int, noOrder string, amount recon.Fen) recon.Row {
	n := parseName(name)
	settle := n.Date
	if n.Monthly() {
		settle += "15"
	}
	r := recon.Row{
		RowMeta: &recon.RowMeta{File: name, OidPartner: n.Merchant, BusiPartner: "101001", SettleDate: settle}, Line: line, NoOrder: noOrder, OidPaybill: fmt.Sprintf("2014%012d", line), Amount: amount, Direction: 0, Status: 0, Fee: amount / 100,
		RowText: &recon.RowText{DtOrder: settle + " 10:11:12", UpdatedAt: settle + " 10:12:13",
			Product: "WEB支付网关", PayMethod: "储蓄卡快捷支付", InfoOrder: "商品,一件"},
	}
	if n.Kind == recon.FileFKMX {
		r.Direction = 1
		r.PayeeBank, r.PayeeAccount, r.PayeeName = "招商银行", "****1234", "张三"
	}
	r.Kind = recon.Classify(r.Direction, r.Amount)
	return r
}

// parseName reads the test file names ("JYMX_{merchant}_{date}.txt").
func parseName(name string) recon.FileName {
	p := strings.Split(strings.TrimSuffix(name, ".txt"), "_")
	return recon.FileName{Name: name, Kind: recon.FileKind(p[0]), Merchant: p[1], Date: p[2]}
}

// file builds a detail file; sha distinguishes versions of the same name.
func file(name, sha string, rows ...recon.Row) *recon.StatementFile {
	return &recon.StatementFile{
		FileName: parseName(name), Size: int64(100 * len(rows)), SHA256: sha,
		Encoding: recon.EncodingGB18030, Rows: rows,
	}
}

func ingest(t testing.TB, s *Store, f *recon.StatementFile) Ingested {
	t.Helper()
	res, err := s.IngestFile(context.Background(), f, time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// counts gives the number of rows of every table that ingesting writes.
func counts(t testing.TB, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"statement_files", "statement_rows", "malformed_rows", "summaries", "file_changes"} {
		var n int
		if err := s.DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestOpenSchemaVersion(t *testing.T) {
	// A '?' in the path must not be taken for DSN parameters.
	path := filepath.Join(t.TempDir(), "odd?name#x.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.DB().QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != schemaVersion {
		t.Errorf("user_version = %d, want %d", v, schemaVersion)
	}
	if m := s.Migrated(); m != nil {
		t.Errorf("a new database Migrated() = %+v, want nil", m)
	}
	if want := fmt.Sprintf("PRAGMA user_version = %d;", schemaVersion); !strings.Contains(reconcile.Schema, want) {
		t.Errorf("schema.sql does not say %q", want)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1"} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := s.DB().Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: err = %v, want one naming the path and the version", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir.db")); err == nil || !strings.Contains(err.Error(), "dir.db") {
		t.Errorf("Open in a missing folder: err = %v, want one naming the path", err)
	}
}

// TestPageSize: a database the store creates has pageSize pages; one
// created otherwise keeps its own and is used as it is.
func TestPageSize(t *testing.T) {
	pageSizeOf := func(s *Store) int {
		var n int
		if err := s.DB().QueryRow("PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := pageSizeOf(openTest(t)); got != pageSize {
		t.Errorf("new database: page size %d, want %d", got, pageSize)
	}

	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec("PRAGMA page_size = 4096; CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := pageSizeOf(s); got != 4096 {
		t.Errorf("existing database: page size %d, want its own 4096", got)
	}
	if _, err := s.UpsertLedger(context.Background(), []recon.Entry{{Kind: recon.KindPayment, NoOrder: "o1",
		DtOrder: "20240105000000", Amount: 5, Status: recon.StatusSuccess}}); err != nil {
		t.Errorf("existing database: %v", err)
	}
}
