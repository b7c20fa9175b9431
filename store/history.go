package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lianlian-recon/reconcile/recon"
)

// A run for D does not read every stored row and entry: it looks up those
// that can change its decisions (match.Scope) by number, so that its memory
// and time are those of its window, not of every day stored before it. The
// look-ups need these indexes. They are not in schema.sql because they cost
// every bulk write (measured on a million rows: about +1.2 s to store a
// statement file, +2 s to import a ledger file) and a store without
// history beyond a run's window never uses them: IndexHistory creates
// them once the store holds such history, which a run calls before it
// writes, when building them from the rows there is cheaper than keeping
// them up to date row by row.
const historyIndexesSQL = `
DROP INDEX IF EXISTS ledger_entries_blobs;
CREATE INDEX IF NOT EXISTS statement_rows_no_order ON statement_rows (no_order);
CREATE INDEX IF NOT EXISTS statement_rows_oid_paybill ON statement_rows (oid_paybill);
CREATE INDEX IF NOT EXISTS ledger_entries_dt_order ON ledger_entries (dt_order);
CREATE INDEX IF NOT EXISTS ledger_entries_oid_paybill ON ledger_entries (oid_paybill) WHERE oid_paybill <> '';
CREATE INDEX IF NOT EXISTS ledger_entries_blob_texts ON ledger_entries (oid_partner) WHERE ` + ledgerBlobs + `;
`

// ledgerBlobs holds for an entry a merchant's system wrote with a text as
// a BLOB, which the look-ups by number do not find (a BLOB never equals a
// TEXT in SQLite) though LedgerEntries reads it as text: LedgerHasBlobs
// finds such an entry by the partial index ledger_entries_blob_texts,
// which holds nothing otherwise.
//
// A BLOB sorts after every TEXT, and X” is the least BLOB, so "c >= X”"
// holds for a BLOB and for nothing else (a TEXT column's affinity never
// turns a BLOB into text). It is not typeof(c) = 'blob': a function call
// in a partial index's WHERE makes SQLite prepare to undo every INSERT
// into the table on its own (a statement journal), which copied 3.4 GB of
// pages into a temporary file for a million-entry import onto three days
// of history. Stores indexed before used that form, under the name
// ledger_entries_blobs; historyIndexesSQL replaces it.
const ledgerBlobs = `(oid_partner >= X'' OR kind >= X'' OR no_order >= X''
	OR dt_order >= X'' OR oid_paybill >= X'' OR orig_no_order >= X'')`

// historyIndexes are the names of the indexes historyIndexesSQL creates.
var historyIndexes = []string{"statement_rows_no_order", "statement_rows_oid_paybill",
	"ledger_entries_dt_order", "ledger_entries_oid_paybill", "ledger_entries_blob_texts"}

// LedgerHasBlobs reports whether an entry holds a text written as a BLOB
// (ledgerBlobs): then a run reads the whole ledger, as it used to, rather
// than look entries up by number. Quick with the history indexes.
func (s *Store) LedgerHasBlobs(ctx context.Context) (bool, error) {
	var has bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE `+ledgerBlobs+`)`).Scan(&has); err != nil {
		return false, fmt.Errorf("ledger texts written as BLOBs: %w", err)
	}
	return has, nil
}

// IndexHistory creates the history indexes when the store holds a daily
// statement file dated before before ("yyyymmdd") and lacks one of them: a
// run for D calls it with the first day of its window, before which it
// looks rows and entries up by number. It takes the write lock, for a few
// seconds a million rows the first time, and is quick once they exist;
// created says whether it made any.
func (s *Store) IndexHistory(ctx context.Context, before string) (created bool, err error) {
	ok, err := s.HistoryIndexed(ctx)
	if err != nil || ok {
		return false, err
	}
	var older bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM statement_files
		WHERE monthly = 0 AND kind = 'JYMX' AND date < ?)`, before).Scan(&older); err != nil {
		return false, err
	}
	if !older {
		return false, nil
	}
	if err := withWriteLock(ctx, func() error {
		_, err := s.db.ExecContext(ctx, historyIndexesSQL)
		return err
	}); err != nil {
		return false, fmt.Errorf("create the history indexes: %w", err)
	}
	return true, nil
}

// ByNumber reports whether rows and entries can be looked up by number
// (HistoryRows, LedgerFor, LedgerFrom, and UpsertLedger's search for
// unchanged entries): the store has the history indexes, and no ledger
// text was written as a BLOB, which a look-up by TEXT does not find. blobs
// says which of the two it is when the store is indexed.
func (s *Store) ByNumber(ctx context.Context) (ok, blobs bool, err error) {
	indexed, err := s.HistoryIndexed(ctx)
	if err != nil || !indexed {
		return false, false, err
	}
	blobs, err = s.LedgerHasBlobs(ctx)
	return err == nil && !blobs, blobs, err
}

// HistoryIndexed reports whether the store has the indexes HistoryRows,
// LedgerFor, LedgerFrom and LedgerHasBlobs look up by. Without them those reads would scan
// whole tables once per number: a run reads everything instead, which is
// small then (the history this run itself stored).
func (s *Store) HistoryIndexed(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema
		WHERE type = 'index' AND name IN (SELECT value FROM json_each(?))`, jsonStrings(historyIndexes)).Scan(&n); err != nil {
		return false, fmt.Errorf("history indexes: %w", err)
	}
	return n == len(historyIndexes), nil
}

// HistoryRows calls fn for the good rows of merchant's stored daily detail
// files dated up to upTo ("yyyymmdd") whose no_order is one of noOrders or
// whose oid_paybill is one of paybills, each once, in StatementRows' order
// and as lean as StatementRows gives them. SQLite finds them through the
// history indexes (HistoryIndexed), one look-up per number.
func (s *Store) HistoryRows(ctx context.Context, merchant, upTo string, noOrders, paybills []string, fn func(r recon.Row) error) error {
	rows, err := s.historyRows(ctx, merchant, upTo, noOrders, paybills)
	if err != nil {
		return fmt.Errorf("statement rows of %s by number: %w", merchant, err)
	}
	for i := range rows {
		if err := fn(rows[i].row); err != nil {
			return err
		}
	}
	return nil
}

// historyRowsSQL selects, as statementRowsSQL does, the rows of ?2's daily
// detail files dated up to ?3 whose column is one of the JSON list ?1.
// CROSS JOIN keeps the list outside: one index look-up a number, never a
// scan of statement_rows a number (TestHistoryLookupsUseIndexes).
func historyRowsSQL(column string) string {
	return `SELECT r.file_id, json_array(r.line, r.no_order, r.oid_partner, r.busi_partner,
			r.oid_paybill, r.settle_date, r.amount, r.direction, r.status, r.fee, r.kind)
		FROM json_each(?1) j CROSS JOIN statement_rows r ON r.` + column + ` = j.value
		CROSS JOIN statement_files f ON f.id = r.file_id
		WHERE f.merchant = ?2 AND f.monthly = 0 AND f.kind IN ('JYMX', 'FKMX') AND f.date <= ?3`
}

// ledgerByKeySQL is ledgerKeysSQL (the entries of oid_partner ?2 and kind
// ?3 whose no_order is one of the JSON list ?1) dated before ?4.
const ledgerByKeySQL = ledgerKeysSQL + ` AND +dt_order < ?4`

// ledgerByPaybillSQL selects the payment entries of merchant ?2 (and those
// without oid_partner) dated before ?3 whose oid_paybill is one of the JSON
// list ?1, by the partial index, which the test of oid_paybill against the
// empty text lets SQLite use.
const ledgerByPaybillSQL = `SELECT ` + entryJSON + ` FROM json_each(?1) j CROSS JOIN ledger_entries
	WHERE oid_paybill = j.value AND oid_paybill <> '' AND kind = 'payment' AND +oid_partner IN (?2, '')
	AND +dt_order < ?3`

// jsonStrings is list as a JSON array of strings, for json_each. Order and
// paybill numbers are plain ASCII as a rule: those are copied as they are,
// and anything else is escaped by encoding/json, which takes a second a
// million strings otherwise.
func jsonStrings(list []string) string {
	n := 2
	for _, v := range list {
		n += len(v) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		plain := true
		for k := 0; k < len(v) && plain; k++ {
			plain = v[k] >= 0x20 && v[k] < 0x7f && v[k] != '"' && v[k] != '\\'
		}
		if plain {
			b = append(append(append(b, '"'), v...), '"')
			continue
		}
		q, _ := json.Marshal(v) // a string always marshals
		b = append(b, q...)
	}
	return string(append(b, ']'))
}

// ranked is a row and the place of its file in StatementRows' order.
type ranked struct {
	rank int
	row  recon.Row
}

func (s *Store) historyRows(ctx context.Context, merchant, upTo string, noOrders, paybills []string) ([]ranked, error) {
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	type fileInfo struct {
		date, name string
		rank       int
	}
	files := map[int64]fileInfo{}
	fr, err := conn.QueryContext(ctx, statementFilesSQL+` ORDER BY date, kind DESC, name`, merchant, upTo, "")
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	for fr.Next() {
		var id int64
		var unranged bool // its rows are found by number all the same
		f := fileInfo{rank: len(files)}
		if err := fr.Scan(&id, &f.date, &f.name, &unranged); err != nil {
			return nil, err
		}
		files[id] = f
	}
	if err := fr.Err(); err != nil {
		return nil, err
	}

	var out []ranked
	var jr jsonReader
	var batch leanBatch
	for _, by := range []struct {
		column string
		list   []string
	}{{"no_order", noOrders}, {"oid_paybill", paybills}} {
		if len(by.list) == 0 {
			continue
		}
		rows, err := conn.QueryContext(ctx, historyRowsSQL(by.column), jsonStrings(by.list), merchant, upTo)
		if err != nil {
			return nil, err
		}
		var id int64
		var line sql.RawBytes
		var ranks []int
		collect := func(_ string, r recon.Row) error {
			out = append(out, ranked{ranks[0], r})
			ranks = ranks[1:]
			return nil
		}
		for rows.Next() {
			if err := rows.Scan(&id, &line); err != nil {
				rows.Close()
				return nil, err
			}
			f, ok := files[id]
			if !ok {
				rows.Close()
				return nil, fmt.Errorf("row of unlisted file %d", id)
			}
			if err := batch.add(&jr, line, f.name, f.date); err != nil {
				rows.Close()
				return nil, err
			}
			ranks = append(ranks, f.rank)
			if len(batch.rows) == leanBatchSize {
				if err := batch.flush(collect); err != nil {
					rows.Close()
					return nil, err
				}
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := batch.flush(collect); err != nil {
			return nil, err
		}
	}
	// A row found by both numbers, or by a number listed twice, once.
	slices.SortFunc(out, func(a, b ranked) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return a.row.Line - b.row.Line
	})
	return slices.CompactFunc(out, func(a, b ranked) bool { return a.rank == b.rank && a.row.Line == b.row.Line }), nil
}

// LedgerFor returns the entries of merchant's ledger (its own and those
// without oid_partner) dated before before ("yyyymmdd") whose kind and
// no_order are among keys, and its payment entries dated before before
// whose oid_paybill is one of paybills, each once, in LedgerEntries' order.
// It looks them up by the primary key and the history indexes
// (HistoryIndexed). (A run reads the entries from before on whole, with
// LedgerFrom.)
func (s *Store) LedgerFor(ctx context.Context, merchant, before string, keys map[recon.Kind][]string, paybills []string) ([]recon.Entry, error) {
	out, err := s.ledgerFor(ctx, merchant, before, keys, paybills)
	if err != nil {
		return nil, fmt.Errorf("ledger of %s by number: %w", merchant, err)
	}
	return out, nil
}

func (s *Store) ledgerFor(ctx context.Context, merchant, before string, keys map[recon.Kind][]string, paybills []string) ([]recon.Entry, error) {
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var out []recon.Entry
	var jr jsonReader
	var texts textBlock
	// read reads the entries q selects, given the JSON list of list first
	// and then args.
	read := func(q string, list []string, args ...any) error {
		if len(list) == 0 {
			return nil
		}
		rows, err := conn.QueryContext(ctx, q, append([]any{jsonStrings(list)}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var line sql.RawBytes
		for rows.Next() {
			if err := rows.Scan(&line); err != nil {
				return err
			}
			e, text, err := decodeEntry(&jr, line, merchant)
			if err != nil {
				return err
			}
			out = append(out, e)
			texts.add(&out, len(out)-1, text)
		}
		return rows.Err()
	}
	// Most ledgers name the merchant in every entry, or in none: look up
	// only the partners the ledger has, which halves the look-ups.
	for _, partner := range []string{merchant, ""} {
		var has bool
		if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE oid_partner = ?)`,
			partner).Scan(&has); err != nil {
			return nil, err
		}
		if !has {
			continue
		}
		for _, kind := range []recon.Kind{recon.KindPayment, recon.KindRefund, recon.KindPayout} {
			if err := read(ledgerByKeySQL, keys[kind], partner, kind.String(), before); err != nil {
				return nil, err
			}
		}
	}
	if err := read(ledgerByPaybillSQL, paybills, merchant, before); err != nil {
		return nil, err
	}
	texts.flush(out)
	slices.SortFunc(out, recon.CompareEntries)
	return slices.CompactFunc(out, func(a, b recon.Entry) bool {
		return a.OidPartner == b.OidPartner && a.Kind == b.Kind && a.NoOrder == b.NoOrder
	}), nil
}
