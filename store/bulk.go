package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"unsafe"
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
// below database/sql. database/sql would allocate and convert a
// driver.NamedValue for every argument of every call (for a batch of 400
// rows of 21 columns, 336 kB); here the arguments are appended to one
// slice that is reused, and go-sqlite3 binds them all and steps in one cgo
// call (it does so when a statement runs through Query with positional
// arguments; Exec crosses into C once per argument). Values must be of
// the types driver.Value allows: int64, string, nil, …
type bulkStmt struct {
	conn *sql.Conn
	st   driver.Stmt
	argList
}

// argList is the arguments of one execution of a bulkStmt, made by add,
// str and int. It may be made on another goroutine than the one that runs
// the statement (execWith).
type argList struct {
	args []driver.NamedValue
	// The values of the strings and integers in args, which point here
	// (see str): valid until reset, and never written before it.
	strs []string
	ints []int64
}

func prepareBulk(ctx context.Context, conn *sql.Conn, query string) (*bulkStmt, error) {
	b := &bulkStmt{conn: conn}
	err := conn.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("driver cannot prepare with a context")
		}
		st, err := p.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		if _, ok := st.(driver.StmtQueryContext); !ok {
			st.Close()
			return errors.New("driver statement cannot query with a context")
		}
		b.st = st
		return nil
	})
	return b, err
}

// add appends the next argument.
func (b *argList) add(v driver.Value) {
	b.args = append(b.args, driver.NamedValue{Ordinal: len(b.args) + 1, Value: v})
}

// str appends the next argument, a string, without allocating. Making a
// driver.Value of a string the usual way allocates a copy of its header
// for the interface to point at: 16 bytes per value, 14 values per
// statement row and 9 per ledger entry, 105 MB of garbage for a million of
// each (some values were shared). Here the copy is kept in b.strs, which
// outlives the statement's execution (reset makes room again only after
// it).
func (b *argList) str(s string) {
	b.strs = append(b.strs, s)
	b.add(valueAt(stringType, unsafe.Pointer(&b.strs[len(b.strs)-1])))
}

// int appends the next argument, an integer, as str does a string.
func (b *argList) int(v int64) {
	b.ints = append(b.ints, v)
	b.add(valueAt(int64Type, unsafe.Pointer(&b.ints[len(b.ints)-1])))
}

// intOrNull appends v, or SQL NULL when !ok.
func (b *argList) intOrNull(v int64, ok bool) {
	if !ok {
		b.add(nil)
		return
	}
	b.int(v)
}

// reset empties the list for the next execution. Values appended later
// are written over those of earlier executions, which must be done.
func (b *argList) reset() { *b = b.emptied() }

// emptied is the list reset, for another to use.
func (b argList) emptied() argList {
	return argList{args: b.args[:0], strs: b.strs[:0], ints: b.ints[:0]}
}

// eface is how the Go runtime lays out an interface value without
// methods (any, driver.Value): the dynamic type, and a pointer to the
// value, which for a string or an int64 is never stored in the interface
// itself (not since Go 1.4).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var stringType, int64Type = typeOf(""), typeOf(int64(0))

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// valueAt returns the interface value of type typ whose value is at p:
// what converting the value to any would return, had it copied the value
// to p. p must point to a value of that type that nobody changes while the
// interface is in use.
func valueAt(typ, p unsafe.Pointer) (v driver.Value) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// exec runs the statement with the arguments added since the last exec,
// entirely: an INSERT does not return rows. go-sqlite3 watches a
// cancellable context with a goroutine per statement, so the callers check
// their context once a batch instead.
func (b *bulkStmt) exec() error {
	defer b.reset()
	return b.execWith(b.args)
}

// execWith runs the statement with args, entirely, and leaves args as
// they are.
func (b *bulkStmt) execWith(args []driver.NamedValue) error {
	return b.conn.Raw(func(any) error {
		rows, err := b.st.(driver.StmtQueryContext).QueryContext(context.Background(), args)
		if err != nil {
			return err
		}
		return rows.Close()
	})
}

// close closes the statement; it may be called again, or on nil.
func (b *bulkStmt) close() {
	if b != nil && b.st != nil {
		b.conn.Raw(func(any) error { return b.st.Close() })
		b.st = nil
	}
}
