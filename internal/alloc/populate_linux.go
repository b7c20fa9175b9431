package alloc

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pageSize = uintptr(os.Getpagesize())

// populate maps the whole pages of the size bytes at p writable, as the
// first write to each would, in one system call.
//
// Memory fresh from the system is known to be zero, so make does not clear
// it, and its pages are not mapped yet. When a large slice is read before
// it is written (by the garbage collector, which scans an object's whole
// capacity, or by a hash table's probes), Linux maps each page to its
// shared zero page; the first write then copies the page and must flush it
// from every other core's TLB with an inter-processor interrupt. That cost
// a fresh day's run (a million statement rows and ledger entries) about a
// second of CPU, a tenth of the whole. Clearing the slice in Go instead is
// no cure: the collector may scan it first all the same, and clearing a
// hundred megabytes holding pointers cannot be preempted, which stalls the
// collector. MADV_POPULATE_WRITE (Linux 5.14) does it in the kernel; on an
// older kernel it fails and nothing is lost but the saving.
func populate(p unsafe.Pointer, size uintptr) {
	if size < minPopulate {
		return
	}
	start := (uintptr(p) + pageSize - 1) &^ (pageSize - 1)
	end := (uintptr(p) + size) &^ (pageSize - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	_ = unix.Madvise(b, unix.MADV_POPULATE_WRITE) // an optimisation only
}

// populateSupported reports whether the kernel knows MADV_POPULATE_WRITE
// (the tests ask).
func populateSupported() bool {
	b := make([]byte, 2*pageSize)
	off := (pageSize - uintptr(unsafe.Pointer(&b[0]))%pageSize) % pageSize
	return unix.Madvise(b[off:off+pageSize], unix.MADV_POPULATE_WRITE) != unix.EINVAL
}
