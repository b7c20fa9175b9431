package sqlitebulk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// TestMain checks, before any test registers, that a connection opened
// before Register is refused with ErrNotRegistered rather than misread.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sqlitebulk")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "before.db"))
	if err == nil {
		var conn *sql.Conn
		if conn, err = db.Conn(context.Background()); err == nil {
			_, err = Handle(context.Background(), conn)
			conn.Close()
		}
		db.Close()
	}
	os.RemoveAll(dir)
	if !errors.Is(err, ErrNotRegistered) {
		fmt.Fprintf(os.Stderr, "Handle on a connection opened before Register: %v, want ErrNotRegistered\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// open registers, and opens a database of table t on a connection of its
// own.
func open(t *testing.T) (*sql.Conn, Conn) {
	t.Helper()
	if err := Register(); err != nil {
		t.Fatal(err)
	}
	if err := Register(); err != nil { // again: nothing
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, a, b TEXT NOT NULL, c)`); err != nil {
		t.Fatal(err)
	}
	h, err := Handle(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return conn, h
}

type row struct {
	k       int64
	a, b, c any
}

func dump(t *testing.T, conn *sql.Conn) []row {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `SELECT k, a, b, c FROM t ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.k, &r.a, &r.b, &r.c); err != nil {
			t.Fatal(err)
		}
		// go-sqlite3 scans TEXT into []byte for an any.
		for _, p := range []*any{&r.a, &r.b, &r.c} {
			if b, ok := (*p).([]byte); ok {
				*p = string(b)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExec: every kind of value arrives as given, in a statement of two
// rows sharing a parameter (?1), across a reset and a text buffer that has
// grown since the first execution; the statement says how many rows it
// changed.
func TestExec(t *testing.T) {
	conn, h := open(t)
	st, err := h.Prepare(`INSERT INTO t (k, a, b, c) VALUES (?2, ?3, ?4, ?1), (?5, ?6, ?7, ?1)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	long := strings.Repeat("長い文字列,", 1000) // beyond the buffer's first size
	var a Args
	a.Text("shared")
	a.Int(1)
	a.Int(math.MinInt64)
	a.Text("") // empty, not NULL
	a.Int(2)
	a.Null()
	a.Text("nul\x00inside 连连")
	if n, err := st.Exec(&a); err != nil || n != 2 {
		t.Fatalf("Exec = %d, %v; want 2 rows", n, err)
	}
	if len(a.vals) != 7 {
		t.Errorf("Exec changed the arguments: %d values", len(a.vals))
	}
	a.Reset()
	a.Null()
	a.Int(3)
	a.Int(math.MaxInt64)
	a.Text(long)
	a.Int(4)
	a.Text("=1+2")
	a.Text("")
	if n, err := st.Exec(&a); err != nil || n != 2 {
		t.Fatalf("Exec = %d, %v; want 2 rows", n, err)
	}
	want := []row{
		{1, int64(math.MinInt64), "", "shared"},
		{2, nil, "nul\x00inside 连连", "shared"},
		{3, int64(math.MaxInt64), long, nil},
		{4, "=1+2", "", nil},
	}
	got := dump(t, conn)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("table holds\n%#v\nwant\n%#v", got, want)
	}
	var types string
	if err := conn.QueryRowContext(context.Background(),
		`SELECT group_concat(typeof(a) || '/' || typeof(b) || '/' || typeof(c), ' ') FROM t`).Scan(&types); err != nil {
		t.Fatal(err)
	}
	if want := "integer/text/text null/text/text integer/text/null text/text/null"; types != want {
		t.Errorf("types %s, want %s", types, want)
	}
}

// TestExecCountsChanges: the count is of the rows the statement changed,
// not of the rows it was given, nor of a trigger's.
func TestExecCountsChanges(t *testing.T) {
	conn, h := open(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE log (n); CREATE TRIGGER tr AFTER UPDATE ON t BEGIN INSERT INTO log VALUES (1), (2), (3); END;
		INSERT INTO t (k, b) VALUES (1, 'x'), (2, 'y')`); err != nil {
		t.Fatal(err)
	}
	st, err := h.Prepare(`INSERT INTO t (k, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (k) DO UPDATE SET b = excluded.b WHERE b IS NOT excluded.b`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var a Args
	for _, r := range []struct {
		k int64
		b string
	}{{1, "x"}, {2, "changed"}, {3, "new"}} {
		a.Int(r.k)
		a.Text(r.b)
	}
	if n, err := st.Exec(&a); err != nil || n != 2 {
		t.Errorf("Exec = %d, %v; want 2 (one updated, one inserted, one the same)", n, err)
	}
}

// TestExecInTransaction: the statement runs on the connection's own
// transaction, which a rollback undoes.
func TestExecInTransaction(t *testing.T) {
	conn, h := open(t)
	ctx := context.Background()
	st, err := h.Prepare(`INSERT INTO t (k, b) VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var a Args
	a.Int(1)
	a.Text("gone")
	if _, err := st.Exec(&a); err != nil {
		t.Fatal(err)
	}
	if n := len(dump(t, conn)); n != 1 {
		t.Fatalf("%d rows inside the transaction, want 1", n)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, conn); len(got) != 0 {
		t.Errorf("after the rollback the table holds %v", got)
	}
}

// TestErrors: SQLite's refusals come back with their code and message,
// and the statement runs again after one.
func TestErrors(t *testing.T) {
	conn, h := open(t)
	if _, err := h.Prepare(`INSERT INTO nowhere VALUES (?)`); !strings.Contains(fmt.Sprint(err), "no such table: nowhere") {
		t.Errorf("Prepare of a missing table: %v", err)
	}
	st, err := h.Prepare(`INSERT INTO t (k, b) VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var a Args
	a.Int(1)
	if _, err := st.Exec(&a); err == nil || !strings.Contains(err.Error(), "1 values for 2 parameters") {
		t.Errorf("Exec with too few values: %v", err)
	}
	a.Null()
	_, err = st.Exec(&a)
	var se *Error
	if !errors.As(err, &se) || se.Code != 1299 || !strings.Contains(se.Msg, "NOT NULL constraint failed: t.b") {
		t.Errorf("Exec with a NULL b: %v, want SQLITE_CONSTRAINT_NOTNULL (1299)", err)
	}
	a.Reset()
	a.Int(1)
	a.Text("b")
	st.Close()
	st.Close()
	if _, err := st.Exec(&a); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Exec after Close: %v", err)
	}
	if st, err = h.Prepare(`INSERT INTO t (k, b) VALUES (?, ?)`); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Exec(&a); err != nil || n != 1 {
		t.Errorf("Exec after an error = %d, %v", n, err)
	}
	if got := dump(t, conn); len(got) != 1 {
		t.Errorf("table holds %v", got)
	}
}

// TestExecAllocates nothing, and Args nothing once it has room.
func TestExecAllocates(t *testing.T) {
	_, h := open(t)
	st, err := h.Prepare(`INSERT OR REPLACE INTO t (k, a, b, c) VALUES (?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var a Args
	fill := func() {
		a.Reset()
		a.Int(1)
		a.Text("a text of some length")
		a.Text("another")
		a.Null()
	}
	fill()
	if allocs := testing.AllocsPerRun(100, func() {
		fill()
		if _, err := st.Exec(&a); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per execution", allocs)
	}
}

// TestValueLayout: Go's value is laid out as C's bulk_value.
func TestValueLayout(t *testing.T) {
	var v value
	if unsafe.Sizeof(v) != cValueSize || unsafe.Offsetof(v.n) != cValueOffsetN || unsafe.Offsetof(v.kind) != cValueOffsetType {
		t.Errorf("value: size %d, n at %d, kind at %d; C: %d, %d, %d", unsafe.Sizeof(v), unsafe.Offsetof(v.n), unsafe.Offsetof(v.kind),
			cValueSize, cValueOffsetN, cValueOffsetType)
	}
}
