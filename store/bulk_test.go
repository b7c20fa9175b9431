package store

import (
	"fmt"
	"strings"
	"testing"
)

// TestArgListValues: the values str and int make are the strings and
// integers given, as the driver reads them (a type switch), also once
// their backing arrays have been reallocated by later appends; and making
// them allocates nothing once the list has room.
func TestArgListValues(t *testing.T) {
	var b argList
	const n = 1000
	for i := range n {
		b.str(fmt.Sprint("s", i))
		b.int(int64(i) << 40)
		b.intOrNull(int64(i), i%2 == 0)
	}
	for i := range n {
		switch v := b.args[3*i].Value.(type) {
		case string:
			if v != fmt.Sprint("s", i) {
				t.Fatalf("argument %d = %q", 3*i, v)
			}
		default:
			t.Fatalf("argument %d is %T", 3*i, v)
		}
		if v, ok := b.args[3*i+1].Value.(int64); !ok || v != int64(i)<<40 {
			t.Fatalf("argument %d = %#v", 3*i+1, b.args[3*i+1].Value)
		}
		if v := b.args[3*i+2].Value; i%2 == 0 && v != int64(i) || i%2 == 1 && v != nil || b.args[3*i].Ordinal != 3*i+1 {
			t.Fatalf("argument %d = %#v", 3*i+2, b.args[3*i+2])
		}
	}
	b.reset()
	s := strings.Repeat("x", 40)
	if allocs := testing.AllocsPerRun(10, func() {
		for range n {
			b.str(s)
			b.int(1 << 50)
		}
		b.reset()
	}); allocs != 0 {
		t.Errorf("%v allocations for %d strings and integers", allocs, n)
	}
}

func TestValuesList(t *testing.T) {
	for _, tc := range []struct {
		n    int
		cols []int
		want string
	}{
		{1, []int{0}, "(?1)"},
		{2, []int{0, 0}, "(?1,?2),(?3,?4)"},
		{2, []int{0, 1, 0}, "(?2,?1,?3),(?4,?1,?5)"},
		{3, []int{2, 0, 1, 1}, "(?2,?3,?1,?1),(?2,?4,?1,?1),(?2,?5,?1,?1)"},
	} {
		if got := valuesList(tc.n, tc.cols); got != tc.want {
			t.Errorf("valuesList(%d, %v) = %s, want %s", tc.n, tc.cols, got, tc.want)
		}
	}
}
