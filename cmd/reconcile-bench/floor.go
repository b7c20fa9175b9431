package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/lianlian-recon/reconcile/recon"
)

// The floors: the least work any reader of the JYMX file must do, measured
// on the same file in the same invocation as the job, so the job's time can
// be read as a multiple of them (issue 6). They are not parsers: no title
// row, no quotes, no 15-field variant, no validation beyond the amounts.

// floorResult is what a floor read: rows, and the sum of fields 7 and 11 in
// fen (so the work cannot be optimised away, and a test can check it).
type floorResult struct {
	Rows   int
	Amount recon.Fen
	Fee    recon.Fen
}

// countLines counts '\n' bytes through a bufio.Reader: the I/O floor.
func countLines(r io.Reader) (floorResult, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	buf := make([]byte, 1<<20)
	var res floorResult
	for {
		n, err := br.Read(buf)
		res.Rows += bytes.Count(buf[:n], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
}

// splitRaw splits each line of the raw (GBK) bytes into 14 fields — field
// 14 is the rest of the line, commas included (SPEC §2.3) — and converts
// fields 7 and 11 to fen with recon.ParseYuan. A comma never occurs inside
// a GBK multi-byte character, so no decoding is needed to split.
func splitRaw(r io.Reader) (floorResult, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var res floorResult
	var fields [14][]byte
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		if len(b) == 0 {
			continue
		}
		if err := split14(b, &fields); err != nil {
			return res, fmt.Errorf("line %d: %w", line, err)
		}
		amount, err := recon.ParseYuan(unsafeString(fields[6]))
		if err != nil {
			return res, fmt.Errorf("line %d: field 7: %w", line, err)
		}
		fee, err := recon.ParseYuan(unsafeString(fields[10]))
		if err != nil {
			return res, fmt.Errorf("line %d: field 11: %w", line, err)
		}
		res.Rows++
		res.Amount += amount
		res.Fee += fee
	}
	return res, sc.Err()
}

// decodeSplit decodes the whole file from GB18030 first, then splits as
// splitRaw does: what a reader pays when it decodes everything at the
// boundary.
func decodeSplit(r io.Reader) (floorResult, error) {
	return splitRaw(transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder()))
}

var errFewFields = errors.New("fewer than 14 fields")

// split14 fills f with the first 13 comma-separated fields of b and the rest
// of the line as field 14.
func split14(b []byte, f *[14][]byte) error {
	for i := 0; i < 13; i++ {
		j := bytes.IndexByte(b, ',')
		if j < 0 {
			return errFewFields
		}
		f[i], b = b[:j], b[j+1:]
	}
	f[13] = b
	return nil
}

// unsafeString views b as a string without copying; ParseYuan does not keep
// it (it may quote it into an error, which we return before b changes).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
