package parse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lianlian-recon/reconcile/internal/alloc"
	"github.com/lianlian-recon/reconcile/recon"
)

// Read reads a whole statement file named name (a base name) from r: the
// name parsed, size and SHA-256 of the raw bytes, encoding, every good row,
// every malformed line (SPEC §4.1), the title row, the summary for a
// summary file, and file-level warnings. A malformed summary line is one
// Malformed entry and Summary stays nil.
//
// The error is only for what stops the file: an unknown name (ErrUnknownName),
// the cross-border layout (ErrCrossBorder), I/O. When r is an io.ReadSeeker
// and a file first judged UTF-8 turns out to hold invalid UTF-8 further on,
// the file is read again as GB18030 (SPEC §2.2: anything but valid UTF-8 is
// GB18030); otherwise those lines alone are decoded as GB18030, with a
// warning.
func Read(r io.Reader, name string) (*recon.StatementFile, error) {
	return read(r, name, 0)
}

// read is Read with room made for rowsHint rows up front: a million-row
// file then fills one allocation instead of growing a slice of rows
// through twenty copies (which cost more than parsing it).
func read(r io.Reader, name string, rowsHint int) (*recon.StatementFile, error) {
	var rows []recon.Row
	if rowsHint > 0 {
		rows = alloc.Reserve[recon.Row](rowsHint)
	}
	sf, err := scan(r, name, false, false,
		func(row *recon.Row) error { rows = append(rows, *row); return nil },
		func() error { rows = rows[:0]; return nil })
	if err != nil {
		return nil, err
	}
	sf.Rows = rows
	return sf, nil
}

// scan is Read with each good row handed to fn instead of kept, lean
// (RowText nil) if lean is set. restart is called before a file is read
// again from its start (as GB18030), after which fn sees every row again.
func scan(r io.Reader, name string, lean, sharedText bool, fn func(*recon.Row) error, restart func() error) (*recon.StatementFile, error) {
	fname, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	cnt := &countWriter{}
	tee := io.TeeReader(r, io.MultiWriter(h, cnt))
	sf := &recon.StatementFile{FileName: fname}

	if fname.Kind.IsSummary() {
		sum, enc, err := ReadSummary(tee, fname)
		var pe *ParseError
		switch {
		case errors.As(err, &pe):
			m := malformed(pe)
			m.NoOrder = "" // a summary line has no order number
			sf.Malformed = append(sf.Malformed, m)
		case err != nil:
			return nil, err
		default:
			sf.Summary = &sum
		}
		sf.Encoding = enc
	} else {
		dr := NewDetailReader(tee, fname)
		dr.lean, dr.sharedText = lean, sharedText
		if err := readRows(dr, sf, fn); err != nil {
			return nil, err
		}
		if dr.Mixed() && dr.Encoding() == recon.EncodingUTF8 {
			if s, ok := r.(io.Seeker); ok {
				if _, err := s.Seek(0, io.SeekStart); err != nil {
					return nil, fmt.Errorf("read %s again as GB18030: %w", name, err)
				}
				if err := restart(); err != nil {
					return nil, err
				}
				sf.Malformed, sf.Warnings = nil, nil
				dr = NewDetailReader(r, fname)
				dr.ForceEncoding, dr.lean, dr.sharedText = recon.EncodingGB18030, lean, sharedText
				if err := readRows(dr, sf, fn); err != nil {
					return nil, err
				}
				sf.Warnings = append(sf.Warnings, "a line deep in the file is not valid UTF-8: the whole file was read as GB18030")
			}
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // hash what a reader left
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	sf.Size = cnt.n
	sf.SHA256 = hex.EncodeToString(h.Sum(nil))
	return sf, nil
}

// readRows reads dr to its end: good rows to fn; malformed lines, the
// encoding, the title line and warnings to sf. An error of fn stops it.
func readRows(dr *DetailReader, sf *recon.StatementFile, fn func(*recon.Row) error) error {
	// One row for all: fn may not keep the pointer. A row made per line
	// would be an allocation per line, since fn's pointer escapes (80 MB
	// of garbage for a million-row file); so would pe, were it declared
	// for a line that has no error.
	var row recon.Row
	for {
		var err error
		row, err = dr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				sf.Malformed = append(sf.Malformed, malformed(pe))
				continue
			}
			if errors.Is(err, ErrCrossBorder) {
				return err
			}
			return fmt.Errorf("read %s: %w", sf.Name, err)
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	sf.Encoding = dr.Encoding()
	sf.TitleLine = dr.TitleLine()
	sf.Warnings = append(sf.Warnings, dr.Warnings()...)
	return nil
}

// ScanFile reads the statement file at path as ReadFile does, but hands
// each good row of a detail file to fn instead of keeping it (sf.Rows stays
// nil), so that a file of any size is read in constant memory. The row
// passed to fn, and its RowText, are valid until fn returns, so fn copies
// what it keeps of them (a row, and a RowText, are reused for the next);
// their strings are fn's to keep. When the file proves to be GB18030 only
// deep inside (see Read), restart is called and fn then sees every row
// again from the first: a caller that stored rows as they came drops them.
// An error from fn or restart stops the scan and is returned as it is.
func ScanFile(path string, fn func(*recon.Row) error, restart func() error) (*recon.StatementFile, error) {
	return scanFile(path, false, true, fn, restart)
}

// ScanFileLean is ScanFile handing fn lean rows: each is what ScanFile
// would hand over, after recon.Row.Lean (RowText nil), and the file facts,
// malformed lines and warnings are ScanFile's. It is quicker, for it
// neither decodes nor keeps what only RowText holds (fields 12–17, row
// warnings): a run that matches on lean rows reads its files with it.
func ScanFileLean(path string, fn func(*recon.Row) error, restart func() error) (*recon.StatementFile, error) {
	return scanFile(path, true, false, fn, restart)
}

func scanFile(path string, lean, sharedText bool, fn func(*recon.Row) error, restart func() error) (*recon.StatementFile, error) {
	f, name, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scan(f, name, lean, sharedText, fn, restart)
}

// open opens the statement file at path and returns its base name; an
// unknown name is refused before the file is opened at all.
func open(path string) (*os.File, string, error) {
	name := filepath.Base(path)
	if _, err := ParseName(name); err != nil {
		return nil, "", err
	}
	f, err := os.Open(path)
	return f, name, err
}

// ReadFile is Read of the file at path, named by its base name.
func ReadFile(path string) (*recon.StatementFile, error) {
	f, name, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hint := 0
	if fn, _ := ParseName(name); !fn.Kind.IsSummary() {
		if hint, err = countLines(f); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return read(f, name, hint)
}

// minRowBytes is less than the shortest good row: 18 + 17 + 17 + 8 bytes
// of merchant and dates, 13 commas and 7 one-character fields.
const minRowBytes = 64

// countLines counts the line ends of f, a bound on its rows (and so is its
// size over minRowBytes: a file of blank lines reserves nothing much), and
// rewinds it. Counting reads the file once more, from the page cache: a
// few milliseconds for a million rows, against the copies it saves.
func countLines(f *os.File) (int, error) {
	buf := make([]byte, 256<<10)
	n, size := 1, 0 // 1: a last line without a line end
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		size += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return min(n, size/minRowBytes+1), nil
}

// malformed turns a ParseError into the finding's material; NoOrder is the
// raw first field, trimmed (SPEC §4.1).
func malformed(pe *ParseError) recon.Malformed {
	first, _, _ := strings.Cut(pe.Raw, ",")
	return recon.Malformed{
		File: pe.File, Line: pe.Line, NoOrder: strings.TrimSpace(first),
		Field: pe.Field, Raw: pe.Raw, Reason: pe.Err.Error(),
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// CountRows bounds the number of rows of the file at path (its line ends,
// and its size over the shortest row), cheaply: callers that keep every
// row make room for them once.
func CountRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return countLines(f)
}
