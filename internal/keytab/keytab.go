// Package keytab finds keys by their hashes for callers that number the
// keys and keep them themselves: the ledger reader's index of the keys it
// has read (to refuse a repeat) and the matcher's index of (kind,
// no_order). A map of a million string keys costs 60–80 MB and a cache
// miss or two per look-up; this costs 8 bytes a cell, at most half the
// cells used, and reads a key (through the caller) only when 32 bits of
// its hash agree.
//
// It is open addressing with linear probing over a power-of-two table. A
// cell holds the key's number + 1 in its low 32 bits (0: an empty cell)
// and the low 32 bits of the key's hash in its high ones; a probe starts at
// the hash's high bits.
package keytab

import "github.com/lianlian-recon/reconcile/internal/alloc"

// Table holds key numbers by hash. The caller hashes (with a seed of its
// own: maphash) and says, given a number, whether it is the key sought.
type Table struct {
	cells []uint64
	shift uint // 64 - log2(len(cells))
}

// New returns a table with room for n keys before it grows.
func New(n int) *Table {
	t := &Table{}
	t.size(n)
	return t
}

func (t *Table) size(n int) {
	bits := uint(10)
	for 1<<bits < 2*n {
		bits++
	}
	t.cells, t.shift = alloc.Reserve[uint64](1 << bits)[:1<<bits], 64-bits
}

// Find returns the number of the key whose hash is h and that same
// accepts. When there is none, it returns false and the cell where that
// key goes (Put), valid until the table changes.
func (t *Table) Find(h uint64, same func(n uint32) bool) (n uint32, found bool, cell int) {
	mask := len(t.cells) - 1
	tag := h << 32
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		c := t.cells[i]
		if c == 0 {
			return 0, false, i
		}
		if c&^(1<<32-1) == tag && same(uint32(c)-1) {
			return uint32(c) - 1, true, i
		}
	}
}

// Put gives the key whose hash is h the number n, in the cell Find
// returned for it. Numbers must be below 2³²-1.
func (t *Table) Put(cell int, h uint64, n uint32) {
	t.cells[cell] = h<<32 | uint64(n+1)
}

// Reserve makes room for one key more than the count the table holds: when
// it would be more than half full it doubles, and puts the numbers 0 to
// count-1 in again, hashOf giving each one's hash. Call it before the Find
// whose cell a Put will use.
func (t *Table) Reserve(count int, hashOf func(n uint32) uint64) {
	if 2*(count+1) <= len(t.cells) {
		return
	}
	t.size(len(t.cells))
	mask := len(t.cells) - 1
	for n := range uint32(count) {
		h := hashOf(n)
		i := int(h >> t.shift)
		for t.cells[i] != 0 {
			i = (i + 1) & mask
		}
		t.Put(i, h, n)
	}
}
