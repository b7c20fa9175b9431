package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// toUTF8 does what `iconv -f GBK -t UTF-8 src > dst` does: the one-off
// script's first step, timed as part of each peer.
func toUTF8(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	if _, err := w.ReadFrom(transform.NewReader(bufio.NewReaderSize(in, 1<<20), simplifiedchinese.GBK.NewDecoder())); err != nil {
		out.Close()
		return fmt.Errorf("convert %s: %w", src, err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// The statement's 14 columns (SPEC §2.3). Field 14 (info_order) may hold
// commas, and the generator writes some ("订单:蓝牙耳机,数据线"), so a plain
// CSV reader sees 14 or 15 fields. Neither peer needs field 14: DuckDB is
// given a 15th column and null_padding (a 14-field row gets NULL there);
// sqlite3 .import keeps the first 14 and ignores the extra (with a warning
// on stderr per such row, which we count, not print).
const duckStatementColumns = `{'no_order': 'VARCHAR', 'oid_partner': 'VARCHAR', 'dt_order': 'VARCHAR',
	'busi_partner': 'VARCHAR', 'oid_paybill': 'VARCHAR', 'settle_date': 'VARCHAR',
	'amount': 'DECIMAL(18,2)', 'direction': 'INTEGER', 'status': 'INTEGER', 'updated_at': 'VARCHAR',
	'fee': 'DECIMAL(18,2)', 'product': 'VARCHAR', 'pay_method': 'VARCHAR', 'info_order': 'VARCHAR',
	'info_more': 'VARCHAR'}`

// duckdbPeer: the statement converted to UTF-8, then read_csv of both files
// and a FULL OUTER JOIN on (kind, no_order), kind derived as SPEC §2.3 says,
// the unmatched and amount-mismatched keys copied to outCSV.
func duckdbPeer(jymx, ledger, work, outCSV string) (phases, error) {
	var ph phases
	start := time.Now()
	stmt := work + "/jymx-utf8.csv"
	if err := toUTF8(jymx, stmt); err != nil {
		return ph, err
	}
	ph.convert = time.Since(start)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return ph, err
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (
  WITH s AS (
    SELECT CASE WHEN direction = 1 THEN 'payout' WHEN amount < 0 THEN 'refund' ELSE 'payment' END AS kind,
           no_order, abs(amount) AS amount
    FROM read_csv(%s, auto_detect = false, header = false, delim = ',', quote = '', escape = '', null_padding = true,
                  columns = %s)
  ), l AS (
    SELECT kind, no_order, CAST(amount AS DECIMAL(18,2)) AS amount
    FROM read_csv(%s, header = true, all_varchar = true)
  )
  SELECT CASE WHEN l.no_order IS NULL THEN 'missing_in_ledger'
              WHEN s.no_order IS NULL THEN 'missing_in_statement'
              ELSE 'amount_mismatch' END AS finding,
         coalesce(s.kind, l.kind) AS kind, coalesce(s.no_order, l.no_order) AS no_order,
         s.amount AS statement_amount, l.amount AS ledger_amount
  FROM s FULL OUTER JOIN l ON s.kind = l.kind AND s.no_order = l.no_order
  WHERE l.no_order IS NULL OR s.no_order IS NULL OR s.amount <> l.amount
) TO %s (HEADER, DELIMITER ',')`, sqlString(stmt), duckStatementColumns, sqlString(ledger), sqlString(outCSV))
	if _, err := db.Exec(q); err != nil {
		return ph, fmt.Errorf("duckdb: %w", err)
	}
	ph.query = time.Since(start) - ph.convert
	return ph, nil
}

// phases splits a peer's time: the GBK→UTF-8 conversion, then the rest.
type phases struct{ convert, query time.Duration }

// sqlitePeer: the statement converted to UTF-8, then the sqlite3 command
// line (in-memory database): .import both, derive kind and amount in fen,
// index (kind, no_order) on both, FULL OUTER JOIN (sqlite ≥ 3.39) to outCSV.
// The amount becomes fen through round(REAL*100): exact for these amounts,
// and what a one-off script would write (SQLite has no decimal type).
func sqlitePeer(jymx, ledger, work, outCSV string) (ph phases, warnings int, err error) {
	start := time.Now()
	stmt := work + "/jymx-utf8.csv"
	if err := toUTF8(jymx, stmt); err != nil {
		return ph, 0, err
	}
	ph.convert = time.Since(start)
	script := fmt.Sprintf(`.bail on
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE s_raw(no_order TEXT, oid_partner TEXT, dt_order TEXT, busi_partner TEXT, oid_paybill TEXT,
  settle_date TEXT, amount TEXT, direction TEXT, status TEXT, updated_at TEXT, fee TEXT, product TEXT,
  pay_method TEXT, info_order TEXT);
.import --csv %[1]s s_raw
.import --csv %[2]s l_raw
CREATE TABLE s AS SELECT
  CASE WHEN direction = '1' THEN 'payout' WHEN CAST(amount AS REAL) < 0 THEN 'refund' ELSE 'payment' END AS kind,
  no_order, CAST(round(abs(CAST(amount AS REAL)) * 100) AS INTEGER) AS fen FROM s_raw;
CREATE TABLE l AS SELECT kind, no_order, CAST(round(CAST(amount AS REAL) * 100) AS INTEGER) AS fen FROM l_raw;
CREATE INDEX s_key ON s(kind, no_order);
CREATE INDEX l_key ON l(kind, no_order);
.headers on
.mode csv
.once %[3]s
SELECT CASE WHEN l.no_order IS NULL THEN 'missing_in_ledger'
            WHEN s.no_order IS NULL THEN 'missing_in_statement'
            ELSE 'amount_mismatch' END AS finding,
       coalesce(s.kind, l.kind) AS kind, coalesce(s.no_order, l.no_order) AS no_order,
       s.fen AS statement_fen, l.fen AS ledger_fen
FROM s FULL OUTER JOIN l ON s.kind = l.kind AND s.no_order = l.no_order
WHERE l.no_order IS NULL OR s.no_order IS NULL OR s.fen <> l.fen;
`, dotArg(stmt), dotArg(ledger), dotArg(outCSV))
	var stderr bytes.Buffer
	cmd := exec.Command("sqlite3")
	cmd.Stdin = strings.NewReader(script)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return ph, 0, fmt.Errorf("sqlite3: %w: %s", err, firstLines(stderr.String(), 5))
	}
	ph.query = time.Since(start) - ph.convert
	return ph, strings.Count(stderr.String(), "extras ignored"), nil
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// dotArg quotes a path for a sqlite3 dot-command.
func dotArg(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
