package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

// schemaAccepts inserts e with SQLite enforcing the CHECKs of
// ledger_entries, inside a transaction it rolls back, and says whether
// the schema accepted it. Any error but a CHECK failure stops the test.
func schemaAccepts(t testing.TB, s *Store, e recon.Entry) bool {
	t.Helper()
	tx, err := s.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var fee any
	if e.HasFee {
		fee = int64(e.Fee)
	}
	_, err = tx.Exec(`INSERT INTO ledger_entries (oid_partner, kind, no_order, dt_order, amount, status, fee)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.OidPartner, e.Kind.String(), e.NoOrder, e.DtOrder, int64(e.Amount), e.Status.String(), fee)
	if err != nil && !strings.Contains(err.Error(), "CHECK constraint failed") {
		t.Fatalf("insert %+v: %v", e, err)
	}
	return err == nil
}

// TestChecksAgreeWithSchema: what checkEntry lets through, the schema
// accepts, and the other way round. The bulk writes rely on it when they
// turn the CHECKs off.
func TestChecksAgreeWithSchema(t *testing.T) {
	s := openTest(t)
	good := recon.Entry{OidPartner: merchant, Kind: recon.KindRefund, NoOrder: "r1", DtOrder: "20240101101112",
		Amount: 1, Status: recon.StatusProcessing, Fee: 0, HasFee: true}
	for _, tc := range []struct {
		name string
		edit func(e *recon.Entry)
	}{
		{"good", func(e *recon.Entry) {}},
		{"no merchant", func(e *recon.Entry) { e.OidPartner = "" }},
		{"17-digit merchant", func(e *recon.Entry) { e.OidPartner = merchant[1:] }},
		{"19-digit merchant", func(e *recon.Entry) { e.OidPartner = merchant + "1" }},
		{"merchant with a letter", func(e *recon.Entry) { e.OidPartner = merchant[1:] + "x" }},
		{"merchant with a full-width digit", func(e *recon.Entry) { e.OidPartner = merchant[3:] + "１" }},
		{"kind 0", func(e *recon.Entry) { e.Kind = 0 }},
		{"kind 4", func(e *recon.Entry) { e.Kind = 4 }},
		{"payout", func(e *recon.Entry) { e.Kind = recon.KindPayout }},
		{"empty no_order", func(e *recon.Entry) { e.NoOrder = "" }},
		{"32-character no_order", func(e *recon.Entry) { e.NoOrder = strings.Repeat("a", 32) }},
		{"33-character no_order", func(e *recon.Entry) { e.NoOrder = strings.Repeat("a", 33) }},
		{"32 Chinese characters", func(e *recon.Entry) { e.NoOrder = strings.Repeat("单", 32) }},
		{"33 Chinese characters", func(e *recon.Entry) { e.NoOrder = strings.Repeat("单", 33) }},
		{"32 invalid bytes", func(e *recon.Entry) { e.NoOrder = strings.Repeat("\xff", 32) }},
		{"33 invalid bytes", func(e *recon.Entry) { e.NoOrder = strings.Repeat("\xff", 33) }},
		{"13-digit date", func(e *recon.Entry) { e.DtOrder = "2024010110111" }},
		{"15-digit date", func(e *recon.Entry) { e.DtOrder = "202401011011120" }},
		{"dashed date", func(e *recon.Entry) { e.DtOrder = "2024-01-01 10:11:12" }},
		{"full-width digit in date", func(e *recon.Entry) { e.DtOrder = "2024010110111２" }},
		{"letter in date", func(e *recon.Entry) { e.DtOrder = "2024010110111x" }},
		{"amount 0", func(e *recon.Entry) { e.Amount = 0 }},
		{"amount -1", func(e *recon.Entry) { e.Amount = -1 }},
		{"status FAILURE", func(e *recon.Entry) { e.Status = recon.StatusFailure }},
		{"status SUCCESS", func(e *recon.Entry) { e.Status = recon.StatusSuccess }},
		{"status PROCESSING", func(e *recon.Entry) { e.Status = recon.StatusProcessing }},
		{"no status", func(e *recon.Entry) { e.Status = 0 }},
		{"status out of range", func(e *recon.Entry) { e.Status = recon.StatusProcessing + 1 }},
		{"negative fee", func(e *recon.Entry) { e.Fee = -1 }},
		{"negative fee not given", func(e *recon.Entry) { e.Fee, e.HasFee = -1, false }},
	} {
		e := good
		tc.edit(&e)
		err := checkEntry(&e)
		if err != nil && !errors.Is(err, errCheck) {
			t.Errorf("%s: checkEntry = %v, not errCheck", tc.name, err)
		}
		if want := schemaAccepts(t, s, e); (err == nil) != want {
			t.Errorf("%s: checkEntry = %v, schema accepts = %v", tc.name, err, want)
		}
	}
}

// FuzzEntryCheck: checkEntry never lets through what the schema refuses,
// and refuses nothing the schema accepts, but for texts with a NUL byte
// (SQLite's GLOB and length() stop at the NUL; checkEntry is stricter).
func FuzzEntryCheck(f *testing.F) {
	f.Add(merchant, uint8(1), "o1", "20240101101112", int64(100), uint8(recon.StatusSuccess), int64(0), true)
	f.Add("", uint8(3), strings.Repeat("单", 33), "2024010110111２", int64(0), uint8(0), int64(-1), false)
	f.Add("", uint8(2), "a\x00b", "20240101101112\x00x", int64(1), uint8(recon.StatusFailure), int64(0), false)
	s := openTest(f)
	f.Fuzz(func(t *testing.T, partner string, kind uint8, noOrder, dtOrder string, amount int64, status uint8, fee int64, hasFee bool) {
		e := recon.Entry{OidPartner: partner, Kind: recon.Kind(kind), NoOrder: noOrder, DtOrder: dtOrder,
			Amount: recon.Fen(amount), Status: recon.LedgerStatus(status), Fee: recon.Fen(fee), HasFee: hasFee}
		ours := checkEntry(&e) == nil
		schema := schemaAccepts(t, s, e)
		if ours && !schema {
			t.Fatalf("checkEntry accepts %+v, the schema refuses it", e)
		}
		nul := strings.ContainsRune(partner+noOrder+dtOrder, 0)
		if !ours && schema && !nul {
			t.Fatalf("checkEntry refuses %+v, the schema accepts it", e)
		}
	})
}

// TestBulkWritesRefuseWhatTheSchemaRefuses: with SQLite's checks off for
// the bulk writes, the Go checks refuse, and nothing is written.
func TestBulkWritesRefuseWhatTheSchemaRefuses(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	bad := []recon.Entry{
		{Kind: recon.KindPayment, NoOrder: "ok", DtOrder: "20240105000000", Amount: 5, Status: recon.StatusSuccess},
		{Kind: recon.KindPayment, NoOrder: "bad", DtOrder: "2024-01-05 00:00:00", Amount: 5, Status: recon.StatusSuccess},
	}
	if _, err := s.UpsertLedger(ctx, bad); !errors.Is(err, errCheck) || !strings.Contains(err.Error(), `entry 2 (payment "bad")`) {
		t.Errorf("UpsertLedger = %v, want entry 2 refused", err)
	}

	name := parseName("JYMX_" + merchant + "_20140528.txt")
	w, err := s.BeginFile(ctx, name, 10, "sha", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := row(name.Name, 1, "o1", 100)
	r.Kind = 0
	if err := w.Write([]recon.Row{r}); !errors.Is(err, errCheck) {
		t.Errorf("Write of a row without a kind = %v, want errCheck", err)
	}
	w.Rollback()
	name.Kind = "RHZZW"
	if _, err := s.BeginFile(ctx, name, 10, "sha", time.Now()); !errors.Is(err, errCheck) {
		t.Errorf("BeginFile of kind RHZZW = %v, want errCheck", err)
	}

	var n int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM ledger_entries) + (SELECT count(*) FROM statement_files)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows written (%v), want none", n, err)
	}
}

// TestPoolEnforcesChecksAfterBulkWrites: the connections a bulk write
// used go back to the pool with the CHECKs on, for every other write.
func TestPoolEnforcesChecksAfterBulkWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.UpsertLedger(ctx, []recon.Entry{{Kind: recon.KindPayment, NoOrder: "o1",
		DtOrder: "20240105000000", Amount: 5, Status: recon.StatusSuccess}}); err != nil {
		t.Fatal(err)
	}
	name := parseName("JYMX_" + merchant + "_20140528.txt")
	if _, err := s.IngestFile(ctx, &recon.StatementFile{FileName: name, SHA256: "sha",
		Rows: []recon.Row{row(name.Name, 1, "o1", 100)}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Hold every pooled connection at once, so that each is looked at.
	open := s.DB().Stats().OpenConnections
	for i := 0; i < open; i++ {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var ignore, fk int
		if err := c.QueryRowContext(ctx, "PRAGMA ignore_check_constraints").Scan(&ignore); err != nil || ignore != 0 {
			t.Errorf("connection %d: ignore_check_constraints = %d (%v), want 0", i, ignore, err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("connection %d: foreign_keys = %d (%v), want 1", i, fk, err)
		}
	}
	if open == 0 {
		t.Fatal("no pooled connection to look at")
	}
}
