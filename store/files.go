package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
var rowCols = []string{
	"file_id", "line", "no_order", "oid_partner", "dt_order", "busi_partner",
	"oid_paybill", "settle_date", "amount", "direction", "status", "updated_at",
	"fee", "product", "pay_method", "info_order", "payee_bank", "payee_account",
	"payee_name", "kind", "warnings",
}

const rowBatch = 400

func insertRowsSQL(n int) string {
	return "INSERT INTO statement_rows (" + strings.Join(rowCols, ", ") + ") VALUES " + valuesList(n, len(rowCols))
}

// IngestFile stores a parsed statement file with all its rows, malformed
// lines and summary in one transaction. A name already stored with the same
// SHA-256 is Unchanged and nothing is written; with another SHA-256 the old
// file and everything read from it is deleted, the new one stored and the
// change recorded in file_changes (Replaced). now stamps ingested_at and the
// change.
func (s *Store) IngestFile(ctx context.Context, f *recon.StatementFile, now time.Time) (Ingested, error) {
	res, err := s.ingest(ctx, f, now)
	if err != nil {
		return Ingested{}, fmt.Errorf("store statement file %s: %w", f.Name, err)
	}
	return res, nil
}

func (s *Store) ingest(ctx context.Context, f *recon.StatementFile, now time.Time) (res Ingested, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()

	var oldID int64
	var oldSHA string
	switch err = tx.QueryRowContext(ctx,
		"SELECT id, sha256 FROM statement_files WHERE name = ?", f.Name).Scan(&oldID, &oldSHA); {
	case errors.Is(err, sql.ErrNoRows):
		res.Status = Inserted
	case err != nil:
		return res, err
	case oldSHA == f.SHA256:
		tx.Rollback()
		return Ingested{FileID: oldID, Status: Unchanged}, nil
	default:
		res.Status, res.PrevSHA256 = Replaced, oldSHA
		// ON DELETE CASCADE removes its rows, malformed lines and summary.
		if _, err = tx.ExecContext(ctx, "DELETE FROM statement_files WHERE id = ?", oldID); err != nil {
			return res, err
		}
		if _, err = tx.ExecContext(ctx,
			"INSERT INTO file_changes (name, old_sha256, new_sha256, changed_at) VALUES (?, ?, ?, ?)",
			f.Name, oldSHA, f.SHA256, now.Format(time.RFC3339Nano)); err != nil {
			return res, err
		}
	}

	warnings, err := jsonList(f.Warnings)
	if err != nil {
		return res, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO statement_files
		(name, kind, merchant, date, monthly, size, sha256, encoding, rows, malformed, title_line, warnings, ingested_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.Name, string(f.Kind), f.Merchant, f.Date, f.Monthly(), f.Size, f.SHA256, f.Encoding,
		len(f.Rows), len(f.Malformed), f.TitleLine, warnings, now.Format(time.RFC3339Nano))
	if err != nil {
		return res, err
	}
	if res.FileID, err = r.LastInsertId(); err != nil {
		return res, err
	}
	if err = s.insertRows(ctx, tx, res.FileID, f.Rows); err != nil {
		return res, err
	}
	if err = insertMalformed(ctx, tx, res.FileID, f.Malformed); err != nil {
		return res, err
	}
	if sum := f.Summary; sum != nil {
		if _, err = tx.ExecContext(ctx, `INSERT INTO summaries
			(file_id, total_count, success_count, success_amount, refund_count, refund_amount, revoke_count, revoke_amount)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			res.FileID, sum.TotalCount, sum.SuccessCount, int64(sum.SuccessAmount),
			sum.RefundCount, int64(sum.RefundAmount), sum.RevokeCount, int64(sum.RevokeAmount)); err != nil {
			return res, err
		}
	}
	err = tx.Commit()
	return res, err
}

func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, fileID int64, rows []recon.Row) error {
	if len(rows) == 0 {
		return nil
	}
	full, err := tx.PrepareContext(ctx, insertRowsSQL(min(rowBatch, len(rows))))
	if err != nil {
		return err
	}
	defer full.Close()
	// go-sqlite3 watches a cancellable context with a goroutine per
	// statement; the loop checks ctx itself, once a batch.
	execCtx := context.WithoutCancel(ctx)
	args := make([]any, 0, rowBatch*len(rowCols))
	for start := 0; start < len(rows); start += rowBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := rows[start:min(start+rowBatch, len(rows))]
		args = args[:0]
		for i := range batch {
			r := &batch[i]
			w, err := jsonList(r.Warnings)
			if err != nil {
				return fmt.Errorf("line %d: %w", r.Line, err)
			}
			args = append(args, fileID, r.Line, r.NoOrder, r.OidPartner, r.DtOrder, r.BusiPartner,
				r.OidPaybill, r.SettleDate, int64(r.Amount), r.Direction, r.Status, r.UpdatedAt,
				int64(r.Fee), r.Product, r.PayMethod, r.InfoOrder, r.PayeeBank, r.PayeeAccount,
				r.PayeeName, r.Kind.String(), w)
		}
		if len(batch) == rowBatch || start == 0 {
			err = execFused(execCtx, full, args)
		} else {
			// The last, shorter batch.
			_, err = tx.ExecContext(execCtx, insertRowsSQL(len(batch)), args...)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", batch[0].Line, err)
		}
		if s.ingestHook != nil {
			if err := s.ingestHook(start + len(batch)); err != nil {
				return err
			}
		}
	}
	return nil
}

func insertMalformed(ctx context.Context, tx *sql.Tx, fileID int64, ms []recon.Malformed) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO malformed_rows
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
	err = conn.QueryRowContext(ctx, `SELECT id, name, kind, merchant, date, size, sha256, encoding, title_line, warnings
		FROM statement_files WHERE name = ?`, name).
		Scan(&id, &f.Name, &kind, &f.Merchant, &f.Date, &f.Size, &f.SHA256, &f.Encoding, &f.TitleLine, &warnings)
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

	rows, err := conn.QueryContext(ctx, "SELECT "+rowSelect+" FROM statement_rows r WHERE r.file_id = ? ORDER BY r.line", id)
	if err != nil {
		return nil, err
	}
	err = scanRows(rows, func(r *recon.Row) error {
		r.File = f.Name
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

// rowSelect lists the statement_rows columns that scanRows reads.
const rowSelect = `r.line, r.no_order, r.oid_partner, r.dt_order, r.busi_partner, r.oid_paybill,
	r.settle_date, r.amount, r.direction, r.status, r.updated_at, r.fee, r.product, r.pay_method,
	r.info_order, r.payee_bank, r.payee_account, r.payee_name, r.kind, r.warnings`

// scanRows reads rows selected with rowSelect (after any leading columns
// given in pre) and calls fn for each; the Row passed is reused, fn copies
// it if it keeps it (its RowText is its own). It closes rows.
func scanRows(rows *sql.Rows, fn func(r *recon.Row) error, pre ...any) error {
	defer rows.Close()
	var (
		r                              recon.Row
		text                           recon.RowText
		amount, fee, direction, status int64 // plain types scan without reflection
		kind                           string
		warnings                       sql.NullString
	)
	dest := append(pre, &r.Line, &r.NoOrder, &r.OidPartner, &text.DtOrder, &r.BusiPartner, &r.OidPaybill,
		&r.SettleDate, &amount, &direction, &status, &text.UpdatedAt, &fee, &text.Product, &text.PayMethod,
		&text.InfoOrder, &text.PayeeBank, &text.PayeeAccount, &text.PayeeName, &kind, &warnings)
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

const statementRowsSQL = `SELECT f.date, f.name, ` + rowSelect + `
	FROM statement_files f JOIN statement_rows r ON r.file_id = f.id
	WHERE f.merchant = ? AND f.monthly = 0 AND f.kind IN ('JYMX', 'FKMX') AND f.date <= ?
	ORDER BY f.date, f.kind DESC, f.name, r.line`

// StatementRows calls fn for every good row of every stored daily detail
// file (JYMX and FKMX) named for merchant whose date is <= upTo
// ("yyyymmdd"), in the order file date, JYMX before FKMX, file name, line.
// The row's own oid_partner may differ from merchant (SPEC §4,
// merchant_mismatch). Rows are streamed from one query, a consistent
// snapshot; the Row passed to fn is reused between calls (its Warnings
// slice is not). An error from fn stops the walk and is returned as is.
func (s *Store) StatementRows(ctx context.Context, merchant, upTo string, fn func(fileDate string, r recon.Row) error) error {
	// The index statement_files_merchant delivers files in (date, kind DESC,
	// name) order and the primary key of statement_rows their lines in
	// order, so SQLite streams without sorting; "kind DESC" puts JYMX
	// before FKMX.
	rows, err := s.db.QueryContext(ctx, statementRowsSQL, merchant, upTo)
	if err != nil {
		return fmt.Errorf("statement rows of %s: %w", merchant, err)
	}
	var date, name string
	var fnErr error
	err = scanRows(rows, func(r *recon.Row) error {
		r.File = name
		if err := fn(date, *r); err != nil {
			fnErr = err
			return err
		}
		return nil
	}, &date, &name)
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("statement rows of %s: %w", merchant, err)
	}
	return nil
}
