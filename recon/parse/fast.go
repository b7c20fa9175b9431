package parse

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/lianlian-recon/reconcile/internal/arena"
	"github.com/lianlian-recon/reconcile/recon"
)

// The fast path: a good row read straight from the raw bytes of its line.
//
// Decoding a whole GB18030 line and cutting strings out of it cost four
// times what reading the row does. But a comma, a double quote, a space or
// a tab is never part of a multi-byte GB18030 character (trail bytes are
// 0x40–0xFE, or 0x30–0x39 and 0x81–0xFE in a four-byte one), and the x/text
// decoder never takes such a byte into a character it rejects, so the raw
// bytes split on commas just as the decoded text does, part by part. Fields
// 1–11 of a good row are ASCII in practice; they are checked on the raw
// bytes. The fields whose values repeat are looked up by their raw bytes
// in a memo of the values seen lately: found, they are neither checked nor
// decoded nor copied again. Strings are cut from arenas and RowText comes
// in batches, so that a row costs well under one allocation.
//
// fastRow takes only what it is sure of; anything else (a malformed line, a
// non-ASCII byte in fields 1–11, a quoted field with doubled quotes) goes to
// the slow path in Read, which says what it always said. FuzzDetailSame
// and TestFastSameAsSlow check that the two agree.

// Indexes of the values of a row that come from a memo.
const (
	idPartner   = iota // oid_partner
	idBusi             // busi_partner
	idSettle           // settle_date
	idDtOrder          // dt_order
	idUpdated          // updated_at
	txProduct          // product; the text fields from here on
	txPayMethod        // pay_method
	txInfo             // info_order
	txPayeeBank        // FKMX payee fields
	txPayeeAccount
	txPayeeName
	numValues
	numIDs = txProduct
)

// idFields are the fields (0-based) of the values idPartner…idUpdated.
var idFields = [numIDs]int{1, 3, 5, 2, 9}

// idValid are their checks (SPEC §2.3).
var idValid = [numIDs]func([]byte) bool{
	func(b []byte) bool { return len(b) == 18 && allDigits(b) },
	allDigits[[]byte],
	validDate8[[]byte],
	validTimestamp[[]byte],
	validTimestamp[[]byte],
}

type fastState struct {
	ids   [numIDs]memo[string]
	texts [2][numValues - numIDs]memo[textValue] // [gb][field]: the raw bytes differ by encoding

	orders  arena.Strings // no_order and oid_paybill
	strs    arena.Strings // every other string
	scratch []byte        // a decoded field
	rowText []recon.RowText
	shared  recon.RowText // every row's, with DetailReader.sharedText
}

// rowTextBatch is how many RowText are allocated at once. A RowText kept
// alive keeps its batch (5 KiB) alive; a run keeps none (it stores the
// rows and keeps them lean), ReadFile keeps them all.
const rowTextBatch = 32

// newRowText returns a new zero RowText.
func (fs *fastState) newRowText() *recon.RowText {
	if len(fs.rowText) == 0 {
		fs.rowText = make([]recon.RowText, rowTextBatch)
	}
	t := &fs.rowText[0]
	fs.rowText = fs.rowText[1:]
	return t
}

// textValue is the value of a text field (product, pay_method, …) whose
// raw bytes are the key: decoded and cleaned, so that a value seen before
// is neither decoded nor cleaned again.
type textValue struct {
	v     string
	stray bool // clean dropped a stray double quote
}

// memo keeps the values of a field that repeat (merchant, dates,
// busi_partner, product, …), keyed by their raw bytes, in a direct-mapped
// cache: a value seen lately is found with one comparison and shared, not
// checked, decoded or copied again. Only checked values go in, so a value
// found is a good one. Two values that meet in a slot take turns: that
// costs a copy, not a wrong answer.
type memo[V any] struct {
	slots []entry[V]
	shift uint // 64 - log2(len(slots))
}

// Memo sizes: 1024 slots hold a quarter of an hour of timestamps of a
// file in time order; 256 hold the few values other fields take. A
// reader makes eight memos or so, 130 KiB.
const (
	stampBits = 10
	valueBits = 8
)

func (m *memo[V]) init(bits uint) {
	m.slots, m.shift = make([]entry[V], 1<<bits), 64-bits
}

func (fs *fastState) init() {
	for i := range fs.ids {
		fs.ids[i].init(valueBits)
	}
	fs.ids[idDtOrder].init(stampBits)
	fs.ids[idUpdated].init(stampBits)
}

type entry[V any] struct {
	key string // the raw bytes; "" in an empty slot
	v   V
}

// memoSlot picks the slot of b from its length and its first and last
// eight bytes: timestamps differ in the last, texts mostly in both.
func memoSlot[T text](b T, shift uint) uint {
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= le64(b, 0) ^ le64(b, len(b)-8)*0x9e3779b97f4a7c15
	} else {
		for i := 0; i < len(b); i++ {
			h = h<<8 | uint64(b[i])
		}
	}
	h *= 0xbf58476d1ce4e5b9
	return uint(h >> shift)
}

// le64 is the little-endian word at b[i:i+8].
func le64[T text](b T, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// get looks up b, which is not empty; slot is where set puts it.
func (m *memo[V]) get(b []byte) (v V, slot uint, ok bool) {
	if m.slots == nil {
		m.init(valueBits)
	}
	slot = memoSlot(b, m.shift)
	if e := &m.slots[slot]; e.key == string(b) {
		return e.v, slot, true
	}
	return v, slot, false
}

func (m *memo[V]) set(slot uint, key string, v V) { m.slots[slot] = entry[V]{key, v} }

// fields is what fastRow has of a row so far. It lives on the stack:
// storing strings in the reader would cost a write barrier each while the
// collector runs.
type fields struct {
	f    [11][]byte // fields 1–11, cleaned
	vals [numValues]string
	warn []string
}

// fastRow reads a good row from raw, a line that lineEncoding judged; ok is
// false when the slow path must read the line instead.
func (d *DetailReader) fastRow(raw []byte, ascii int, gb bool, lineWarn string) (r recon.Row, ok bool) {
	n, more := splitRaw(raw, &d.pstart, &d.pend)
	if n < 14 || d.pend[10] > ascii {
		return recon.Row{}, false
	}
	var rf fields
	// The seed's row 2: see row.
	if n >= 15 {
		f10, _, ok := cleanBytes(raw[d.pstart[9]:d.pend[9]])
		if !ok {
			return recon.Row{}, false
		}
		if len(f10) == 0 {
			f11, _, ok := cleanBytes(raw[d.pstart[10]:d.pend[10]])
			if !ok {
				return recon.Row{}, false
			}
			if validTimestamp(f11) {
				copy(d.pstart[9:n], d.pstart[10:n])
				copy(d.pend[9:n], d.pend[10:n])
				n--
				if !d.lean {
					rf.warn = append(rf.warn, "extra empty field between status and updated_at dropped")
				}
				if d.pend[10] > ascii {
					return recon.Row{}, false
				}
			}
		}
	}
	f := &rf.f
	for k := range f {
		v, stray, ok := cleanBytes(raw[d.pstart[k]:d.pend[k]])
		if !ok {
			return recon.Row{}, false
		}
		if stray && !d.lean {
			rf.warn = append(rf.warn, "field "+fieldNames[k]+": stray double quote dropped")
		}
		f[k] = v
	}
	// The checks of row, on ASCII, where a length counts characters; the
	// fields kept in tables were checked when they went in.
	if len(f[0]) == 0 || len(f[0]) > 32 || len(f[4]) == 0 || len(f[4]) > 32 ||
		len(f[7]) != 1 || len(f[8]) != 1 {
		return recon.Row{}, false
	}
	switch f[7][0] {
	case '0':
	case '1':
		r.Direction = 1
	default:
		return recon.Row{}, false
	}
	switch f[8][0] {
	case '0':
	case '5':
		r.Status = 5
	default:
		return recon.Row{}, false
	}
	amount, ok := fen(f[6])
	if !ok {
		return recon.Row{}, false
	}
	fee, ok := fen(f[10])
	if !ok {
		return recon.Row{}, false
	}
	fs := &d.fast
	if fs.ids[0].slots == nil {
		fs.init()
	}
	for i, k := range idFields {
		b := f[k]
		if len(b) == 0 {
			return recon.Row{}, false
		}
		m := &fs.ids[i]
		v, slot, ok := m.get(b)
		if !ok {
			if !idValid[i](b) {
				return recon.Row{}, false
			}
			v = fs.strs.Join(b, nil)
			m.set(slot, v, v)
		}
		rf.vals[i] = v
	}
	if d.lean {
		// Fields 12–17 hold nothing a lean row keeps and nothing that can
		// make a row malformed: clean never fails, and a GB18030 decoder
		// never does either. Their bytes were judged by lineEncoding.
		both := fs.orders.Join(f[0], f[4])
		v := &rf.vals
		r.RowMeta, r.Line = d.metas.Get(d.name.Name, v[idPartner], v[idBusi], v[idSettle]), d.line
		r.NoOrder, r.OidPaybill = both[:len(f[0])], both[len(f[0]):]
		r.Amount, r.Fee = amount, fee
		r.Kind = recon.Classify(r.Direction, r.Amount)
		return r, true
	}

	texts := &fs.texts[0]
	if gb {
		texts = &fs.texts[1]
	}
	for i, k := range [2]int{11, 12} {
		if !d.text(&rf, &texts[i], txProduct+i, raw[d.pstart[k]:d.pend[k]], gb, fieldNames[k]) {
			return recon.Row{}, false
		}
	}
	info := raw[d.pstart[13]:]
	if d.name.Kind == recon.FileFKMX && n == 17 && !more {
		info = raw[d.pstart[13]:d.pend[13]]
		for k := range 3 {
			i := txPayeeBank + k
			if !d.text(&rf, &texts[i-numIDs], i, raw[d.pstart[14+k]:d.pend[14+k]], gb, payeeNames[k]) {
				return recon.Row{}, false
			}
		}
	}
	if !d.text(&rf, &texts[txInfo-numIDs], txInfo, info, gb, "info_order") {
		return recon.Row{}, false
	}
	if lineWarn != "" {
		rf.warn = append(rf.warn, lineWarn)
	}

	// Order and paybill numbers are unique, and a run keeps them when the
	// rest of the row is gone: they have an arena of their own.
	both := fs.orders.Join(f[0], f[4])
	var t *recon.RowText
	if d.sharedText {
		t = &fs.shared
	} else {
		t = fs.newRowText()
	}
	v := &rf.vals
	r.RowMeta, r.Line = d.metas.Get(d.name.Name, v[idPartner], v[idBusi], v[idSettle]), d.line
	r.NoOrder, r.OidPaybill = both[:len(f[0])], both[len(f[0]):]
	r.Amount, r.Fee = amount, fee
	r.Kind = recon.Classify(r.Direction, r.Amount)
	// Whole, so that a shared RowText keeps nothing of the row before.
	*t = recon.RowText{
		DtOrder: v[idDtOrder], UpdatedAt: v[idUpdated],
		Product: v[txProduct], PayMethod: v[txPayMethod], InfoOrder: v[txInfo],
		PayeeBank: v[txPayeeBank], PayeeAccount: v[txPayeeAccount], PayeeName: v[txPayeeName],
		Warnings: rf.warn,
	}
	r.RowText = t
	return r, true
}

// payeeNames name fields 15–17 in a warning, as row does.
var payeeNames = [3]string{"15", "16", "17"}

// text sets value i of the row to the text field whose raw bytes are p,
// named name in a warning: the value kept in m, or p decoded (when gb) and
// cleaned. It is false when only the slow path can clean p.
func (d *DetailReader) text(rf *fields, m *memo[textValue], i int, p []byte, gb bool, name string) bool {
	if len(p) == 0 {
		return true // clean("") is "", no warning
	}
	tv, slot, ok := m.get(p)
	if !ok {
		fs := &d.fast
		b := p
		if gb && asciiPrefix(p) < len(p) {
			fs.scratch = appendGB18030(fs.scratch[:0], p, d.decoder())
			b = fs.scratch
		}
		v, stray, ok := cleanBytes(b)
		if !ok {
			return false
		}
		tv = textValue{v: fs.strs.Join(v, nil), stray: stray}
		m.set(slot, fs.strs.Join(p, nil), tv)
	}
	rf.vals[i] = tv.v
	if tv.stray {
		rf.warn = append(rf.warn, "field "+name+": stray double quote dropped")
	}
	return true
}

func (d *DetailReader) decoder() transform.Transformer {
	if d.dec == nil {
		d.dec = simplifiedchinese.GB18030.NewDecoder()
	}
	return d.dec
}

// splitRaw is splitParts of a raw line, eight bytes at a time.
func splitRaw(s []byte, pstart, pend *[maxParts]int) (n int, more bool) {
	const (
		commas = 0x2c2c2c2c2c2c2c2c
		low7   = 0x7f7f7f7f7f7f7f7f
	)
	pstart[0] = 0
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:]) ^ commas
		m := ^((x&low7 + low7) | x | low7) // the high bit of each byte that was a comma
		for m != 0 {
			if n == maxParts-1 {
				pend[n] = len(s)
				return n + 1, true
			}
			j := i + bits.TrailingZeros64(m)>>3
			pend[n] = j
			n++
			pstart[n] = j + 1
			m &= m - 1
		}
	}
	return splitFrom(s, i, n, pstart, pend)
}

// splitParts finds the comma-separated parts of s: part k is
// s[pstart[k]:pend[k]]. It returns the number of parts (at most maxParts)
// and whether the last part still holds commas.
func splitParts[T text](s T, pstart, pend *[maxParts]int) (n int, more bool) {
	pstart[0] = 0
	return splitFrom(s, 0, 0, pstart, pend)
}

// splitFrom goes on splitting s from byte i, with n parts ended so far
// (and part n started), as splitParts does.
func splitFrom[T text](s T, i, n int, pstart, pend *[maxParts]int) (int, bool) {
	more := false
	for ; i < len(s); i++ {
		if s[i] == ',' {
			if n == maxParts-1 {
				more = true
				break
			}
			pend[n] = i
			n++
			pstart[n] = i + 1
		}
	}
	pend[n] = len(s)
	return n + 1, more
}

// cleanBytes is clean on bytes, for the fast path; ok is false for a
// quoted value with a doubled quote inside, which clean rewrites.
func cleanBytes(s []byte) (v []byte, stray, ok bool) {
	if n := len(s); n > 0 {
		if c, e := s[0], s[n-1]; c > ' ' && c != '"' && c < utf8.RuneSelf && e > ' ' && e != '"' && e < utf8.RuneSelf {
			return s, false, true
		}
	}
	if len(s) > 0 && plainStartBytes(s) && plainEndBytes(s) {
		return s, false, true
	}
	s = bytes.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		if bytes.Contains(s, []byte(`""`)) {
			return nil, false, false
		}
		return bytes.TrimSpace(s), false, true
	}
	if len(s) > 0 && s[0] == '"' {
		return bytes.TrimSpace(s[1:]), true, true
	}
	if len(s) > 0 && s[len(s)-1] == '"' {
		return bytes.TrimSpace(s[:len(s)-1]), true, true
	}
	return s, false, true
}

func plainStartBytes(s []byte) bool {
	if c := s[0]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeRune(s)
	return !unicode.IsSpace(r)
}

func plainEndBytes(s []byte) bool {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeLastRune(s)
	return !unicode.IsSpace(r)
}

// fen reads an amount exactly as recon.ParseYuan does, from bytes and
// without its error: ok is false for whatever ParseYuan rejects, and the
// slow path then reports ParseYuan's error.
func fen(s []byte) (recon.Fen, bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	start := i
	var whole int64
	for ; i < len(s) && s[i]-'0' <= 9; i++ {
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == start || i-start > 15 {
		return 0, false
	}
	var frac int64
	if i < len(s) {
		if s[i] != '.' {
			return 0, false
		}
		i++
		fs := i
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			frac = frac*10 + int64(s[i]-'0')
		}
		switch i - fs {
		case 1:
			frac *= 10
		case 2:
		default:
			return 0, false
		}
		if i < len(s) {
			return 0, false
		}
	}
	v := whole*100 + frac
	if neg {
		v = -v
	}
	return recon.Fen(v), true
}
