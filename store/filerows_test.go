package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

// keyRow is what RowKeys and RowsAt give of r.
func keyRow(r recon.Row) recon.Row {
	return recon.Row{RowMeta: &recon.RowMeta{File: r.File, SettleDate: r.SettleDate}, Line: r.Line, Kind: r.Kind, NoOrder: r.NoOrder, OidPaybill: r.OidPaybill, Amount: r.Amount, Fee: r.Fee, Status: r.Status, Direction: r.Direction}
}

// TestRowKeys: a file of more rows than one batch reads, with gaps in its
// lines (malformed lines are not rows), texts that JSON escapes and
// negative amounts, comes back row for row; RowsAt gives the rows at the
// lines asked for, in line order, and leaves out lines without a row.
func TestRowKeys(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	name := "JYMX_" + merchant + "_20140528.txt"
	var rows []recon.Row
	for i := range 2*rowKeysBatch + 3 {
		line := 2*i + 1
		r := row(name, line, "2014052800000"+string(rune('A'+i%26)), recon.Fen(100+i))
		switch i % 5 {
		case 1:
			r.NoOrder = `a"b\c` + "\n\t,é"
		case 2:
			r.Amount, r.Fee, r.Kind = -r.Amount, -r.Fee, recon.KindRefund
		case 3:
			r.Status = 5
		}
		rows = append(rows, r)
	}
	if _, err := s.IngestFile(ctx, file(name, "a", rows...), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Another file, which must not be read.
	if _, err := s.IngestFile(ctx, file("JYMX_"+merchant+"_20140529.txt", "b", row("JYMX_"+merchant+"_20140529.txt", 1, "X", 1)), time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := s.Stored(ctx, name)
	if err != nil || f.Name != name || f.SHA256 != "a" || f.Rows != len(rows) {
		t.Fatalf("Stored = %+v, %v", f, err)
	}
	var got []recon.Row
	if err := s.RowKeys(ctx, f, func(r *recon.Row) error {
		c := *r
		c.NoOrder, c.OidPaybill, c.EditMeta().SettleDate = string([]byte(c.NoOrder)), string([]byte(c.OidPaybill)), string([]byte(c.SettleDate))
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("RowKeys gave %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if want := keyRow(rows[i]); !reflect.DeepEqual(got[i], want) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}

	at, err := s.RowsAt(ctx, f, []int{1, 2, 11, 4097, 11, 2*(2*rowKeysBatch+2) + 1, 99999}) // 11 twice
	if err != nil {
		t.Fatal(err)
	}
	want := []recon.Row{keyRow(rows[0]), keyRow(rows[5]), keyRow(rows[2048]), keyRow(rows[len(rows)-1])}
	if !reflect.DeepEqual(at, want) {
		t.Errorf("RowsAt:\n got %+v\nwant %+v", at, want)
	}

	stop := errors.New("stop")
	n := 0
	if err := s.RowKeys(ctx, f, func(*recon.Row) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("RowKeys after fn's error: %v, %d calls", err, n)
	}
	if _, err := s.Stored(ctx, "JYMX_"+merchant+"_20140530.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stored of an absent file: %v", err)
	}
}

// TestCommitUnstored: a file committed without its rows records how many
// it had, its malformed lines, and replaces a file of the same name with
// other bytes; a writer that wrote rows refuses.
func TestCommitUnstored(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	name := "JYMX_" + merchant + "_201405.txt"
	f := file(name, "a")
	f.Malformed = []recon.Malformed{{File: name, Line: 3, NoOrder: "x", Raw: "x,y", Reason: "too few fields"}}
	for _, sha := range []string{"a", "a", "b"} {
		f.SHA256 = sha
		w, err := s.BeginFile(ctx, f.FileName, 10, sha, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.CommitUnstored(f, 1234); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Stored(ctx, name)
	if err != nil || got.Rows != 1234 || got.SHA256 != "b" {
		t.Fatalf("Stored = %+v, %v", got, err)
	}
	back, err := s.File(ctx, name)
	if err != nil || len(back.Rows) != 0 || len(back.Malformed) != 1 {
		t.Errorf("File = %d rows, %d malformed, %v", len(back.Rows), len(back.Malformed), err)
	}
	changes, err := s.FileChanges(ctx, name)
	if err != nil || len(changes) != 1 {
		t.Errorf("changes %+v, %v", changes, err)
	}

	w, err := s.BeginFile(ctx, parseName("JYMX_"+merchant+"_201406.txt"), 10, "c", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]recon.Row{row("JYMX_"+merchant+"_201406.txt", 1, "p", 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CommitUnstored(file("JYMX_"+merchant+"_201406.txt", "c"), 1); err == nil {
		t.Error("CommitUnstored after Write succeeded")
	}
	if _, err := s.Stored(ctx, "JYMX_"+merchant+"_201406.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused file was stored: %v", err)
	}
}
