package job

import (
	"fmt"
	"hash/maphash"
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
