package recon

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"
)

// Stored results (the runs table) hold entries as JSON with the status
// spelled as the ledger spells it; that must read back, and still be so.
func TestLedgerStatusJSON(t *testing.T) {
	for _, s := range []LedgerStatus{StatusSuccess, StatusFailure, StatusProcessing} {
		b, err := json.Marshal(Entry{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"Status":"`+s.String()+`"`) {
			t.Errorf("%v as JSON: %s", s, b)
		}
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil || e.Status != s {
			t.Errorf("%s read back as %v, %v", b, e.Status, err)
		}
		if p, ok := ParseLedgerStatus(s.String()); !ok || p != s {
			t.Errorf("ParseLedgerStatus(%q) = %v, %v", s.String(), p, ok)
		}
	}
	var e Entry
	if err := json.Unmarshal([]byte(`{"Status":"success"}`), &e); err == nil {
		t.Error(`status "success" read`)
	}
	if _, err := json.Marshal(Entry{}); err == nil {
		t.Error("an entry without a status written")
	}
	if _, ok := ParseLedgerStatus(""); ok {
		t.Error(`"" parsed as a status`)
	}
}

// See TestRowSize.
func TestEntrySize(t *testing.T) {
	// Five strings, two amounts, and three bytes padded to a word: 104
	// bytes on a 64-bit machine.
	want := 5*unsafe.Sizeof("") + 2*unsafe.Sizeof(Fen(0)) + unsafe.Sizeof(uintptr(0))
	if n := unsafe.Sizeof(Entry{}); n != want {
		t.Errorf("Entry is %d bytes, was %d", n, want)
	}
}
