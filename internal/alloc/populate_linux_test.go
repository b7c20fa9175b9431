package alloc

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Every whole page of a large reserved slice is resident before anything
// is written to it.
func TestReservePopulates(t *testing.T) {
	if !populateSupported() {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): Reserve leaves the pages to the first writes")
	}
	const n = 8 << 20 // 64 MiB of uint64: fresh from the system in a test binary
	s := Reserve[uint64](n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	start := (p + pageSize - 1) &^ (pageSize - 1)
	end := (p + n*8) &^ (pageSize - 1)
	vec := make([]byte, (end-start)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, start, end-start, uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatal(errno)
	}
	missing := 0
	for _, v := range vec {
		if v&1 == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d pages not resident", missing, len(vec))
	}
}
