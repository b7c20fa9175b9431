package alloc

import "testing"

func TestReserve(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 3 << 20} {
		s := Reserve[[3]int64](n)
		if len(s) != 0 || cap(s) != n {
			t.Errorf("Reserve(%d): len %d cap %d, want 0 and %d", n, len(s), cap(s), n)
		}
		s = s[:n]
		for i := range s {
			if s[i] != [3]int64{} {
				t.Fatalf("Reserve(%d): element %d is %v, want zero", n, i, s[i])
			}
		}
	}
}
