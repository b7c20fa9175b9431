// Package ledger reads the merchant ledger CSV of SPEC §3: UTF-8 (a BOM is
// allowed), a header row naming the columns in any order, one entry a row.
//
// A bad row does not stop the read: it is rejected with its line number and
// the reason, naming the column and the value, and the good rows still come
// back, so that an import stores them and reports the rest.
package ledger

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/lianlian-recon/reconcile/internal/alloc"
	"github.com/lianlian-recon/reconcile/internal/arena"
	"github.com/lianlian-recon/reconcile/internal/keytab"
	"github.com/lianlian-recon/reconcile/recon"
)

// Sentinel errors. A rejected row's error wraps one of the row-level ones;
// Read's error return wraps one of the file-level ones.
var (
	// File level: the ledger cannot be read at all.
	ErrNoHeader      = errors.New("no header row")
	ErrMissingColumn = errors.New("missing required column")
	ErrColumnTwice   = errors.New("column given twice")
	ErrNotUTF8       = errors.New("not UTF-8")

	// Row level.
	ErrFieldCount = errors.New("wrong number of fields")
	ErrEmpty      = errors.New("empty")
	ErrInvalid    = errors.New("invalid")
	ErrDuplicate  = errors.New("duplicate entry")
)

// Columns of the ledger CSV (SPEC §3), in the order the SPEC lists them;
// the first nRequired are required.
const (
	colKind = iota
	colNoOrder
	colDtOrder
	colAmount
	colStatus
	colOrigNoOrder
	colOidPaybill
	colOidPartner
	colFee
	nColumns

	nRequired = colStatus + 1
)

var columnNames = [nColumns]string{
	"kind", "no_order", "dt_order", "amount", "status",
	"orig_no_order", "oid_paybill", "oid_partner", "fee",
}

// maxNoOrder is the length limit of an order number in runes (SPEC §2.3
// field 1: "up to 32 chars").
const maxNoOrder = 32

// Reject is a ledger row that was not read: its line in the file and why.
type Reject struct {
	Line   int
	Reason string // names the column and the value: `amount "1.234": …`
}

// FieldError says which cell of a row is wrong. An error with no Column is
// about the row as a whole (its width, its quoting).
type FieldError struct {
	Column string
	Value  string
	Err    error
}

func (e *FieldError) Error() string {
	if e.Column == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s %q: %v", e.Column, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// ParseError locates an error in the ledger file. Reader.Read returns one
// for each rejected row; Line is the physical line where the row starts.
type ParseError struct {
	Line int
	Err  error // a *FieldError for a rejected row
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// entryKey is what makes an entry unique in the ledger and in the store:
// oid_partner, kind and no_order. The streaming Reader keeps one for each
// entry it returned; Read finds them in the entries it keeps.
type entryKey struct {
	oidPartner string
	noOrder    string
	kind       recon.Kind
}

// Reader reads ledger entries one at a time.
//
// The strings of an entry are copied out of the CSV record into shared
// chunks (see arena), so that a kept entry keeps tens of bytes alive, not
// its whole line; values that repeat (oid_partner, a dt_order equal to the
// previous one, status) are shared.
type Reader struct {
	br     *bufio.Reader
	line   int      // physical lines read
	raw    []byte   // a line longer than br's buffer
	rec    []string // the fields of a record read by the fast path
	csv    *csv.Reader
	feed   feed // what csv reads
	slow   bool // tests: every record goes to csv
	header bool
	width  int           // number of header columns
	col    [nColumns]int // column → index in the record; -1 when an optional column is absent
	err    error         // a fatal error, returned again by every later Read

	strs     arena.Strings
	partners map[string]string // oid_partner values seen, to share them
	partner  string            // the last oid_partner, checked before the map
	dt       string            // the last dt_order
	dtBuf    [14]byte          // the dt_order of the record being read

	// Duplicate detection (SPEC §3: oid_partner, kind and no_order are
	// unique). Key i is keys[i], or entries[i] when Read keeps the
	// entries anyway (no second copy of a million keys), and lines[i] is
	// the line it was read on. A key is in the run of its oid_partner and
	// kind when its no_order was above all of theirs read before it (a
	// ledger mostly in order number order, or in time order with order
	// numbers that grow, puts nearly every key there: no look-up, and
	// nothing to search but that sorted run); the others are in index, a
	// table by hash of the numbers in aside.
	seed    maphash.Seed
	runs    []keyRun
	run     int // the run of the last key, checked first
	hint    int // Read: room for this many keys in the first run
	index   *keytab.Table
	aside   []uint32
	lines   []int
	keys    []entryKey
	keep    bool // Read: entries holds every entry returned, and the keys
	entries []recon.Entry
}

// keyRun is the keys of one oid_partner and kind that arrived in rising
// no_order order: each above every earlier one of theirs.
type keyRun struct {
	partner string
	kind    recon.Kind
	last    string   // the highest no_order
	keys    []uint32 // key numbers, in no_order order
}

// maxRuns bounds the runs kept: a ledger names a merchant or a few, and
// three kinds. The keys of others go to the table.
const maxRuns = 16

// maxPartners bounds the oid_partner values shared: a ledger names one
// merchant, or a few; beyond that each value is copied like any other.
const maxPartners = 64

// NewReader reads a ledger from r. A UTF-8 byte order mark at the start is
// skipped.
func NewReader(r io.Reader) *Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	lr := &Reader{br: br, partners: make(map[string]string), seed: maphash.MakeSeed(), strs: arena.Strings{Chunk: 16 << 10}}
	lr.feed.r = lr
	lr.csv = csv.NewReader(&lr.feed)
	lr.csv.FieldsPerRecord = -1 // widths are checked per row: a short row is a reject, not the end
	lr.csv.ReuseRecord = true   // each record's strings are fresh; only the slice is reused
	lr.index = keytab.New(0)
	return lr
}

// A record is read by the fast path when its line holds no double quote:
// then it is one line, and encoding/csv would only split it at the commas
// (no quoting errors are possible), which the fast path does in place,
// without copying the line into a new string. A line with a quote goes to
// the csv.Reader, which reads it and the lines of the record after it
// through feed, one line at a time, so that it never reads ahead of the
// record. FuzzFastSameAsCSV checks that the two agree.

// readLine reads a line as encoding/csv does, its line end and all.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.raw = append(r.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.raw = append(r.raw, line...)
		}
		line = r.raw
	}
	return line, err
}

// feed hands the csv.Reader the line the fast path would not take, then
// the lines after it, one a Read, so that csv's buffer holds nothing
// after the record it reads.
type feed struct {
	r       *Reader
	pending []byte // a view of r's buffer: r reads nothing more until it is handed over
	lines   int    // lines handed over, as csv counts them
	err     error
}

func (f *feed) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		f.pending, f.err = f.r.readLine()
		if len(f.pending) == 0 {
			return 0, f.err
		}
		f.lines++
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

// record reads the next record and the line it starts on. valid says
// that every field is known to be UTF-8; else the caller checks. A
// *csv.ParseError gives lines of the ledger.
func (r *Reader) record() (rec []string, line int, valid bool, err error) {
	var b []byte
	for {
		raw, err := r.readLine()
		if len(raw) == 0 {
			return nil, 0, false, err // io.EOF, or a read error
		}
		r.line++
		if r.slow || (err != nil && err != io.EOF) || bytes.IndexByte(raw, '"') >= 0 {
			return r.csvRecord(raw, err)
		}
		// As encoding/csv does: a \r at the end of the input is dropped,
		// \r\n is a line end, and a line with nothing else is skipped.
		b = raw
		if err == io.EOF && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if n := len(b); n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
			b = b[:n-2]
		} else if n >= 1 && b[n-1] == '\n' {
			b = b[:n-1]
		}
		if len(b) > 0 {
			break
		}
	}
	// Views of the line, valid until the next read: whatever outlives it
	// (an entry's strings, a reject's value) is copied.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	r.rec = r.rec[:0]
	for {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			r.rec = append(r.rec, s)
			break
		}
		r.rec = append(r.rec, s[:i])
		s = s[i+1:]
	}
	// The commas are ASCII: the line is UTF-8 if and only if every field is.
	return r.rec, r.line, utf8.Valid(b), nil
}

// csvRecord reads with csv the record that starts with raw, the line just
// read (err is what reading it returned).
func (r *Reader) csvRecord(raw []byte, err error) ([]string, int, bool, error) {
	r.feed.pending, r.feed.err = raw, err
	r.feed.lines++
	offset := r.line - r.feed.lines // csv's line n is the ledger's line n+offset
	rec, err := r.csv.Read()
	r.line = r.feed.lines + offset
	if err != nil {
		if pe, ok := err.(*csv.ParseError); ok {
			return nil, 0, false, &csv.ParseError{StartLine: pe.StartLine + offset, Line: pe.Line + offset, Column: pe.Column, Err: pe.Err}
		}
		return nil, 0, false, err
	}
	line, _ := r.csv.FieldPos(0)
	return rec, line + offset, false, nil
}

// readHeader reads the header row and maps the columns. Names are trimmed
// and compared case-insensitively; unknown columns are ignored.
func (r *Reader) readHeader() error {
	r.header = true
	rec, _, _, err := r.record()
	if err == io.EOF {
		return ErrNoHeader
	}
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	r.width = len(rec)
	r.col = [nColumns]int{}
	for c := range r.col {
		r.col[c] = -1
	}
	for i, cell := range rec {
		if !utf8.ValidString(cell) {
			return fmt.Errorf("header: %w", ErrNotUTF8)
		}
		c := slices.Index(columnNames[:], strings.ToLower(strings.TrimSpace(cell)))
		if c < 0 {
			continue // unknown columns are ignored (SPEC §3)
		}
		if r.col[c] >= 0 {
			return fmt.Errorf("header: %w: %s", ErrColumnTwice, columnNames[c])
		}
		r.col[c] = i
	}
	var missing []string
	for c := range nRequired {
		if r.col[c] < 0 {
			missing = append(missing, columnNames[c])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("header: %w: %s", ErrMissingColumn, strings.Join(missing, ", "))
	}
	return nil
}

// Read returns the next entry. A rejected row gives a *ParseError, and the
// next call goes on with the following row; io.EOF ends the ledger. Any
// other error (I/O, no header, a required column missing, text that is not
// UTF-8) means the ledger cannot be read; every later call returns it
// again.
func (r *Reader) Read() (recon.Entry, error) {
	if r.err != nil {
		return recon.Entry{}, r.err
	}
	e, err := r.read()
	if err != nil {
		if _, reject := err.(*ParseError); !reject {
			r.err = err
		}
	}
	return e, err
}

func (r *Reader) read() (recon.Entry, error) {
	if !r.header {
		if err := r.readHeader(); err != nil {
			return recon.Entry{}, err
		}
	}
	rec, line, valid, err := r.record()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A quoting error spoils this record only.
			return recon.Entry{}, &ParseError{Line: pe.StartLine,
				Err: &FieldError{Err: fmt.Errorf("line %d, character %d: %w", pe.Line, pe.Column, pe.Err)}}
		}
		return recon.Entry{}, err
	}
	for i := 0; !valid && i < len(rec); i++ {
		if !utf8.ValidString(rec[i]) {
			return recon.Entry{}, fmt.Errorf("line %d: %w (save the ledger as UTF-8)", line, ErrNotUTF8)
		}
	}
	e, err := r.entry(rec)
	if err != nil {
		return recon.Entry{}, &ParseError{Line: line, Err: err}
	}
	// 2³² entries would take over 500 GB: key numbers fit in 32 bits.
	num := uint32(len(r.lines))
	run := r.runOf(e.OidPartner, e.Kind)
	if run != nil && (len(run.keys) == 0 || e.NoOrder > run.last) {
		// Above every key of its run, and every key of its oid_partner
		// and kind in the table is below the run's last: new.
		r.own(&e)
		run.keys, run.last = append(run.keys, num), e.NoOrder
	} else {
		if run != nil {
			if i, found := slices.BinarySearchFunc(run.keys, e.NoOrder, func(k uint32, no string) int {
				_, _, n := r.keyAt(k)
				return strings.Compare(n, no)
			}); found {
				return recon.Entry{}, r.duplicate(e, line, run.keys[i])
			}
		}
		r.index.Reserve(len(r.aside), func(i uint32) uint64 { return r.hash(r.keyAt(r.aside[i])) })
		h := r.hash(e.OidPartner, e.Kind, e.NoOrder)
		first, dup, cell := r.index.Find(h, func(i uint32) bool {
			p, k, n := r.keyAt(r.aside[i])
			return k == e.Kind && n == e.NoOrder && p == e.OidPartner
		})
		if dup {
			return recon.Entry{}, r.duplicate(e, line, r.aside[first])
		}
		r.own(&e)
		r.index.Put(cell, h, uint32(len(r.aside)))
		r.aside = append(r.aside, num)
	}
	r.lines = append(r.lines, line)
	if r.keep {
		r.entries = append(r.entries, e)
	} else {
		r.keys = append(r.keys, entryKey{e.OidPartner, e.NoOrder, e.Kind})
	}
	return e, nil
}

// runOf returns the run of oid_partner and kind, made when new; nil when
// there are maxRuns already.
func (r *Reader) runOf(partner string, kind recon.Kind) *keyRun {
	if r.run < len(r.runs) {
		if run := &r.runs[r.run]; run.kind == kind && run.partner == partner {
			return run
		}
	}
	for i := range r.runs {
		if run := &r.runs[i]; run.kind == kind && run.partner == partner {
			r.run = i
			return run
		}
	}
	if len(r.runs) == maxRuns {
		return nil
	}
	var keys []uint32
	if len(r.runs) == 0 && r.hint > 0 {
		// Most keys of a ledger are of one merchant and kind (payments):
		// its run gets room for them all, as Read's slices do, rather
		// than grow by copies.
		keys = alloc.Reserve[uint32](r.hint)
	}
	r.runs = append(r.runs, keyRun{partner: strings.Clone(partner), kind: kind, keys: keys})
	r.run = len(r.runs) - 1
	return &r.runs[r.run]
}

// duplicate is the error of e, read on line, whose key is key number
// first's.
func (r *Reader) duplicate(e recon.Entry, line int, first uint32) error {
	return &ParseError{Line: line, Err: &FieldError{Column: columnNames[colNoOrder], Value: strings.Clone(e.NoOrder),
		Err: fmt.Errorf("%w: the same oid_partner, kind and no_order as line %d", ErrDuplicate, r.lines[first])}}
}

// own copies the strings of an entry read from a record into the arena,
// or shares an equal one kept before, so that the entry does not keep the
// record alive.
func (r *Reader) own(e *recon.Entry) {
	e.NoOrder = r.strs.Copy(e.NoOrder)
	if e.DtOrder == r.dt {
		e.DtOrder = r.dt
	} else {
		e.DtOrder = r.strs.Copy(e.DtOrder)
		r.dt = e.DtOrder
	}
	e.OrigNoOrder = r.strs.Copy(e.OrigNoOrder)
	e.OidPaybill = r.strs.Copy(e.OidPaybill)
	switch v := e.OidPartner; {
	case v == "":
	case v == r.partner:
		e.OidPartner = r.partner
	default:
		p, ok := r.partners[v]
		if !ok {
			p = r.strs.Copy(v)
			if len(r.partners) < maxPartners {
				r.partners[p] = p
			}
		}
		e.OidPartner, r.partner = p, p
	}
}

// hash is the hash of an entry's key.
func (r *Reader) hash(oidPartner string, kind recon.Kind, noOrder string) uint64 {
	h := maphash.String(r.seed, noOrder) ^ uint64(kind)*0x9e3779b97f4a7c15
	if oidPartner != "" {
		h ^= maphash.String(r.seed, oidPartner) * 0xff51afd7ed558ccd
	}
	return h
}

// keyAt returns key i.
func (r *Reader) keyAt(i uint32) (oidPartner string, kind recon.Kind, noOrder string) {
	if r.keep {
		e := &r.entries[i]
		return e.OidPartner, e.Kind, e.NoOrder
	}
	k := &r.keys[i]
	return k.oidPartner, k.kind, k.noOrder
}

// entry checks one record against SPEC §3.
func (r *Reader) entry(rec []string) (recon.Entry, error) {
	if n := width(rec, r.width); n != r.width {
		return recon.Entry{}, &FieldError{Err: fmt.Errorf("%w: %d, the header has %d", ErrFieldCount, n, r.width)}
	}
	cell := func(c int) string {
		i := r.col[c]
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	bad := func(c int, value string, err error) (recon.Entry, error) {
		// A copy: value may be a view of the line.
		return recon.Entry{}, &FieldError{Column: columnNames[c], Value: strings.Clone(value), Err: err}
	}
	var e recon.Entry
	var ok bool

	v := cell(colKind)
	if e.Kind, ok = recon.ParseKind(v); !ok {
		return bad(colKind, v, fmt.Errorf("%w: want payment, refund or payout", ErrInvalid))
	}
	v = cell(colNoOrder)
	switch {
	case v == "":
		return bad(colNoOrder, v, ErrEmpty)
	case utf8.RuneCountInString(v) > maxNoOrder:
		return bad(colNoOrder, v, fmt.Errorf("%w: longer than %d characters", ErrInvalid, maxNoOrder))
	}
	e.NoOrder = v
	v = cell(colDtOrder)
	if !compactTime(&r.dtBuf, v) {
		return bad(colDtOrder, v, fmt.Errorf("%w: want a real time as YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS", ErrInvalid))
	}
	// A view of the buffer until own copies it (or shares the last one).
	e.DtOrder = unsafe.String(&r.dtBuf[0], len(r.dtBuf))
	v = cell(colAmount)
	amount, err := recon.ParseYuan(v)
	switch {
	case err != nil:
		return bad(colAmount, v, err)
	case amount <= 0:
		return bad(colAmount, v, fmt.Errorf("%w: must be greater than 0", ErrInvalid))
	}
	e.Amount = amount
	v = cell(colStatus)
	s, ok := recon.ParseLedgerStatus(v)
	if !ok {
		return bad(colStatus, v, fmt.Errorf("%w: want SUCCESS, FAILURE or PROCESSING", ErrInvalid))
	}
	e.Status = s
	e.OrigNoOrder = cell(colOrigNoOrder)
	if e.Kind == recon.KindRefund && e.OrigNoOrder == "" {
		return bad(colOrigNoOrder, "", fmt.Errorf("%w: a refund needs the no_order of its payment", ErrEmpty))
	}
	e.OidPaybill = cell(colOidPaybill)
	v = cell(colOidPartner)
	if v != "" && !recon.IsDigits(v, 18) {
		return bad(colOidPartner, v, fmt.Errorf("%w: want 18 digits", ErrInvalid))
	}
	e.OidPartner = v
	if v = cell(colFee); v != "" {
		fee, err := recon.ParseYuan(v)
		switch {
		case err != nil:
			return bad(colFee, v, err)
		case fee < 0:
			return bad(colFee, v, fmt.Errorf("%w: must not be negative", ErrInvalid))
		}
		e.Fee, e.HasFee = fee, true
	}
	return e, nil
}

// width is the number of fields of a record, not counting empty cells
// beyond the header's width (a spreadsheet's trailing commas).
func width(rec []string, header int) int {
	n := len(rec)
	for n > header && strings.TrimSpace(rec[n-1]) == "" {
		n--
	}
	return n
}

// normaliseTime accepts "YYYYMMDDHHMMSS" or "YYYY-MM-DD HH:MM:SS" naming a
// real moment and returns it as "yyyymmddhhmmss".
func normaliseTime(s string) (string, bool) {
	var b [14]byte
	if !compactTime(&b, s) {
		return "", false
	}
	return string(b[:]), true
}

// compactTime is normaliseTime writing into b, which is left undefined
// when s is no real moment.
func compactTime(b *[14]byte, s string) bool {
	switch len(s) {
	case 14:
		copy(b[:], s)
	case 19:
		if s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
			return false
		}
		copy(b[0:4], s[0:4])
		copy(b[4:6], s[5:7])
		copy(b[6:8], s[8:10])
		copy(b[8:10], s[11:13])
		copy(b[10:12], s[14:16])
		copy(b[12:14], s[17:19])
	default:
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	num := func(i, j int) int {
		n := 0
		for _, c := range b[i:j] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(4, 6), num(6, 8)
	return month >= 1 && month <= 12 && day >= 1 && day <= recon.DaysIn(year, month) &&
		num(8, 10) <= 23 && num(10, 12) <= 59 && num(12, 14) <= 59
}

// Read reads a whole ledger: the good entries in file order and the
// rejected rows. The error is for a ledger that cannot be read at all.
func Read(r io.Reader) ([]recon.Entry, []Reject, error) {
	n := rowsHint(r) // before NewReader reads ahead
	lr := NewReader(r)
	lr.keep = true
	lr.entries = alloc.Reserve[recon.Entry](n)
	lr.lines = alloc.Reserve[int](n)
	lr.index = keytab.New(n / 16) // the keys out of order; it grows
	lr.hint = n
	var rejects []Reject
	for {
		_, err := lr.Read() // lr.entries gets it
		if err == io.EOF {
			entries := lr.entries
			if len(entries) == 0 {
				entries = nil // none read, whatever was reserved
			}
			return entries, rejects, nil
		}
		if err != nil {
			pe, reject := err.(*ParseError) // Reader.Read returns them unwrapped
			if !reject {
				return nil, nil, err
			}
			rejects = append(rejects, Reject{Line: pe.Line, Reason: pe.Err.Error()})
		}
	}
}

// minRowBytes is the length of the shortest row that can be an entry:
// "payout,x,20240101000000,1,SUCCESS" and its line end.
const minRowBytes = 34

// rowsHint counts how many rows a ledger can hold at most, so that a large
// one fills its slice and duplicate index without growing them step by
// step, nor leaving a third of them unused: the lines left in the input
// (a quoted field may hold a line end, so this is an upper bound), and no
// more than its size allows. An input whose size is not known gives 0, and
// the slice grows.
func rowsHint(r io.Reader) int {
	var lines, size int64
	switch v := r.(type) {
	case *bytes.Buffer:
		size, lines = int64(v.Len()), int64(bytes.Count(v.Bytes(), []byte{'\n'}))+1
	case interface { // bytes.Reader, strings.Reader
		io.ReaderAt
		Size() int64
		Len() int
	}:
		size = int64(v.Len())
		lines = countLines(v, v.Size()-size, size)
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0
		}
		size = max(fi.Size()-off, 0)
		lines = countLines(v, off, size)
	}
	return int(min(lines, size/minRowBytes+1))
}

// countLines counts the lines of the size bytes of r from off on, reading
// them ahead of the parse (for a file, from the page cache it fills): about
// 0.04 s for 100 MB. 0 when r cannot be read.
func countLines(r io.ReaderAt, off, size int64) int64 {
	buf := make([]byte, 256<<10)
	n := int64(1) // the last line needs no line end
	for end := off + size; off < end; {
		m, err := r.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		n += int64(bytes.Count(buf[:m], []byte{'\n'}))
		off += int64(m)
		if err != nil && (err != io.EOF || off < end) {
			return 0
		}
	}
	return n
}

// ReadFile reads the ledger file at path; errors name the path.
func ReadFile(path string) ([]recon.Entry, []Reject, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read ledger: %w", err)
	}
	defer f.Close()
	entries, rejects, err := Read(f)
	if err != nil {
		return nil, nil, fmt.Errorf("read ledger %s: %w", path, err)
	}
	return entries, rejects, nil
}
