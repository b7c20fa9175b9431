package ledger

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestEntriesDoNotKeepLines reads rows that each carry a large unknown
// column: the entries kept must not keep those lines alive, whichever way
// the ledger is read.
func TestEntriesDoNotKeepLines(t *testing.T) {
	const rows, memo = 40, 128 << 10 // 5 MiB of lines
	var b bytes.Buffer
	b.WriteString("memo," + header)
	for i := range rows {
		fmt.Fprintf(&b, "%s,payment,o%d,2024-01-01 10:11:%02d,1.00,SUCCESS,,20140528000000%02d,201403251000001147,\n",
			strings.Repeat("m", memo), i, i%60, i)
	}
	input := b.Bytes()
	for _, tc := range []struct {
		name string
		read func() ([]recon.Entry, error)
	}{
		{"Read", func() ([]recon.Entry, error) {
			entries, _, err := Read(bytes.NewReader(input))
			return entries, err
		}},
		{"Reader", func() ([]recon.Entry, error) {
			var entries []recon.Entry
			r := NewReader(bytes.NewReader(input))
			for {
				e, err := r.Read()
				if err == io.EOF {
					return entries, nil
				}
				if err != nil {
					return nil, err
				}
				entries = append(entries, e)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := liveHeap()
			entries, err := tc.read()
			if err != nil || len(entries) != rows {
				t.Fatalf("%d entries, err %v", len(entries), err)
			}
			live := int64(liveHeap()) - int64(before)
			runtime.KeepAlive(entries)
			runtime.KeepAlive(input)
			if live > rows*memo/4 {
				t.Errorf("%d entries keep %d bytes alive; their lines are %d bytes", rows, live, rows*memo)
			}
		})
	}
}

// TestRowsHint: the hint is an upper bound of the rows left to read,
// close to their number, from any point of a sized input; an unsized
// input gives 0.
func TestRowsHint(t *testing.T) {
	const text = header + "payment,o1,20240101101112,1,SUCCESS,,,,\n" +
		"payment,\"o\n2\",20240101101112,1,SUCCESS,,,,\n" + // a quoted line end
		"payment,o3,20240101101112,1,SUCCESS,,,,"
	path := filepath.Join(t.TempDir(), "ledger.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	read5 := func(r io.Reader) io.Reader { io.ReadFull(r, make([]byte, 5)); return r }
	for _, tc := range []struct {
		name string
		r    func() io.Reader
		want int
	}{
		{"strings.Reader", func() io.Reader { return strings.NewReader(text) }, 5},
		{"bytes.Reader partly read", func() io.Reader { return read5(bytes.NewReader([]byte(text))) }, 5},
		{"bytes.Buffer", func() io.Reader { return bytes.NewBufferString(text) }, 5},
		{"short input", func() io.Reader { return strings.NewReader("a\nb\nc\n") }, 1}, // no row fits in 6 bytes
		{"empty", func() io.Reader { return strings.NewReader("") }, 1},
		{"unsized", func() io.Reader { return iotest.HalfReader(strings.NewReader(text)) }, 0},
		{"file", func() io.Reader {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}, 5},
		{"file partly read", func() io.Reader {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			f.Seek(int64(len(header)), io.SeekStart)
			return f
		}, 4},
	} {
		if got := rowsHint(tc.r()); got != tc.want {
			t.Errorf("%s: rowsHint = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestReadSameEverywhere reads one ledger of many rows, duplicates among
// them near and far, through a sized reader (the index sized up front), an
// unsized one (the slice and the index grow) and the streaming Reader: all
// give the same entries and rejects, and the duplicates are the ones a
// plain map finds. The order numbers rise (nearly every key in the runs of
// its oid_partner and kind), fall (every key in the table), or both by
// turns ("o9" is above "o10").
func TestReadSameEverywhere(t *testing.T) {
	three := []string{"", "201403251000001147", "201403251000001148"}
	var many []string // more oid_partner and kind pairs than maxRuns
	for i := range maxRuns {
		many = append(many, fmt.Sprint(201403251000001100+i))
	}
	for _, no := range []struct {
		name     string
		of       func(i int) string
		partners []string
	}{
		{"rising", func(i int) string { return fmt.Sprintf("o%07d", i) }, three},
		{"falling", func(i int) string { return fmt.Sprintf("o%07d", 9999999-i) }, three},
		{"by turns", func(i int) string { return fmt.Sprintf("o%d", i) }, three},
		{"rising, many merchants", func(i int) string { return fmt.Sprintf("o%07d", i) }, many},
	} {
		t.Run(no.name, func(t *testing.T) { testReadSameEverywhere(t, no.of, no.partners) })
	}
}

func testReadSameEverywhere(t *testing.T, noOrder func(int) string, partners []string) {
	var b strings.Builder
	b.WriteString(header)
	type key struct {
		partner, kind, no string
	}
	first := map[key]int{}
	var keys []key
	var wantDup []Reject
	for i := range 5000 {
		line := i + 2
		k := key{
			partner: partners[i%31%len(partners)],
			kind:    []string{"payment", "payout"}[i%13/12],
			no:      noOrder(i),
		}
		switch {
		case i%97 == 0 && i > 0:
			k = keys[i-1] // the row before
		case i%89 == 0 && i > 0:
			k = keys[i/7] // far back
		case i%83 == 0 && i > 0: // the same no_order under another kind: no duplicate
			k.no, k.kind = keys[i-1].no, "refund"
		case i%79 == 0 && i > 0: // nor under another merchant
			k = keys[i-1]
			k.partner = map[string]string{"": "201403251000001149"}[k.partner]
		}
		keys = append(keys, k)
		orig := map[bool]string{true: "o0"}[k.kind == "refund"]
		fmt.Fprintf(&b, "%s,%s,2024-01-01 10:%02d:%02d,1.00,SUCCESS,%s,,%s,\n", k.kind, k.no, i/60%60, i%60, orig, k.partner)
		if f, ok := first[k]; ok {
			wantDup = append(wantDup, Reject{Line: line,
				Reason: fmt.Sprintf(`no_order %q: duplicate entry: the same oid_partner, kind and no_order as line %d`, k.no, f)})
		} else {
			first[k] = line
		}
	}
	text := b.String()
	if len(wantDup) < 50 {
		t.Fatalf("the ledger has %d duplicates: too few to test", len(wantDup))
	}

	entries, rejects, err := Read(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rejects, wantDup) {
		t.Errorf("rejects differ from the duplicates a map finds: %d, want %d", len(rejects), len(wantDup))
		for i := range min(len(rejects), len(wantDup)) {
			if rejects[i] != wantDup[i] {
				t.Errorf("first difference: %+v, want %+v", rejects[i], wantDup[i])
				break
			}
		}
	}
	if len(entries)+len(rejects) != 5000 {
		t.Errorf("%d entries and %d rejects of 5000 rows", len(entries), len(rejects))
	}

	unsized, unsizedRejects, err := Read(iotest.HalfReader(strings.NewReader(text)))
	if err != nil || !reflect.DeepEqual(unsized, entries) || !reflect.DeepEqual(unsizedRejects, rejects) {
		t.Errorf("an unsized reader reads otherwise (err %v)", err)
	}

	var streamed []recon.Entry
	var streamedRejects []Reject
	r := NewReader(iotest.HalfReader(strings.NewReader(text)))
	for {
		e, err := r.Read()
		if err == io.EOF {
			break
		}
		if pe, ok := err.(*ParseError); ok {
			streamedRejects = append(streamedRejects, Reject{Line: pe.Line, Reason: pe.Err.Error()})
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		streamed = append(streamed, e)
	}
	if !reflect.DeepEqual(streamed, entries) || !reflect.DeepEqual(streamedRejects, rejects) {
		t.Errorf("the streaming Reader reads otherwise: %d entries, %d rejects", len(streamed), len(streamedRejects))
	}
}
