package store

import "testing"

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
