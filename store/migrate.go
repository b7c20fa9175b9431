package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	reconcile "github.com/lianlian-recon/reconcile"
)

// migrate1 brings a database of schema version 1 to this program's, in one
// transaction: stopped half-way, the database stays at version 1.
//
// Version 1 kept statement_rows WITHOUT ROWID, keyed by (file_id, line);
// now it is a rowid table, each file's rows at the consecutive rowids
// statement_files.first_row to last_row (see schema.sql). The rows are
// copied file by file in line order: a million in 2.1 s, five million in
// 14.9 s, measured on the project's 2-core machine. The history indexes go
// with the old table; the next run that looks rows up by number creates
// them again (IndexHistory). It returns how many rows it copied, or -1
// when another program had migrated the database meanwhile.
func (s *Store) migrate1(ctx context.Context) (rows int64, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Outside the transaction, where SQLite takes them. Foreign keys off:
	// the old table is dropped with its rows, which are copies by then.
	// legacy_alter_table: the rename must not rewrite a merchant's views
	// or triggers that name statement_rows to name the old table instead.
	reset := []string{"PRAGMA foreign_keys = ON", "PRAGMA legacy_alter_table = OFF"}
	for _, q := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA legacy_alter_table = ON"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	defer func() {
		for _, q := range reset {
			if _, err := conn.ExecContext(context.Background(), q); err != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn }) // not pooled as it is
				return
			}
		}
	}()
	if err := withWriteLock(ctx, func() error {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		return err
	}); err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	// Another program may have migrated it while this one waited.
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, err
	}
	if v != 1 {
		return -1, nil // nothing to do: rolled back
	}

	for _, q := range []string{
		"ALTER TABLE statement_files ADD COLUMN first_row INTEGER",
		"ALTER TABLE statement_files ADD COLUMN last_row INTEGER",
		"ALTER TABLE statement_rows RENAME TO statement_rows_v1",
		reconcile.Schema, // the new statement_rows, and user_version
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	var ids []int64
	list, err := conn.QueryContext(ctx, "SELECT id FROM statement_files ORDER BY id")
	if err != nil {
		return 0, err
	}
	for list.Next() {
		var id int64
		if err := list.Scan(&id); err != nil {
			list.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	list.Close()
	if err := list.Err(); err != nil {
		return 0, err
	}
	cols := strings.Join(rowCols, ", ")
	copied := int64(0)
	for _, id := range ids {
		r, err := conn.ExecContext(ctx, "INSERT INTO statement_rows ("+cols+") SELECT "+cols+
			" FROM statement_rows_v1 WHERE file_id = ? ORDER BY line", id)
		if err != nil {
			return 0, fmt.Errorf("rows of file %d: %w", id, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, err
		}
		if n == 0 {
			continue
		}
		last, err := r.LastInsertId()
		if err != nil {
			return 0, err
		}
		if _, err := conn.ExecContext(ctx, "UPDATE statement_files SET first_row = ?, last_row = ? WHERE id = ?",
			last-n+1, last, id); err != nil {
			return 0, err
		}
		copied += n
	}
	// A row of no file (written with foreign keys off) would be lost:
	// refuse, and say so.
	var all int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM statement_rows_v1").Scan(&all); err != nil {
		return 0, err
	}
	if all != copied {
		return 0, fmt.Errorf("statement_rows holds %d rows of no statement file (file_id not in statement_files); delete them or restore their files, then open the database again", all-copied)
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE statement_rows_v1"); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	done = true
	return copied, nil
}
