package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

const jymx1 = "JYMX_" + merchant + "_20240101.txt"

func TestIngestTwiceUnchanged(t *testing.T) {
	s := openTest(t)
	f := file(jymx1, "aa", row(jymx1, 1, "o1", 100), row(jymx1, 2, "o2", 200))
	f.Malformed = []recon.Malformed{{File: jymx1, Line: 3, NoOrder: "o3", Field: "amount", Raw: "o3,...", Reason: "bad amount"}}
	sum := file("JYMXSUM_"+merchant+"_20240101.txt", "bb")
	sum.Summary = &recon.Summary{TotalCount: 2, SuccessCount: 2, SuccessAmount: 300}

	first := ingest(t, s, f)
	ingest(t, s, sum)
	if first.Status != Inserted {
		t.Fatalf("first ingest: %v, want inserted", first.Status)
	}
	before := counts(t, s)
	want := map[string]int{"statement_files": 2, "statement_rows": 2, "malformed_rows": 1, "summaries": 1, "file_changes": 0}
	if !reflect.DeepEqual(before, want) {
		t.Fatalf("after first ingest: %v, want %v", before, want)
	}
	for _, g := range []*recon.StatementFile{f, sum} {
		again := ingest(t, s, g)
		if again.Status != Unchanged || again.PrevSHA256 != "" {
			t.Errorf("%s again: %+v, want unchanged", g.Name, again)
		}
	}
	if again := ingest(t, s, f); again.FileID != first.FileID {
		t.Errorf("unchanged FileID = %d, want %d", again.FileID, first.FileID)
	}
	if after := counts(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("after second ingest: %v, want %v", after, before)
	}
}

func TestIngestReplaced(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	old := file(jymx1, "old", row(jymx1, 1, "o1", 100), row(jymx1, 2, "o2", 200))
	old.Malformed = []recon.Malformed{{File: jymx1, Line: 3, NoOrder: "x", Raw: "x", Reason: "too few fields"}}
	ingest(t, s, old)
	// A summary file replaced as well: its summary goes with it.
	sumName := "JYMXSUM_" + merchant + "_20240102.txt"
	oldSum := file(sumName, "old")
	oldSum.Summary = &recon.Summary{TotalCount: 2}
	ingest(t, s, oldSum)
	newSum := file(sumName, "new")
	ingest(t, s, newSum) // no summary line this time
	at := time.Date(2024, 1, 3, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	res, err := s.IngestFile(ctx, file(jymx1, "new", row(jymx1, 1, "n1", 300)), at)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Replaced || res.PrevSHA256 != "old" {
		t.Errorf("changed bytes: %+v, want replaced with prev old", res)
	}
	got, err := s.File(ctx, jymx1)
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != "new" || len(got.Rows) != 1 || got.Rows[0].NoOrder != "n1" {
		t.Errorf("stored after replace: sha %s rows %+v, want only n1", got.SHA256, got.Rows)
	}
	// The bulk writes have foreign keys off: the replaced file's rows,
	// malformed lines and summary are deleted by the store itself.
	if c := counts(t, s); c["statement_rows"] != 1 || c["statement_files"] != 2 || c["malformed_rows"] != 0 || c["summaries"] != 0 {
		t.Errorf("old rows left behind: %v", c)
	}
	changes, err := s.FileChanges(ctx, jymx1)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Name != jymx1 || changes[0].OldSHA256 != "old" ||
		changes[0].NewSHA256 != "new" || !changes[0].At.Equal(at) {
		t.Errorf("changes = %+v, want one old→new at %v", changes, at)
	}
	if c, _ := s.FileChanges(ctx, "JYMX_"+merchant+"_20991231.txt"); len(c) != 0 {
		t.Errorf("changes of an unknown name: %v", c)
	}
}

// TestBeginFileWithoutDigest: a name the store does not hold is stored
// without its SHA-256 at BeginFile, with the size and SHA-256 of Commit's
// file; for a name it holds, BeginFile asks for the SHA-256 and writes
// nothing; a Commit that cannot give it fails and stores nothing.
func TestBeginFileWithoutDigest(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Date(2024, 1, 2, 8, 30, 0, 0, time.UTC)
	f := file(jymx1, "aa", row(jymx1, 1, "o1", 100), row(jymx1, 2, "o2", 200))
	f.Size = 4242

	// Commit's file without a SHA-256 either: refused.
	w, err := s.BeginFile(ctx, f.FileName, 0, "", now)
	if err != nil {
		t.Fatal(err)
	}
	noSum := *f
	noSum.SHA256 = ""
	if err := w.Write(f.Rows); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(&noSum); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("Commit without any SHA-256 = %v, want an error", err)
	}
	if c := counts(t, s); c["statement_files"] != 0 || c["statement_rows"] != 0 {
		t.Fatalf("a refused commit left %v", c)
	}

	w, err = s.BeginFile(ctx, f.FileName, 0, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status() != Inserted {
		t.Errorf("status %v, want inserted", w.Status())
	}
	if err := w.Write(f.Rows); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(f); err != nil {
		t.Fatal(err)
	}
	got, err := s.File(ctx, jymx1)
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != "aa" || got.Size != 4242 || len(got.Rows) != 2 {
		t.Errorf("stored sha %q size %d with %d rows, want aa, 4242, 2", got.SHA256, got.Size, len(got.Rows))
	}

	before := counts(t, s)
	if _, err := s.BeginFile(ctx, f.FileName, 0, "", now); !errors.Is(err, ErrDigestNeeded) {
		t.Errorf("BeginFile of a stored name without a SHA-256 = %v, want ErrDigestNeeded", err)
	}
	if after := counts(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("it wrote: %v, then %v", before, after)
	}
	// It let the write lock go: the file with its SHA-256 is unchanged.
	w, err = s.BeginFile(ctx, f.FileName, 4242, "aa", now)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Rollback()
	if w.Status() != Unchanged {
		t.Errorf("status %v, want unchanged", w.Status())
	}
}

// An ingest that fails part-way leaves no trace: neither the new file nor
// its first rows, and a file it was replacing stays as it was.
func TestIngestFailureLeavesNoTrace(t *testing.T) {
	errInjected := errors.New("injected")
	big := func(sha string) *recon.StatementFile {
		rows := make([]recon.Row, 3*rowBatch+7)
		for i := range rows {
			rows[i] = row(jymx1, i+1, fmt.Sprintf("o%d", i), recon.Fen(i+1))
		}
		return file(jymx1, sha, rows...)
	}
	for _, tc := range []struct {
		name     string
		existing bool // a previous version is stored
		cancel   bool // cancel the context instead of failing
	}{
		{"new file, error", false, false},
		{"new file, cancelled", false, true},
		{"replacement, error", true, false},
		{"replacement, cancelled", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			if tc.existing {
				ingest(t, s, file(jymx1, "old", row(jymx1, 1, "keep", 1)))
			}
			before := counts(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var written int
			s.ingestHook = func(n int) error {
				written = n
				if n < 2*rowBatch {
					return nil
				}
				if tc.cancel {
					cancel()
					return nil
				}
				return errInjected
			}
			_, err := s.IngestFile(ctx, big("new"), time.Now())
			if err == nil {
				t.Fatal("ingest succeeded, want an error")
			}
			if want := error(errInjected); tc.cancel && !errors.Is(err, context.Canceled) || !tc.cancel && !errors.Is(err, want) {
				t.Errorf("err = %v", err)
			}
			if written < 2*rowBatch {
				t.Fatalf("failed after %d rows, before the injection point", written)
			}
			s.ingestHook = nil
			if after := counts(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("tables after a failed ingest: %v, want %v", after, before)
			}
			f, err := s.File(context.Background(), jymx1)
			switch {
			case !tc.existing && !errors.Is(err, ErrNotFound):
				t.Errorf("File after failed new ingest: %v, %v; want ErrNotFound", f, err)
			case tc.existing && (err != nil || f.SHA256 != "old" || len(f.Rows) != 1):
				t.Errorf("File after failed replacement: %+v, %v; want the old version", f, err)
			}
		})
	}
}

func TestFileRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	fkmx := "FKMX_" + merchant + "_20240101.txt"
	// More rows than one insert batch holds, so full and short batches run.
	rows := make([]recon.Row, 2*rowBatch+31)
	for i := range rows {
		rows[i] = row(jymx1, i+2, fmt.Sprintf("o%04d", i), recon.Fen(1000+i))
	}
	rows[0].Warnings = []string{"stray double quote dropped in field 14", "empty field 10 dropped"}
	rows[1].Amount, rows[1].Fee, rows[1].OidPaybill = -500, -5, "o0001"
	rows[1].Kind = recon.Classify(0, -500)
	rows[2].Status = 5
	rows[3].InfoOrder = "含\"引号\"和,逗号和'单引号'"
	rows[4].EditMeta().OidPartner = other // merchant_mismatch rows are stored as read
	f := file(jymx1, "abc", rows...)
	f.TitleLine = 1
	f.Warnings = []string{"title row skipped (line 1)"}
	f.Encoding = recon.EncodingUTF8BOM
	f.Malformed = []recon.Malformed{
		{File: jymx1, Line: 40, NoOrder: "x1", Field: "amount", Raw: "x1,bad", Reason: "bad amount \"1.234\""},
		{File: jymx1, Line: 41, NoOrder: "", Field: "", Raw: "short", Reason: "too few fields"},
	}
	sumName := "JYMXSUM_" + merchant + "_20240101.txt"
	sum := file(sumName, "def")
	sum.Summary = &recon.Summary{TotalCount: 8, SuccessCount: 8, SuccessAmount: 55123, RefundCount: 1, RefundAmount: -500, RevokeCount: 2, RevokeAmount: -300}
	badSum := file("FKMXSUM_"+merchant+"_20240101.txt", "ghi")
	badSum.Malformed = []recon.Malformed{{File: badSum.Name, Line: 1, Raw: "8|8", Reason: "2 figures, want 7"}}
	monthly := file("FKMX_"+merchant+"_202401.txt", "jkl", row("FKMX_"+merchant+"_202401.txt", 1, "p1", 777))
	payout := file(fkmx, "mno", row(fkmx, 1, "p1", 777))

	for _, want := range []*recon.StatementFile{f, sum, badSum, monthly, payout} {
		ingest(t, s, want)
		got, err := s.File(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", want.Name, got, want)
			for i := range min(len(got.Rows), len(want.Rows)) {
				if !reflect.DeepEqual(got.Rows[i], want.Rows[i]) {
					t.Errorf("first differing row %d:\n got %+v\nwant %+v", i, got.Rows[i], want.Rows[i])
					break
				}
			}
		}
	}
	if _, err := s.File(ctx, "JYMX_"+merchant+"_20991231.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("File of an unknown name: err = %v, want ErrNotFound", err)
	}
}

func TestStatementRows(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	name := func(kind, m, date string) string { return kind + "_" + m + "_" + date + ".txt" }
	j1, f1 := name("JYMX", merchant, "20240101"), name("FKMX", merchant, "20240101")
	j2, j3 := name("JYMX", merchant, "20240102"), name("JYMX", merchant, "20240103")
	mj, oj := name("JYMX", merchant, "202401"), name("JYMX", other, "20231231")
	foreign := row(j2, 2, "foreign", 5)
	foreign.EditMeta().OidPartner = other
	// Ingested out of order: the order must come from the query.
	for _, f := range []*recon.StatementFile{
		file(j3, "3", row(j3, 1, "c", 1)),
		file(mj, "m", row(mj, 1, "month", 1)),
		file(oj, "o", row(oj, 1, "other", 1)),
		file(j2, "2", foreign, row(j2, 3, "b3", 1)),
		file(f1, "f", row(f1, 1, "p", 1)),
		file(j1, "1", row(j1, 1, "a1", 1), row(j1, 2, "a2", 1)),
		file(name("JYMXSUM", merchant, "20240101"), "s"),
	} {
		ingest(t, s, f)
	}
	type seen struct{ date, file, no string }
	walk := func(m, upTo string) []seen {
		var out []seen
		err := s.StatementRows(ctx, m, upTo, func(date string, r recon.Row) error {
			out = append(out, seen{date, r.File, r.NoOrder})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		merchant, upTo string
		want           []seen
	}{
		{merchant, "20240102", []seen{
			{"20240101", j1, "a1"}, {"20240101", j1, "a2"}, {"20240101", f1, "p"},
			{"20240102", j2, "foreign"}, {"20240102", j2, "b3"},
		}},
		{merchant, "20240101", []seen{{"20240101", j1, "a1"}, {"20240101", j1, "a2"}, {"20240101", f1, "p"}}},
		{merchant, "20231231", nil},
		{other, "20991231", []seen{{"20231231", oj, "other"}}},
	} {
		if got := walk(tc.merchant, tc.upTo); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("StatementRows(%s, %s) =\n %v\nwant %v", tc.merchant, tc.upTo, got, tc.want)
		}
	}

	var from []seen
	err := s.StatementRowsFrom(ctx, merchant, "20240102", "20240103", func(date string, r recon.Row) error {
		from = append(from, seen{date, r.File, r.NoOrder})
		return nil
	})
	if want := []seen{{"20240102", j2, "foreign"}, {"20240102", j2, "b3"}, {"20240103", j3, "c"}}; err != nil || !reflect.DeepEqual(from, want) {
		t.Errorf("StatementRowsFrom(20240102, 20240103) = %v, %v\nwant %v", from, err, want)
	}
	for _, tc := range []struct {
		from, upTo string
		want       int
	}{{"20240102", "20240103", 3}, {"", "20240102", 5}, {"20240104", "20991231", 0}} {
		if n, err := s.StatementRowCount(ctx, merchant, tc.from, tc.upTo); err != nil || n != tc.want {
			t.Errorf("StatementRowCount(%s, %s) = %d, %v; want %d", tc.from, tc.upTo, n, err, tc.want)
		}
	}

	stop := errors.New("stop")
	n := 0
	err = s.StatementRows(ctx, merchant, "20991231", func(string, recon.Row) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn error: err = %v after %d calls, want stop after 1", err, n)
	}

	for _, tc := range []struct {
		merchant, want string
		ok             bool
	}{
		{merchant, "20240101", true},
		{other, "20231231", true},
		{"201403251000000000", "", false},
	} {
		got, ok, err := s.HistoryStart(ctx, tc.merchant)
		if err != nil || got != tc.want || ok != tc.ok {
			t.Errorf("HistoryStart(%s) = %q, %v, %v; want %q, %v", tc.merchant, got, ok, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		merchant, date string
		want           bool
	}{
		{merchant, "20240101", true},
		{merchant, "20240103", true},
		{merchant, "20240104", false},
		{merchant, "202401", false}, // monthly is not daily
		{other, "20240101", false},
	} {
		if got, err := s.HasDaily(ctx, tc.merchant, tc.date); err != nil || got != tc.want {
			t.Errorf("HasDaily(%s, %s) = %v, %v; want %v", tc.merchant, tc.date, got, err, tc.want)
		}
	}
}

// The reads of a file's rows go by its rowid range: StatementRows streams
// in index order, not sorting every stored row, and none reads the whole
// table.
func TestRowReadsPlan(t *testing.T) {
	s := openTest(t)
	for _, tc := range []struct {
		query string
		args  []any
		sorts bool // the rows it looked up, a few
	}{
		{statementRowsSQL, []any{merchant, "20240101", "20231231"}, false},
		{fileRowsSQL, []any{1, 10}, false},
		{rowKeysSQL, []any{1, 10, 4096}, false},
		{rowsAtSQL, []any{"[1,5]", 1, 10, 2}, true},
	} {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			t.Log(detail)
			if strings.Contains(detail, "TEMP B-TREE FOR ORDER BY") && !tc.sorts || strings.HasPrefix(detail, "SCAN r") || strings.HasPrefix(detail, "SCAN statement_rows") {
				t.Errorf("query plan sorts or scans: %s\n%s", detail, tc.query)
			}
		}
		rows.Close()
	}
}
