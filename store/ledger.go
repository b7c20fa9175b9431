package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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
	VALUES ` + valuesList(n, 11) + `
	ON CONFLICT (oid_partner, kind, no_order) DO UPDATE SET
		dt_order = excluded.dt_order, amount = excluded.amount, status = excluded.status,
		orig_no_order = excluded.orig_no_order, oid_paybill = excluded.oid_paybill, fee = excluded.fee,
		updated_at = excluded.updated_at, revision = revision + 1
	WHERE dt_order IS NOT excluded.dt_order OR amount IS NOT excluded.amount
		OR status IS NOT excluded.status OR orig_no_order IS NOT excluded.orig_no_order
		OR oid_paybill IS NOT excluded.oid_paybill OR fee IS NOT excluded.fee`
}

const ledgerBatch = 100

// UpsertLedger writes entries in one transaction, keyed by (oid_partner,
// kind, no_order); an empty oid_partner is a key value of its own. An
// entry equal to the stored one is Unchanged, a different one Updated, so
// writing the same entries twice changes nothing (SPEC §3); an entry given
// twice counts twice, the later values winning. An entry the schema refuses
// (e.g. amount ≤ 0) fails the whole call, which writes nothing; the error
// names the batch of 100 entries it is in (callers validate first, as
// package ledger does).
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The counts come from the table, not from each row: rows changed (an
	// upsert counts inserts and updates alike) and rows added (the importer
	// never deletes), so that entries can be written in batches.
	countRows := func() (n int, err error) {
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM ledger_entries").Scan(&n)
		return n, err
	}
	before, err := countRows()
	if err != nil {
		return c, err
	}
	full, err := tx.PrepareContext(ctx, upsertLedgerSQL(min(ledgerBatch, len(entries))))
	if err != nil {
		return c, err
	}
	defer full.Close()
	changes, err := tx.PrepareContext(ctx, "SELECT changes()")
	if err != nil {
		return c, err
	}
	defer changes.Close()
	now := time.Now().UTC().Format(time.RFC3339)
	// go-sqlite3 watches a cancellable context with a goroutine per
	// statement; the loop checks ctx itself, once a batch.
	execCtx := context.WithoutCancel(ctx)
	args := make([]any, 0, ledgerBatch*11)
	changed := 0
	for start := 0; start < len(entries); start += ledgerBatch {
		if err = ctx.Err(); err != nil {
			return c, err
		}
		batch := entries[start:min(start+ledgerBatch, len(entries))]
		args = args[:0]
		for i := range batch {
			e := &batch[i]
			args = append(args, e.OidPartner, e.Kind.String(), e.NoOrder, e.DtOrder, int64(e.Amount),
				string(e.Status), e.OrigNoOrder, e.OidPaybill, nullFen(int64(e.Fee), e.HasFee), now, now)
		}
		if len(batch) == ledgerBatch || start == 0 {
			err = execFused(execCtx, full, args)
		} else {
			_, err = tx.ExecContext(execCtx, upsertLedgerSQL(len(batch)), args...)
		}
		if err != nil {
			// SQLite does not say which row of the batch it refused.
			return c, fmt.Errorf("entries %d to %d (first %s %q): %w", start+1, start+len(batch), batch[0].Kind, batch[0].NoOrder, err)
		}
		// changes() counts this statement's rows only, not those of any
		// trigger a merchant may have put on the table.
		var n int
		if err = changes.QueryRowContext(execCtx).Scan(&n); err != nil {
			return c, err
		}
		changed += n
	}
	after, err := countRows()
	if err != nil {
		return c, err
	}
	c.Inserted = after - before
	c.Updated = changed - c.Inserted
	c.Unchanged = len(entries) - changed
	err = tx.Commit()
	return c, err
}

// LedgerEntries returns the entries of merchant: those with its oid_partner
// and those with none (SPEC §4.1), ordered by dt_order, kind (payment,
// refund, payout, as recon.Kind), no_order, then oid_partner.
func (s *Store) LedgerEntries(ctx context.Context, merchant string) ([]recon.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT oid_partner, kind, no_order, dt_order, amount, status,
		orig_no_order, oid_paybill, fee FROM ledger_entries
		WHERE oid_partner IN (?, '')
		ORDER BY dt_order, CASE kind WHEN 'payment' THEN 1 WHEN 'refund' THEN 2 ELSE 3 END, no_order, oid_partner`,
		merchant)
	if err != nil {
		return nil, fmt.Errorf("ledger of %s: %w", merchant, err)
	}
	defer rows.Close()
	var out []recon.Entry
	for rows.Next() {
		var e recon.Entry
		var kind, status string
		var fee sql.NullInt64
		if err := rows.Scan(&e.OidPartner, &kind, &e.NoOrder, &e.DtOrder, &e.Amount, &status,
			&e.OrigNoOrder, &e.OidPaybill, &fee); err != nil {
			return nil, fmt.Errorf("ledger of %s: %w", merchant, err)
		}
		k, ok := recon.ParseKind(kind)
		if !ok {
			return nil, fmt.Errorf("ledger of %s: entry %q: stored kind %q", merchant, e.NoOrder, kind)
		}
		e.Kind, e.Status = k, recon.LedgerStatus(status)
		e.Fee, e.HasFee = recon.Fen(fee.Int64), fee.Valid
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger of %s: %w", merchant, err)
	}
	return out, nil
}
