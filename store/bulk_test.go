package store

import (
	"strings"
	"testing"
)

// TestBulkStr: each string is bound as itself, and a string bound again
// (a value shared by many rows) costs no allocation.
func TestBulkStr(t *testing.T) {
	b := &bulkStmt{}
	shared := strings.Repeat("2", 18)
	inputs := []string{shared, strings.Clone(shared), "", "20140528", shared, strings.Repeat("x", 18)}
	for _, s := range inputs {
		b.str(s)
	}
	for i, s := range inputs {
		if got := b.args[i]; got.Ordinal != i+1 || got.Value != s {
			t.Errorf("argument %d = %d %v, want %d %q", i, got.Ordinal, got.Value, i+1, s)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		b.args = b.args[:0]
		b.str(shared)
	}); n != 0 {
		t.Errorf("binding a shared string again: %v allocations, want 0", n)
	}
}
