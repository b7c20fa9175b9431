package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lianlian-recon/reconcile/recon"
)

// IngestStatus says what IngestFile did.
type IngestStatus int

const (
	Inserted  IngestStatus = iota + 1 // a name not stored before
	Unchanged                         // same name, same SHA-256: nothing written
	Replaced                          // same name, other bytes: old rows replaced, change recorded
)

func (s IngestStatus) String() string {
	switch s {
	case Inserted:
		return "inserted"
	case Unchanged:
		return "unchanged"
	case Replaced:
		return "replaced"
	}
	return "invalid"
}

// Ingested is the outcome of IngestFile.
type Ingested struct {
	FileID     int64
	Status     IngestStatus
	PrevSHA256 string // the replaced bytes' SHA-256 when Status is Replaced
}

// FileChange records that a file name came back with other bytes (SPEC §7).
type FileChange struct {
	Name      string
	OldSHA256 string
	NewSHA256 string
	At        time.Time
}

// rowCols are the statement_rows columns in insert order; rowBatch rows go
// into one INSERT, which cuts the per-statement cost of a large file
// (rowBatch*len(rowCols) stays far below SQLite's 32766 parameters).
// file_id is the same in every row of a file, and bound once per INSERT
// (?1, see valuesList). The payee columns are inserted for FKMX files
// only: no other row has them (the parser reads them from 17-field FKMX
// rows), and the table's default, the empty text, is what they would
// hold. Binding is SQLite's cost per argument, and these four are a fifth
// of a JYMX row's.
var rowCols = []string{
	"file_id", "line", "no_order", "oid_partner", "dt_order", "busi_partner",
	"oid_paybill", "settle_date", "amount", "direction", "status", "updated_at",
	"fee", "product", "pay_method", "info_order", "payee_bank", "payee_account",
	"payee_name", "kind", "warnings",
}

// rowColsNoPayee is rowCols without the payee columns.
var rowColsNoPayee = slices.DeleteFunc(slices.Clone(rowCols), func(c string) bool { return strings.HasPrefix(c, "payee_") })

const rowBatch = 400

// insertRowsSQL is INSERT OR FAIL: a row that breaks a constraint fails
// the statement without undoing the rows it inserted before (the writer
// rolls the whole file back), which spares SQLite a statement journal.
func insertRowsSQL(n int, payee bool) string {
	cols := rowColsNoPayee
	if payee {
		cols = rowCols
	}
	tuple := make([]int, len(cols))
	tuple[0] = 1 // file_id
	return "INSERT OR FAIL INTO statement_rows (" + strings.Join(cols, ", ") + ") VALUES " + valuesList(n, tuple)
}

// IngestFile stores a parsed statement file with all its rows, malformed
// lines and summary in one transaction. A name already stored with the same
// SHA-256 is Unchanged and nothing is written; with another SHA-256 the old
// file and everything read from it is deleted, the new one stored and the
// change recorded in file_changes (Replaced). now stamps ingested_at and the
// change. It is BeginFile, one Write of f.Rows and Commit.
func (s *Store) IngestFile(ctx context.Context, f *recon.StatementFile, now time.Time) (Ingested, error) {
	w, err := s.BeginFile(ctx, f.FileName, f.Size, f.SHA256, now)
	if err != nil {
		return Ingested{}, err
	}
	defer w.Rollback()
	if err := w.Write(f.Rows); err != nil {
		return Ingested{}, err
	}
	return w.Commit(f)
}

// FileWriter stores one statement file as its parser reads it: rows in
// batches (Write), then what only the end of the file tells (Commit), all
// in one transaction. Its methods may be called from any goroutine, one at
// a time. The store stays readable meanwhile, through other connections
// (WAL: readers see the store as it was before BeginFile until Commit);
// another writer waits for Commit or Rollback, up to the busy time-out.
type FileWriter struct {
	s    *Store
	ctx  context.Context
	name string
	res  Ingested

	// mu serialises the methods with the rollback that ctx's end triggers.
	mu          sync.Mutex
	conn        writeConn // zero when Unchanged, or once committed or rolled back
	stopWatch   func() bool
	insert      *bulkStmt // inserts rowBatch rows
	fileID      int64     // res.FileID
	digestLater bool      // BeginFile had no SHA-256: Commit's file gives it, and the size
	payee       bool      // an FKMX file, whose rows may have payee fields
	firstRow    int64     // the rowid of its first row (see statement_rows in schema.sql)
	lastLine    int       // the line of the last row written
	unstored    bool      // CommitUnstored: written counts rows read, not stored
	pending     int       // rows added to insert and not yet inserted
	written     int       // rows inserted, plus pending
}

// BeginFile starts storing the statement file name, whose size and
// SHA-256 (hex of its bytes) are known before it is parsed. When the store
// holds the same name with the same SHA-256, the writer's Status is
// Unchanged and Write and Commit write nothing. Otherwise one transaction
// is open until Commit or Rollback; an existing file of the same name with
// other bytes is deleted inside it, with everything read from it, and the
// change recorded in file_changes (Replaced). now stamps ingested_at and
// the change. ctx bounds the whole ingest: once it is done, the
// transaction is rolled back, Write and Commit fail and nothing is stored.
// The caller must end the writer with Commit or Rollback (defer Rollback,
// a no-op after Commit).
//
// sha256 may be "" when the caller has not read the file yet: a name the
// store does not hold is then Inserted, and stored with the size and
// SHA-256 that Commit's file gives (those of the bytes its rows were
// parsed from); for a name it holds, whose SHA-256 decides whether the
// file is Unchanged, BeginFile fails with ErrDigestNeeded and stores
// nothing.
func (s *Store) BeginFile(ctx context.Context, name recon.FileName, size int64, sha256 string, now time.Time) (*FileWriter, error) {
	w, err := s.beginFile(ctx, name, size, sha256, now)
	if err != nil {
		return nil, fmt.Errorf("store statement file %s: %w", name.Name, err)
	}
	return w, nil
}

// ErrDigestNeeded means BeginFile was not given the SHA-256 of a file
// whose name the store holds.
var ErrDigestNeeded = errors.New("the store holds a file of this name: its SHA-256 is needed first")

func (s *Store) beginFile(ctx context.Context, name recon.FileName, size int64, sha256 string, now time.Time) (w *FileWriter, err error) {
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	conn, err := s.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			conn.rollback()
		}
	}()
	w = &FileWriter{s: s, ctx: ctx, name: name.Name}

	var oldID int64
	var oldSHA string
	var oldFirst, oldLast sql.NullInt64
	switch err = conn.QueryRowContext(ctx,
		"SELECT id, sha256, first_row, last_row FROM statement_files WHERE name = ?", name.Name).Scan(&oldID, &oldSHA, &oldFirst, &oldLast); {
	case errors.Is(err, sql.ErrNoRows):
		w.res.Status = Inserted
	case err != nil:
		return nil, err
	case sha256 == "":
		return nil, ErrDigestNeeded
	case oldSHA == sha256:
		conn.rollback()
		w.res = Ingested{FileID: oldID, Status: Unchanged}
		return w, nil
	default:
		w.res.Status, w.res.PrevSHA256 = Replaced, oldSHA
		// Its rows, malformed lines and summary first: this connection
		// has foreign keys off (beginWrite), so ON DELETE CASCADE does
		// not run.
		if _, err = conn.ExecContext(ctx, "DELETE FROM statement_rows WHERE rowid BETWEEN ? AND ?", oldFirst, oldLast); err != nil {
			return nil, err
		}
		for _, q := range []string{
			"DELETE FROM malformed_rows WHERE file_id = ?",
			"DELETE FROM summaries WHERE file_id = ?",
			"DELETE FROM statement_files WHERE id = ?",
		} {
			if _, err = conn.ExecContext(ctx, q, oldID); err != nil {
				return nil, err
			}
		}
		if _, err = conn.ExecContext(ctx,
			"INSERT INTO file_changes (name, old_sha256, new_sha256, changed_at) VALUES (?, ?, ?, ?)",
			name.Name, oldSHA, sha256, now.Format(time.RFC3339Nano)); err != nil {
			return nil, err
		}
	}

	// The rows reference the file, so its row comes first; what only the
	// end of the file tells is filled in by Commit, in the same
	// transaction, so nobody sees these placeholders.
	r, err := conn.ExecContext(ctx, `INSERT INTO statement_files
		(name, kind, merchant, date, monthly, size, sha256, encoding, rows, malformed, ingested_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', 0, 0, ?)`,
		name.Name, string(name.Kind), name.Merchant, name.Date, name.Monthly(), size, sha256,
		now.Format(time.RFC3339Nano))
	if err != nil {
		return nil, err
	}
	if w.res.FileID, err = r.LastInsertId(); err != nil {
		return nil, err
	}
	w.fileID = w.res.FileID
	w.digestLater = sha256 == ""
	w.payee = name.Kind == recon.FileFKMX
	// The rows take the next rowids, one after the other: SQLite gives a
	// row the largest rowid plus one, and this transaction is the only
	// writer. commit checks it.
	if err = conn.QueryRowContext(ctx, "SELECT coalesce(max(rowid), 0) + 1 FROM statement_rows").Scan(&w.firstRow); err != nil {
		return nil, err
	}
	if w.insert, err = prepareBulk(ctx, conn.Conn, insertRowsSQL(rowBatch, w.payee)); err != nil {
		return nil, err
	}
	w.conn = conn
	// A writer left open when ctx ends must not keep the write lock.
	w.stopWatch = context.AfterFunc(ctx, w.Rollback)
	return w, nil
}

// Status says what Commit will do: Inserted, Replaced or Unchanged.
func (w *FileWriter) Status() IngestStatus { return w.res.Status }

var errWriterDone = errors.New("file writer already committed or rolled back")

// Write stores rows, good rows of the file in line order. Their values are
// copied at once, so the caller may reuse rows and their RowText when Write
// returns; they are inserted in batches, so an error may come from a later
// Write or from Commit. An error rolls the file back.
func (w *FileWriter) Write(rows []recon.Row) error {
	if w.res.Status == Unchanged {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.write(rows); err != nil {
		w.rollbackLocked()
		return fmt.Errorf("store statement file %s: %w", w.name, err)
	}
	return nil
}

// live reports why the writer cannot write, if it cannot.
func (w *FileWriter) live() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.conn.Conn == nil {
		return errWriterDone
	}
	return nil
}

func (w *FileWriter) write(rows []recon.Row) error {
	if err := w.live(); err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if err := checkRow(r); err != nil {
			return err
		}
		// Rowid order is line order (see statement_rows), as the parser
		// reads them; this also refuses a line given twice.
		if r.Line <= w.lastLine {
			return fmt.Errorf("line %d after line %d: rows are stored in line order", r.Line, w.lastLine)
		}
		w.lastLine = r.Line
		warnings, err := jsonList(r.Warnings)
		if err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
		// In the order of insertRowsSQL's columns.
		st := w.insert
		if w.pending == 0 {
			st.Int(w.fileID) // ?1
		}
		st.Int(int64(r.Line))
		for _, v := range [...]string{r.NoOrder, r.OidPartner, r.DtOrder, r.BusiPartner, r.OidPaybill, r.SettleDate} {
			st.Text(v)
		}
		st.Int(int64(r.Amount))
		st.Int(int64(r.Direction))
		st.Int(int64(r.Status))
		st.Text(r.UpdatedAt)
		st.Int(int64(r.Fee))
		for _, v := range [...]string{r.Product, r.PayMethod, r.InfoOrder} {
			st.Text(v)
		}
		switch {
		case w.payee:
			for _, v := range [...]string{r.PayeeBank, r.PayeeAccount, r.PayeeName} {
				st.Text(v)
			}
		case r.PayeeBank != "" || r.PayeeAccount != "" || r.PayeeName != "":
			// The parser never gives them; were it to, they must not be
			// dropped unseen.
			return fmt.Errorf("line %d: payee fields in a row of a file that is not FKMX", r.Line)
		}
		st.Text(r.Kind.String())
		if s, ok := warnings.(string); ok {
			st.Text(s)
		} else {
			st.Null()
		}
		w.pending++
		w.written++
		if w.pending == rowBatch {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush inserts the pending rows.
func (w *FileWriter) flush() error {
	if w.pending == 0 {
		return nil
	}
	if err := w.live(); err != nil {
		return err
	}
	var err error
	if w.pending == rowBatch {
		_, err = w.insert.exec()
	} else {
		// The last, shorter batch.
		var last *bulkStmt
		if last, err = prepareBulk(w.ctx, w.conn.Conn, insertRowsSQL(w.pending, w.payee)); err == nil {
			_, err = last.execWith(&w.insert.Args)
			w.insert.Reset()
			last.close()
		}
	}
	if err != nil {
		return fmt.Errorf("a batch of %d rows before line %d: %w", w.pending, w.written-w.pending+1, err)
	}
	w.pending = 0
	if w.s.ingestHook != nil {
		if err := w.s.ingestHook(w.written); err != nil {
			return err
		}
	}
	return nil
}

// Restart drops every row written so far: the parser reads the file again
// from its start (as GB18030, SPEC §2.2).
func (w *FileWriter) Restart() error {
	if w.res.Status == Unchanged {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.live()
	if err == nil {
		w.pending, w.written, w.lastLine = 0, 0, 0
		w.insert.Reset()
		_, err = w.conn.ExecContext(w.ctx, "DELETE FROM statement_rows WHERE rowid >= ?", w.firstRow)
	}
	if err != nil {
		w.rollbackLocked()
		return fmt.Errorf("store statement file %s: restart: %w", w.name, err)
	}
	return nil
}

// Commit stores what only the end of the file tells (f.Encoding,
// f.TitleLine, f.Warnings, f.Malformed, f.Summary; f.Rows is ignored, the
// row count is that of the rows written) and commits. With Status
// Unchanged it writes nothing and returns the stored file's id.
func (w *FileWriter) Commit(f *recon.StatementFile) (Ingested, error) {
	if w.res.Status == Unchanged {
		return w.res, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.commit(f); err != nil {
		w.rollbackLocked()
		return Ingested{}, fmt.Errorf("store statement file %s: %w", w.name, err)
	}
	return w.res, nil
}

func (w *FileWriter) commit(f *recon.StatementFile) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.live(); err != nil {
		return err
	}
	ctx, conn, id := w.ctx, w.conn, w.res.FileID
	warnings, err := jsonList(f.Warnings)
	if err != nil {
		return err
	}
	var first, last sql.NullInt64
	if !w.unstored && w.written > 0 {
		first = sql.NullInt64{Int64: w.firstRow, Valid: true}
		last = sql.NullInt64{Int64: w.firstRow + int64(w.written) - 1, Valid: true}
		var max int64
		if err := conn.QueryRowContext(ctx, "SELECT max(rowid) FROM statement_rows").Scan(&max); err != nil {
			return err
		}
		if max != last.Int64 {
			return fmt.Errorf("%d rows stored from rowid %d, but the last rowid is %d", w.written, w.firstRow, max)
		}
	}
	if w.digestLater {
		if f.SHA256 == "" {
			return errors.New("the file's SHA-256 is known neither at BeginFile nor at Commit")
		}
		if _, err := conn.ExecContext(ctx, `UPDATE statement_files SET size = ?, sha256 = ? WHERE id = ?`,
			f.Size, f.SHA256, id); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `UPDATE statement_files
		SET encoding = ?, rows = ?, malformed = ?, title_line = ?, warnings = ?, first_row = ?, last_row = ? WHERE id = ?`,
		f.Encoding, w.written, len(f.Malformed), f.TitleLine, warnings, first, last, id); err != nil {
		return err
	}
	if err := insertMalformed(ctx, conn.Conn, id, f.Malformed); err != nil {
		return err
	}
	if sum := f.Summary; sum != nil {
		if _, err := conn.ExecContext(ctx, `INSERT INTO summaries
			(file_id, total_count, success_count, success_amount, refund_count, refund_amount, revoke_count, revoke_amount)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, sum.TotalCount, sum.SuccessCount, int64(sum.SuccessAmount),
			sum.RefundCount, int64(sum.RefundAmount), sum.RevokeCount, int64(sum.RevokeAmount)); err != nil {
			return err
		}
	}
	if err := w.live(); err != nil {
		return err
	}
	w.stopWatch()
	w.insert.close()
	w.conn = writeConn{}
	return conn.commit(w.s)
}

// Rollback abandons the file: nothing it wrote stays. It does nothing
// after Commit, or when called again.
func (w *FileWriter) Rollback() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rollbackLocked()
}

func (w *FileWriter) rollbackLocked() {
	if w.conn.Conn == nil {
		return
	}
	w.stopWatch()
	w.insert.close()
	w.conn.rollback()
	w.conn = writeConn{}
}

func insertMalformed(ctx context.Context, conn *sql.Conn, fileID int64, ms []recon.Malformed) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := conn.PrepareContext(ctx, `INSERT INTO malformed_rows
		(file_id, seq, line, no_order, field, raw, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, m := range ms {
		if _, err := st.ExecContext(ctx, fileID, i, m.Line, m.NoOrder, m.Field, m.Raw, m.Reason); err != nil {
			return fmt.Errorf("malformed line %d: %w", m.Line, err)
		}
	}
	return nil
}

// jsonList encodes a list of notes, NULL when there are none; readList is
// its inverse and gives nil for NULL, as the parser leaves a row without
// warnings.
func jsonList(l []string) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func readList(s sql.NullString) ([]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s.String), &l); err != nil {
		return nil, fmt.Errorf("warnings %q: %w", s.String, err)
	}
	return l, nil
}

// File loads a stored statement file back: its metadata, Rows in line
// order, Malformed in file order and Summary, so that a run can be repeated
// without the source. An absent name gives an error wrapping ErrNotFound.
func (s *Store) File(ctx context.Context, name string) (*recon.StatementFile, error) {
	f, err := s.file(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("load statement file %s: %w", name, err)
	}
	return f, nil
}

func (s *Store) file(ctx context.Context, name string) (*recon.StatementFile, error) {
	// One connection and one read transaction: the file, its rows and its
	// summary come from the same snapshot even if it is being replaced.
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer done()

	f := &recon.StatementFile{}
	var id int64
	var kind string
	var warnings sql.NullString
	var first, last sql.NullInt64
	var unranged bool
	err = conn.QueryRowContext(ctx, `SELECT id, name, kind, merchant, date, size, sha256, encoding, title_line, warnings, first_row, last_row,
		monthly = 0 AND rows > 0 AND first_row IS NULL
		FROM statement_files WHERE name = ?`, name).
		Scan(&id, &f.Name, &kind, &f.Merchant, &f.Date, &f.Size, &f.SHA256, &f.Encoding, &f.TitleLine, &warnings, &first, &last, &unranged)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	f.Kind = recon.FileKind(kind)
	if f.Warnings, err = readList(warnings); err != nil {
		return nil, err
	}
	if unranged {
		return nil, unrangedError(name)
	}

	rows, err := conn.QueryContext(ctx, fileRowsSQL, first, last)
	if err != nil {
		return nil, err
	}
	err = scanRows(rows, f.Name, func(r *recon.Row) error {
		f.Rows = append(f.Rows, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}

	ms, err := conn.QueryContext(ctx, `SELECT line, no_order, field, raw, reason FROM malformed_rows
		WHERE file_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer ms.Close()
	for ms.Next() {
		m := recon.Malformed{File: f.Name}
		if err := ms.Scan(&m.Line, &m.NoOrder, &m.Field, &m.Raw, &m.Reason); err != nil {
			return nil, err
		}
		f.Malformed = append(f.Malformed, m)
	}
	if err := ms.Err(); err != nil {
		return nil, err
	}

	var sum recon.Summary
	err = conn.QueryRowContext(ctx, `SELECT total_count, success_count, success_amount, refund_count,
		refund_amount, revoke_count, revoke_amount FROM summaries WHERE file_id = ?`, id).
		Scan(&sum.TotalCount, &sum.SuccessCount, &sum.SuccessAmount, &sum.RefundCount,
			&sum.RefundAmount, &sum.RevokeCount, &sum.RevokeAmount)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return nil, err
	default:
		f.Summary = &sum
	}
	return f, nil
}

// unrangedError is the error for a daily detail file the store says has
// rows but whose rowid range is not recorded: stored by an earlier version
// of the program (schema version 1) after this one had upgraded the store,
// an old daemon still running, say. Its rows cannot be read in order; read
// without them, a run would report them missing.
func unrangedError(name string) error {
	return fmt.Errorf("statement file %s was stored by an earlier version of reconcile after the store was upgraded, and its rows cannot be read: stop the earlier version, then run that day again", name)
}

// fileRowsSQL reads a file's rows, at rowids ?1 to ?2, in line order.
const fileRowsSQL = "SELECT " + rowSelect + " FROM statement_rows r WHERE r.rowid BETWEEN ?1 AND ?2 ORDER BY r.rowid"

// rowSelect lists the statement_rows columns that scanRows reads.
const rowSelect = `r.line, r.no_order, r.oid_partner, r.dt_order, r.busi_partner, r.oid_paybill,
	r.settle_date, r.amount, r.direction, r.status, r.updated_at, r.fee, r.product, r.pay_method,
	r.info_order, r.payee_bank, r.payee_account, r.payee_name, r.kind, r.warnings`

// scanRows reads rows of the statement file named file, selected with
// rowSelect, and calls fn for each; the Row passed is reused, fn copies it
// if it keeps it (its RowText is its own; its RowMeta is shared by the
// rows that have the same). It closes rows.
func scanRows(rows *sql.Rows, file string, fn func(r *recon.Row) error) error {
	defer rows.Close()
	var (
		r                              recon.Row
		meta                           recon.RowMeta
		metas                          recon.Metas
		text                           recon.RowText
		amount, fee, direction, status int64 // plain types scan without reflection
		kind                           string
		warnings                       sql.NullString
	)
	dest := []any{&r.Line, &r.NoOrder, &meta.OidPartner, &text.DtOrder, &meta.BusiPartner, &r.OidPaybill,
		&meta.SettleDate, &amount, &direction, &status, &text.UpdatedAt, &fee, &text.Product, &text.PayMethod,
		&text.InfoOrder, &text.PayeeBank, &text.PayeeAccount, &text.PayeeName, &kind, &warnings}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		r.Amount, r.Fee = recon.Fen(amount), recon.Fen(fee)
		r.Direction, r.Status = int8(direction), int8(status)
		k, ok := recon.ParseKind(kind)
		if !ok {
			return fmt.Errorf("line %d: stored kind %q", r.Line, kind)
		}
		r.Kind = k
		r.RowMeta = metas.Get(file, meta.OidPartner, meta.BusiPartner, meta.SettleDate)
		var err error
		if text.Warnings, err = readList(warnings); err != nil {
			return fmt.Errorf("line %d: %w", r.Line, err)
		}
		t := text
		r.RowText = &t
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FileChanges lists the recorded changes of a file name, oldest first.
func (s *Store) FileChanges(ctx context.Context, name string) ([]FileChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, old_sha256, new_sha256, changed_at
		FROM file_changes WHERE name = ? ORDER BY id`, name)
	if err != nil {
		return nil, fmt.Errorf("file changes of %s: %w", name, err)
	}
	defer rows.Close()
	var out []FileChange
	for rows.Next() {
		var c FileChange
		var at string
		if err := rows.Scan(&c.Name, &c.OldSHA256, &c.NewSHA256, &at); err != nil {
			return nil, fmt.Errorf("file changes of %s: %w", name, err)
		}
		if c.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("file changes of %s: %w", name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("file changes of %s: %w", name, err)
	}
	return out, nil
}

// HistoryStart is the earliest settle date ("yyyymmdd") of a stored daily
// JYMX file of merchant: where history starts (SPEC §4.1). ok is false when
// no such file is stored.
func (s *Store) HistoryStart(ctx context.Context, merchant string) (string, bool, error) {
	var d sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT min(date) FROM statement_files
		WHERE merchant = ? AND monthly = 0 AND kind = 'JYMX'`, merchant).Scan(&d)
	if err != nil {
		return "", false, fmt.Errorf("history start of %s: %w", merchant, err)
	}
	return d.String, d.Valid, nil
}

// HasDaily reports whether the daily JYMX file of merchant for date
// ("yyyymmdd") is stored.
func (s *Store) HasDaily(ctx context.Context, merchant, date string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM statement_files
		WHERE merchant = ? AND monthly = 0 AND kind = 'JYMX' AND date = ?`, merchant, date).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("daily statement of %s for %s: %w", merchant, date, err)
	}
	return n > 0, nil
}

// statementRowsSQL streams the rows StatementRows reads: the file's id and
// one json_array per row of the columns matching reads (see jsonrow.go), in
// the order decodeLeanRow takes them.
const statementRowsSQL = `SELECT f.id, json_array(r.line, r.no_order, r.oid_partner, r.busi_partner,
		r.oid_paybill, r.settle_date, r.amount, r.direction, r.status, r.fee, r.kind)
	FROM statement_files f JOIN statement_rows r ON r.rowid BETWEEN f.first_row AND f.last_row
	WHERE f.merchant = ?1 AND f.monthly = 0 AND f.kind IN ('JYMX', 'FKMX') AND f.date BETWEEN ?3 AND ?2
	ORDER BY f.date, f.kind DESC, f.name, r.rowid`

// statementFilesSQL lists the files whose rows statementRowsSQL streams,
// and whether each has rows but no rowid range (errUnranged).
const statementFilesSQL = `SELECT id, date, name, rows > 0 AND first_row IS NULL FROM statement_files
	WHERE merchant = ?1 AND monthly = 0 AND kind IN ('JYMX', 'FKMX') AND date BETWEEN ?3 AND ?2`

// StatementRows calls fn for every good row of every stored daily detail
// file (JYMX and FKMX) named for merchant whose date is <= upTo
// ("yyyymmdd"), in the order file date, JYMX before FKMX, file name, line.
// The row's own oid_partner may differ from merchant (SPEC §4,
// merchant_mismatch). Rows are streamed from one consistent snapshot.
//
// It serves matching only, so the rows are lean (recon.Row.Lean): RowText
// is nil and only the columns matching reads are read; File gives the full
// rows. fn may keep the rows it is given; their strings are shared with
// neighbouring rows, a few allocations per thousand rows. An error from fn
// stops the walk and is returned as is.
func (s *Store) StatementRows(ctx context.Context, merchant, upTo string, fn func(fileDate string, r recon.Row) error) error {
	return s.StatementRowsFrom(ctx, merchant, "", upTo, fn)
}

// StatementRowsFrom is StatementRows of the files dated from from to upTo.
func (s *Store) StatementRowsFrom(ctx context.Context, merchant, from, upTo string, fn func(fileDate string, r recon.Row) error) error {
	var fnErr error
	err := s.statementRows(ctx, merchant, from, upTo, func(date string, r recon.Row) error {
		if err := fn(date, r); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("statement rows of %s: %w", merchant, err)
	}
	return nil
}

// StatementRowCount is the number of rows StatementRowsFrom gives for the
// same arguments (as the files record it), so that a caller can make room
// for them at once.
func (s *Store) StatementRowCount(ctx context.Context, merchant, from, upTo string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(rows), 0) FROM statement_files
		WHERE merchant = ?1 AND monthly = 0 AND kind IN ('JYMX', 'FKMX') AND date BETWEEN ?3 AND ?2`, merchant, upTo, from).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("statement rows of %s: %w", merchant, err)
	}
	return n, nil
}

func (s *Store) statementRows(ctx context.Context, merchant, from, upTo string, fn func(fileDate string, r recon.Row) error) error {
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	type fileInfo struct{ date, name string }
	files := map[int64]fileInfo{}
	fr, err := conn.QueryContext(ctx, statementFilesSQL, merchant, upTo, from)
	if err != nil {
		return err
	}
	defer fr.Close()
	for fr.Next() {
		var id int64
		var f fileInfo
		var unranged bool
		if err := fr.Scan(&id, &f.date, &f.name, &unranged); err != nil {
			return err
		}
		if unranged {
			return unrangedError(f.name)
		}
		files[id] = f
	}
	if err := fr.Err(); err != nil {
		return err
	}

	// The index statement_files_merchant delivers files in (date, kind DESC,
	// name) order and each file's rowid range its lines in order, so SQLite
	// streams without sorting; "kind DESC" puts JYMX before FKMX.
	rows, err := conn.QueryContext(ctx, statementRowsSQL, merchant, upTo, from)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		id    int64
		line  sql.RawBytes
		jr    jsonReader
		batch leanBatch
	)
	for rows.Next() {
		if err := rows.Scan(&id, &line); err != nil {
			return err
		}
		f, ok := files[id]
		if !ok {
			return fmt.Errorf("row of unlisted file %d", id)
		}
		if err := batch.add(&jr, line, f.name, f.date); err != nil {
			return err
		}
		if len(batch.rows) == leanBatchSize {
			if err := batch.flush(fn); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return batch.flush(fn)
}

// leanBatch gathers decoded lean rows so that the strings of many rows
// become one allocation, cut up by flush.
type leanBatch struct {
	rows  []recon.Row
	dates []string
	buf   []byte   // the rows' no_order and oid_paybill
	ends  [][2]int // per row, the end offsets in buf of its no_order and oid_paybill

	// Texts that are the same in most rows are shared.
	partner, busi, settle string
	metas                 recon.Metas
}

const leanBatchSize = 1024

// add decodes one row of statementRowsSQL.
func (b *leanBatch) add(jr *jsonReader, line []byte, file, date string) error {
	var r recon.Row
	var noOrder, partner, busi, paybill, settle, kind []byte
	var v [5]int64 // line, amount, direction, status, fee
	err := jr.reset(line)
	if err == nil {
		v[0], _, err = jr.int()
	}
	if err == nil {
		noOrder, err = jr.str()
	}
	if err == nil {
		partner, err = jr.str()
	}
	if err == nil {
		busi, err = jr.str()
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
		kind, err = jr.str()
	}
	if err == nil {
		err = jr.end()
	}
	if err != nil {
		return fmt.Errorf("row %s: %w", line, err)
	}
	r.Line, r.Amount, r.Direction, r.Status, r.Fee = int(v[0]), recon.Fen(v[1]), int8(v[2]), int8(v[3]), recon.Fen(v[4])
	k, ok := recon.ParseKind(string(kind))
	if !ok {
		return fmt.Errorf("%s line %d: stored kind %q", file, r.Line, kind)
	}
	r.Kind = k
	if string(partner) != b.partner {
		b.partner = string(partner)
	}
	if string(busi) != b.busi {
		b.busi = string(busi)
	}
	if string(settle) != b.settle {
		b.settle = string(settle)
	}
	r.RowMeta = b.metas.Get(file, b.partner, b.busi, b.settle)
	b.buf = append(b.buf, noOrder...)
	e0 := len(b.buf)
	b.buf = append(b.buf, paybill...)
	b.ends = append(b.ends, [2]int{e0, len(b.buf)})
	b.rows = append(b.rows, r)
	b.dates = append(b.dates, date)
	return nil
}

// flush sets the rows' strings, calls fn for each and empties the batch.
func (b *leanBatch) flush(fn func(fileDate string, r recon.Row) error) error {
	s := string(b.buf)
	start := 0
	for i := range b.rows {
		r := &b.rows[i]
		e := b.ends[i]
		r.NoOrder, r.OidPaybill = s[start:e[0]], s[e[0]:e[1]]
		start = e[1]
		if err := fn(b.dates[i], *r); err != nil {
			return err
		}
	}
	b.rows, b.dates, b.buf, b.ends = b.rows[:0], b.dates[:0], b.buf[:0], b.ends[:0]
	return nil
}
