package parse

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/lianlian-recon/reconcile/recon"
)

// The lean path: a good row read for matching alone (ScanFileLean).
//
// A lean row keeps fields 1, 2, 4–9 and 11, and a run reads a million of
// them before it matches, so the lean path does for each line no more than
// finding the first thirteen commas, checking fields 1–11 and converting
// two amounts. The text fields (12–17) can neither make a row malformed nor
// change a kept field: clean never fails and a GB18030 decoder always
// decodes. The encoding is judged on the line's bytes as before (see Read).
//
// Most kept fields repeat from row to row (merchant, settle date, the few
// busi_partner values): each is first compared, with the comma that ends
// it, with the raw bytes of the last few values it took, and a match both
// splits and checks it (with the comma, a match is exactly the field the
// line splits into; only checked values are kept). A timestamp is checked
// in place, its date only when it is not the date of the timestamp before.
//
// leanRow takes only the common case; anything else (a line with fewer
// fields, a non-ASCII byte in fields 1–11, an empty updated_at that may be
// the seed's extra field, a value a check rejects) goes to fastRow and the
// slow path, which decide it as they do for a full row. TestLeanSameAsFull
// and FuzzDetailSame check that a lean row is the full row made lean.

// recent holds the last few values of a kept field (busi_partner takes
// a handful), each with the raw bytes and comma it was read from. They are
// arrays, not slices, and are set only when a new value comes: the lookup,
// on every row, stores nothing.
type recent struct {
	e    [4]recentValue
	next int // the entry a new value replaces
}

type recentValue struct {
	w, mask [3]uint64 // the key's bytes as little-endian words; mask covers its length
	klen    int       // 0: empty entry
	v       string
}

// maxKey bounds a key kept in recent: a field and its comma.
const maxKey = 24

// find is the value whose key raw[pos:] starts with, and the length of that
// key.
func (c *recent) find(raw []byte, pos int) (string, int, bool) {
	if pos+maxKey > len(raw) {
		return "", 0, false
	}
	p := raw[pos : pos+maxKey]
	w0, w1, w2 := le64(p, 0), le64(p, 8), le64(p, 16)
	for i := range c.e {
		e := &c.e[i]
		if (w0&e.mask[0]^e.w[0])|(w1&e.mask[1]^e.w[1])|(w2&e.mask[2]^e.w[2]) == 0 && e.klen > 0 {
			return e.v, e.klen, true
		}
	}
	return "", 0, false
}

// add keeps v, read from key (a field and its comma), replacing the oldest.
func (c *recent) add(key []byte, v string) {
	if len(key) > maxKey {
		return
	}
	e := &c.e[c.next]
	c.next = (c.next + 1) % len(c.e)
	var b [maxKey]byte
	copy(b[:], key)
	for k := range e.w {
		e.w[k] = le64(b[:], 8*k)
		e.mask[k] = 0
		for j := range 8 {
			if 8*k+j < len(key) {
				e.mask[k] |= 0xff << (8 * j)
			}
		}
	}
	e.klen, e.v = len(key), v
}

type leanState struct {
	partner, busi, settle recent
	day                   uint64 // the date of the last good timestamp, as le64 of its bytes
}

// leanRow reads a good lean row from raw, a line past the first of the
// file; ok is false when fastRow and the slow path must read the line
// instead. Fields 1–11 must be ASCII: what they mean then does not depend
// on the encoding, and a length counts characters.
func (d *DetailReader) leanRow(raw []byte) (r recon.Row, ok bool) {
	fs := &d.fast
	if fs.ids[0].slots == nil {
		fs.init()
	}
	var noOrder, paybill, amount, fee []byte
	var partner, busi, settle string
	pos := 0
	if noOrder, pos, ok = nextField(raw, pos); !ok {
		return recon.Row{}, false
	}
	if partner, pos, ok = d.leanKept(raw, pos, &d.leanSt.partner, idPartner); !ok {
		return recon.Row{}, false
	}
	if pos, ok = d.leanStamp(raw, pos); !ok {
		return recon.Row{}, false
	}
	if busi, pos, ok = d.leanKept(raw, pos, &d.leanSt.busi, idBusi); !ok {
		return recon.Row{}, false
	}
	if paybill, pos, ok = nextField(raw, pos); !ok {
		return recon.Row{}, false
	}
	if settle, pos, ok = d.leanKept(raw, pos, &d.leanSt.settle, idSettle); !ok {
		return recon.Row{}, false
	}
	if amount, pos, ok = nextField(raw, pos); !ok {
		return recon.Row{}, false
	}
	// direction and status: one character each, or the slow path.
	if pos+4 > len(raw) || raw[pos+1] != ',' || raw[pos+3] != ',' {
		return recon.Row{}, false
	}
	switch raw[pos] {
	case '0':
	case '1':
		r.Direction = 1
	default:
		return recon.Row{}, false
	}
	switch raw[pos+2] {
	case '0':
	case '5':
		r.Status = 5
	default:
		return recon.Row{}, false
	}
	pos += 4
	if pos, ok = d.leanStamp(raw, pos); !ok {
		return recon.Row{}, false
	}
	if fee, pos, ok = nextField(raw, pos); !ok {
		return recon.Row{}, false
	}
	// pos is past the comma that ends fee (field 11); fields 12 and 13 end
	// in commas too when the line has at least 14 fields.
	c11 := pos - 1
	if j := comma(raw[pos:]); j < 0 || comma(raw[pos+j+1:]) < 0 {
		return recon.Row{}, false
	}
	if !isASCII(raw[:c11]) {
		return recon.Row{}, false
	}
	// The checks of row that are left, on ASCII, where a length counts
	// characters.
	if len(noOrder) == 0 || len(noOrder) > 32 || len(paybill) == 0 || len(paybill) > 32 {
		return recon.Row{}, false
	}
	if r.Amount, ok = fen(amount); !ok {
		return recon.Row{}, false
	}
	if r.Fee, ok = fen(fee); !ok {
		return recon.Row{}, false
	}
	both := fs.orders.Join(noOrder, paybill)
	r.RowMeta, r.Line = d.metas.Get(d.name.Name, partner, busi, settle), d.line
	r.NoOrder, r.OidPaybill = both[:len(noOrder)], both[len(noOrder):]
	r.Kind = recon.Classify(r.Direction, r.Amount)
	return r, true
}

// nextField is the field of raw that starts at pos and ends in a comma,
// cleaned, and the position after that comma; ok is false when there is
// no comma or clean needs the slow path.
func nextField(raw []byte, pos int) (v []byte, next int, ok bool) {
	j := comma(raw[pos:])
	if j < 0 {
		return nil, 0, false
	}
	v, _, ok = cleanBytes(raw[pos : pos+j])
	return v, pos + j + 1, ok
}

// comma is bytes.IndexByte(p, ','), quicker for the short fields of a
// row: it looks at eight bytes at a time, without a call.
func comma(p []byte) int {
	const (
		commas = 0x2c2c2c2c2c2c2c2c
		low7   = 0x7f7f7f7f7f7f7f7f
	)
	i := 0
	for ; i+8 <= len(p) && i < 32; i += 8 {
		x := binary.LittleEndian.Uint64(p[i:]) ^ commas
		if m := ^((x&low7 + low7) | x | low7); m != 0 { // the high bit of each comma byte
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	if j := bytes.IndexByte(p[i:], ','); j >= 0 {
		return i + j
	}
	return -1
}

// leanKept reads field id of fastState.ids at pos: the value in c when
// the raw bytes and comma are those of a recent row, else the field
// checked and shared through the memo of fastRow, and kept in c.
func (d *DetailReader) leanKept(raw []byte, pos int, c *recent, id int) (string, int, bool) {
	if v, n, ok := c.find(raw, pos); ok {
		return v, pos + n, true
	}
	v, next, ok := nextField(raw, pos)
	if !ok || len(v) == 0 {
		return "", 0, false
	}
	m := &d.fast.ids[id]
	s, slot, ok := m.get(v)
	if !ok {
		if !idValid[id](v) {
			return "", 0, false
		}
		s = d.fast.strs.Join(v, nil)
		m.set(slot, s, s)
	}
	c.add(raw[pos:next], s)
	return s, next, true
}

// leanStamp checks the timestamp (dt_order, updated_at) at pos and returns
// the position past its comma. Only an unquoted, untrimmed timestamp is
// taken (it holds no comma, so it is the whole field); its date is checked
// once while it repeats. An empty updated_at may be the seed's extra field:
// the slow path decides.
func (d *DetailReader) leanStamp(raw []byte, pos int) (int, bool) {
	if pos+18 > len(raw) || raw[pos+17] != ',' {
		return 0, false
	}
	s := raw[pos : pos+17]
	if s[8] != ' ' || s[11] != ':' || s[14] != ':' {
		return 0, false
	}
	if w := le64(s, 0); w != d.leanSt.day || w == 0 { // 0: no date yet
		if !validDate8(s[:8]) {
			return 0, false
		}
		d.leanSt.day = w
	}
	for _, p := range [3]int{9, 12, 15} {
		if s[p]-'0' > 9 || s[p+1]-'0' > 9 {
			return 0, false
		}
	}
	if h, m, sec := (s[9]-'0')*10+s[10]-'0', (s[12]-'0')*10+s[13]-'0', (s[15]-'0')*10+s[16]-'0'; h >= 24 || m >= 60 || sec >= 60 {
		return 0, false
	}
	return pos + 18, true
}

// isASCII reports that p, at least eight bytes long, is ASCII: eight bytes
// at a time, the last eight overlapping.
func isASCII(p []byte) bool {
	var acc uint64
	i := 0
	for ; i+8 <= len(p); i += 8 {
		acc |= binary.LittleEndian.Uint64(p[i:])
	}
	acc |= binary.LittleEndian.Uint64(p[len(p)-8:])
	return acc&0x8080808080808080 == 0
}
