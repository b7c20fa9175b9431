package parse

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/recon"
)

// maxSummaryBytes bounds a summary file: it holds one short line.
const maxSummaryBytes = 64 << 10

// ReadSummary reads a JYMXSUM or FKMXSUM file (SPEC §2.5): one line of
// seven figures split on '|', blank lines skipped, white space around a
// figure trimmed. An empty amount whose count is 0 reads as 0 (LianLian's
// public document prints "8|8|551.23|0||0|"). Amounts are kept with the
// sign the file prints. Anything but exactly one non-blank line of seven
// valid figures is a *ParseError; other errors are I/O errors. The second
// result is the detected encoding.
func ReadSummary(r io.Reader, name recon.FileName) (recon.Summary, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSummaryBytes+1))
	if err != nil {
		return recon.Summary{}, "", fmt.Errorf("read %s: %w", name.Name, err)
	}
	enc := recon.EncodingUTF8
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		enc = recon.EncodingUTF8BOM
		data = data[3:]
	case !utf8.Valid(data):
		enc = recon.EncodingGB18030
	}
	if len(data) > maxSummaryBytes {
		return recon.Summary{}, enc, &ParseError{File: name.Name, Line: 1, Raw: decodeSummary(data[:rawPrefix], enc) + "…",
			Err: fmt.Errorf("%w: summary file larger than %d bytes", ErrLineTooLong, maxSummaryBytes)}
	}
	var line int
	var text string
	for n, raw := range bytes.Split(data, []byte("\n")) {
		t := strings.TrimSpace(decodeSummary(raw, enc))
		if t == "" {
			continue
		}
		if line != 0 {
			return recon.Summary{}, enc, &ParseError{File: name.Name, Line: n + 1, Raw: t,
				Err: fmt.Errorf("%w: a second non-blank line; a summary file holds one", ErrFieldCount)}
		}
		line, text = n+1, t
	}
	if line == 0 {
		return recon.Summary{}, enc, &ParseError{File: name.Name, Line: 1,
			Err: fmt.Errorf("%w: no summary line", ErrFieldCount)}
	}
	s, field, err := parseFigures(text)
	if err != nil {
		return recon.Summary{}, enc, &ParseError{File: name.Name, Line: line, Field: field, Raw: text, Err: err}
	}
	return s, enc, nil
}

func decodeSummary(raw []byte, enc string) string {
	if enc == recon.EncodingGB18030 {
		b, err := simplifiedchinese.GB18030.NewDecoder().Bytes(raw)
		if err == nil {
			return string(b)
		}
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// parseFigures reads "a|b|c|d|e|f|g"; on error it names the figure.
func parseFigures(text string) (recon.Summary, string, error) {
	parts := strings.Split(text, "|")
	if len(parts) != 7 {
		return recon.Summary{}, "", fmt.Errorf("%w: got %d figures, want 7", ErrFieldCount, len(parts))
	}
	var v [7]int64
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !recon.IsAmountFigure(i) {
			if len(p) > 18 || !allDigits(p) {
				return recon.Summary{}, recon.SummaryFigures[i], fmt.Errorf("%w: count %q is not a whole number", ErrBadField, p)
			}
			v[i] = int64(num(p, 0, len(p)))
			continue
		}
		if p == "" && v[i-1] == 0 {
			continue // an amount whose count is 0 may be empty (SPEC §2.5)
		}
		f, err := recon.ParseYuan(p)
		if err != nil {
			return recon.Summary{}, recon.SummaryFigures[i], err
		}
		v[i] = int64(f)
	}
	return recon.Summary{
		TotalCount: v[0], SuccessCount: v[1], SuccessAmount: recon.Fen(v[2]),
		RefundCount: v[3], RefundAmount: recon.Fen(v[4]),
		RevokeCount: v[5], RevokeAmount: recon.Fen(v[6]),
	}, "", nil
}
