package parse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/lianlian-recon/reconcile/recon"
)

// DefaultMaxLineBytes is the line bound when DetailReader.MaxLineBytes is 0.
const DefaultMaxLineBytes = 64 << 10

// maxParts is how many comma-separated parts a line is split into; the last
// part keeps any further commas. 20 covers the 19-column cross-border layout
// and a 17-field FKMX row with the seed's extra empty field.
const maxParts = 20

// rawPrefix bounds the text an over-long line's ParseError keeps.
const rawPrefix = 256

// fieldNames are the SPEC §2.3 names of fields 1–14, used in ParseError.Field.
var fieldNames = [14]string{
	"no_order", "oid_partner", "dt_order", "busi_partner", "oid_paybill",
	"settle_date", "amount", "direction", "status", "updated_at", "fee",
	"product", "pay_method", "info_order",
}

// DetailReader streams the rows of one JYMX or FKMX file (SPEC §2.2, §2.3).
// Memory is bounded by the line limit, not by the file size.
//
// Encoding (SPEC §2.2: valid UTF-8 is UTF-8, anything else GB18030) is
// decided once, on the first window of the file that holds a non-ASCII byte:
// the buffered bytes (up to 64 KiB, cut at a line end) are checked as a
// whole, so one line that happens to be valid UTF-8 does not decide a GBK
// file. Until such a byte appears the text is ASCII and reads the same
// either way. A streaming reader cannot go back: if a file decided as UTF-8
// later holds a line that is not valid UTF-8, that line alone is decoded as
// GB18030 with a row warning, and Mixed reports it (Read then re-reads a
// seekable input whole as GB18030, which is the SPEC's rule exactly).
type DetailReader struct {
	// MaxLineBytes bounds one line, without its line ending; 0 means
	// DefaultMaxLineBytes. A longer line is a *ParseError wrapping
	// ErrLineTooLong: the reader skips to the next newline without holding
	// the line, and goes on.
	MaxLineBytes int

	// ForceEncoding, when one of the recon.Encoding constants, skips
	// detection; anything else detects. A UTF-8 BOM is stripped and
	// reported unless GB18030 is forced.
	ForceEncoding string

	src  io.Reader
	name recon.FileName
	br   *bufio.Reader
	max  int

	line      int
	enc       string // "" while everything read was ASCII
	mixed     int    // lines decoded as GB18030 in a file decided as UTF-8
	seenFirst bool   // the first non-blank line was looked at (title row)
	seenData  bool   // the first data line was looked at (cross-border)
	titleLine int
	warnings  []string
	fatal     error

	interned []map[string]string // per field of shared, value → the one copy kept (slow path)
	metas    recon.Metas
	fast     fastState
	// slowOnly reads every line the slow way, from its decoded text: the
	// tests compare the fast path with it.
	slowOnly bool
	// lean makes every good row lean (recon.Row.Lean: RowText nil), and
	// spares the fast path what only RowText needs: the text fields 12–17
	// are neither decoded nor cut out, nor are row warnings made. Every
	// check on fields 1–11, the encoding (lineEncoding still sees every
	// byte) and the file-level results are as without it.
	lean   bool
	leanSt leanState
	// sharedText makes the fast path hand every row the same RowText,
	// overwritten by the next row: for a caller that copies what it keeps
	// before it reads on (ScanFile), a RowText per row would be garbage,
	// 150 bytes a row.
	sharedText bool

	dec    transform.Transformer
	buf    []byte
	pstart [maxParts]int
	pend   [maxParts]int
}

// NewDetailReader returns a reader of the detail file r whose name was
// parsed as name (its Kind decides the FKMX 17-field layout, its Name is
// put in every row and error).
func NewDetailReader(r io.Reader, name recon.FileName) *DetailReader {
	return &DetailReader{src: r, name: name}
}

// Encoding is the detected encoding, one of the recon.Encoding constants.
// It is final once a non-ASCII byte has been read; a file that is ASCII
// throughout reports UTF-8.
func (d *DetailReader) Encoding() string {
	if d.enc == "" {
		return recon.EncodingUTF8
	}
	return d.enc
}

// TitleLine is the line of a skipped title row, 0 if none.
func (d *DetailReader) TitleLine() int { return d.titleLine }

// Warnings are file-level notes so far: a skipped title row, lines decoded
// as GB18030 in a UTF-8 file.
func (d *DetailReader) Warnings() []string {
	w := d.warnings
	if d.mixed > 0 {
		w = append(w[:len(w):len(w)], fmt.Sprintf("%d line(s) not valid UTF-8 in a UTF-8 file were decoded as GB18030", d.mixed))
	}
	return w
}

// Mixed reports lines decoded as GB18030 in a file decided as UTF-8.
func (d *DetailReader) Mixed() bool { return d.mixed > 0 }

func (d *DetailReader) start() {
	d.max = d.MaxLineBytes
	if d.max <= 0 {
		d.max = DefaultMaxLineBytes
	}
	size := d.max + 2 // the line and "\r\n"
	if size < 64<<10 {
		size = 64 << 10
	}
	// The sticky reader repeats an error that Peek here would swallow;
	// Peek waits for a full buffer or the end of the input.
	d.br = bufio.NewReaderSize(&stickyReader{r: d.src}, size)
	head, _ := d.br.Peek(size)
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		d.br.Discard(3)
		if d.ForceEncoding != recon.EncodingGB18030 {
			d.enc = recon.EncodingUTF8BOM
			return
		}
	}
	switch d.ForceEncoding {
	case recon.EncodingUTF8, recon.EncodingUTF8BOM:
		d.enc = recon.EncodingUTF8
		return
	case recon.EncodingGB18030:
		d.enc = recon.EncodingGB18030
		return
	}
	d.enc = decide(head, len(head) < size)
}

// decide judges a window of the file: "" if it is all ASCII, else UTF-8 if
// it is valid UTF-8, else GB18030. A window that is not the end of the file
// is cut at its last line end so that a rune split by the cut is no reason
// to call the file GB18030.
func decide(p []byte, atEOF bool) string {
	ascii := true
	for _, c := range p {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return ""
	}
	if !atEOF {
		if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
			p = p[:i]
		} else {
			for k := 0; k < 3 && len(p) > 0 && !utf8.RuneStart(p[len(p)-1]); k++ {
				p = p[:len(p)-1]
			}
			if len(p) > 0 && p[len(p)-1] >= utf8.RuneSelf {
				p = p[:len(p)-1]
			}
		}
	}
	if utf8.Valid(p) {
		return recon.EncodingUTF8
	}
	return recon.EncodingGB18030
}

// Read returns the next good row, io.EOF at the end, a *ParseError for a
// malformed line (record it and call Read again), or a fatal error
// (ErrCrossBorder, an I/O error) that every later call returns too.
func (d *DetailReader) Read() (recon.Row, error) {
	if d.fatal != nil {
		return recon.Row{}, d.fatal
	}
	if d.br == nil {
		d.start()
	}
	for {
		raw, tooLong, err := d.readLine()
		if err != nil {
			d.fatal = err
			return recon.Row{}, err
		}
		d.line++
		if tooLong {
			text := d.decodePrefix(raw)
			return recon.Row{}, &ParseError{File: d.name.Name, Line: d.line, Raw: text + "…",
				Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, d.max)}
		}
		if isBlank(raw) {
			continue
		}
		fast := d.seenData && !d.slowOnly
		leanTried := false
		if fast && d.lean && d.enc != "" && (d.enc == recon.EncodingGB18030 || utf8.Valid(raw)) {
			// lineEncoding would decide and count nothing for this line:
			// it is of a GB18030 file, or valid UTF-8 in a UTF-8 file.
			leanTried = true
			if row, ok := d.leanRow(raw); ok {
				return row, nil
			}
		}
		ascii, gb, rowWarn := d.lineEncoding(raw)
		if fast && d.lean && !gb && !leanTried {
			if row, ok := d.leanRow(raw); ok {
				return row, nil
			}
		}
		if fast {
			// Nearly every line is a good row: fastRow reads it from the
			// raw bytes. Whatever it does not take (the first lines, a
			// malformed line, a field that needs the decoded line) is read
			// below from the decoded text, as it always was.
			if row, ok := d.fastRow(raw, ascii, gb, rowWarn); ok {
				return row, nil
			}
		}
		text := d.convert(raw, ascii, gb)
		n, more := d.split(text)
		if !d.seenFirst {
			d.seenFirst = true
			if d.isTitle(text, n) {
				if n >= 19 && namesCurrency(text) {
					return recon.Row{}, d.crossBorder("its title row names a currency column")
				}
				d.titleLine = d.line
				d.warnings = append(d.warnings, fmt.Sprintf("line %d: title row skipped", d.line))
				continue
			}
		}
		if !d.seenData {
			d.seenData = true
			if code, ok := d.crossBorderRow(text, n); ok {
				return recon.Row{}, d.crossBorder(fmt.Sprintf("line %d has 19 or more fields and the currency code %q", d.line, code))
			}
		}
		row, perr := d.row(text, n, more)
		if perr != nil {
			perr.File, perr.Line, perr.Raw = d.name.Name, d.line, text
			return recon.Row{}, perr
		}
		if d.lean {
			return row.Lean(), nil
		}
		if rowWarn != "" {
			row.Warnings = append(row.Warnings, rowWarn)
		}
		return row, nil
	}
}

func (d *DetailReader) crossBorder(why string) error {
	d.fatal = fmt.Errorf("parse %s: %w: %s; this is LianLian's cross-border report, not the domestic statement", d.name.Name, ErrCrossBorder, why)
	return d.fatal
}

// readLine returns the next line without its line ending. An over-long
// line is skipped to its newline and returned as a bounded prefix.
func (d *DetailReader) readLine() (line []byte, tooLong bool, err error) {
	line, err = d.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		prefix := bytes.Clone(line[:min(len(line), rawPrefix)])
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = d.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		return prefix, true, nil
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, false, io.EOF
		}
	} else if err != nil {
		return nil, false, err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > d.max {
		return bytes.Clone(line[:min(len(line), rawPrefix)]), true, nil
	}
	return line, false, nil
}

func isBlank(p []byte) bool {
	for _, c := range p {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// lineEncoding judges a raw line: raw[:ascii] is ASCII (ascii is len(raw)
// for an ASCII line), and gb reports that the rest is GB18030, else it is
// valid UTF-8. It decides the encoding on the first non-ASCII line when the
// head of the file was all ASCII, and counts a line that is not valid UTF-8
// in a UTF-8 file (decoded as GB18030, with the row warning returned).
func (d *DetailReader) lineEncoding(raw []byte) (ascii int, gb bool, warning string) {
	i := asciiPrefix(raw)
	if i == len(raw) {
		return i, false, ""
	}
	if d.enc == "" {
		d.enc = recon.EncodingGB18030
		if utf8.Valid(raw) {
			rest, _ := d.br.Peek(d.br.Buffered()) // no fill: raw stays valid
			if e := decide(rest, false); e != recon.EncodingGB18030 {
				d.enc = recon.EncodingUTF8
			}
		}
	}
	if d.enc != recon.EncodingGB18030 {
		if utf8.Valid(raw[i:]) {
			return i, false, ""
		}
		d.mixed++
		warning = "line is not valid UTF-8: decoded as GB18030"
	}
	return i, true, warning
}

// asciiPrefix is the length of the ASCII start of p.
func asciiPrefix(p []byte) int {
	i := 0
	for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
		i += 8
	}
	for i < len(p) && p[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// convert decodes a raw line judged by lineEncoding into text.
func (d *DetailReader) convert(raw []byte, ascii int, gb bool) string {
	if !gb {
		return string(raw)
	}
	d.buf = appendGB18030(append(d.buf[:0], raw[:ascii]...), raw[ascii:], d.decoder())
	return string(d.buf)
}

// decodePrefix decodes the kept prefix of an over-long line for its
// error. It decides nothing: the prefix may end inside a character.
func (d *DetailReader) decodePrefix(raw []byte) string {
	if d.enc == recon.EncodingGB18030 {
		if d.dec == nil {
			d.dec = simplifiedchinese.GB18030.NewDecoder()
		}
		return string(appendGB18030(nil, raw, d.dec))
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// split finds the comma-separated parts of text: part k is
// text[d.pstart[k]:d.pend[k]]. It returns the number of parts (at most
// maxParts) and whether the last part still holds commas. Offsets, not
// substrings, are kept in the reader: storing a string in a heap struct
// costs a write barrier while the collector runs.
func (d *DetailReader) split(text string) (n int, more bool) {
	return splitParts(text, &d.pstart, &d.pend)
}

// part is the untrimmed part k of the line split last.
func (d *DetailReader) part(text string, k int) string {
	return text[d.pstart[k]:d.pend[k]]
}

// columnNames are words a title row holds (seed §5.2 and the English names
// public parsers print); one is enough.
var columnNames = []string{"商户订单号", "商户号", "订单号", "no_order", "oid_partner", "dt_order"}

// isTitle reports a first line whose merchant field is not 18 digits and
// that names columns (SPEC §2.2).
func (d *DetailReader) isTitle(text string, n int) bool {
	if n >= 2 {
		if m, _ := clean(d.part(text, 1)); len(m) == 18 && allDigits(m) {
			return false
		}
	}
	lower := strings.ToLower(text)
	for _, c := range columnNames {
		if strings.Contains(lower, c) {
			return true
		}
	}
	return false
}

// plainStart and plainEnd report a non-empty s that starts (ends) with
// neither white space nor a double quote.
func plainStart(s string) bool {
	if c := s[0]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeRuneInString(s)
	return !unicode.IsSpace(r)
}

func plainEnd(s string) bool {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return !unicode.IsSpace(r)
}

func namesCurrency(text string) bool {
	return strings.Contains(text, "币种") || strings.Contains(strings.ToLower(text), "currency")
}

// currencies are ISO 4217 codes the cross-border report may print.
var currencies = map[string]bool{
	"CNY": true, "USD": true, "HKD": true, "EUR": true, "GBP": true, "JPY": true,
	"AUD": true, "CAD": true, "SGD": true, "KRW": true, "TWD": true, "MOP": true,
	"CHF": true, "NZD": true, "THB": true, "MYR": true, "RUB": true, "SEK": true,
	"DKK": true, "NOK": true, "INR": true, "PHP": true, "IDR": true, "VND": true,
	"AED": true, "SAR": true, "BRL": true, "MXN": true, "ZAR": true, "CNH": true,
}

// crossBorderRow reports the first data line of the cross-border layout: at
// least 19 fields, field 10 not a timestamp (so not a domestic row whose
// info_order has commas, nor the seed's extra empty field), and a currency
// code as a whole field among the first 19.
func (d *DetailReader) crossBorderRow(text string, n int) (string, bool) {
	if n < 19 {
		return "", false
	}
	f10, _ := clean(d.part(text, 9))
	f11, _ := clean(d.part(text, 10))
	if validTimestamp(f10) || (f10 == "" && validTimestamp(f11)) {
		return "", false
	}
	for k := 0; k < 19; k++ {
		if f, _ := clean(d.part(text, k)); len(f) == 3 && currencies[f] {
			return f, true
		}
	}
	return "", false
}

// clean trims white space and unquotes a field (SPEC §2.3): "x" → x; a
// lone quote at one end is dropped and stray is true. Only ASCII '"' counts.
func clean(s string) (v string, stray bool) {
	if n := len(s); n > 0 {
		// The common case, kept small enough to inline: ASCII ends that
		// are neither space nor quote.
		if c, e := s[0], s[n-1]; c > ' ' && c != '"' && c < utf8.RuneSelf && e > ' ' && e != '"' && e < utf8.RuneSelf {
			return s, false
		}
	}
	return cleanSlow(s)
}

func cleanSlow(s string) (v string, stray bool) {
	if s != "" && plainStart(s) && plainEnd(s) {
		return s, false
	}
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		if strings.Contains(s, `""`) {
			s = strings.ReplaceAll(s, `""`, `"`)
		}
		return strings.TrimSpace(s), false
	}
	if len(s) > 0 && s[0] == '"' {
		return strings.TrimSpace(s[1:]), true
	}
	if len(s) > 0 && s[len(s)-1] == '"' {
		return strings.TrimSpace(s[:len(s)-1]), true
	}
	return s, false
}

// row reads the split line into a Row. The returned *ParseError has Field
// and Err set; the caller adds the position.
func (d *DetailReader) row(text string, n int, more bool) (recon.Row, *ParseError) {
	if n < 14 {
		return recon.Row{}, &ParseError{Err: fmt.Errorf("%w: got %d, want 14", ErrFieldCount, n)}
	}
	var warn []string
	// The seed's second example row has an empty field between status and
	// updated_at (SPEC §2.3): drop it when field 11 then holds the time.
	if n >= 15 {
		if f10, _ := clean(d.part(text, 9)); f10 == "" {
			if f11, _ := clean(d.part(text, 10)); validTimestamp(f11) {
				copy(d.pstart[9:n], d.pstart[10:n])
				copy(d.pend[9:n], d.pend[10:n])
				n--
				warn = append(warn, "extra empty field between status and updated_at dropped")
			}
		}
	}
	// A RowMeta of its own until compact interns its strings and shares it.
	r := recon.Row{RowMeta: &recon.RowMeta{File: d.name.Name}, Line: d.line, RowText: &recon.RowText{}}
	var f [14]string
	for k := 0; k < 13; k++ {
		v, stray := clean(d.part(text, k))
		if stray {
			warn = append(warn, "field "+fieldNames[k]+": stray double quote dropped")
		}
		f[k] = v
	}
	info := text[d.pstart[13]:]
	if d.name.Kind == recon.FileFKMX && n == 17 && !more {
		info = d.part(text, 13)
		var payee [3]string
		for k := range payee {
			v, stray := clean(d.part(text, 14+k))
			if stray {
				warn = append(warn, fmt.Sprintf("field %d: stray double quote dropped", 15+k))
			}
			payee[k] = v
		}
		r.PayeeBank, r.PayeeAccount, r.PayeeName = payee[0], payee[1], payee[2]
	}
	v, stray := clean(info)
	if stray {
		warn = append(warn, "field info_order: stray double quote dropped")
	}
	f[13] = v

	bad := func(k int, err error) (recon.Row, *ParseError) {
		return recon.Row{}, &ParseError{Field: fieldNames[k], Err: err}
	}
	if f[0] == "" || len(f[0]) > 32 && utf8.RuneCountInString(f[0]) > 32 {
		return bad(0, fmt.Errorf("%w: no_order %q is empty or longer than 32 characters", ErrBadField, f[0]))
	}
	if len(f[1]) != 18 || !allDigits(f[1]) {
		return bad(1, fmt.Errorf("%w %q: not 18 digits", ErrBadMerchant, f[1]))
	}
	if !validTimestamp(f[2]) {
		return bad(2, fmt.Errorf("%w %q: want yyyymmdd hh:mm:ss", ErrBadDate, f[2]))
	}
	if !allDigits(f[3]) {
		return bad(3, fmt.Errorf("%w: busi_partner %q is not a number", ErrBadField, f[3]))
	}
	if f[4] == "" || len(f[4]) > 32 && utf8.RuneCountInString(f[4]) > 32 {
		return bad(4, fmt.Errorf("%w: oid_paybill %q is empty or longer than 32 characters", ErrBadField, f[4]))
	}
	if !validDate8(f[5]) {
		return bad(5, fmt.Errorf("%w %q: want yyyymmdd", ErrBadDate, f[5]))
	}
	amount, err := recon.ParseYuan(f[6])
	if err != nil {
		return bad(6, err)
	}
	switch f[7] {
	case "0":
	case "1":
		r.Direction = 1
	default:
		return bad(7, fmt.Errorf("%w %q: want 0 or 1", ErrBadDirection, f[7]))
	}
	switch f[8] {
	case "0":
	case "5":
		r.Status = 5
	default:
		return bad(8, fmt.Errorf("%w %q: want 0 or 5", ErrBadStatus, f[8]))
	}
	if !validTimestamp(f[9]) {
		return bad(9, fmt.Errorf("%w %q: want yyyymmdd hh:mm:ss", ErrBadDate, f[9]))
	}
	fee, err := recon.ParseYuan(f[10])
	if err != nil {
		return bad(10, err)
	}
	r.NoOrder, r.OidPartner, r.DtOrder, r.BusiPartner = f[0], f[1], f[2], f[3]
	r.OidPaybill, r.SettleDate, r.Amount, r.UpdatedAt = f[4], f[5], amount, f[9]
	r.Fee, r.Product, r.PayMethod, r.InfoOrder = fee, f[11], f[12], f[13]
	r.Kind = recon.Classify(r.Direction, r.Amount)
	r.Warnings = warn
	d.compact(&r)
	return r, nil
}

// internMax bounds the distinct values kept per field.
const internMax = 1 << 16

// compact makes r hold no reference to the decoded line, which is most of
// a row's memory when a whole file is held (a million rows: 170 MB of
// lines). Fields that repeat across rows (merchant, dates, product, …)
// become one shared string each; the rest are copied into one small
// allocation. The values are unchanged.
func (d *DetailReader) compact(r *recon.Row) {
	if d.interned == nil {
		d.interned = make([]map[string]string, len(d.shared(r)))
	}
	for k, p := range d.shared(r) {
		if *p == "" {
			continue
		}
		m := d.interned[k]
		if m == nil {
			m = make(map[string]string)
			d.interned[k] = m
		}
		if v, ok := m[*p]; ok {
			*p = v
		} else if len(m) < internMax {
			v = strings.Clone(*p)
			m[v] = v
			*p = v
		} else {
			*p = strings.Clone(*p)
		}
	}
	// Order and paybill numbers are unique: one allocation for both.
	both := r.NoOrder + r.OidPaybill
	r.NoOrder, r.OidPaybill = both[:len(r.NoOrder)], both[len(r.NoOrder):]
	m := r.RowMeta
	r.RowMeta = d.metas.Get(m.File, m.OidPartner, m.BusiPartner, m.SettleDate)
}

// shared lists the fields of r whose values usually repeat.
func (d *DetailReader) shared(r *recon.Row) [11]*string {
	return [11]*string{&r.OidPartner, &r.DtOrder, &r.BusiPartner, &r.SettleDate, &r.UpdatedAt,
		&r.Product, &r.PayMethod, &r.InfoOrder, &r.PayeeBank, &r.PayeeAccount, &r.PayeeName}
}

// stickyReader returns its first error again on every later call.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}
