package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lianlian-recon/reconcile/recon"
)

// SaveRun stores the result of a run for (res.Merchant, res.Period),
// replacing an earlier one in the same transaction: the runs row with the
// whole result as JSON and inputsDigest, the findings and the pending
// entries. Running a period again therefore leaves one set of rows.
func (s *Store) SaveRun(ctx context.Context, res *recon.Result, inputsDigest string) error {
	if err := s.saveRun(ctx, res, inputsDigest); err != nil {
		return fmt.Errorf("store run %s %s: %w", res.Merchant, res.Period, err)
	}
	return nil
}

func (s *Store) saveRun(ctx context.Context, res *recon.Result, inputsDigest string) (err error) {
	blob, err := json.Marshal(res)
	if err != nil {
		return err
	}
	var tx *sql.Tx
	if err := withWriteLock(ctx, func() (err error) {
		tx, err = s.db.BeginTx(ctx, nil)
		return err
	}); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The cascade removes the earlier run's findings and pending entries.
	if _, err = tx.ExecContext(ctx, "DELETE FROM runs WHERE merchant = ? AND period = ?", res.Merchant, res.Period); err != nil {
		return err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO runs (merchant, period, monthly, ran_at, inputs_digest, result)
		VALUES (?, ?, ?, ?, ?, ?)`, res.Merchant, res.Period, res.Monthly, res.RanAt, inputsDigest, string(blob))
	if err != nil {
		return err
	}
	runID, err := r.LastInsertId()
	if err != nil {
		return err
	}

	fst, err := tx.PrepareContext(ctx, `INSERT INTO findings (run_id, seq, settle_date, kind, no_order, oid_paybill,
		statement_amount, ledger_amount, difference, file, line, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer fst.Close()
	for i := range res.Findings {
		f := &res.Findings[i]
		diff, ok := f.Difference()
		if _, err = fst.ExecContext(ctx, runID, i, f.SettleDate, string(f.Kind), f.NoOrder, f.OidPaybill,
			nullFen(int64(f.StatementAmount), f.HasStatementAmount), nullFen(int64(f.LedgerAmount), f.HasLedgerAmount),
			nullFen(int64(diff), ok), f.File, nullInt(f.Line), f.Detail); err != nil {
			return fmt.Errorf("finding %s %q: %w", f.Kind, f.NoOrder, err)
		}
	}

	pst, err := tx.PrepareContext(ctx, `INSERT INTO pending (run_id, seq, oid_partner, kind, no_order, dt_order,
		amount, status, orig_no_order, oid_paybill, fee, decide_on, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer pst.Close()
	for i := range res.Pending {
		p := &res.Pending[i]
		e := &p.Entry
		if _, err = pst.ExecContext(ctx, runID, i, e.OidPartner, e.Kind.String(), e.NoOrder, e.DtOrder,
			int64(e.Amount), e.Status.String(), e.OrigNoOrder, e.OidPaybill, nullFen(int64(e.Fee), e.HasFee),
			p.DecideOn, p.Reason); err != nil {
			return fmt.Errorf("pending %s %q: %w", e.Kind, e.NoOrder, err)
		}
	}
	err = tx.Commit()
	return err
}

// LoadRun returns the stored result of (merchant, period) and the inputs
// digest it was saved with; an error wrapping ErrNotFound when there is
// none. The result is decoded from the JSON that SaveRun wrote, so it
// equals the saved one (every text in a Result is UTF-8, which JSON keeps).
func (s *Store) LoadRun(ctx context.Context, merchant, period string) (*recon.Result, string, error) {
	var blob, digest string
	err := s.db.QueryRowContext(ctx, "SELECT result, inputs_digest FROM runs WHERE merchant = ? AND period = ?",
		merchant, period).Scan(&blob, &digest)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("load run %s %s: %w", merchant, period, err)
	}
	var res recon.Result
	if err := json.Unmarshal([]byte(blob), &res); err != nil {
		return nil, "", fmt.Errorf("load run %s %s: %w", merchant, period, err)
	}
	return &res, digest, nil
}
