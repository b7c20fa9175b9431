package arena

import (
	"strings"
	"testing"
	"unsafe"
)

// TestStrings: values come back equal, share chunks, never change when
// later values are added, and a long one gets memory of its own.
func TestStrings(t *testing.T) {
	a := &Strings{Chunk: 64}
	var got []string
	var want []string
	for i := range 40 {
		p, q := strings.Repeat("a", i%7), strings.Repeat("b", i%5)
		got = append(got, a.Join([]byte(p), []byte(q)))
		want = append(want, p+q)
		got = append(got, a.Copy(q+p))
		want = append(want, q+p)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d = %q, want %q", i, got[i], want[i])
		}
	}
	x, y := a.Copy("xy"), a.Copy("zw")
	if unsafe.StringData(y) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(x)), 2)) {
		t.Error("two short values do not share a chunk")
	}
	long := strings.Repeat("L", 17) // over a quarter of 64
	if l := a.Copy(long); l != long || unsafe.StringData(l) == unsafe.StringData(long) {
		t.Errorf("a long value: %q, or not a copy", l)
	}
	var zero Strings
	if s := zero.Join([]byte("ab"), nil); s != "ab" || cap(zero.chunk) != DefaultChunk {
		t.Errorf("zero arena: %q in a chunk of %d", s, cap(zero.chunk))
	}
}
