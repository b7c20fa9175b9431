package recon

import (
	"fmt"
	"testing"
	"unsafe"
)

func TestMetasShare(t *testing.T) {
	var ms Metas
	a := ms.Get("F", "P", "B", "S")
	if b := ms.Get("F", "P", "B", "S"); b != a {
		t.Error("equal values got two RowMetas")
	}
	c := ms.Get("F", "P", "B2", "S")
	if c == a || *c != (RowMeta{"F", "P", "B2", "S"}) {
		t.Errorf("other values got %p %+v (first %p)", c, *c, a)
	}
	// Not only the last one: a value seen before is found again.
	if b := ms.Get(string([]byte("F")), "P", "B", "S"); b != a {
		t.Error("a value seen before got a new RowMeta")
	}
	// Past metasMax distinct values each call makes its own, still right.
	for i := range metasMax + 10 {
		v := fmt.Sprint(i)
		if m := ms.Get("F", v, "B", "S"); m.OidPartner != v || m.File != "F" || m.BusiPartner != "B" || m.SettleDate != "S" {
			t.Fatalf("value %d: got %+v", i, *m)
		}
	}
	if len(ms.m) > metasMax {
		t.Errorf("%d values kept, at most %d", len(ms.m), metasMax)
	}
}

// TestMetasFoundWithoutAllocating: values that alternate from row to
// row (the last one never the one asked for) are found in the map, and
// finding them allocates nothing.
func TestMetasFoundWithoutAllocating(t *testing.T) {
	var ms Metas
	ms.Get("F", "P", "B1", "S")
	ms.Get("F", "P", "B2", "S")
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		i++
		ms.Get("F", "P", []string{"B1", "B2"}[i%2], "S")
	}); n != 0 {
		t.Errorf("%v allocations per Get of a value seen before", n)
	}
}

func TestEditMetaCopies(t *testing.T) {
	var ms Metas
	shared := ms.Get("F", "P", "B", "S")
	a, b := Row{RowMeta: shared}, Row{RowMeta: shared}
	a.EditMeta().OidPartner = "Q"
	if b.OidPartner != "P" || shared.OidPartner != "P" {
		t.Errorf("editing one row's meta changed the shared one: %+v", *shared)
	}
	if a.OidPartner != "Q" || a.File != "F" || a.BusiPartner != "B" || a.SettleDate != "S" {
		t.Errorf("edited meta %+v", *a.RowMeta)
	}
	var z Row
	z.EditMeta().File = "G"
	if z.File != "G" {
		t.Errorf("a row without meta got %+v", *z.RowMeta)
	}
}

// A run holds a day's rows for matching (issue 6): what a row costs is
// what a million of them cost. A field added here should be a decision.
func TestRowSize(t *testing.T) {
	// Two pointers, the line, two strings, two amounts, and three bytes
	// padded to a word: 80 bytes on a 64-bit machine.
	word := unsafe.Sizeof(uintptr(0))
	want := 2*word + unsafe.Sizeof(0) + 2*unsafe.Sizeof("") + 2*unsafe.Sizeof(Fen(0)) + word
	if n := unsafe.Sizeof(Row{}); n != want {
		t.Errorf("Row is %d bytes, was %d", n, want)
	}
}
