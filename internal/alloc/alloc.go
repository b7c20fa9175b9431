// Package alloc makes the large slices that the reading of a day's files
// fills: a million rows, entries or index slots made in one allocation up
// front and filled in place.
package alloc

import "unsafe"

// Reserve returns an empty slice with room for n elements, the pages of
// its memory mapped writable where the system allows (see populate).
func Reserve[T any](n int) []T {
	s := make([]T, 0, n)
	if n > 0 {
		var zero T
		populate(unsafe.Pointer(unsafe.SliceData(s)), uintptr(n)*unsafe.Sizeof(zero))
	}
	return s
}

// minPopulate is the size below which Reserve leaves the pages alone: a
// system call for a few pages would cost more than it saves.
const minPopulate = 1 << 20
