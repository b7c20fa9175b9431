package match

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestKeyIndexAgreesWithMap adds and looks up keys in the index and in a
// map, from an index sized far too small (so it grows several times),
// with the same no_order under every kind, and checks that both number
// every key alike. (internal/keytab's tests hold the table to keys whose
// hashes collide.)
func TestKeyIndexAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := newKeyIndex(3)
	want := map[key]int32{}
	kinds := []recon.Kind{0, recon.KindPayment, recon.KindRefund, recon.KindPayout}
	for range 200_000 {
		k := key{kinds[rng.IntN(len(kinds))], fmt.Sprintf("O%d", rng.IntN(50_000))}
		if rng.IntN(3) == 0 {
			n, ok := x.get(k)
			w, wok := want[k]
			if ok != wok || (ok && n != w) {
				t.Fatalf("get(%v) = %d, %v; want %d, %v", k, n, ok, w, wok)
			}
			continue
		}
		n, added := x.add(k)
		w, had := want[k]
		if !had {
			w = int32(len(want))
			want[k] = w
		}
		if n != w || added == had {
			t.Fatalf("add(%v) = %d, %v; want %d, %v", k, n, added, w, !had)
		}
	}
	for k, w := range want {
		if n, ok := x.get(k); !ok || n != w {
			t.Fatalf("after growing: get(%v) = %d, %v; want %d", k, n, ok, w)
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
