package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lianlian-recon/reconcile/internal/alloc"
	"github.com/lianlian-recon/reconcile/internal/sqlitebulk"
	"github.com/lianlian-recon/reconcile/recon"
)

// LedgerCounts says what UpsertLedger did with each entry (SPEC §3: the
// import prints these counts).
type LedgerCounts struct {
	Inserted, Updated, Unchanged int
}

// upsertLedgerSQL writes n entries in one statement: each is inserted or,
// for a known key, updated only when a value differs. Entries go in
// batches because the cost of a statement, not of a row, dominates a large
// import.
func upsertLedgerSQL(n int) string {
	return `INSERT INTO ledger_entries
	(oid_partner, kind, no_order, dt_order, amount, status, orig_no_order, oid_paybill, fee, imported_at, updated_at)
	VALUES ` + valuesList(n, entryCols) + `
	ON CONFLICT (oid_partner, kind, no_order) DO UPDATE SET
		dt_order = excluded.dt_order, amount = excluded.amount, status = excluded.status,
		orig_no_order = excluded.orig_no_order, oid_paybill = excluded.oid_paybill, fee = excluded.fee,
		updated_at = excluded.updated_at, revision = revision + 1
	WHERE dt_order IS NOT excluded.dt_order OR amount IS NOT excluded.amount
		OR status IS NOT excluded.status OR orig_no_order IS NOT excluded.orig_no_order
		OR oid_paybill IS NOT excluded.oid_paybill OR fee IS NOT excluded.fee`
}

// insertLedgerSQL writes those of n entries whose keys the table does not
// hold, and skips the others. INSERT OR IGNORE: SQLite then keeps no
// statement journal for it, which the upsert needs, since its DO UPDATE
// may have to undo a row alone. The journal copies every page the upsert
// changes into a temporary file: 790 MB for a fresh import of a million
// entries, 3.4 GB onto a table of three days with its history indexes.
func insertLedgerSQL(n int) string {
	return `INSERT OR IGNORE INTO ledger_entries
	(oid_partner, kind, no_order, dt_order, amount, status, orig_no_order, oid_paybill, fee, imported_at, updated_at)
	VALUES ` + valuesList(n, entryCols)
}

// entryCols lays out an entry's tuple for valuesList: nine values of its
// own, then imported_at and updated_at, which are the import's time in
// every row and so one argument (?1) per statement.
var entryCols = []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}

const ledgerBatch = 500

// ledgerDiffMin is the size of an import from which UpsertLedger first
// looks for the entries it need not write (a variable for the tests).
var ledgerDiffMin = 10_000

// unchanged finds which entries the table holds, and which of those with
// the same values, in one pass over the table inside tx.
func unchanged(ctx context.Context, tx *sql.Conn, entries []recon.Entry) (*diff, error) {
	d := newDiff(entries)
	rows, err := tx.QueryContext(ctx, `SELECT `+entryJSON+` FROM ledger_entries`)
	if err != nil {
		return nil, err
	}
	if _, err := d.compare(rows); err != nil {
		return nil, err
	}
	return d, nil
}

// unchangedByKey is unchanged by looking the entries' keys up rather than
// reading the table, for a table much larger than the import; first a
// sample of about a thousand keys, and nothing more when none of them is
// stored (a file of new entries: nil; every entry is written, and which
// of them the table holds is not known). It needs
// every stored text to be TEXT (Store.LedgerHasBlobs), for a BLOB never
// equals the TEXT it is looked up by. groups are groupByKey's of entries.
func unchangedByKey(ctx context.Context, tx *sql.Conn, entries []recon.Entry, groups map[ledgerGroup][]int) (*diff, error) {
	d := newDiff(entries)
	lookUp := func(step int) (found int, err error) {
		for g, in := range groups {
			var list []string // its order numbers, each once, in order
			for k := 0; k < len(in); k += step {
				if no := entries[in[k]].NoOrder; len(list) == 0 || list[len(list)-1] != no {
					list = append(list, no)
				}
			}
			rows, err := tx.QueryContext(ctx, ledgerKeysSQL, jsonStrings(list), g.partner, g.kind)
			if err != nil {
				return found, err
			}
			n, err := d.compare(rows)
			found += n
			if err != nil {
				return found, err
			}
		}
		return found, nil
	}
	step := max(1, len(entries)/1024)
	found, err := lookUp(step)
	switch {
	case err != nil:
		return nil, err
	case found == 0 && step > 1:
		return nil, nil
	case step > 1:
		if _, err := lookUp(1); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ledgerGroup is one (oid_partner, kind): the first two columns of the
// ledger's primary key.
type ledgerGroup struct{ partner, kind string }

// groupByKey returns the places in entries of the entries of each group,
// in no_order order, and the groups in key order: written in that order,
// entries append to the table's B-tree instead of splitting pages all over
// it, a third less work for a large import. Equal keys keep the order
// given, so an entry given twice is still written twice in turn and the
// later values win. A group is sorted only when it is not in order
// already: a ledger usually lists each kind in order, and a sort of a
// million keys costs a second.
func groupByKey(entries []recon.Entry) (groups map[ledgerGroup][]int, order []ledgerGroup) {
	// The groups share one array, each its part of it, made to measure:
	// grown by append, the lists of a million entries were 40 MB of
	// garbage.
	sizes := map[ledgerGroup]int{}
	for i := range entries {
		sizes[ledgerGroup{entries[i].OidPartner, entries[i].Kind.String()}]++
	}
	all := make([]int, 0, len(entries))
	groups = make(map[ledgerGroup][]int, len(sizes))
	for g, n := range sizes {
		groups[g], all = all[:0:n], all[n:n]
	}
	for i := range entries {
		g := ledgerGroup{entries[i].OidPartner, entries[i].Kind.String()}
		groups[g] = append(groups[g], i)
	}
	byNoOrder := func(a, b int) int { return strings.Compare(entries[a].NoOrder, entries[b].NoOrder) }
	for _, in := range groups {
		if !slices.IsSortedFunc(in, byNoOrder) {
			slices.SortStableFunc(in, byNoOrder)
		}
	}
	order = slices.SortedFunc(maps.Keys(groups), func(x, y ledgerGroup) int {
		return cmp.Or(strings.Compare(x.partner, y.partner), strings.Compare(x.kind, y.kind))
	})
	return groups, order
}

// ledgerKeysSQL selects the entries of oid_partner ?2 and kind ?3 whose
// no_order is one of the JSON list ?1, by the primary key.
const ledgerKeysSQL = `SELECT ` + entryJSON + ` FROM json_each(?1) j CROSS JOIN ledger_entries
	WHERE oid_partner = ?2 AND kind = ?3 AND no_order = j.value`

// diff finds the entries of an import that the table holds, and those it
// holds unchanged.
type diff struct {
	entries []recon.Entry
	// Keyed by no_order alone, so that a read key is looked up without an
	// allocation; kind and oid_partner are compared after. Two entries
	// sharing a no_order (-1) are neither same nor stored: both are
	// written.
	idx    map[string]int32
	same   []bool // the table holds the entry with the same values
	stored []bool // the table holds the entry's key
}

func newDiff(entries []recon.Entry) *diff {
	d := &diff{entries: entries, idx: make(map[string]int32, len(entries)),
		same: make([]bool, len(entries)), stored: make([]bool, len(entries))}
	for i := range entries {
		if _, dup := d.idx[entries[i].NoOrder]; dup {
			d.idx[entries[i].NoOrder] = -1
			continue
		}
		d.idx[entries[i].NoOrder] = int32(i)
	}
	return d
}

// compare reads rows of entryJSON, marks the entries they hold unchanged,
// closes rows and returns how many it read.
func (d *diff) compare(rows *sql.Rows) (n int, err error) {
	defer rows.Close()
	var (
		line                                                   sql.RawBytes
		jr                                                     jsonReader
		partner, kind, noOrder, dtOrder, status, orig, paybill []byte
		amount, fee                                            int64
		hasFee                                                 bool
	)
	for rows.Next() {
		n++
		if err := rows.Scan(&line); err != nil {
			return n, err
		}
		err := jr.reset(line)
		for _, p := range []*[]byte{&partner, &kind, &noOrder, &dtOrder} {
			if err == nil {
				*p, err = jr.str()
			}
		}
		if err == nil {
			amount, _, err = jr.int()
		}
		for _, p := range []*[]byte{&status, &orig, &paybill} {
			if err == nil {
				*p, err = jr.str()
			}
		}
		if err == nil {
			fee, hasFee, err = jr.int()
		}
		if err == nil {
			err = jr.end()
		}
		if err != nil {
			return n, fmt.Errorf("entry %s: %w", line, err)
		}
		i, ok := d.idx[string(noOrder)]
		if !ok || i < 0 {
			continue
		}
		e := &d.entries[i]
		if string(partner) != e.OidPartner || string(kind) != e.Kind.String() {
			continue
		}
		d.stored[i] = true
		d.same[i] = string(dtOrder) == e.DtOrder && amount == int64(e.Amount) && string(status) == e.Status.String() &&
			string(orig) == e.OrigNoOrder && string(paybill) == e.OidPaybill &&
			hasFee == e.HasFee && (!hasFee || fee == int64(e.Fee))
	}
	return n, rows.Err()
}

// UpsertLedger writes entries in one transaction, keyed by (oid_partner,
// kind, no_order); an empty oid_partner is a key value of its own. An
// entry equal to the stored one is Unchanged, a different one Updated, so
// writing the same entries twice changes nothing (SPEC §3); an entry given
// twice counts twice, the later values winning. An entry the schema
// refuses (checkEntry: e.g. amount ≤ 0) fails the whole call, which writes
// nothing; the error names the entry (callers validate first, as package
// ledger does).
func (s *Store) UpsertLedger(ctx context.Context, entries []recon.Entry) (LedgerCounts, error) {
	c, err := s.upsertLedger(ctx, entries)
	if err != nil {
		return LedgerCounts{}, fmt.Errorf("store ledger: %w", err)
	}
	return c, nil
}

func (s *Store) upsertLedger(ctx context.Context, entries []recon.Entry) (c LedgerCounts, err error) {
	if len(entries) == 0 {
		return c, nil
	}
	for i := range entries {
		if err := checkEntry(&entries[i]); err != nil {
			return c, fmt.Errorf("entry %d (%s %q): %w", i+1, entries[i].Kind, entries[i].NoOrder, err)
		}
	}
	wc, err := s.beginWrite(ctx)
	if err != nil {
		return c, err
	}
	defer func() {
		if err != nil {
			wc.rollback()
		}
	}()
	tx := wc.Conn
	// The table's size decides how unchanged entries are found; counted
	// no further than it matters, for the table grows every day.
	var before int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM ledger_entries LIMIT ?)",
		4*len(entries)+1).Scan(&before); err != nil {
		return c, err
	}
	groups, order := groupByKey(entries)
	// Most of a daily ledger file may have been imported the day before:
	// entries equal to the stored ones are found and not written at all,
	// which costs a fraction of a million upserts. Once the store has its
	// history indexes (and no BLOB texts) they are looked up by the
	// import's keys; before, a table up to four times the import is read
	// whole. Either says too which keys the table holds.
	var d *diff
	if len(entries) >= ledgerDiffMin && before > 0 {
		byKey, _, err := s.ByNumber(ctx)
		if err != nil {
			return c, err
		}
		switch {
		case byKey:
			d, err = unchangedByKey(ctx, tx, entries, groups)
		case before <= 4*len(entries):
			d, err = unchanged(ctx, tx, entries)
		}
		if err != nil {
			return c, err
		}
	}
	// insert and upsert hold the places in entries of the entries to
	// write, in key order (groupByKey): upserted, those whose keys the
	// table is known to hold; inserted, the others.
	insert, upsert := make([]int, 0, len(entries)), []int(nil)
	for _, g := range order {
		for _, i := range groups[g] {
			switch {
			case d == nil || !d.stored[i] && !d.same[i]:
				insert = append(insert, i)
			case d.same[i]:
			default:
				upsert = append(upsert, i)
			}
		}
	}
	ew := newEntryWriter(ctx, tx, entries)
	defer ew.close()
	batches, stop := ew.batches(insert, upsert)
	defer stop()
	// Each batch of insert is inserted; one of which the table held some
	// keys (an entry given again, or one the first pass did not know of)
	// is then upserted whole. Its entries just inserted are equal to the
	// stored ones and change nothing, so each row the upsert changes is an
	// update, and the counts need no count of the table.
	for b := range batches {
		if b.upsert {
			n, err := ew.write(true, b)
			if err != nil {
				return c, err
			}
			c.Updated += n
			ew.done(b)
			continue
		}
		n, err := ew.write(false, b)
		if err != nil {
			return c, err
		}
		c.Inserted += n
		if n < len(b.places) {
			if n, err = ew.write(true, b); err != nil {
				return c, err
			}
			c.Updated += n
		}
		ew.done(b)
	}
	if err := ctx.Err(); err != nil {
		return c, err
	}
	c.Unchanged = len(entries) - c.Inserted - c.Updated
	ew.close()
	err = wc.commit(s)
	return c, err
}

// entryWriter writes batches of entries by the statements insertLedgerSQL
// and upsertLedgerSQL make, each prepared once for full batches.
type entryWriter struct {
	ctx     context.Context
	tx      *sql.Conn
	entries []recon.Entry
	now     string
	full    [2]*bulkStmt          // of a full batch: insert, upsert
	free    chan *sqlitebulk.Args // argument lists to make batches in again
}

// entryBatch is the entries at places, in key order, and the arguments
// that write them.
type entryBatch struct {
	places []int
	args   *sqlitebulk.Args
	upsert bool // the table holds every key: upsert, not insert
}

// batches makes the batches of the entries at insert, then those at
// upsert, on a goroutine of its own, a few ahead of the writer: making the
// arguments (a value per column) is a fifth of what
// writing a million entries costs the writer's goroutine, which the rest
// of a run leaves idle at the end of the ledger's writing. stop makes it
// stop, and returns once it has (it is read-only of the entries anyway).
func (w *entryWriter) batches(insert, upsert []int) (<-chan entryBatch, func()) {
	out := make(chan entryBatch, 2)
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		defer close(out)
		for _, list := range []struct {
			places []int
			upsert bool
		}{{insert, false}, {upsert, true}} {
			for start := 0; start < len(list.places); start += ledgerBatch {
				b := entryBatch{places: list.places[start:min(start+ledgerBatch, len(list.places))], upsert: list.upsert}
				var al *sqlitebulk.Args
				select {
				case al = <-w.free:
				default:
					al = new(sqlitebulk.Args)
				}
				al.Text(w.now) // ?1, see entryCols
				for _, i := range b.places {
					e := &w.entries[i]
					for _, v := range [...]string{e.OidPartner, e.Kind.String(), e.NoOrder, e.DtOrder} {
						al.Text(v)
					}
					al.Int(int64(e.Amount))
					for _, v := range [...]string{e.Status.String(), e.OrigNoOrder, e.OidPaybill} {
						al.Text(v)
					}
					intOrNull(al, int64(e.Fee), e.HasFee)
				}
				b.args = al
				select {
				case out <- b:
				case <-quit:
					return
				}
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() { close(quit) })
		<-finished
	}
}

// done gives b's argument list back for another batch.
func (w *entryWriter) done(b entryBatch) {
	b.args.Reset()
	select {
	case w.free <- b.args:
	default:
	}
}

func newEntryWriter(ctx context.Context, tx *sql.Conn, entries []recon.Entry) *entryWriter {
	return &entryWriter{ctx: ctx, tx: tx, entries: entries, now: time.Now().UTC().Format(time.RFC3339),
		free: make(chan *sqlitebulk.Args, 4)}
}

// write writes the batch by the statement upsertLedgerSQL makes, or
// insertLedgerSQL, and returns how many rows it changed (sqlite3_changes:
// that statement's rows only, not those of any trigger a merchant may have
// put on the table).
func (w *entryWriter) write(upsert bool, b entryBatch) (changed int, err error) {
	sqlFor, full := insertLedgerSQL, &w.full[0]
	if upsert {
		sqlFor, full = upsertLedgerSQL, &w.full[1]
	}
	batch := b.places
	// A statement runs to its end once started (bulkStmt); the caller's
	// context is checked here, once a batch.
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	var st *bulkStmt
	if len(batch) == ledgerBatch {
		if st = *full; st == nil {
			if st, err = prepareBulk(w.ctx, w.tx, sqlFor(ledgerBatch)); err != nil {
				return 0, err
			}
			*full = st
		}
	} else {
		// A shorter batch, the last.
		if st, err = prepareBulk(w.ctx, w.tx, sqlFor(len(batch))); err != nil {
			return 0, err
		}
		defer st.close()
	}
	changed, err = st.execWith(b.args)
	if err != nil {
		// SQLite does not say which row of the batch it refused; the
		// batch holds entries in key order, not in the order given.
		first := &w.entries[batch[0]]
		return 0, fmt.Errorf("a batch of %d entries from %s %q (entry %d): %w", len(batch), first.Kind, first.NoOrder, batch[0]+1, err)
	}
	return changed, nil
}

// close closes the statements; it may be called again.
func (w *entryWriter) close() {
	for i, st := range w.full {
		st.close()
		w.full[i] = nil
	}
}

// LedgerEntries returns the entries of merchant: those with its oid_partner
// and those with none (SPEC §4.1), ordered by dt_order, kind (payment,
// refund, payout, as recon.Kind), no_order, then oid_partner.
//
// A million entries are read in a second or so: SQLite returns them in
// table order and Go sorts them (SQLite's sorter spills to temporary
// files), and their texts are copied into shared blocks rather than one
// allocation each.
func (s *Store) LedgerEntries(ctx context.Context, merchant string) ([]recon.Entry, error) {
	out, err := s.ledgerEntries(ctx, merchant, "")
	if err != nil {
		return nil, fmt.Errorf("ledger of %s: %w", merchant, err)
	}
	return out, nil
}

// LedgerFrom is LedgerEntries of the entries dated from from ("yyyymmdd")
// on, read by the history index on dt_order (HistoryIndexed).
func (s *Store) LedgerFrom(ctx context.Context, merchant, from string) ([]recon.Entry, error) {
	out, err := s.ledgerEntries(ctx, merchant, from)
	if err != nil {
		return nil, fmt.Errorf("ledger of %s from %s: %w", merchant, from, err)
	}
	return out, nil
}

// ledgerFromSQL selects LedgerFrom's entries; "+" keeps SQLite from the
// primary key, so that it takes the index on dt_order.
const ledgerFromSQL = `SELECT ` + entryJSON + ` FROM ledger_entries WHERE +oid_partner IN (?1, '') AND dt_order >= ?2`

func (s *Store) ledgerEntries(ctx context.Context, merchant, from string) ([]recon.Entry, error) {
	// One read transaction: the count and the rows see the same snapshot.
	conn, done, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ledger_entries WHERE +oid_partner IN (?, '') AND dt_order >= ?",
		merchant, from).Scan(&n); err != nil {
		return nil, err
	}
	// One JSON array per entry rather than nine columns: see jsonrow.go.
	q, args := `SELECT `+entryJSON+` FROM ledger_entries WHERE +oid_partner IN (?, '')`, []any{merchant}
	if from != "" {
		q, args = ledgerFromSQL, append(args, from)
	}
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := alloc.Reserve[recon.Entry](n)
	var (
		line  sql.RawBytes
		jr    jsonReader
		texts textBlock
	)
	for rows.Next() {
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		e, text, err := decodeEntry(&jr, line, merchant)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		texts.add(&out, len(out)-1, text)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	texts.flush(out)
	slices.SortFunc(out, recon.CompareEntries)
	return out, nil
}

// entryJSON selects an entry as the one json_array decodeEntry reads. The
// texts are CAST because json_array refuses a BLOB, and a merchant's system
// writing this table may bind its text as one; the columns are TEXT, so the
// cast changes nothing else.
const entryJSON = `json_array(CAST(oid_partner AS TEXT), CAST(kind AS TEXT), CAST(no_order AS TEXT),
	CAST(dt_order AS TEXT), amount, CAST(status AS TEXT), CAST(orig_no_order AS TEXT),
	CAST(oid_paybill AS TEXT), fee)`

// decodeEntry reads one entry's json_array. Its four texts (no_order,
// dt_order, orig_no_order, oid_paybill) are returned apart, to be copied
// into a textBlock: they alias line or jr's buffer until the next entry.
func decodeEntry(jr *jsonReader, line []byte, merchant string) (e recon.Entry, text [4][]byte, err error) {
	if err := jr.reset(line); err != nil {
		return e, text, err
	}
	var partner, kind, status []byte
	var amount, fee int64
	if partner, err = jr.str(); err == nil {
		kind, err = jr.str()
	}
	if err == nil {
		text[0], err = jr.str()
	}
	if err == nil {
		text[1], err = jr.str()
	}
	if err == nil {
		amount, _, err = jr.int()
	}
	if err == nil {
		status, err = jr.str()
	}
	if err == nil {
		text[2], err = jr.str()
	}
	if err == nil {
		text[3], err = jr.str()
	}
	if err == nil {
		fee, e.HasFee, err = jr.int()
	}
	if err == nil {
		err = jr.end()
	}
	if err != nil {
		return e, text, fmt.Errorf("entry %s: %w", line, err)
	}
	if len(partner) > 0 {
		if string(partner) != merchant {
			return e, text, fmt.Errorf("entry %q: oid_partner %q", text[0], partner)
		}
		e.OidPartner = merchant
	}
	k, ok := recon.ParseKind(string(kind))
	if !ok {
		return e, text, fmt.Errorf("entry %q: stored kind %q", text[0], kind)
	}
	e.Kind, e.Amount = k, recon.Fen(amount)
	st, ok := recon.ParseLedgerStatus(string(status))
	if !ok {
		return e, text, fmt.Errorf("entry %q: stored status %q", text[0], status)
	}
	e.Status = st
	e.Fee = recon.Fen(fee)
	return e, text, nil
}

// textBlock gathers the four texts of many entries into one block, which
// becomes one string shared by those entries: a million entries cost a
// few dozen allocations instead of four million.
type textBlock struct {
	buf   []byte
	first int      // the first entry whose texts are in buf
	ends  [][4]int // per entry since first, the end offset of each text
}

const textBlockSize = 1 << 20

// add copies entry i's texts; its strings are set by a later flush.
func (t *textBlock) add(out *[]recon.Entry, i int, text [4][]byte) {
	size := 0
	for _, b := range text {
		size += len(b)
	}
	if len(t.buf)+size > cap(t.buf) {
		t.flush((*out)[:i])
		t.first = i
		if cap(t.buf) < size {
			t.buf = make([]byte, 0, max(textBlockSize, size))
		}
	}
	var e [4]int
	for k, b := range text {
		t.buf = append(t.buf, b...)
		e[k] = len(t.buf)
	}
	t.ends = append(t.ends, e)
}

// flush sets the strings of the entries added since the last flush; out
// holds at least those entries.
func (t *textBlock) flush(out []recon.Entry) {
	if len(t.ends) == 0 {
		return
	}
	s := string(t.buf)
	start := 0
	for j, e := range t.ends {
		x := &out[t.first+j]
		x.NoOrder, x.DtOrder, x.OrigNoOrder, x.OidPaybill = s[start:e[0]], s[e[0]:e[1]], s[e[1]:e[2]], s[e[2]:e[3]]
		start = e[3]
	}
	t.ends = t.ends[:0]
	t.buf = t.buf[:0]
}
