package match

import (
	"fmt"
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
