// This file is the detail reader as it was before the fast path (commit
// 8364c21), kept verbatim with its names prefixed "ref": FuzzDetailSame
// checks that DetailReader says exactly what it said, for any input.

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

// refDefaultMaxLineBytes is the line bound when refReader.MaxLineBytes is 0.
const refDefaultMaxLineBytes = 64 << 10

// refMaxParts is how many comma-separated parts a line is split into; the last
// part keeps any further commas. 20 covers the 19-column cross-border layout
// and a 17-field FKMX row with the seed's extra empty field.
const refMaxParts = 20

// refRawPrefix bounds the text an over-long line's ParseError keeps.
const refRawPrefix = 256

// refFieldNames are the SPEC §2.3 names of fields 1–14, used in ParseError.Field.
var refFieldNames = [14]string{
	"no_order", "oid_partner", "dt_order", "busi_partner", "oid_paybill",
	"settle_date", "amount", "direction", "status", "updated_at", "fee",
	"product", "pay_method", "info_order",
}

// refReader streams the rows of one JYMX or FKMX file (SPEC §2.2, §2.3).
// Memory is bounded by the line limit, not by the file size.
//
// Encoding (SPEC §2.2: valid UTF-8 is UTF-8, anything else GB18030) is
// decided once, on the first window of the file that holds a non-ASCII byte:
// the buffered bytes (up to 64 KiB, cut at a line end) are checked as a
// whole, so one line that happens to be valid UTF-8 does not refDecide a GBK
// file. Until such a byte appears the text is ASCII and reads the same
// either way. A streaming reader cannot go back: if a file decided as UTF-8
// later holds a line that is not valid UTF-8, that line alone is decoded as
// GB18030 with a row warning, and Mixed reports it (Read then re-reads a
// seekable input whole as GB18030, which is the SPEC's rule exactly).
type refReader struct {
	// MaxLineBytes bounds one line, without its line ending; 0 means
	// refDefaultMaxLineBytes. A longer line is a *ParseError wrapping
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

	interned []map[string]string // per field of shared, value → the one copy kept

	dec    transform.Transformer
	buf    []byte
	pstart [refMaxParts]int
	pend   [refMaxParts]int
}

// newRefReader returns a reader of the detail file r whose name was
// parsed as name (its Kind decides the FKMX 17-field layout, its Name is
// put in every row and error).
func newRefReader(r io.Reader, name recon.FileName) *refReader {
	return &refReader{src: r, name: name}
}

// Encoding is the detected encoding, one of the recon.Encoding constants.
// It is final once a non-ASCII byte has been read; a file that is ASCII
// throughout reports UTF-8.
func (d *refReader) Encoding() string {
	if d.enc == "" {
		return recon.EncodingUTF8
	}
	return d.enc
}

// TitleLine is the line of a skipped title row, 0 if none.
func (d *refReader) TitleLine() int { return d.titleLine }

// Warnings are file-level notes so far: a skipped title row, lines decoded
// as GB18030 in a UTF-8 file.
func (d *refReader) Warnings() []string {
	w := d.warnings
	if d.mixed > 0 {
		w = append(w[:len(w):len(w)], fmt.Sprintf("%d line(s) not valid UTF-8 in a UTF-8 file were decoded as GB18030", d.mixed))
	}
	return w
}

// Mixed reports lines decoded as GB18030 in a file decided as UTF-8.
func (d *refReader) Mixed() bool { return d.mixed > 0 }

func (d *refReader) start() {
	d.max = d.MaxLineBytes
	if d.max <= 0 {
		d.max = refDefaultMaxLineBytes
	}
	size := d.max + 2 // the line and "\r\n"
	if size < 64<<10 {
		size = 64 << 10
	}
	// The sticky reader repeats an error that Peek here would swallow;
	// Peek waits for a full buffer or the end of the input.
	d.br = bufio.NewReaderSize(&refStickyReader{r: d.src}, size)
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
	d.enc = refDecide(head, len(head) < size)
}

// refDecide judges a window of the file: "" if it is all ASCII, else UTF-8 if
// it is valid UTF-8, else GB18030. A window that is not the end of the file
// is cut at its last line end so that a rune split by the cut is no reason
// to call the file GB18030.
func refDecide(p []byte, atEOF bool) string {
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
func (d *refReader) Read() (recon.Row, error) {
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
		if refIsBlank(raw) {
			continue
		}
		text, rowWarn := d.decode(raw)
		n, more := d.split(text)
		if !d.seenFirst {
			d.seenFirst = true
			if d.isTitle(text, n) {
				if n >= 19 && refNamesCurrency(text) {
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
		if rowWarn != "" {
			row.Warnings = append(row.Warnings, rowWarn)
		}
		return row, nil
	}
}

func (d *refReader) crossBorder(why string) error {
	d.fatal = fmt.Errorf("parse %s: %w: %s; this is LianLian's cross-border report, not the domestic statement", d.name.Name, ErrCrossBorder, why)
	return d.fatal
}

// readLine returns the next line without its line ending. An over-long
// line is skipped to its newline and returned as a bounded prefix.
func (d *refReader) readLine() (line []byte, tooLong bool, err error) {
	line, err = d.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		prefix := bytes.Clone(line[:min(len(line), refRawPrefix)])
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
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > d.max {
		return bytes.Clone(line[:min(len(line), refRawPrefix)]), true, nil
	}
	return line, false, nil
}

func refIsBlank(p []byte) bool {
	for _, c := range p {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// decode turns a raw line into text, deciding the encoding on the first
// non-ASCII line when the head of the file was all ASCII.
func (d *refReader) decode(raw []byte) (text, warning string) {
	i := 0
	for i+8 <= len(raw) && binary.LittleEndian.Uint64(raw[i:])&0x8080808080808080 == 0 {
		i += 8
	}
	for i < len(raw) && raw[i] < utf8.RuneSelf {
		i++
	}
	if i == len(raw) {
		return string(raw), ""
	}
	if d.enc == "" {
		d.enc = recon.EncodingGB18030
		if utf8.Valid(raw) {
			rest, _ := d.br.Peek(d.br.Buffered()) // no fill: raw stays valid
			if e := refDecide(rest, false); e != recon.EncodingGB18030 {
				d.enc = recon.EncodingUTF8
			}
		}
	}
	if d.enc != recon.EncodingGB18030 {
		if utf8.Valid(raw[i:]) {
			return string(raw), ""
		}
		d.mixed++
		warning = "line is not valid UTF-8: decoded as GB18030"
	}
	if d.dec == nil {
		d.dec = simplifiedchinese.GB18030.NewDecoder()
	}
	d.buf = appendGB18030(append(d.buf[:0], raw[:i]...), raw[i:], d.dec)
	return string(d.buf), warning
}

// decodePrefix decodes the kept prefix of an over-long line for its
// error. It decides nothing: the prefix may end inside a character.
func (d *refReader) decodePrefix(raw []byte) string {
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
// refMaxParts) and whether the last part still holds commas. Offsets, not
// substrings, are kept in the reader: storing a string in a heap struct
// costs a write barrier while the collector runs.
func (d *refReader) split(text string) (n int, more bool) {
	d.pstart[0] = 0
	for i := 0; i < len(text); i++ {
		if text[i] == ',' {
			if n == refMaxParts-1 {
				more = true
				break
			}
			d.pend[n] = i
			n++
			d.pstart[n] = i + 1
		}
	}
	d.pend[n] = len(text)
	return n + 1, more
}

// part is the untrimmed part k of the line split last.
func (d *refReader) part(text string, k int) string {
	return text[d.pstart[k]:d.pend[k]]
}

// refColumnNames are words a title row holds (seed §5.2 and the English names
// public parsers print); one is enough.
var refColumnNames = []string{"商户订单号", "商户号", "订单号", "no_order", "oid_partner", "dt_order"}

// isTitle reports a first line whose merchant field is not 18 digits and
// that names columns (SPEC §2.2).
func (d *refReader) isTitle(text string, n int) bool {
	if n >= 2 {
		if m, _ := refClean(d.part(text, 1)); len(m) == 18 && refAllDigits(m) {
			return false
		}
	}
	lower := strings.ToLower(text)
	for _, c := range refColumnNames {
		if strings.Contains(lower, c) {
			return true
		}
	}
	return false
}

// refPlainStart and refPlainEnd report a non-empty s that starts (ends) with
// neither white space nor a double quote.
func refPlainStart(s string) bool {
	if c := s[0]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeRuneInString(s)
	return !unicode.IsSpace(r)
}

func refPlainEnd(s string) bool {
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return c > ' ' && c != '"'
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return !unicode.IsSpace(r)
}

func refNamesCurrency(text string) bool {
	return strings.Contains(text, "币种") || strings.Contains(strings.ToLower(text), "currency")
}

// refCurrencies are ISO 4217 codes the cross-border report may print.
var refCurrencies = map[string]bool{
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
func (d *refReader) crossBorderRow(text string, n int) (string, bool) {
	if n < 19 {
		return "", false
	}
	f10, _ := refClean(d.part(text, 9))
	f11, _ := refClean(d.part(text, 10))
	if refValidTimestamp(f10) || (f10 == "" && refValidTimestamp(f11)) {
		return "", false
	}
	for k := 0; k < 19; k++ {
		if f, _ := refClean(d.part(text, k)); len(f) == 3 && refCurrencies[f] {
			return f, true
		}
	}
	return "", false
}

// refClean trims white space and unquotes a field (SPEC §2.3): "x" → x; a
// lone quote at one end is dropped and stray is true. Only ASCII '"' counts.
func refClean(s string) (v string, stray bool) {
	if n := len(s); n > 0 {
		// The common case, kept small enough to inline: ASCII ends that
		// are neither space nor quote.
		if c, e := s[0], s[n-1]; c > ' ' && c != '"' && c < utf8.RuneSelf && e > ' ' && e != '"' && e < utf8.RuneSelf {
			return s, false
		}
	}
	return refCleanSlow(s)
}

func refCleanSlow(s string) (v string, stray bool) {
	if s != "" && refPlainStart(s) && refPlainEnd(s) {
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
func (d *refReader) row(text string, n int, more bool) (recon.Row, *ParseError) {
	if n < 14 {
		return recon.Row{}, &ParseError{Err: fmt.Errorf("%w: got %d, want 14", ErrFieldCount, n)}
	}
	var warn []string
	// The seed's second example row has an empty field between status and
	// updated_at (SPEC §2.3): drop it when field 11 then holds the time.
	if n >= 15 {
		if f10, _ := refClean(d.part(text, 9)); f10 == "" {
			if f11, _ := refClean(d.part(text, 10)); refValidTimestamp(f11) {
				copy(d.pstart[9:n], d.pstart[10:n])
				copy(d.pend[9:n], d.pend[10:n])
				n--
				warn = append(warn, "extra empty field between status and updated_at dropped")
			}
		}
	}
	r := recon.Row{File: d.name.Name, Line: d.line, RowText: &recon.RowText{}}
	var f [14]string
	for k := 0; k < 13; k++ {
		v, stray := refClean(d.part(text, k))
		if stray {
			warn = append(warn, "field "+refFieldNames[k]+": stray double quote dropped")
		}
		f[k] = v
	}
	info := text[d.pstart[13]:]
	if d.name.Kind == recon.FileFKMX && n == 17 && !more {
		info = d.part(text, 13)
		var payee [3]string
		for k := range payee {
			v, stray := refClean(d.part(text, 14+k))
			if stray {
				warn = append(warn, fmt.Sprintf("field %d: stray double quote dropped", 15+k))
			}
			payee[k] = v
		}
		r.PayeeBank, r.PayeeAccount, r.PayeeName = payee[0], payee[1], payee[2]
	}
	v, stray := refClean(info)
	if stray {
		warn = append(warn, "field info_order: stray double quote dropped")
	}
	f[13] = v

	bad := func(k int, err error) (recon.Row, *ParseError) {
		return recon.Row{}, &ParseError{Field: refFieldNames[k], Err: err}
	}
	if f[0] == "" || len(f[0]) > 32 && utf8.RuneCountInString(f[0]) > 32 {
		return bad(0, fmt.Errorf("%w: no_order %q is empty or longer than 32 characters", ErrBadField, f[0]))
	}
	if len(f[1]) != 18 || !refAllDigits(f[1]) {
		return bad(1, fmt.Errorf("%w %q: not 18 digits", ErrBadMerchant, f[1]))
	}
	if !refValidTimestamp(f[2]) {
		return bad(2, fmt.Errorf("%w %q: want yyyymmdd hh:mm:ss", ErrBadDate, f[2]))
	}
	if !refAllDigits(f[3]) {
		return bad(3, fmt.Errorf("%w: busi_partner %q is not a number", ErrBadField, f[3]))
	}
	if f[4] == "" || len(f[4]) > 32 && utf8.RuneCountInString(f[4]) > 32 {
		return bad(4, fmt.Errorf("%w: oid_paybill %q is empty or longer than 32 characters", ErrBadField, f[4]))
	}
	if !refValidDate8(f[5]) {
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
	if !refValidTimestamp(f[9]) {
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

// refInternMax bounds the distinct values kept per field.
const refInternMax = 1 << 16

// compact makes r hold no reference to the decoded line, which is most of
// a row's memory when a whole file is held (a million rows: 170 MB of
// lines). Fields that repeat across rows (merchant, dates, product, …)
// become one shared string each; the rest are copied into one small
// allocation. The values are unchanged.
func (d *refReader) compact(r *recon.Row) {
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
		} else if len(m) < refInternMax {
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
}

// shared lists the fields of r whose values usually repeat.
func (d *refReader) shared(r *recon.Row) [11]*string {
	return [11]*string{&r.OidPartner, &r.DtOrder, &r.BusiPartner, &r.SettleDate, &r.UpdatedAt,
		&r.Product, &r.PayMethod, &r.InfoOrder, &r.PayeeBank, &r.PayeeAccount, &r.PayeeName}
}

// refStickyReader returns its first error again on every later call.
type refStickyReader struct {
	r   io.Reader
	err error
}

func (s *refStickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}
func refAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// refNum reads s[i:j] as a decimal number; s[i:j] must be digits.
func refNum(s string, i, j int) int {
	n := 0
	for ; i < j; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func refDaysIn(year, month int) int {
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

// refValidDate8 reports a real calendar date "yyyymmdd".
func refValidDate8(s string) bool {
	if len(s) != 8 || !refAllDigits(s) {
		return false
	}
	y, m, d := refNum(s, 0, 4), refNum(s, 4, 6), refNum(s, 6, 8)
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= refDaysIn(y, m)
}

// refValidTimestamp reports a real "yyyymmdd hh:mm:ss" (SPEC §2.3 fields 3, 10).
func refValidTimestamp(s string) bool {
	if len(s) != 17 || s[8] != ' ' || s[11] != ':' || s[14] != ':' {
		return false
	}
	if !refValidDate8(s[:8]) {
		return false
	}
	for _, p := range [3]int{9, 12, 15} {
		if s[p] < '0' || s[p] > '9' || s[p+1] < '0' || s[p+1] > '9' {
			return false
		}
	}
	return refNum(s, 9, 11) < 24 && refNum(s, 12, 14) < 60 && refNum(s, 15, 17) < 60
}
