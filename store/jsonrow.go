package store

import (
	"errors"
	"unicode/utf8"
)

// The bulk reads (LedgerEntries, StatementRows) select one json_array(...)
// per row instead of one column per value, and decode it with jsonReader:
// go-sqlite3 pays a cgo call or more and a Go allocation for every scanned
// value, and database/sql a conversion, which cost more than SQLite's
// rendering of the row. Only strings, integers and nulls are read; SQLite
// renders an INTEGER as its exact decimal digits, the int64 extremes
// included, and a TEXT as a JSON string of the same bytes.
//
// (The bulk writes bind their values one by one, a whole statement's in
// one cgo call (sqlitebulk); SQLite's json_each, which would take a batch
// as one value, costs more than that per row.)

var errJSONRow = errors.New("malformed json row")

// jsonReader decodes one flat JSON array of strings, integers and nulls, as
// SQLite's json_array renders a row: call next for each element in order,
// then end.
type jsonReader struct {
	b       []byte // the rest of the array, after '[' or an element
	first   bool   // no element read yet
	scratch []byte // the strings of this row that had escapes, decoded
}

func (r *jsonReader) reset(b []byte) error {
	if len(b) < 2 || b[0] != '[' {
		return errJSONRow
	}
	r.b, r.first, r.scratch = b[1:], true, r.scratch[:0]
	return nil
}

// sep consumes the ',' before an element other than the first.
func (r *jsonReader) sep() error {
	if r.first {
		r.first = false
		return nil
	}
	if len(r.b) == 0 || r.b[0] != ',' {
		return errJSONRow
	}
	r.b = r.b[1:]
	return nil
}

// str reads a string element. The bytes returned are valid until the next
// reset: they alias the row, or, when the string had escapes, a part of
// the scratch buffer that is only appended to until then.
func (r *jsonReader) str() ([]byte, error) {
	if err := r.sep(); err != nil {
		return nil, err
	}
	b := r.b
	if len(b) == 0 || b[0] != '"' {
		return nil, errJSONRow
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '"':
			r.b = b[i+1:]
			return b[1:i], nil
		case '\\':
			return r.unescape(b[1:], i-1)
		}
	}
	return nil, errJSONRow
}

// unescape decodes a string from b (after its opening quote) whose first
// escape is at i.
func (r *jsonReader) unescape(b []byte, i int) ([]byte, error) {
	start := len(r.scratch)
	out := append(r.scratch, b[:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			r.b, r.scratch = b[i+1:], out
			return out[start:len(out):len(out)], nil
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, errJSONRow
		}
		i += 2
		switch e := b[i-1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			v, ok := hex4(b[i:])
			if !ok {
				return nil, errJSONRow
			}
			i += 4
			// A surrogate pair; SQLite writes non-ASCII as UTF-8, but
			// accept what any JSON writer might give.
			if v >= 0xd800 && v < 0xdc00 && len(b) >= i+6 && b[i] == '\\' && b[i+1] == 'u' {
				if lo, ok := hex4(b[i+2:]); ok && lo >= 0xdc00 && lo < 0xe000 {
					v = 0x10000 + (v-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				}
			}
			out = utf8.AppendRune(out, v)
		default:
			return nil, errJSONRow
		}
	}
	return nil, errJSONRow
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// int reads an integer element; ok is false for null.
func (r *jsonReader) int() (v int64, ok bool, err error) {
	if err := r.sep(); err != nil {
		return 0, false, err
	}
	b := r.b
	if len(b) >= 4 && string(b[:4]) == "null" {
		r.b = b[4:]
		return 0, false, nil
	}
	neg := len(b) > 0 && b[0] == '-'
	n := 0
	if neg {
		n++
	}
	// Accumulated as uint64 to reach -9223372036854775808, then checked
	// against the int64 range (a decimal column of 19 digits cannot
	// overflow uint64).
	var u uint64
	for start := n; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
		if n-start == 19 {
			return 0, false, errJSONRow
		}
		u = u*10 + uint64(b[n]-'0')
	}
	if n == 0 || neg && n == 1 || !neg && u > 1<<63-1 || neg && u > 1<<63 {
		return 0, false, errJSONRow
	}
	r.b = b[n:]
	if neg {
		return -int64(u), true, nil
	}
	return int64(u), true, nil
}

// optStr reads a string element or null; ok is false for null.
func (r *jsonReader) optStr() (s []byte, ok bool, err error) {
	if !r.first && len(r.b) >= 5 && string(r.b[:5]) == ",null" || r.first && len(r.b) >= 4 && string(r.b[:4]) == "null" {
		if err := r.sep(); err != nil {
			return nil, false, err
		}
		r.b = r.b[4:]
		return nil, false, nil
	}
	s, err = r.str()
	return s, err == nil, err
}

// end checks that the array is complete.
func (r *jsonReader) end() error {
	if len(r.b) != 1 || r.b[0] != ']' {
		return errJSONRow
	}
	return nil
}
