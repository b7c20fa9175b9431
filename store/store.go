// Package store keeps reconcile's state in one SQLite file (SPEC §1 step 6):
// the statement files and every row read from them, the merchant ledger, and
// the result of each run. The tables are those of the module's schema.sql,
// applied on Open.
//
// Every write that belongs together is one transaction, so a crash leaves
// the store as it was before the write or after it, never between (SPEC §8).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	reconcile "github.com/lianlian-recon/reconcile"
	"github.com/lianlian-recon/reconcile/internal/sqlitebulk"
)

// schemaVersion is the PRAGMA user_version that schema.sql sets. A database
// with a higher version was written by a newer program and is refused.
const schemaVersion = 2

// ErrNotFound is returned, wrapped, when a stored file or run is absent.
var ErrNotFound = errors.New("not found")

// Store is an open database. It is safe for concurrent use; writes are
// serialised by SQLite (every write transaction begins IMMEDIATE, and
// waits for another writer as long as it takes: withWriteLock).
type Store struct {
	db   *sql.DB
	path string

	// ingestHook, when set (by tests), is called by a FileWriter (and so
	// inside IngestFile) after each batch of rows it inserts, with the
	// number of rows written so far; an error it returns aborts the ingest
	// as any write error would.
	ingestHook func(written int) error

	// bg counts the goroutines Close waits for: checkpointLater's.
	bg            sync.WaitGroup
	checkpointing atomic.Bool

	migrated *Migration // what Open did to an older database, if anything
}

// Migration is what Open did to a database of an older schema version.
type Migration struct {
	From, To int
	Rows     int64 // statement rows rebuilt
	Took     time.Duration
}

// Migrated returns what Open did to the database when its schema was an
// older version's, which an earlier program can no longer open; nil
// otherwise.
func (s *Store) Migrated() *Migration { return s.migrated }

// busyTimeout is how long SQLite itself waits for another writer before an
// attempt fails (withWriteLock then tries again); a variable for the tests.
var busyTimeout = 5 * time.Second

// Open opens the database at path, creating it when missing, and applies
// the schema. Connections use WAL, foreign keys, a 5 s busy time-out (then
// withWriteLock tries again) and synchronous=NORMAL (durable at each
// checkpoint, consistent always).
func Open(path string) (*Store, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_synchronous", "NORMAL")
	// SQLite's multi-thread mode: no mutex around every call on a
	// connection. database/sql hands a connection to one goroutine at a
	// time, and go-sqlite3's interrupt on a cancelled context is one call
	// SQLite allows from another thread. The bulk writes spend about 15%
	// less time (BenchmarkIngest 3.2-3.3 s -> 2.7-2.8 s).
	q.Set("_mutex", "no")
	// A write transaction that first reads (IngestFile, UpsertLedger) must
	// hold the write lock from its start: a deferred one could fail with
	// SQLITE_BUSY on upgrade, which the busy time-out does not retry.
	q.Set("_txlock", "immediate")
	// The "file:" URI form keeps a '?' or '#' in the path from being taken
	// for parameters.
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	// The bulk writes find a connection's SQLite handle through the
	// function that Register gives every connection opened after it.
	if err := sqlitebulk.Register(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := create(file, path); err != nil {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", file+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

// pageSize is the page size of a database the store creates. The store
// mostly appends a million rows at a time and reads them back in order; 64
// KiB pages (SQLite's largest; the default is 4 KiB) make a fresh import of
// a million ledger entries 3.3 s -> 2.7 s and of a million statement rows
// 4.6 s -> 3.8 s, with fewer write calls, and reads no slower. A database
// created otherwise keeps its own page size.
const pageSize = 65536

// create creates the database file with pageSize pages when it does not
// exist yet. The page size must be set before the first page is written,
// and switching to WAL writes it; so this connection, not the pool's, whose
// every connection switches to WAL as it opens.
func create(file, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or not ours to judge: Open says what is wrong
	}
	db, err := sql.Open("sqlite3", file)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", pageSize))
	return err
}

// migrate applies schema.sql, to a new database or one of version 2, and
// migrates a database of version 1 (migrate1).
func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, schemaVersion)
	}
	if v == 1 {
		start := time.Now()
		rows, err := s.migrate1(ctx)
		if err != nil {
			return fmt.Errorf("migrate schema version 1 to %d: %w", schemaVersion, err)
		}
		if rows >= 0 {
			s.migrated = &Migration{From: 1, To: schemaVersion, Rows: rows, Took: time.Since(start)}
		}
		return nil
	}
	if err := withWriteLock(ctx, func() error {
		_, err := s.db.ExecContext(ctx, reconcile.Schema)
		return err
	}); err != nil {
		return fmt.Errorf("apply schema: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.bg.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// DB gives direct access for queries the store does not offer.
func (s *Store) DB() *sql.DB { return s.db }

// nullFen maps an absent amount to SQL NULL.
func nullFen(v int64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

// nullInt maps 0 to SQL NULL (a finding without a line).
func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

// valuesList is the VALUES part of a multi-row INSERT: n tuples of
// len(cols) numbered parameters. A column whose cols entry is k > 0 takes
// ?k in every tuple: a value the same in every row, bound once per
// statement rather than once per row (SQLite's cost of binding is per
// argument). The others, entries 0, take parameters of their own, numbered
// on from the shared ones in tuple order. So the arguments are the shared
// values first (?1, ?2, …), then each row's own.
func valuesList(n int, cols []int) string {
	shared := 0
	for _, k := range cols {
		shared = max(shared, k)
	}
	var b strings.Builder
	b.Grow(n * len(cols) * 7)
	next := shared + 1
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j, k := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			if k == 0 {
				k = next
				next++
			}
			b.WriteString(strconv.Itoa(k))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// snapshot opens a read transaction on a connection of its own, so that
// several queries see one state of the database. It is not BeginTx: write
// transactions start IMMEDIATE here, and a reader must not take the write
// lock. done rolls back and returns the connection.
func (s *Store) snapshot(ctx context.Context) (conn *sql.Conn, done func(), err error) {
	conn, err = s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
	}, nil
}
