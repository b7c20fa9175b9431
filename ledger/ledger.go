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
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

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

// entryKey is what makes an entry unique in the ledger and in the store.
type entryKey struct {
	oidPartner string
	kind       recon.Kind
	noOrder    string
}

// Reader reads ledger entries one at a time.
type Reader struct {
	csv    *csv.Reader
	header bool
	width  int           // number of header columns
	col    [nColumns]int // column → index in the record; -1 when an optional column is absent
	seen   map[entryKey]int
	err    error // a fatal error, returned again by every later Read
}

// NewReader reads a ledger from r. A UTF-8 byte order mark at the start is
// skipped.
func NewReader(r io.Reader) *Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	c := csv.NewReader(br)
	c.FieldsPerRecord = -1 // widths are checked per row: a short row is a reject, not the end
	c.ReuseRecord = true   // each record's strings are fresh; only the slice is reused
	return &Reader{csv: c, seen: make(map[entryKey]int)}
}

// readHeader reads the header row and maps the columns. Names are trimmed
// and compared case-insensitively; unknown columns are ignored.
func (r *Reader) readHeader() error {
	r.header = true
	rec, err := r.csv.Read()
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
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A quoting error spoils this record only.
			return recon.Entry{}, &ParseError{Line: pe.StartLine,
				Err: &FieldError{Err: fmt.Errorf("line %d, character %d: %w", pe.Line, pe.Column, pe.Err)}}
		}
		return recon.Entry{}, err
	}
	line, _ := r.csv.FieldPos(0)
	for _, cell := range rec {
		if !utf8.ValidString(cell) {
			return recon.Entry{}, fmt.Errorf("line %d: %w (save the ledger as UTF-8)", line, ErrNotUTF8)
		}
	}
	e, err := r.entry(rec)
	if err != nil {
		return recon.Entry{}, &ParseError{Line: line, Err: err}
	}
	k := entryKey{e.OidPartner, e.Kind, e.NoOrder}
	if first, dup := r.seen[k]; dup {
		return recon.Entry{}, &ParseError{Line: line, Err: &FieldError{Column: columnNames[colNoOrder], Value: e.NoOrder,
			Err: fmt.Errorf("%w: the same oid_partner, kind and no_order as line %d", ErrDuplicate, first)}}
	}
	r.seen[k] = line
	return e, nil
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
		return recon.Entry{}, &FieldError{Column: columnNames[c], Value: value, Err: err}
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
	if e.DtOrder, ok = normaliseTime(v); !ok {
		return bad(colDtOrder, v, fmt.Errorf("%w: want a real time as YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS", ErrInvalid))
	}
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
	switch s := recon.LedgerStatus(v); s {
	case recon.StatusSuccess, recon.StatusFailure, recon.StatusProcessing:
		e.Status = s
	default:
		return bad(colStatus, v, fmt.Errorf("%w: want SUCCESS, FAILURE or PROCESSING", ErrInvalid))
	}
	e.OrigNoOrder = cell(colOrigNoOrder)
	if e.Kind == recon.KindRefund && e.OrigNoOrder == "" {
		return bad(colOrigNoOrder, "", fmt.Errorf("%w: a refund needs the no_order of its payment", ErrEmpty))
	}
	e.OidPaybill = cell(colOidPaybill)
	v = cell(colOidPartner)
	if v != "" && !isDigits(v, 18) {
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

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normaliseTime accepts "YYYYMMDDHHMMSS" or "YYYY-MM-DD HH:MM:SS" naming a
// real moment and returns it as "yyyymmddhhmmss".
func normaliseTime(s string) (string, bool) {
	switch len(s) {
	case 14:
		if !isDigits(s, 14) {
			return "", false
		}
	case 19:
		if s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
			return "", false
		}
		s = s[0:4] + s[5:7] + s[8:10] + s[11:13] + s[14:16] + s[17:19]
		if !isDigits(s, 14) {
			return "", false
		}
	default:
		return "", false
	}
	num := func(i, j int) int {
		n := 0
		for _, c := range s[i:j] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(4, 6), num(6, 8)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		num(8, 10) > 23 || num(10, 12) > 59 || num(12, 14) > 59 {
		return "", false
	}
	return s, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Read reads a whole ledger: the good entries in file order and the
// rejected rows. The error is for a ledger that cannot be read at all.
func Read(r io.Reader) ([]recon.Entry, []Reject, error) {
	lr := NewReader(r)
	n := rowsHint(r)
	lr.seen = make(map[entryKey]int, n)
	entries := make([]recon.Entry, 0, n)
	var rejects []Reject
	for {
		e, err := lr.Read()
		if err == io.EOF {
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
			continue
		}
		entries = append(entries, e)
	}
}

// rowsHint guesses from the input's size how many rows a ledger holds, so
// that a large one fills its slice and duplicate index without growing them
// step by step. Rows are rarely shorter than 64 bytes, so the guess is low
// rather than wasteful; 0 when the size is unknown.
func rowsHint(r io.Reader) int {
	var size int64
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		size = int64(v.Len())
	case interface{ Stat() (os.FileInfo, error) }: // *os.File
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	return int(min(size/64, 10_000_000))
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
