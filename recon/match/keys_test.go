package match

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestKeyIndexAgreesWithMap adds and looks up keys in the index and in a
// map, from an index sized far too small (so it grows several times),
// with the same no_order under every kind and texts that share prefixes,
// and checks that both number every key alike.
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
	if len(x.texts) != len(want) || len(x.cells) < 2*len(want) {
		t.Fatalf("%d texts in %d cells for %d keys", len(x.texts), len(x.cells), len(want))
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

// TestKeyIndexSameTag: a cell whose tag (hash bits and kind) equals the
// key's is that key's only if the texts agree too. The table is laid out
// by hand: payment "B" carries payment "A"'s tag in the cell where A's
// probe starts, and A sits in the next one.
func TestKeyIndexSameTag(t *testing.T) {
	x := newKeyIndex(1)
	a := key{recon.KindPayment, "A"}
	start, tag := x.tagged(a)
	mask := uint64(len(x.cells) - 1)
	x.texts = append(x.texts, "B", "A")
	x.cells[start&mask] = tag<<32 | 1
	x.cells[(start+1)&mask] = tag<<32 | 2
	if n, ok := x.get(a); !ok || n != 1 {
		t.Fatalf("payment A: %d, %v; want 1, true", n, ok)
	}
	if n, ok := x.get(key{recon.KindRefund, "A"}); ok {
		t.Fatalf("refund A found as %d though only payment A is indexed", n)
	}
	if n, added := x.add(key{recon.KindRefund, "A"}); !added || n != 2 {
		t.Fatalf("refund A added as %d, %v; want 2, true", n, added)
	}
}

func TestKeyIndexRefusesKindOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("kind 8 was indexed: its bits would spill into the hash's")
		}
	}()
	newKeyIndex(1).add(key{8, "A"})
}
