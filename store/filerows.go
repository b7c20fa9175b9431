package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/lianlian-recon/reconcile/recon"
)

// The reads of one stored file's rows that a monthly run compares with
// the monthly file (match.MonthlyCompare): a month of daily files is
// thirty million rows for a large merchant.

// StoredFile is what the store says of a statement file without reading
// its rows.
type StoredFile struct {
	ID     int64
	Name   string
	SHA256 string
	Rows   int // good detail rows read from it (SPEC §2.3)

	// Where its rows are (see statement_rows in schema.sql): the rowids
	// of the first and last, not valid when none are stored, and the
	// line of the last.
	first, last sql.NullInt64
	lastLine    int64
}

// Stored returns what the store holds of the statement file name, or an
// error wrapping ErrNotFound.
func (s *Store) Stored(ctx context.Context, name string) (StoredFile, error) {
	f := StoredFile{Name: name}
	var monthly bool
	err := s.db.QueryRowContext(ctx, `SELECT id, sha256, rows, monthly, first_row, last_row,
		coalesce((SELECT line FROM statement_rows WHERE rowid = last_row), 0) FROM statement_files WHERE name = ?`, name).
		Scan(&f.ID, &f.SHA256, &f.Rows, &monthly, &f.first, &f.last, &f.lastLine)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("statement file %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("statement file %s: %w", name, err)
	}
	if !monthly && f.Rows > 0 && !f.first.Valid { // a monthly file's rows are not stored
		return f, unrangedError(name)
	}
	return f, nil
}

// keyColumns are the columns RowKeys and RowsAt read, in the order
// decodeKeyRow takes them: what makes two rows the same row, and the line.
const keyColumns = "json_array(line, kind, no_order, oid_paybill, settle_date, amount, fee, status, direction)"

// rowKeysSQL reads a batch of a file's rows, those of rowid after ?1 up to
// ?2, as one text, one JSON array per row, separated by newlines (JSON
// strings escape theirs), and the last rowid read. A query per row would
// cost a cgo call and a conversion per row; this is one per batch, and
// reads a million rows in about a second where one per row takes two and
// a half.
const rowKeysSQL = `SELECT max(rowid), count(*), group_concat(j, char(10)) FROM (
	SELECT rowid, ` + keyColumns + ` AS j FROM statement_rows
	WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid LIMIT ?3)`

// rowKeysBatch is how many rows one rowKeysSQL query reads.
const rowKeysBatch = 4096

// RowKeys calls fn with each good row of the stored statement file f, in
// line order, from one consistent snapshot. Only File, Line, Kind,
// NoOrder, OidPaybill, SettleDate, Amount, Fee, Status and Direction are
// set. The row and its strings are valid only during fn: fn must copy what
// it keeps.
func (s *Store) RowKeys(ctx context.Context, f StoredFile, fn func(r *recon.Row) error) error {
	name := f.Name
	if !f.first.Valid {
		return nil // no rows stored
	}
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	st, err := conn.PrepareContext(ctx, rowKeysSQL)
	if err != nil {
		return err
	}
	defer st.Close()
	var (
		jr    jsonReader
		r     recon.Row
		meta  recon.RowMeta
		after = f.first.Int64 - 1
		text  []byte
	)
	for {
		var last sql.NullInt64
		var n int
		if err := st.QueryRowContext(ctx, after, f.last.Int64, rowKeysBatch).Scan(&last, &n, &text); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if n == 0 {
			return nil
		}
		for rest := text; len(rest) > 0; {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			if err := decodeKeyRow(&jr, line, &r, &meta, aliased); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			meta.File = name
			if err := fn(&r); err != nil {
				return err
			}
		}
		after = last.Int64
	}
}

// rowsAtSQL reads the rows at the lines of the JSON list ?1 of a file
// whose rows are at rowids ?2 to ?3, ?4 lines before its last row not
// being rows (see RowsAt).
const rowsAtSQL = `SELECT ` + keyColumns + ` FROM (SELECT DISTINCT value FROM json_each(?1)) j
	CROSS JOIN statement_rows r ON r.rowid BETWEEN max(?2, ?2 + j.value - 1 - ?4) AND min(?3, ?2 + j.value - 1)
	AND r.line = j.value
	ORDER BY r.rowid`

// RowsAt returns the good rows of the stored statement file f at lines,
// in line order, with what RowKeys sets; a line without a good row is
// left out.
func (s *Store) RowsAt(ctx context.Context, f StoredFile, lines []int) ([]recon.Row, error) {
	name := f.Name
	var list strings.Builder
	list.WriteByte('[')
	for i, l := range lines {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(strconv.Itoa(l))
	}
	list.WriteByte(']')
	if !f.first.Valid {
		return nil, nil // no rows stored
	}
	// Row k of the file (from 0) is at rowid first + k and has a line of
	// at least k + 1, and of at most k + 1 + skipped, skipped being the
	// lines before the last row that are not rows (a title, malformed
	// lines): so the row at line L, if any, is within skipped + 1 rowids,
	// one look-up for a file of good rows. (With a range over the whole
	// file, each call read every row of it.)
	skipped := f.lastLine - int64(f.last.Int64-f.first.Int64+1)
	rows, err := s.db.QueryContext(ctx, rowsAtSQL, list.String(), f.first.Int64, f.last.Int64, skipped)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rows.Close()
	var out []recon.Row
	var jr jsonReader
	for rows.Next() {
		var b sql.RawBytes
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		var r recon.Row
		meta := &recon.RowMeta{}
		if err := decodeKeyRow(&jr, b, &r, meta, copied); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		meta.File = name
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// aliased makes a string of b without copying it: valid while b is.
func aliased(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func copied(b []byte) string { return string(b) }

// decodeKeyRow decodes one row of keyColumns into r, its SettleDate into
// meta, which becomes r's, making its strings with str.
func decodeKeyRow(jr *jsonReader, b []byte, r *recon.Row, meta *recon.RowMeta, str func([]byte) string) error {
	var kind, noOrder, paybill, settle []byte
	var v [5]int64 // line, amount, fee, status, direction
	err := jr.reset(b)
	if err == nil {
		v[0], _, err = jr.int()
	}
	if err == nil {
		kind, err = jr.str()
	}
	if err == nil {
		noOrder, err = jr.str()
	}
	if err == nil {
		paybill, err = jr.str()
	}
	if err == nil {
		settle, err = jr.str()
	}
	for k := 1; k < 5 && err == nil; k++ {
		v[k], _, err = jr.int()
	}
	if err == nil {
		err = jr.end()
	}
	if err != nil {
		return fmt.Errorf("row %s: %w", b, err)
	}
	*meta = recon.RowMeta{SettleDate: str(settle)}
	*r = recon.Row{RowMeta: meta, Line: int(v[0]), NoOrder: str(noOrder), OidPaybill: str(paybill),
		Amount: recon.Fen(v[1]), Fee: recon.Fen(v[2]), Status: int8(v[3]), Direction: int8(v[4])}
	k, ok := recon.ParseKind(aliased(kind)) // compared, not kept
	if !ok {
		return fmt.Errorf("line %d: stored kind %q", r.Line, kind)
	}
	r.Kind = k
	return nil
}

// CommitUnstored is Commit for a file whose good rows were read and not
// written: rows is their number, for statement_files.rows. A monthly file's
// rows are not stored, for they repeat the daily files' (see schema.sql).
func (w *FileWriter) CommitUnstored(f *recon.StatementFile, rows int) (Ingested, error) {
	w.mu.Lock()
	written := w.written
	if written == 0 {
		w.written, w.unstored = rows, true
	}
	w.mu.Unlock()
	if written != 0 {
		w.Rollback()
		return Ingested{}, fmt.Errorf("store statement file %s: %d rows were written", w.name, written)
	}
	return w.Commit(f)
}
