package match

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestKeyIndexNumbersKeys: every (kind, no_order), the same no_order
// under every kind among them, gets the next number once, and keeps it
// through the table's growing (from room for one key). internal/keytab's
// tests hold the table itself to a map and to keys whose hashes collide.
func TestKeyIndexNumbersKeys(t *testing.T) {
	x := newKeyIndex(1)
	kinds := []recon.Kind{0, recon.KindPayment, recon.KindRefund, recon.KindPayout}
	var keys []key
	for i := range 5000 {
		for _, kind := range kinds {
			keys = append(keys, key{kind, fmt.Sprint("O", i)})
		}
	}
	for i, k := range keys {
		if n, added := x.add(k); !added || n != int32(i) {
			t.Fatalf("add(%v) = %d, %v; want %d, true", k, n, added, i)
		}
	}
	for i, k := range keys {
		if n, added := x.add(k); added || n != int32(i) {
			t.Fatalf("add(%v) again = %d, %v; want %d, false", k, n, added, i)
		}
		if n, ok := x.get(k); !ok || n != int32(i) {
			t.Fatalf("get(%v) = %d, %v; want %d", k, n, ok, i)
		}
	}
	if _, ok := x.get(key{recon.KindPayment, "absent"}); ok {
		t.Fatal("found a key never added")
	}
}

// TestKeyIndexIs: a key is told from one of the same no_order and another
// kind, and from one of the same kind and another no_order, as the table
// needs when their hashes collide.
func TestKeyIndexIs(t *testing.T) {
	x := newKeyIndex(1)
	a := key{recon.KindPayment, "A"}
	n, _ := x.add(a)
	for _, k := range []key{{recon.KindRefund, "A"}, {recon.KindPayment, "B"}} {
		if x.is(uint32(n), k) {
			t.Errorf("%v is taken for %v", k, a)
		}
	}
	if !x.is(uint32(n), a) {
		t.Errorf("%v is not itself", a)
	}
}

// keyFlags keeps each key's flags apart, ORs what is set again, lists
// every key once in the order added, and as nil holds nothing.
func TestKeyFlags(t *testing.T) {
	f := newKeyFlags(2)
	var want []key
	for i := range 3000 { // past the size given: the index grows
		k := key{recon.Kind(1 + i%3), fmt.Sprint(i / 3)}
		f.set(k, uint8(1+i%2))
		want = append(want, k)
	}
	f.set(want[7], 4)
	for i, k := range want {
		flags := uint8(1 + i%2)
		if i == 7 {
			flags |= 4
		}
		if got := f.get(k); got != flags {
			t.Fatalf("get(%v) = %d, want %d", k, got, flags)
		}
	}
	if got := f.get(key{recon.KindPayment, "none"}); got != 0 {
		t.Errorf("get of a key never set = %d", got)
	}
	if got := slices.Collect(f.keys()); !slices.Equal(got, want) {
		t.Errorf("keys: %d keys, want the %d set, in order", len(got), len(want))
	}
	var none *keyFlags
	if none.get(want[0]) != 0 || len(slices.Collect(none.keys())) != 0 {
		t.Error("a nil keyFlags holds a key")
	}
}
