// Package arena hands out strings copied into shared chunks: one
// allocation for hundreds of short values instead of one each, and no
// value keeps alive the larger buffer (a line, a record) it was cut from.
// The parser and the ledger reader keep a million such values per file.
package arena

import "unsafe"

// Strings is an arena; the zero value uses chunks of DefaultChunk bytes.
// The bytes of a chunk up to used are handed out and never written again,
// so strings may view them (as strings.Builder's do); a full chunk is left
// to the strings cut from it. Filling a chunk stores no pointer, which
// would cost a write barrier while the collector runs. Not safe for
// concurrent use.
type Strings struct {
	Chunk int // chunk size; a value over a quarter of it gets its own allocation

	chunk []byte
	used  int
}

// DefaultChunk is the chunk size of a zero Strings.
const DefaultChunk = 4 << 10

// Join returns p and q as one string.
func (a *Strings) Join(p, q []byte) string {
	n := len(p) + len(q)
	if n == 0 {
		return ""
	}
	b := a.take(n)
	if b == nil {
		return string(p) + string(q)
	}
	copy(b, p)
	copy(b[len(p):], q)
	return unsafe.String(&b[0], n)
}

// Copy returns a copy of s.
func (a *Strings) Copy(s string) string {
	n := len(s)
	if n == 0 {
		return ""
	}
	b := a.take(n)
	if b == nil {
		return string([]byte(s))
	}
	copy(b, s)
	return unsafe.String(&b[0], n)
}

// take returns n bytes of a chunk, nil when n is too long for one.
func (a *Strings) take(n int) []byte {
	size := a.Chunk
	if size <= 0 {
		size = DefaultChunk
	}
	if n > size/4 {
		return nil
	}
	if len(a.chunk)-a.used < n {
		a.chunk, a.used = make([]byte, size), 0
	}
	b := a.chunk[a.used : a.used+n : a.used+n]
	a.used += n
	return b
}
