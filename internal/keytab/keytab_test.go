package keytab

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// keys is a caller: it numbers strings in the order added.
type keys struct {
	t    *Table
	hash func(string) uint64
	list []string
}

func (k *keys) find(s string) (uint32, bool, int) {
	return k.t.Find(k.hash(s), func(n uint32) bool { return k.list[n] == s })
}

func (k *keys) add(s string) (uint32, bool) {
	k.t.Reserve(len(k.list), func(n uint32) uint64 { return k.hash(k.list[n]) })
	n, found, cell := k.find(s)
	if found {
		return n, false
	}
	n = uint32(len(k.list))
	k.list = append(k.list, s)
	k.t.Put(cell, k.hash(s), n)
	return n, true
}

// TestTableAgreesWithMap adds and finds keys in a table and in a map,
// from a table sized for one key (so it doubles many times), and checks
// that both number every key alike.
func TestTableAgreesWithMap(t *testing.T) {
	seed := maphash.MakeSeed()
	k := &keys{t: New(1), hash: func(s string) uint64 { return maphash.String(seed, s) }}
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]uint32{}
	for range 200_000 {
		s := fmt.Sprintf("O%d", rng.IntN(50_000))
		if rng.IntN(3) == 0 {
			n, ok, _ := k.find(s)
			w, wok := want[s]
			if ok != wok || ok && n != w {
				t.Fatalf("find(%q) = %d, %v; want %d, %v", s, n, ok, w, wok)
			}
			continue
		}
		n, added := k.add(s)
		w, had := want[s]
		if !had {
			w = uint32(len(want))
			want[s] = w
		}
		if n != w || added == had {
			t.Fatalf("add(%q) = %d, %v; want %d, %v", s, n, added, w, !had)
		}
	}
	if len(k.t.cells) < 2*len(want) {
		t.Fatalf("%d cells for %d keys: more than half full", len(k.t.cells), len(want))
	}
	for s, w := range want {
		if n, ok, _ := k.find(s); !ok || n != w {
			t.Fatalf("after growing: find(%q) = %d, %v; want %d", s, n, ok, w)
		}
	}
	if _, ok, _ := k.find("absent"); ok {
		t.Fatal("found a key never added")
	}
}

// TestTableSameHash: keys whose hashes agree in every bit are told apart
// by the caller's same, through growth too.
func TestTableSameHash(t *testing.T) {
	k := &keys{t: New(1), hash: func(string) uint64 { return 0x1234_5678_9abc_def0 }}
	for i := range 3000 {
		if n, added := k.add(fmt.Sprint(i)); !added || n != uint32(i) {
			t.Fatalf("add(%d) = %d, %v", i, n, added)
		}
	}
	for i := range 3000 {
		if n, ok, _ := k.find(fmt.Sprint(i)); !ok || n != uint32(i) {
			t.Fatalf("find(%d) = %d, %v", i, n, ok)
		}
	}
	if _, ok, _ := k.find("x"); ok {
		t.Fatal("found a key never added")
	}
}
