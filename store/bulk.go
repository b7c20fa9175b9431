package store

import (
	"context"
	"database/sql"
	"database/sql/driver"

	"github.com/lianlian-recon/reconcile/internal/sqlitebulk"
)

// writeConn is a write transaction on a connection of its own, begun
// IMMEDIATE (it holds the write lock from the start, see Open). The bulk
// writes use a connection rather than a *sql.Tx so that bulkStmt can reach
// the driver beneath it.
type writeConn struct {
	*sql.Conn
}

func (s *Store) beginWrite(ctx context.Context) (writeConn, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return writeConn{}, err
	}
	// A bulk write appends hundreds of megabytes to the WAL, which the
	// commit would then copy into the database before it returns (the
	// automatic checkpoint). checkpointLater does it instead, beside
	// whatever the caller does next.
	if checkpointAfterBulk {
		if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
			conn.Close()
			return writeConn{}, err
		}
	}
	// Every caller checks what it writes against the schema's CHECKs in
	// Go first (checks.go), so SQLite need not evaluate them again.
	//
	// Foreign keys are off too: the bulk writes insert the rows of a
	// statement file they inserted in the same transaction, and delete a
	// replaced file's rows themselves (beginFile). SQLite would otherwise
	// prepare to undo each 400-row INSERT on its own should its foreign
	// key check fail, copying every page the statement changes into a
	// statement journal first: a gigabyte of copies for a million rows,
	// which cost the writer a second of a seven-second run.
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		writeConn{conn}.release()
		return writeConn{}, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA ignore_check_constraints = ON"); err != nil {
		writeConn{conn}.release()
		return writeConn{}, err
	}
	if err := withWriteLock(ctx, func() error {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		return err
	}); err != nil {
		writeConn{conn}.release()
		return writeConn{}, err
	}
	return writeConn{conn}, nil
}

// checkpointAfterBulk says whether bulk writes leave their checkpoint to
// checkpointLater (a variable for the benchmarks).
var checkpointAfterBulk = true

// commit commits, or rolls back if that fails, and returns the connection
// to the pool.
func (c writeConn) commit(s *Store) error {
	_, err := c.ExecContext(context.Background(), "COMMIT")
	if err != nil {
		c.rollback()
		return err
	}
	c.release()
	s.checkpointLater()
	return nil
}

// rollback rolls back and returns the connection to the pool.
func (c writeConn) rollback() {
	c.ExecContext(context.Background(), "ROLLBACK")
	c.release()
}

// release returns the connection to the pool as every other write
// expects it: CHECK and foreign key constraints enforced, and the default
// automatic checkpoint (every 1000 pages). A connection that cannot be
// reset is discarded, not pooled.
func (c writeConn) release() {
	ctx := context.Background()
	_, err := c.ExecContext(ctx, "PRAGMA ignore_check_constraints = OFF")
	if err == nil {
		_, err = c.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	}
	if err == nil && checkpointAfterBulk {
		_, err = c.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 1000")
	}
	if err != nil {
		c.Raw(func(any) error { return driver.ErrBadConn })
	}
	c.Close()
}

// checkpointLater copies the WAL into the database on a goroutine and a
// connection of its own. It is PASSIVE: readers and writers go on
// meanwhile, and pages that a reader still needs stay in the WAL for a
// later checkpoint. One runs at a time; Close waits for it.
func (s *Store) checkpointLater() {
	if !checkpointAfterBulk || !s.checkpointing.CompareAndSwap(false, true) {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer s.checkpointing.Store(false)
		// An error leaves the WAL to the next checkpoint, automatic or
		// not; nothing is lost.
		s.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
	}()
}

// bulkStmt runs one prepared statement many times with many arguments,
// below database/sql and go-sqlite3 (sqlitebulk): the arguments are
// appended to a sqlitebulk.Args, plain data that is reused, and bound and
// stepped in one cgo call. database/sql would allocate and convert a
// driver.NamedValue for every argument of every call, and go-sqlite3
// convert those into C records that cgo's pointer checks walk one by one.
type bulkStmt struct {
	conn *sql.Conn
	st   *sqlitebulk.Stmt
	sqlitebulk.Args
}

func prepareBulk(ctx context.Context, conn *sql.Conn, query string) (*bulkStmt, error) {
	h, err := sqlitebulk.Handle(ctx, conn)
	if err != nil {
		return nil, err
	}
	b := &bulkStmt{conn: conn}
	err = conn.Raw(func(any) error {
		b.st, err = h.Prepare(query)
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// intOrNull appends v, or SQL NULL when !ok.
func intOrNull(a *sqlitebulk.Args, v int64, ok bool) {
	if !ok {
		a.Null()
		return
	}
	a.Int(v)
}

// exec runs the statement with the arguments added since the last exec,
// entirely, and empties them. The callers check their context once a
// batch: the statement is not interrupted.
func (b *bulkStmt) exec() (changes int, err error) {
	defer b.Reset()
	return b.execWith(&b.Args)
}

// execWith runs the statement with args, entirely, and leaves args as
// they are. It holds the connection meanwhile (conn.Raw), as database/sql
// does for its own calls.
func (b *bulkStmt) execWith(args *sqlitebulk.Args) (changes int, err error) {
	err = b.conn.Raw(func(any) error {
		changes, err = b.st.Exec(args)
		return err
	})
	return changes, err
}

// close closes the statement; it may be called again, or on nil.
func (b *bulkStmt) close() {
	if b != nil && b.st != nil {
		b.conn.Raw(func(any) error { b.st.Close(); return nil })
		b.st = nil
	}
}
