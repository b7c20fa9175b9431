-- schema.sql: the SQLite store of reconcile (SPEC §1 step 6, §3, §8).
--
-- Applied by store.Open on every start; every statement is idempotent
-- (CREATE ... IF NOT EXISTS) and PRAGMA user_version records the version of
-- this file, so that a newer program can migrate an older database and an
-- older program refuses a newer one.
--
-- Conventions, for everyone who reads or writes these tables:
--   * Money is INTEGER fen (分, one hundredth of a yuan), never REAL: the
--     CHECK constraints refuse any other type.
--   * Every text taken from a statement file is TEXT in UTF-8, exactly as
--     the parser read it (trimmed, unquoted); nothing is reformatted.
--   * Dates are TEXT as LianLian prints them: 'yyyymmdd' for settle dates,
--     'yyyymmdd hh:mm:ss' for order and update times; ledger times are
--     'yyyymmddhhmmss'. Timestamps of our own (ingested_at, ran_at, …) are
--     RFC 3339 text.
--   * Rows derived from a statement file hang off statement_files with
--     ON DELETE CASCADE: replacing a file (same name, other bytes) deletes
--     the old file row and with it every row read from it.
--   * The store opens every connection with PRAGMA foreign_keys = ON; a
--     program that writes these tables directly should do the same.

-- One row per statement file name (SPEC §2.1). A file fetched again with
-- other bytes replaces its row (and so its detail rows); the change is kept
-- in file_changes.
CREATE TABLE IF NOT EXISTS statement_files (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,     -- base name, e.g. JYMX_201403251000001147_20140528.txt
    kind        TEXT    NOT NULL CHECK (kind IN ('JYMX', 'FKMX', 'JYMXSUM', 'FKMXSUM')),
    merchant    TEXT    NOT NULL,            -- oid_partner from the file name
    date        TEXT    NOT NULL,            -- 'yyyymmdd' (daily) or 'yyyymm' (monthly), from the name
    monthly     INTEGER NOT NULL CHECK (monthly IN (0, 1)),
    size        INTEGER NOT NULL,            -- bytes
    sha256      TEXT    NOT NULL,            -- hex of the file's bytes
    encoding    TEXT    NOT NULL,            -- 'UTF-8', 'UTF-8 (BOM)' or 'GB18030' as detected
    rows        INTEGER NOT NULL,            -- good detail rows read (of a daily file: stored in statement_rows)
    malformed   INTEGER NOT NULL,            -- lines stored in malformed_rows
    title_line  INTEGER NOT NULL DEFAULT 0,  -- line of a skipped title row, 0 if none
    warnings    TEXT,                        -- JSON array of file-level notes, NULL if none
    ingested_at TEXT    NOT NULL,            -- RFC 3339
    -- Its rows in statement_rows are those of rowid first_row to last_row,
    -- in line order; both NULL when none are stored (see statement_rows).
    first_row   INTEGER,
    last_row    INTEGER
);

-- HistoryStart, HasDaily, and StatementRows, which reads a merchant's
-- daily files in (date, JYMX before FKMX, name) order from this index
-- without sorting ('JYMX' > 'FKMX', hence kind DESC). UNIQUE because the
-- name is: it tells SQLite that each key is one file, whose rows then come
-- in line order from the primary key of statement_rows, again unsorted.
CREATE UNIQUE INDEX IF NOT EXISTS statement_files_merchant
    ON statement_files (merchant, monthly, date, kind DESC, name);

-- Every time a name came back with other bytes (SPEC §7: "the report says
-- so"). Not tied to statement_files: the history outlives the replaced row.
CREATE TABLE IF NOT EXISTS file_changes (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    old_sha256 TEXT NOT NULL,
    new_sha256 TEXT NOT NULL,
    changed_at TEXT NOT NULL                 -- RFC 3339
);

CREATE INDEX IF NOT EXISTS file_changes_name ON file_changes (name, id);

-- Good detail rows of daily JYMX and FKMX files (SPEC §2.3), one per
-- physical line. Field numbers are the seed's.
--
-- A monthly file's rows are not stored here: they repeat the daily files'
-- rows, which are, and a large merchant's month is thirty million of them,
-- which would take longer to store than the whole monthly run may (issue
-- 6). A monthly run stores the file (statement_files, with its SHA-256 and
-- row count) and its malformed lines, and every row in which it differs
-- from the daily files is a monthly_daily_mismatch finding of the run,
-- with the file and line (SPEC §2.6). (Databases written by earlier
-- versions may hold a monthly file's rows; nothing reads them.)
--
-- A file's rows are stored in one transaction, in line order, and take
-- the next rowids: statement_files.first_row to last_row. That range is
-- how the store finds a file's rows, in order (File, StatementRows, the
-- deletion of a replaced file's rows): the table has no index on file_id.
-- A rowid table with SQLite's own rowids appends each row without first
-- looking for it, which a primary key (file_id, line) made it do; storing
-- a million rows takes 13% less time (issue 6). Version 1 of this
-- schema had that key; Open rebuilds such a table (store.migrate).
--
-- So a program that deletes a statement_files row should first delete its
-- rows by that range: ON DELETE CASCADE still holds (with PRAGMA
-- foreign_keys = ON), but without an index it reads the whole table.
--
-- Other indexes: a run reads its window's files whole and looks older rows
-- up by no_order and oid_paybill; the store creates the indexes for that
-- (statement_rows_no_order, statement_rows_oid_paybill, and two on
-- ledger_entries: see historyIndexesSQL in store/history.go) once it holds
-- history before a run's window, for they slow every bulk insert and a
-- young store has no use for them.
CREATE TABLE IF NOT EXISTS statement_rows (
    file_id       INTEGER NOT NULL REFERENCES statement_files (id) ON DELETE CASCADE,
    line          INTEGER NOT NULL,          -- 1-based physical line in the file
    no_order      TEXT    NOT NULL,          -- 1  order, refund or payout number
    oid_partner   TEXT    NOT NULL,          -- 2  as printed in the row (may differ from the file's)
    dt_order      TEXT    NOT NULL,          -- 3  'yyyymmdd hh:mm:ss'
    busi_partner  TEXT    NOT NULL,          -- 4
    oid_paybill   TEXT    NOT NULL,          -- 5  paybill; on a refund leg, original paybill or order number
    settle_date   TEXT    NOT NULL,          -- 6  'yyyymmdd'
    amount        INTEGER NOT NULL CHECK (typeof(amount) = 'integer'), -- 7  fen, negative on a refund leg
    direction     INTEGER NOT NULL,          -- 8  0 received, 1 paid out
    status        INTEGER NOT NULL,          -- 9  0 success, 5 refunded
    updated_at    TEXT    NOT NULL,          -- 10 'yyyymmdd hh:mm:ss'
    fee           INTEGER NOT NULL CHECK (typeof(fee) = 'integer'),    -- 11 fen, negative on a refund leg
    product       TEXT    NOT NULL,          -- 12
    pay_method    TEXT    NOT NULL,          -- 13
    info_order    TEXT    NOT NULL,          -- 14 free text, may contain commas
    payee_bank    TEXT    NOT NULL DEFAULT '', -- 15 FKMX rows of 17 fields only
    payee_account TEXT    NOT NULL DEFAULT '', -- 16 masked to its last 4 digits
    payee_name    TEXT    NOT NULL DEFAULT '', -- 17
    kind          TEXT    NOT NULL CHECK (kind IN ('payment', 'refund', 'payout')), -- SPEC §2.3 classification
    warnings      TEXT                       -- JSON array of tolerated quirks, NULL if none
);

-- Lines that could not be read as a row (SPEC §2.3, §4.1), in file order.
-- A summary file whose line is not seven figures has its line here too.
CREATE TABLE IF NOT EXISTS malformed_rows (
    file_id  INTEGER NOT NULL REFERENCES statement_files (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,               -- order within the file
    line     INTEGER NOT NULL,
    no_order TEXT    NOT NULL,               -- the raw first field, as far as it could be split
    field    TEXT    NOT NULL,               -- the field at fault, '' for the whole line
    raw      TEXT    NOT NULL,               -- the decoded line
    reason   TEXT    NOT NULL,
    PRIMARY KEY (file_id, seq)
) WITHOUT ROWID;

-- The seven figures of a JYMXSUM or FKMXSUM file (SPEC §2.5), as the file
-- states them; absent when the summary line was malformed.
CREATE TABLE IF NOT EXISTS summaries (
    file_id        INTEGER PRIMARY KEY REFERENCES statement_files (id) ON DELETE CASCADE,
    total_count    INTEGER NOT NULL,
    success_count  INTEGER NOT NULL,
    success_amount INTEGER NOT NULL CHECK (typeof(success_amount) = 'integer'), -- fen
    refund_count   INTEGER NOT NULL,
    refund_amount  INTEGER NOT NULL CHECK (typeof(refund_amount) = 'integer'),  -- fen, <= 0
    revoke_count   INTEGER NOT NULL,
    revoke_amount  INTEGER NOT NULL CHECK (typeof(revoke_amount) = 'integer')   -- fen, <= 0
);

-- The merchant ledger (SPEC §3). Written by `reconcile ledger import`, by
-- `reconcile run --ledger`, or directly by the merchant's own systems: this
-- table is their contract.
--
--   oid_partner   TEXT, '' (never NULL) when the ledger has one merchant
--                 number: such an entry belongs to every run's merchant
--                 (SPEC §4.1). Otherwise the 18-digit merchant number.
--   kind          'payment', 'refund' or 'payout' (lower case).
--   no_order      what LianLian prints in the row's field 1: order number,
--                 refund number or payout number; at most 32 characters.
--   dt_order      'yyyymmddhhmmss', merchant local time (Asia/Shanghai),
--                 14 digits, no separators. Its first 8 digits decide the
--                 matching window (SPEC §4).
--   amount        INTEGER fen, > 0 for every kind (a refund of 12.50 yuan
--                 is 1250). Never REAL.
--   status        'SUCCESS', 'FAILURE' or 'PROCESSING' (upper case).
--   orig_no_order refunds: no_order of the refunded payment; '' otherwise.
--   oid_paybill   LianLian's 16-digit paybill number when known, else ''.
--   fee           INTEGER fen >= 0 that the merchant expects LianLian to
--                 charge, or NULL when the merchant does not know it (then
--                 no fee is compared).
--   imported_at, updated_at
--                 RFC 3339 text (UTC); filled in by default when omitted.
--   revision      0 when inserted, +1 on every change by the importer.
--
-- One entry per (oid_partner, kind, no_order), the primary key. To change an
-- entry, update it in place (or INSERT ... ON CONFLICT DO UPDATE); do not
-- insert a second. WITHOUT ROWID: the key is the table's one B-tree, where a
-- rowid table would keep a second one for the key; there is no rowid.
-- The digit checks are GLOBs of one [0-9] per character rather than
-- NOT GLOB '*[^0-9]*', which costs a second of CPU per million inserts.
-- The program's own bulk writes check the same rules in Go first and run
-- with PRAGMA ignore_check_constraints (they cost SQLite more than the
-- insert); every other writer is checked by SQLite. Once the store holds
-- history, it adds indexes on dt_order and oid_paybill (see statement_rows).
CREATE TABLE IF NOT EXISTS ledger_entries (
    oid_partner   TEXT    NOT NULL DEFAULT ''
                  CHECK (oid_partner = '' OR oid_partner GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'), -- '' or 18 digits
    kind          TEXT    NOT NULL CHECK (kind IN ('payment', 'refund', 'payout')),
    no_order      TEXT    NOT NULL CHECK (no_order <> '' AND length(no_order) <= 32),
    dt_order      TEXT    NOT NULL CHECK (dt_order GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'), -- 14 digits
    amount        INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),
    status        TEXT    NOT NULL CHECK (status IN ('SUCCESS', 'FAILURE', 'PROCESSING')),
    orig_no_order TEXT    NOT NULL DEFAULT '',
    oid_paybill   TEXT    NOT NULL DEFAULT '',
    fee           INTEGER CHECK (fee IS NULL OR (typeof(fee) = 'integer' AND fee >= 0)),
    imported_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revision      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (oid_partner, kind, no_order)
) WITHOUT ROWID;

-- The result of one run, so that `reconcile report` re-renders it without
-- reading a statement again. One row per (merchant, period): a rerun
-- replaces it. result is the whole recon.Result as JSON; findings and
-- pending repeat its lists as tables for SQL.
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY,
    merchant      TEXT    NOT NULL,
    period        TEXT    NOT NULL,          -- 'yyyymmdd' or 'yyyymm'
    monthly       INTEGER NOT NULL CHECK (monthly IN (0, 1)),
    ran_at        TEXT    NOT NULL,          -- RFC 3339, Asia/Shanghai
    inputs_digest TEXT    NOT NULL,          -- digest of what the run read, to tell whether a rerun is needed
    result        TEXT    NOT NULL,          -- JSON of recon.Result
    UNIQUE (merchant, period)
);

-- One row per finding, with the columns of discrepancies.csv (SPEC §6);
-- amounts are INTEGER fen, NULL where the report's cell is empty.
CREATE TABLE IF NOT EXISTS findings (
    run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,       -- order in the report
    settle_date      TEXT    NOT NULL,
    kind             TEXT    NOT NULL,       -- missing_in_ledger, amount_mismatch, … (SPEC §4)
    no_order         TEXT    NOT NULL,       -- for summary_mismatch: the figure's name
    oid_paybill      TEXT    NOT NULL,
    statement_amount INTEGER,
    ledger_amount    INTEGER,
    difference       INTEGER,                -- statement_amount - ledger_amount when both are present
    file             TEXT    NOT NULL,
    line             INTEGER,                -- NULL when the finding has no line
    detail           TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS findings_kind ON findings (kind, no_order);

-- Ledger entries whose matching window was still open at the run (SPEC §4).
CREATE TABLE IF NOT EXISTS pending (
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    oid_partner   TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    no_order      TEXT    NOT NULL,
    dt_order      TEXT    NOT NULL,
    amount        INTEGER NOT NULL,          -- fen
    status        TEXT    NOT NULL,
    orig_no_order TEXT    NOT NULL,
    oid_paybill   TEXT    NOT NULL,
    fee           INTEGER,                   -- fen, NULL when the ledger gave none
    decide_on     TEXT    NOT NULL,          -- 'yyyymmdd': the run that decides it
    reason        TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

PRAGMA user_version = 2;
