//go:build !linux

package alloc

import "unsafe"

// populate does nothing here: see populate_linux.go.
func populate(p unsafe.Pointer, size uintptr) {}
