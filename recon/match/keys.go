package match

import (
	"hash/maphash"
	"iter"

	"github.com/lianlian-recon/reconcile/internal/alloc"
	"github.com/lianlian-recon/reconcile/internal/keytab"
	"github.com/lianlian-recon/reconcile/recon"
)

// keyIndex numbers the (kind, no_order) keys a run meets, densely from 0
// in the order they are added, so that the runner keeps what it knows of
// each key in a slice indexed by that number.
//
// It does what a map[key]int32 would, in half the memory (issue 6: for a
// million keys the map was 78 MB of a run's peak), and a run's matching
// takes 30% less time (the map's look-ups were half of it): see keytab,
// which the ledger reader's index of its keys uses too.
type keyIndex struct {
	seed  maphash.Seed
	tab   *keytab.Table
	texts []string // no_order by key number
	kinds []recon.Kind
}

func newKeyIndex(n int) *keyIndex {
	return &keyIndex{seed: maphash.MakeSeed(), tab: keytab.New(n),
		texts: alloc.Reserve[string](n), kinds: alloc.Reserve[recon.Kind](n)}
}

func (x *keyIndex) hash(k key) uint64 {
	return maphash.String(x.seed, k.noOrder) ^ uint64(k.kind)*0x9e3779b97f4a7c15
}

// is says whether key number n is k: what tells apart keys whose hashes
// agree.
func (x *keyIndex) is(n uint32, k key) bool {
	return x.kinds[n] == k.kind && x.texts[n] == k.noOrder
}

func (x *keyIndex) find(k key, h uint64) (n uint32, ok bool, cell int) {
	return x.tab.Find(h, func(n uint32) bool { return x.is(n, k) })
}

// get returns k's number, if it has one.
func (x *keyIndex) get(k key) (int32, bool) {
	n, ok, _ := x.find(k, x.hash(k))
	return int32(n), ok
}

// add returns k's number, giving it the next one if it had none; added
// says which.
func (x *keyIndex) add(k key) (n int32, added bool) {
	x.tab.Reserve(len(x.texts), func(n uint32) uint64 { return x.hash(key{x.kinds[n], x.texts[n]}) })
	h := x.hash(k)
	m, ok, cell := x.find(k, h)
	if ok {
		return int32(m), false
	}
	n = int32(len(x.texts))
	x.texts, x.kinds = append(x.texts, k.noOrder), append(x.kinds, k.kind)
	x.tab.Put(cell, h, uint32(n))
	return n, true
}

// keyFlags is a set of keys, each with flags: what a map[key]uint8 would
// be, on a keyIndex. A run's scope holds two to three million keys (D's
// rows, the window's entries), and the map's look-ups took 2 s of CPU of a
// day-3 run (issue 6). The zero flags are a key's that is not there; a
// nil *keyFlags holds no key.
type keyFlags struct {
	index *keyIndex
	flags []uint8 // by key number
}

func newKeyFlags(n int) *keyFlags {
	return &keyFlags{index: newKeyIndex(n), flags: alloc.Reserve[uint8](n)}
}

// get returns k's flags.
func (f *keyFlags) get(k key) uint8 {
	if f == nil {
		return 0
	}
	if n, ok := f.index.get(k); ok {
		return f.flags[n]
	}
	return 0
}

// set adds flags to k's.
func (f *keyFlags) set(k key, flags uint8) {
	n, added := f.index.add(k)
	if added {
		f.flags = append(f.flags, 0)
	}
	f.flags[n] |= flags
}

// keys yields every key added, in the order added.
func (f *keyFlags) keys() iter.Seq[key] {
	return func(yield func(key) bool) {
		if f == nil {
			return
		}
		for n := range f.index.texts {
			if !yield(key{f.index.kinds[n], f.index.texts[n]}) {
				return
			}
		}
	}
}
