// Package sqlitebulk runs a prepared SQLite statement with a batch of
// arguments in one call into C, on a connection that database/sql and
// go-sqlite3 opened.
//
// go-sqlite3 binds a batch too, but it gets there from a
// []driver.NamedValue: an interface value per argument, converted one by
// one into an array of C records that hold pointers, which the cgo pointer
// checks then walk record by record. For the store's bulk writes (a
// million statement rows of 17 values, a million ledger entries of 9) that
// was 8% of a fresh day's CPU time, all of it on the writer's goroutine,
// which is the run's critical path. Here the values are appended to two Go
// slices of plain data, a value array and a text buffer, and C binds them
// from there.
//
// It calls the SQLite that go-sqlite3 compiles into the program (the C
// symbols are resolved at link time), and finds a connection's sqlite3
// handle through an SQL function that every connection gets as it opens
// (Register), because go-sqlite3 does not export it.
package sqlitebulk

/*
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// The few declarations of sqlite3.h used here; go-sqlite3 compiles SQLite
// (sqlite3-binding.c) and the linker resolves them to it.
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
typedef long long sqlite3_int64;
typedef void (*sqlite3_destructor_type)(void*);
#define SQLITE_OK         0
#define SQLITE_ERROR      1
#define SQLITE_ROW      100
#define SQLITE_DONE     101
#define SQLITE_INTEGER    1
#define SQLITE_TEXT       3
#define SQLITE_NULL       5
#define SQLITE_UTF8       1
#define SQLITE_DIRECTONLY 0x000080000
#define SQLITE_STATIC     ((sqlite3_destructor_type)0)
#define SQLITE_PREPARE_PERSISTENT 0x01

extern int sqlite3_auto_extension(void (*)(void));
extern int sqlite3_create_function_v2(sqlite3*, const char*, int, int, void*,
	void (*)(sqlite3_context*, int, sqlite3_value**),
	void (*)(sqlite3_context*, int, sqlite3_value**),
	void (*)(sqlite3_context*), void (*)(void*));
extern sqlite3 *sqlite3_context_db_handle(sqlite3_context*);
extern void sqlite3_result_int64(sqlite3_context*, sqlite3_int64);
extern int sqlite3_prepare_v3(sqlite3*, const char*, int, unsigned int, sqlite3_stmt**, const char**);
extern int sqlite3_bind_parameter_count(sqlite3_stmt*);
extern int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
extern int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void (*)(void*));
extern int sqlite3_bind_null(sqlite3_stmt*, int);
extern int sqlite3_clear_bindings(sqlite3_stmt*);
extern int sqlite3_step(sqlite3_stmt*);
extern int sqlite3_reset(sqlite3_stmt*);
extern int sqlite3_finalize(sqlite3_stmt*);
extern int sqlite3_changes(sqlite3*);
extern sqlite3 *sqlite3_db_handle(sqlite3_stmt*);
extern int sqlite3_extended_errcode(sqlite3*);
extern const char *sqlite3_errmsg(sqlite3*);
extern const char *sqlite3_errstr(int);

// A value to bind: an integer (i), a text of n bytes at offset i of the
// text buffer, or NULL. The Go side declares the same layout (value).
typedef struct {
	int64_t i;
	int32_t n;
	int32_t type;
} bulk_value;

enum {
	bulk_value_size = sizeof(bulk_value),
	bulk_value_offset_n = offsetof(bulk_value, n),
	bulk_value_offset_type = offsetof(bulk_value, type),
};

static void connection_handle(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
	sqlite3_result_int64(ctx, (sqlite3_int64)(intptr_t)sqlite3_context_db_handle(ctx));
}

// register_handle is an automatic extension: SQLite runs it on every
// connection as it opens. SQLITE_DIRECTONLY keeps the function out of
// triggers and views, whose SQL a database file brings with it.
static int register_handle(sqlite3 *db, char **err, const void *api) {
	return sqlite3_create_function_v2(db, "sqlitebulk_connection", 0,
		SQLITE_UTF8 | SQLITE_DIRECTONLY, 0, connection_handle, 0, 0, 0);
}

static int bulk_register(void) {
	return sqlite3_auto_extension((void (*)(void))register_handle);
}

static int bulk_prepare(sqlite3_int64 db, const char *sql, int n, sqlite3_stmt **st) {
	return sqlite3_prepare_v3((sqlite3*)(intptr_t)db, sql, n, SQLITE_PREPARE_PERSISTENT, st, 0);
}

static const char *bulk_errmsg(sqlite3_int64 db) {
	return sqlite3_errmsg((sqlite3*)(intptr_t)db);
}

static int bulk_errcode(sqlite3_int64 db) {
	return sqlite3_extended_errcode((sqlite3*)(intptr_t)db);
}

// bulk_exec binds n values to st's first n parameters, runs it to its end
// and resets it, and returns how many rows it changed, or minus SQLite's
// error code. The text is bound SQLITE_STATIC, without a copy, so the
// bindings are cleared before returning: st keeps no pointer into Go
// memory.
static int bulk_exec(sqlite3_stmt *st, const bulk_value *v, int n, const char *text) {
	int rc = SQLITE_OK;
	for (int i = 0; i < n && rc == SQLITE_OK; i++) {
		switch (v[i].type) {
		case SQLITE_INTEGER:
			rc = sqlite3_bind_int64(st, i + 1, v[i].i);
			break;
		case SQLITE_TEXT:
			rc = sqlite3_bind_text(st, i + 1, text + v[i].i, v[i].n, SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
		}
	}
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		return rc == SQLITE_OK ? -SQLITE_ERROR : -rc;
	}
	return sqlite3_changes(sqlite3_db_handle(st));
}
*/
import "C"

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"unsafe"

	// The SQLite this package calls.
	_ "github.com/mattn/go-sqlite3"
)

var registered = sync.OnceValue(func() error {
	if rc := C.bulk_register(); rc != C.SQLITE_OK {
		return fmt.Errorf("sqlitebulk: register the connection function: %s", C.GoString(C.sqlite3_errstr(rc)))
	}
	return nil
})

// Register makes every SQLite connection the program opens from now on
// one that Handle can find. Call it before opening the database; calling
// it again does nothing.
func Register() error { return registered() }

// Conn is the SQLite connection beneath a *sql.Conn, valid while that
// *sql.Conn is held (not closed), and to be used only by whoever holds it.
type Conn struct {
	db C.sqlite3_int64 // the sqlite3 pointer, as an integer for Go's sake
}

// ErrNotRegistered means the connection opened before Register.
var ErrNotRegistered = errors.New("sqlitebulk: connection opened before Register")

// Handle returns the SQLite connection of conn.
func Handle(ctx context.Context, conn *sql.Conn) (Conn, error) {
	var h int64
	err := conn.QueryRowContext(ctx, "SELECT sqlitebulk_connection()").Scan(&h)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such function"):
		return Conn{}, fmt.Errorf("%w: %w", ErrNotRegistered, err)
	case err != nil:
		return Conn{}, fmt.Errorf("sqlitebulk: find the connection's handle: %w", err)
	}
	return Conn{db: C.sqlite3_int64(h)}, nil
}

// Error is an error SQLite returned: its extended result code and message.
type Error struct {
	Code int // extended result code; Code&0xff is the primary one
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (SQLite code %d)", e.Msg, e.Code) }

// err is the error of the call that returned rc on c, as SQLite tells it.
func (c Conn) err(rc C.int) error {
	code := int(C.bulk_errcode(c.db))
	if code&0xff != int(rc) {
		// Not the error the connection last recorded, which the calls
		// here always leave: say what the code means.
		return &Error{Code: int(rc), Msg: C.GoString(C.sqlite3_errstr(rc))}
	}
	return &Error{Code: code, Msg: C.GoString(C.bulk_errmsg(c.db))}
}

// Stmt is a statement prepared on a Conn. Its methods must be called by
// whoever holds the Conn's *sql.Conn, and Close before that is closed.
type Stmt struct {
	c      Conn
	st     *C.sqlite3_stmt
	params int
}

// Prepare prepares query, one SQL statement, to be run many times.
func (c Conn) Prepare(query string) (*Stmt, error) {
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	s := &Stmt{c: c}
	if rc := C.bulk_prepare(c.db, q, C.int(len(query)+1), &s.st); rc != C.SQLITE_OK {
		return nil, c.err(rc)
	}
	if s.st == nil {
		return nil, fmt.Errorf("sqlitebulk: no statement in %.40q", query)
	}
	s.params = int(C.sqlite3_bind_parameter_count(s.st))
	return s, nil
}

// Exec runs the statement with args, which must hold a value for each of
// its parameters, to its end, and returns how many rows it inserted,
// updated or deleted (sqlite3_changes: not counting those of triggers).
// args is left as it is.
func (s *Stmt) Exec(args *Args) (changes int, err error) {
	switch {
	case s.st == nil:
		return 0, errors.New("sqlitebulk: statement closed")
	case len(args.vals) != s.params:
		return 0, fmt.Errorf("sqlitebulk: %d values for %d parameters", len(args.vals), s.params)
	case args.tooLong:
		return 0, errors.New("sqlitebulk: a text of 2 GiB or more")
	}
	var vals *C.bulk_value
	if len(args.vals) > 0 {
		vals = (*C.bulk_value)(unsafe.Pointer(&args.vals[0]))
	}
	// A text is at an offset from the buffer's start, which must not be
	// NULL even when every text is empty: that would bind NULLs.
	if cap(args.text) == 0 {
		args.text = make([]byte, 0, 256)
	}
	n := C.bulk_exec(s.st, vals, C.int(s.params), (*C.char)(unsafe.Pointer(unsafe.SliceData(args.text))))
	if n < 0 {
		return 0, s.c.err(-n)
	}
	return int(n), nil
}

// Close finalizes the statement. It may be called again, or on nil.
func (s *Stmt) Close() {
	if s != nil && s.st != nil {
		C.sqlite3_finalize(s.st)
		s.st = nil
	}
}

// Args is the values of one execution of a Stmt, in parameter order. Its
// zero value is empty and ready; it may be filled on another goroutine
// than the one that runs the statement, and reused after Reset.
type Args struct {
	vals    []value
	text    []byte
	tooLong bool // a text longer than value.n can say
}

// value is C's bulk_value.
type value struct {
	i    int64
	n    int32
	kind int32
}

// C's layout of bulk_value, which value must match (a test checks).
const (
	cValueSize       = C.bulk_value_size
	cValueOffsetN    = C.bulk_value_offset_n
	cValueOffsetType = C.bulk_value_offset_type
)

// Int appends an integer.
func (a *Args) Int(v int64) { a.vals = append(a.vals, value{i: v, kind: C.SQLITE_INTEGER}) }

// Text appends a text, which is copied.
func (a *Args) Text(s string) {
	if len(s) > math.MaxInt32 {
		a.tooLong = true
	}
	a.vals = append(a.vals, value{i: int64(len(a.text)), n: int32(len(s)), kind: C.SQLITE_TEXT})
	a.text = append(a.text, s...)
}

// Null appends SQL NULL.
func (a *Args) Null() { a.vals = append(a.vals, value{kind: C.SQLITE_NULL}) }

// Reset empties a, keeping its memory.
func (a *Args) Reset() { *a = Args{vals: a.vals[:0], text: a.text[:0]} }
