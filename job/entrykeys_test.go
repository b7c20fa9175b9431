package job

import (
	"fmt"
	"hash/maphash"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// entryKeys knows every key it was given, once each, and no key that
// differs from one of them in a single part: with its hash, and with one
// that makes every key collide.
func TestEntryKeys(t *testing.T) {
	t.Run("hashed", func(t *testing.T) { testEntryKeys(t, 9000) })
	t.Run("colliding", func(t *testing.T) {
		defer func(h func(maphash.Seed, *recon.Entry) uint64) { entryHash = h }(entryHash)
		entryHash = func(maphash.Seed, *recon.Entry) uint64 { return 42 }
		testEntryKeys(t, 900)
	})
}

func testEntryKeys(t *testing.T, n int) {
	partners := []string{"", merchant, "209999999999999999"}
	var entries []recon.Entry
	for i := range n {
		entries = append(entries, recon.Entry{OidPartner: partners[i%3], Kind: recon.Kind(1 + i/3%3), NoOrder: fmt.Sprint("N", i/9)})
	}
	entries = append(entries, entries[5]) // a key twice: the set holds it once
	x := newEntryKeys(entries)
	for i := range entries {
		e := entries[i]
		if !x.has(&e) {
			t.Fatalf("entry %d %+v: not in the set", i, e)
		}
		for _, other := range []recon.Entry{
			{OidPartner: e.OidPartner + "0", Kind: e.Kind, NoOrder: e.NoOrder},
			{OidPartner: e.OidPartner, Kind: e.Kind + 3, NoOrder: e.NoOrder},
			{OidPartner: e.OidPartner, Kind: e.Kind, NoOrder: e.NoOrder + "x"},
		} {
			if x.has(&other) {
				t.Fatalf("%+v: in the set, which holds only %+v of the like", other, e)
			}
		}
	}
}

// BenchmarkOverlay overlays a day's ledger file of a million entries on a
// stored day of a million (the ledger of day 2 of a store).
func BenchmarkOverlay(b *testing.B) {
	day := func(date string, n int) []recon.Entry {
		e := make([]recon.Entry, n)
		for i := range e {
			e[i] = recon.Entry{OidPartner: merchant, Kind: recon.KindPayment, NoOrder: fmt.Sprintf("%s%09d", date, i),
				DtOrder: fmt.Sprintf("%s%02d%02d%02d", date, i/3600%24, i/60%60, i%60), Amount: 100, Status: recon.StatusSuccess}
		}
		slices.SortFunc(e, recon.CompareEntries)
		return e
	}
	stored, imp := day("20240527", 1_000_000), day("20240528", 1_000_000)
	for b.Loop() {
		if got := overlay(stored, imp, merchant); len(got) != len(stored)+len(imp) {
			b.Fatalf("%d entries", len(got))
		}
	}
	b.ReportMetric(float64(len(stored)+len(imp))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
