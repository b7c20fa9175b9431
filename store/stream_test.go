package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

var ingestTime = time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC)

// bigFile is a detail file of n rows with warnings, malformed lines and
// file-level notes, so that every part of Commit is exercised.
func bigFile(name, sha string, n int, tag string) *recon.StatementFile {
	rows := make([]recon.Row, n)
	for i := range rows {
		rows[i] = row(name, i+2, fmt.Sprintf("%s%05d", tag, i), recon.Fen(100+i))
	}
	rows[0].Warnings = []string{"stray double quote dropped in field 14"}
	f := file(name, sha, rows...)
	f.TitleLine = 1
	f.Warnings = []string{"title row skipped (line 1)"}
	f.Malformed = []recon.Malformed{{File: name, Line: n + 2, NoOrder: "x", Field: "amount", Raw: "x,bad", Reason: "bad amount"}}
	return f
}

// stream stores f through a FileWriter, its rows in batches of the sizes
// given (the rest in one last batch).
func stream(t *testing.T, s *Store, f *recon.StatementFile, sizes ...int) Ingested {
	t.Helper()
	w, err := s.BeginFile(context.Background(), f.FileName, f.Size, f.SHA256, ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	rest := f.Rows
	for _, n := range sizes {
		if err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Write(rest); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fileRow is the statement_files row of name, every column but id.
func fileRow(t *testing.T, s *Store, name string) []any {
	t.Helper()
	got := make([]any, 13)
	ptrs := make([]any, len(got))
	for i := range got {
		ptrs[i] = &got[i]
	}
	err := s.DB().QueryRow(`SELECT name, kind, merchant, date, monthly, size, sha256, encoding, rows,
		malformed, title_line, warnings, ingested_at FROM statement_files WHERE name = ?`, name).Scan(ptrs...)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Storing a file through a FileWriter, in batches of any size, gives what
// IngestFile gives.
func TestFileWriterEqualsIngestFile(t *testing.T) {
	n := 2*rowBatch + 17
	for _, sizes := range [][]int{
		nil,                     // one Write of every row
		{0, 1, rowBatch - 1, 5}, // batches across the insert batches
		{rowBatch, rowBatch},    // exactly full insert batches
		{7, 7, 7, 7, 7, 7, 7},
	} {
		t.Run(fmt.Sprint(sizes), func(t *testing.T) {
			f := bigFile(jymx1, "abc", n, "o")
			a, b := openTest(t), openTest(t)
			want := ingest(t, a, f)
			got := stream(t, b, f, sizes...)
			if got != want {
				t.Errorf("Commit = %+v, IngestFile = %+v", got, want)
			}
			if got, want := fileRow(t, b, jymx1), fileRow(t, a, jymx1); !reflect.DeepEqual(got, want) {
				t.Errorf("statement_files row:\n got %v\nwant %v", got, want)
			}
			gotF, err := b.File(context.Background(), jymx1)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotF, f) {
				t.Errorf("File after streaming differs from the file streamed")
			}
		})
	}
}

func TestFileWriterRestart(t *testing.T) {
	s := openTest(t)
	first := bigFile(jymx1, "abc", rowBatch+5, "utf8-")
	second := bigFile(jymx1, "abc", 9, "gb-")
	second.Size = first.Size // the same bytes, read again
	w, err := s.BeginFile(context.Background(), first.FileName, first.Size, first.SHA256, ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	if err := w.Write(first.Rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(second.Rows); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(second); err != nil {
		t.Fatal(err)
	}
	got, err := s.File(context.Background(), jymx1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, second) {
		t.Errorf("after Restart: %d rows stored, want only the %d of the second read", len(got.Rows), len(second.Rows))
	}
	if rows := fileRow(t, s, jymx1)[8]; rows != int64(len(second.Rows)) {
		t.Errorf("statement_files.rows = %v, want %d", rows, len(second.Rows))
	}
}

// A writer abandoned part-way, by Rollback, by an error or by its context,
// leaves nothing, holds no lock, and a later ingest of the file works.
func TestFileWriterAbandoned(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool // a previous version is stored
		end      func(w *FileWriter, cancel func()) error
		wantErr  error // what Write or Commit then return; nil: not called
	}{
		{"rollback", false, func(w *FileWriter, _ func()) error { w.Rollback(); w.Rollback(); return nil }, errWriterDone},
		{"rollback of a replacement", true, func(w *FileWriter, _ func()) error { w.Rollback(); return nil }, errWriterDone},
		{"cancel, then write", false, func(_ *FileWriter, cancel func()) error { cancel(); return nil }, context.Canceled},
		{"cancel, then nothing", true, func(_ *FileWriter, cancel func()) error { cancel(); return nil }, nil},
		{"bad row", false, func(w *FileWriter, _ func()) error {
			r := row(jymx1, 2, "dup line", 1) // line 2 again: refused, and the file rolled back
			if err := w.Write([]recon.Row{r}); err == nil || !strings.Contains(err.Error(), "line 2 after line") {
				return fmt.Errorf("Write of a line again: %v, want an error naming it", err)
			}
			return nil
		}, errWriterDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			if tc.existing {
				ingest(t, s, file(jymx1, "old", row(jymx1, 1, "keep", 1)))
			}
			before := counts(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := bigFile(jymx1, "new", 2*rowBatch+3, "o")
			w, err := s.BeginFile(ctx, f.FileName, f.Size, f.SHA256, ingestTime)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(f.Rows); err != nil {
				t.Fatal(err)
			}
			if err := tc.end(w, cancel); err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != nil {
				if err := w.Write(f.Rows[:1]); !errors.Is(err, tc.wantErr) {
					t.Errorf("Write after the end: %v, want %v", err, tc.wantErr)
				}
				if _, err := w.Commit(f); !errors.Is(err, tc.wantErr) {
					t.Errorf("Commit after the end: %v, want %v", err, tc.wantErr)
				}
			}
			// The rollback that ctx's end triggers runs on its own
			// goroutine: the next writer waits for it (busy time-out).
			if res := ingest(t, s, file(jymx1, "later", row(jymx1, 1, "later", 1))); res.Status == Unchanged {
				t.Errorf("later ingest: %+v", res)
			}
			after := counts(t, s)
			before["statement_rows"] = 1
			before["statement_files"] = 1
			if tc.existing {
				before["file_changes"]++ // old → later; new left no trace
			}
			if !reflect.DeepEqual(after, before) {
				t.Errorf("tables: %v, want %v", after, before)
			}
			changes, err := s.FileChanges(context.Background(), jymx1)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range changes {
				if c.NewSHA256 == "new" {
					t.Errorf("the abandoned version's change was kept: %+v", c)
				}
			}
			w.Rollback() // after everything, still harmless
		})
	}
}

func TestFileWriterUnchangedAndReplaced(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := bigFile(jymx1, "one", 3, "o")
	first := ingest(t, s, old)

	w, err := s.BeginFile(ctx, old.FileName, old.Size, old.SHA256, ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status() != Unchanged {
		t.Fatalf("Status = %v, want unchanged", w.Status())
	}
	// An unchanged writer holds no lock: another file is stored meanwhile.
	ingest(t, s, bigFile("FKMX_"+merchant+"_20240101.txt", "f", 2, "p"))
	before := counts(t, s)
	if err := w.Write(bigFile(jymx1, "one", 5, "x").Rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(); err != nil {
		t.Fatal(err)
	}
	res, err := w.Commit(old)
	if err != nil || res != (Ingested{FileID: first.FileID, Status: Unchanged}) {
		t.Errorf("Commit = %+v, %v; want unchanged, id %d", res, err, first.FileID)
	}
	w.Rollback()
	if after := counts(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("an unchanged writer wrote: %v, want %v", after, before)
	}

	replacement := bigFile(jymx1, "two", rowBatch+1, "r")
	w, err = s.BeginFile(ctx, replacement.FileName, replacement.Size, replacement.SHA256, ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status() != Replaced {
		t.Fatalf("Status = %v, want replaced", w.Status())
	}
	w.Rollback()
	res = stream(t, s, replacement, 10)
	if res.Status != Replaced || res.PrevSHA256 != "one" || res.FileID == first.FileID {
		t.Errorf("replacement: %+v", res)
	}
	changes, err := s.FileChanges(ctx, jymx1)
	if err != nil || len(changes) != 1 || changes[0].OldSHA256 != "one" || changes[0].NewSHA256 != "two" || !changes[0].At.Equal(ingestTime) {
		t.Errorf("file changes: %+v, %v; want one, one → two", changes, err)
	}
	got, err := s.File(ctx, jymx1)
	if err != nil || !reflect.DeepEqual(got, replacement) {
		t.Errorf("File after the replacement: %v, %d rows", err, len(got.Rows))
	}
}

// While a writer is open, with rows written, other goroutines read the
// store through other connections and see it as it was; Write and Commit
// run on a goroutine other than BeginFile's.
func TestFileWriterConcurrentReads(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	j0 := "JYMX_" + merchant + "_20231231.txt"
	ingest(t, s, file(j0, "0", row(j0, 1, "old", 1)))
	entries := []recon.Entry{{OidPartner: merchant, Kind: recon.KindPayment, NoOrder: "e1", DtOrder: "20240101101112", Amount: 5, Status: recon.StatusSuccess}}
	if _, err := s.UpsertLedger(ctx, entries); err != nil {
		t.Fatal(err)
	}
	f := bigFile(jymx1, "abc", 3*rowBatch, "o")
	w, err := s.BeginFile(ctx, f.FileName, f.Size, f.SHA256, ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	done := make(chan error)
	go func() {
		for i := 0; i < len(f.Rows); i += rowBatch / 2 {
			if err := w.Write(f.Rows[i : i+rowBatch/2]); err != nil {
				done <- err
				return
			}
			// Read between batches: all of this must not wait for the writer.
			n := 0
			if err := s.StatementRows(ctx, merchant, "20991231", func(string, recon.Row) error { n++; return nil }); err != nil || n != 1 {
				done <- fmt.Errorf("StatementRows during the ingest: %d rows, %v; want the 1 committed", n, err)
				return
			}
			if l, err := s.LedgerEntries(ctx, merchant); err != nil || len(l) != 1 {
				done <- fmt.Errorf("LedgerEntries during the ingest: %v, %v", l, err)
				return
			}
			if _, err := s.File(ctx, jymx1); !errors.Is(err, ErrNotFound) {
				done <- fmt.Errorf("File of the file being stored: %v, want ErrNotFound", err)
				return
			}
		}
		_, err := w.Commit(f)
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.StatementRows(ctx, merchant, "20991231", func(string, recon.Row) error { n++; return nil }); err != nil || n != 1+len(f.Rows) {
		t.Errorf("StatementRows after Commit: %d rows, %v", n, err)
	}
}

// awkward are texts that an encoding of the values could get wrong.
var awkward = []string{
	"", "商户订单号,含逗号", `"quoted"`, `back\slash\`, `\u0041 not an escape`, "tab\there\nnewline\r\x00nul\x01\x1f\x7f",
	"line\u2028separator\u2029", "😀 astral", "[1,2]", "null", strings.Repeat("9", 32), "12345678901234567890123456789012",
}

// Awkward texts and the extreme amounts come back byte for byte through
// File, StatementRows (lean) and LedgerEntries.
func TestAwkwardValuesRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var rows []recon.Row
	for i, a := range awkward {
		r := row(jymx1, i+1, a+"#", recon.Fen(i+1)) // no_order must differ
		m := r.EditMeta()
		r.OidPaybill, m.BusiPartner, m.SettleDate, m.OidPartner = a, a, a, a
		r.DtOrder, r.UpdatedAt, r.Product, r.PayMethod, r.InfoOrder = a, a, a, a, a
		r.Warnings = []string{a}
		rows = append(rows, r)
	}
	for i, v := range []recon.Fen{math.MaxInt64, math.MinInt64, 0, -1} {
		r := row(jymx1, len(rows)+1, fmt.Sprint("extreme", i), v)
		r.Fee = -v - 1 // MinInt64, MaxInt64, -1, 0
		r.Kind = recon.Classify(r.Direction, v)
		rows = append(rows, r)
	}
	f := file(jymx1, "x", rows...)
	stream(t, s, f, 3)
	got, err := s.File(ctx, jymx1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if i >= len(got.Rows) || !reflect.DeepEqual(got.Rows[i], rows[i]) {
			t.Errorf("File row %d differs", i)
		}
	}
	i := 0
	err = s.StatementRows(ctx, merchant, "20991231", func(date string, r recon.Row) error {
		if want := rows[i].Lean(); r.RowText != nil || !reflect.DeepEqual(r, want) || date != "20240101" {
			t.Errorf("StatementRows row %d (date %s):\n got %+v\nwant %+v", i, date, r, want)
		}
		i++
		return nil
	})
	if err != nil || i != len(rows) {
		t.Errorf("StatementRows: %d rows, %v; want %d", i, err, len(rows))
	}

	var entries []recon.Entry
	for i, a := range awkward {
		no := a + "#"
		if len(a) == 32 {
			no = a
		}
		entries = append(entries, recon.Entry{OidPartner: merchant, Kind: recon.KindRefund, NoOrder: no,
			DtOrder: fmt.Sprintf("202401011011%02d", i), Amount: math.MaxInt64, Status: recon.StatusSuccess,
			OrigNoOrder: a, OidPaybill: a})
		if i%2 == 0 {
			entries[i].Fee, entries[i].HasFee = recon.Fen(i*math.MaxInt32), true
		}
	}
	entries = append(entries, recon.Entry{Kind: recon.KindPayout, NoOrder: "no merchant", DtOrder: "20240101101112",
		Amount: 1, Status: recon.StatusProcessing, Fee: math.MaxInt64, HasFee: true})
	for _, want := range []LedgerCounts{{Inserted: len(entries)}, {Unchanged: len(entries)}} {
		if c, err := s.UpsertLedger(ctx, entries); err != nil || c != want {
			t.Fatalf("UpsertLedger = %+v, %v; want %+v", c, err, want)
		}
	}
	gotE, err := s.LedgerEntries(ctx, merchant)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotE) != len(entries) {
		t.Fatalf("LedgerEntries: %d entries, want %d", len(gotE), len(entries))
	}
	for i := range entries { // dt_order ascending is the order given
		if !reflect.DeepEqual(gotE[i], entries[i]) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, gotE[i], entries[i])
		}
	}
}

// Payee fields are stored for FKMX rows, over full batches and the short
// last one, and refused in a row of another file rather than dropped:
// only FKMX files insert the payee columns.
func TestPayeeOfFKMXOnly(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const fkmx1 = "FKMX_" + merchant + "_20240101.txt"
	var rows []recon.Row
	for i := range rowBatch + 3 {
		r := row(fkmx1, i+1, fmt.Sprint("P", i), 100)
		a := awkward[i%len(awkward)]
		r.PayeeBank, r.PayeeAccount, r.PayeeName = a+"b", a+"a", a
		rows = append(rows, r)
	}
	stream(t, s, file(fkmx1, "p", rows...), 7, rowBatch-4) // a full batch, then 3 rows
	got, err := s.File(ctx, fkmx1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Rows, rows) {
		t.Errorf("FKMX rows differ after storing (%d rows back, want %d)", len(got.Rows), len(rows))
	}

	r := row(jymx1, 2, "J", 100)
	r.PayeeName = "张三"
	w, err := s.BeginFile(ctx, parseName(jymx1), 1, "j", ingestTime)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	if err := w.Write([]recon.Row{r}); err == nil || !strings.Contains(err.Error(), "line 2: payee fields") {
		t.Errorf("a JYMX row with a payee: %v, want an error naming line 2", err)
	}
	if _, err := s.File(ctx, jymx1); !errors.Is(err, ErrNotFound) {
		t.Errorf("File after the refusal: %v, want ErrNotFound", err)
	}
}

func TestJSONReader(t *testing.T) {
	type elem struct {
		s   string
		i   int64
		ok  bool // int: not null; str: not null
		str bool
	}
	for _, tc := range []struct {
		in   string
		want []elem // read with str for str elements, int otherwise
		bad  bool   // an error somewhere, end included
	}{
		{in: `["a",1,null,-9223372036854775808,9223372036854775807,""]`, want: []elem{
			{s: "a", ok: true, str: true}, {i: 1, ok: true}, {}, {i: math.MinInt64, ok: true}, {i: math.MaxInt64, ok: true}, {s: "", ok: true, str: true}}},
		{in: `["\"\\\/\b\f\n\r\t\u0000\u00e9\u4e2d\ud83d\ude00","x\"y",null]`, want: []elem{
			{s: "\"\\/\b\f\n\r\t\x00é中😀", ok: true, str: true}, {s: `x"y`, ok: true, str: true}, {str: true}}},
		{in: `["中文",0]`, want: []elem{{s: "中文", ok: true, str: true}, {ok: true}}},
		{in: `[9223372036854775808]`, want: []elem{{}}, bad: true},
		{in: `[-9223372036854775809]`, want: []elem{{}}, bad: true},
		{in: `[12345678901234567890123]`, want: []elem{{}}, bad: true},
		{in: `[-]`, want: []elem{{}}, bad: true},
		{in: `["abc]`, want: []elem{{str: true}}, bad: true},
		{in: `["\x"]`, want: []elem{{str: true}}, bad: true},
		{in: `["\u12"]`, want: []elem{{str: true}}, bad: true},
		{in: `[1 2]`, want: []elem{{i: 1, ok: true}, {}}, bad: true},
		{in: `[1]x`, want: []elem{{i: 1, ok: true}}, bad: true},
		{in: `[1,2]`, want: []elem{{i: 1, ok: true}}, bad: true}, // an element left over
		{in: `1`, bad: true},
	} {
		var r jsonReader
		err := r.reset([]byte(tc.in))
		for k, w := range tc.want {
			if err != nil {
				break
			}
			var ok bool
			if w.str {
				var b []byte
				b, ok, err = r.optStr()
				if err == nil && (string(b) != w.s || ok != w.ok) {
					t.Errorf("%s: element %d = %q (%v), want %q (%v)", tc.in, k, b, ok, w.s, w.ok)
				}
				continue
			}
			var v int64
			v, ok, err = r.int()
			if err == nil && (v != w.i || ok != w.ok) {
				t.Errorf("%s: element %d = %d (%v), want %d (%v)", tc.in, k, v, ok, w.i, w.ok)
			}
		}
		if err == nil {
			err = r.end()
		}
		if (err != nil) != tc.bad {
			t.Errorf("%s: err = %v, want an error: %v", tc.in, err, tc.bad)
		}
	}
}
