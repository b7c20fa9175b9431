package recon

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// Stored results (the runs table) hold entries as JSON with the status
// spelled as the ledger spells it; that must read back, and still be so.
func TestLedgerStatusJSON(t *testing.T) {
	for _, s := range []LedgerStatus{StatusSuccess, StatusFailure, StatusProcessing} {
		b, err := json.Marshal(Entry{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"Status":"`+s.String()+`"`) {
			t.Errorf("%v as JSON: %s", s, b)
		}
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil || e.Status != s {
			t.Errorf("%s read back as %v, %v", b, e.Status, err)
		}
		if p, ok := ParseLedgerStatus(s.String()); !ok || p != s {
			t.Errorf("ParseLedgerStatus(%q) = %v, %v", s.String(), p, ok)
		}
	}
	var e Entry
	if err := json.Unmarshal([]byte(`{"Status":"success"}`), &e); err == nil {
		t.Error(`status "success" read`)
	}
	if _, err := json.Marshal(Entry{}); err == nil {
		t.Error("an entry without a status written")
	}
	if _, ok := ParseLedgerStatus(""); ok {
		t.Error(`"" parsed as a status`)
	}
}

// See TestRowSize.
func TestEntrySize(t *testing.T) {
	// Five strings, two amounts, and three bytes padded to a word: 104
	// bytes on a 64-bit machine.
	want := 5*unsafe.Sizeof("") + 2*unsafe.Sizeof(Fen(0)) + unsafe.Sizeof(uintptr(0))
	if n := unsafe.Sizeof(Entry{}); n != want {
		t.Errorf("Entry is %d bytes, was %d", n, want)
	}
}

// TestSortEntries: the order slices.SortFunc gives, on ledgers in order,
// nearly in order (entries moved earlier or later, as many as the limit
// and one more), reversed, shuffled, with one far-off entry first, and
// with entries sharing a time that the rest of the key orders.
func TestSortEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inOrder := func(n int) []Entry {
		es := make([]Entry, n)
		for i := range es {
			es[i] = Entry{DtOrder: fmt.Sprintf("20240528%06d", i/3), Kind: Kind(i%2 + 1),
				NoOrder: fmt.Sprint(1000 + rng.IntN(50)), OidPartner: fmt.Sprint(rng.IntN(2)), Amount: Fen(i)}
		}
		// Keys distinct, as an import's are: drop repeats.
		slices.SortFunc(es, CompareEntries)
		return slices.CompactFunc(es, func(a, b Entry) bool { return CompareEntries(a, b) == 0 })
	}
	moved := func(es []Entry, k int) []Entry {
		for range min(k, len(es)/2) {
			i, j := rng.IntN(len(es)), rng.IntN(len(es))
			e := es[i]
			es = slices.Insert(slices.Delete(es, i, i+1), j, e)
		}
		return es
	}
	type tc struct {
		name string
		es   []Entry
	}
	var cases []tc
	for _, n := range []int{0, 1, 2, 3, 10, 1000} {
		cases = append(cases, tc{fmt.Sprint("in order ", n), inOrder(n)})
		cases = append(cases, tc{fmt.Sprint("reversed ", n), reversed(inOrder(n))})
		es := inOrder(n)
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		cases = append(cases, tc{fmt.Sprint("shuffled ", n), es})
		for _, k := range []int{1, 2, n / 50, n / 16, n / 8, n/8 + 1} {
			cases = append(cases, tc{fmt.Sprint(k, " moved of ", n), moved(inOrder(n), k)})
		}
		if n > 1 {
			es := inOrder(n)
			es[0].DtOrder = "20991231235959"
			cases = append(cases, tc{fmt.Sprint("far-off first of ", n), es})
			es = inOrder(n)
			es[len(es)-1].DtOrder = "19700101000000"
			cases = append(cases, tc{fmt.Sprint("far-off last of ", n), es})
		}
	}
	for _, c := range cases {
		want := slices.SortedFunc(slices.Values(c.es), CompareEntries)
		got := slices.Clone(c.es)
		SortEntries(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: not sorted as slices.SortFunc sorts", c.name)
		}
	}
}

func reversed(es []Entry) []Entry {
	slices.Reverse(es)
	return es
}
