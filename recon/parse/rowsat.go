package parse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/lianlian-recon/reconcile/recon"
)

// RowsAt reads the detail file at path again for its good rows at lines
// (physical line numbers, sorted, each once), lean, as ScanFileLean hands
// them over. encoding is the file's, as the first reading found it.
//
// It is for the few rows of a large file that a caller kept only a
// fingerprint of and now needs in full (a monthly run's rows that differ
// from the daily files): it cuts the file into lines without decoding
// them and parses only the lines asked for, which for thirty million lines
// costs a pass over the bytes instead of a second parse. A line asked for
// that is beyond the file or not a good row is an error: the file changed
// since it was first read.
func RowsAt(path, encoding string, lines []int) ([]recon.Row, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	f, name, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fname, err := ParseName(name)
	if err != nil {
		return nil, err
	}

	// The lines asked for, one after another, each ended by a newline.
	var picked bytes.Buffer
	br := bufio.NewReaderSize(f, 1<<20)
	next, line := 0, 0
	for next < len(lines) {
		raw, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			// Longer than the buffer, so longer than any good row
			// (DefaultMaxLineBytes): its rest is skipped, and asking for
			// it fails below, as a line that is not a good row.
			raw = raw[:0]
			_, err = br.ReadSlice('\n')
		}
		if err == io.EOF && len(raw) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read %s: %w", fname.Name, err)
		}
		line++
		if line == lines[next] {
			picked.Write(bytes.TrimSuffix(raw, []byte("\n")))
			picked.WriteByte('\n')
			next++
		}
		if err == io.EOF {
			break
		}
	}
	if next < len(lines) {
		return nil, fmt.Errorf("read %s again: it has %d lines, line %d was asked for", fname.Name, line, lines[next])
	}

	dr := NewDetailReader(&picked, fname)
	dr.ForceEncoding, dr.lean = encoding, true
	out := make([]recon.Row, 0, len(lines))
	for _, l := range lines {
		row, err := dr.Read()
		if err != nil {
			return nil, fmt.Errorf("read %s again: line %d: %w", fname.Name, l, err)
		}
		row.Line = l
		out = append(out, row)
	}
	return out, nil
}
