package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/lianlian-recon/reconcile/config"
	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/job"
	"github.com/lianlian-recon/reconcile/ledger"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/match"
	"github.com/lianlian-recon/reconcile/recon/report"
	"github.com/lianlian-recon/reconcile/runlock"
	"github.com/lianlian-recon/reconcile/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `reconcile — LianLian Pay (连连支付) statement reconciliation

Usage:
  reconcile run    --date YYYYMMDD|yesterday | --month YYYYMM [--merchant ID]
                   [--source sftp|DIR] [--ledger FILE.csv] [--config FILE]
                   [--db FILE] [--out DIR]
  reconcile fetch  --date … | --month …      download only
  reconcile ledger import FILE.csv [--db FILE] [--config FILE]
  reconcile inspect FILE…                    parse statement files, print what they hold
  reconcile report --date … | --month …      re-render the reports from the store
  reconcile daemon --config FILE             run every morning on a cron schedule
  reconcile config check FILE                validate a configuration file
  reconcile version

Merchant and source flags (each also a key of the configuration file):
  --merchant ID                 18-digit oid_partner
  --source sftp|DIR             where statement files come from
  --sftp-host HOST:PORT         --sftp-user USER
  --sftp-key FILE               --sftp-password-env NAME (the variable holding the password)
  --sftp-key-passphrase-env NAME
  --known-hosts FILE            or --host-key-fingerprint SHA256:… (repeatable)
  --remote-dir DIR              --data-dir DIR (where downloaded files are kept)
  --window DAYS                 days a ledger entry may wait for its statement (default 1)
  --ignore-busi CODE,…          busi_partner codes counted in totals but not matched
  --deadline HH:MM              stop waiting for unpublished files (Asia/Shanghai, on D+1; default 12:00)
  --daily SPEC, --monthly SPEC  daemon schedule, cron syntax in Asia/Shanghai (default "30 8 * * *", "30 8 1 * *")
  --catch-up-days N             daemon: settle dates to catch up on start (default 7)
  -v                            log what happens (to stderr)

Exit codes: 0 reconciled, no finding; 1 findings (report written) or ledger
rows rejected; 2 usage or configuration error; 3 input not available; 4
internal error.
`

// Program is the command line: main hands it the process's streams, and
// tests call Main directly or run the built binary.
type Program struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time

	// shutdown, set by the daemon, ends waiting for unpublished files: a
	// SIGTERM must not wait for a deadline hours away. The run itself
	// is not cancelled by it (see daemon.Runner).
	shutdown context.Context
}

func (p *Program) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Main runs one command and returns its exit code.
func (p *Program) Main(args []string) int {
	err := p.dispatch(args)
	code := exitCode(err)
	if err != nil && !errors.Is(err, errFindings) {
		fmt.Fprintf(p.Stderr, "reconcile: error: %v\n", err)
		if h := hint(err); h != "" {
			fmt.Fprintf(p.Stderr, "reconcile: hint: %s\n", h)
		}
	}
	return code
}

func (p *Program) dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(p.Stderr, usage)
		return usagef("no command given")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return p.cmdRun(ctx, rest)
	case "fetch":
		return p.cmdFetch(ctx, rest)
	case "ledger":
		if len(rest) == 0 || rest[0] != "import" {
			return usagef("usage: reconcile ledger import FILE.csv")
		}
		return p.cmdLedgerImport(ctx, rest[1:])
	case "inspect":
		return p.cmdInspect(rest)
	case "report":
		return p.cmdReport(ctx, rest)
	case "daemon":
		return p.cmdDaemon(ctx, rest)
	case "config":
		if len(rest) != 2 || rest[0] != "check" {
			return usagef("usage: reconcile config check FILE")
		}
		return p.cmdConfigCheck(rest[1])
	case "version", "--version", "-version":
		fmt.Fprintf(p.Stdout, "reconcile %s\n", version)
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(p.Stdout, usage)
		return nil
	}
	return usagef("unknown command %q", cmd)
}

// opts are the flags the commands share.
type opts struct {
	configFile, db, out                string
	date, month                        string
	merchant, source, ledgerFile       string
	sftpHost, sftpUser, sftpKey        string
	sftpPasswordEnv, sftpPassphraseEnv string
	knownHosts, remoteDir, dataDir     string
	fingerprints                       multiFlag
	window                             int
	ignoreBusi, deadline               string
	daily, monthly                     string
	catchUpDays                        int
	verbose                            bool
	set                                map[string]bool // flags given on the command line
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (p *Program) flags(name string, o *opts) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.configFile, "config", "", "configuration file")
	fs.StringVar(&o.db, "db", "", "SQLite store (default reconcile.db)")
	fs.StringVar(&o.out, "out", "", "report folder (default reports)")
	fs.StringVar(&o.date, "date", "", "settle date YYYYMMDD or yesterday")
	fs.StringVar(&o.month, "month", "", "month YYYYMM")
	fs.StringVar(&o.merchant, "merchant", "", "merchant number (oid_partner)")
	fs.StringVar(&o.source, "source", "", "sftp or a folder")
	fs.StringVar(&o.ledgerFile, "ledger", "", "ledger CSV to import first")
	fs.StringVar(&o.sftpHost, "sftp-host", "", "SFTP host:port")
	fs.StringVar(&o.sftpUser, "sftp-user", "", "SFTP user")
	fs.StringVar(&o.sftpKey, "sftp-key", "", "SFTP private key file")
	fs.StringVar(&o.sftpPasswordEnv, "sftp-password-env", "", "environment variable holding the SFTP password")
	fs.StringVar(&o.sftpPassphraseEnv, "sftp-key-passphrase-env", "", "environment variable holding the key passphrase")
	fs.StringVar(&o.knownHosts, "known-hosts", "", "known_hosts file")
	fs.Var(&o.fingerprints, "host-key-fingerprint", "pinned host key fingerprint SHA256:… (repeatable)")
	fs.StringVar(&o.remoteDir, "remote-dir", "", "remote folder")
	fs.StringVar(&o.dataDir, "data-dir", "", "local folder for downloaded files")
	fs.IntVar(&o.window, "window", 1, "window in days")
	fs.StringVar(&o.ignoreBusi, "ignore-busi", "", "busi_partner codes to ignore, comma-separated")
	fs.StringVar(&o.deadline, "deadline", "", "HH:MM on D+1 (Asia/Shanghai)")
	fs.StringVar(&o.daily, "daily", "", "daemon: daily cron spec (Asia/Shanghai)")
	fs.StringVar(&o.monthly, "monthly", "", "daemon: monthly cron spec (Asia/Shanghai)")
	fs.IntVar(&o.catchUpDays, "catch-up-days", config.DefaultCatchUpDays, "daemon: dates to catch up on start")
	fs.BoolVar(&o.verbose, "v", false, "verbose logs")
	return fs
}

// parse parses flags; positional arguments come back. Flags may follow
// positional arguments (`ledger import FILE --db X`).
func (p *Program) parse(fs *flag.FlagSet, o *opts, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return pos, nil
}

// openStore opens the database at path and says so when it upgraded its
// schema: an earlier version of reconcile refuses it from then on.
func (p *Program) openStore(path string, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	if m := st.Migrated(); m != nil {
		log.Warn("upgraded the store to this version's schema; earlier versions of reconcile refuse it from now on",
			"db", path, "from", m.From, "to", m.To, "statement_rows", m.Rows, "took", m.Took.Round(time.Millisecond).String())
	}
	return st, nil
}

func (p *Program) logger(o *opts, level slog.Level) *slog.Logger {
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(p.Stderr, &slog.HandlerOptions{Level: level}))
}

var merchantRE = regexp.MustCompile(`^[0-9]{18}$`)

// settings resolves the configuration file (if any) and the flags into one
// merchant's settings; flags win over the file (SPEC §7: every key also a
// flag).
func (p *Program) settings(o *opts, needMerchant bool) (*config.Config, *config.Merchant, error) {
	cfg := &config.Config{DB: config.DefaultDB, Out: config.DefaultOut,
		Schedule: config.Schedule{Daily: config.DefaultDaily, Monthly: config.DefaultMonthly,
			CatchUpDays: config.DefaultCatchUpDays}}
	if o.configFile != "" {
		c, err := config.Load(o.configFile)
		if err != nil {
			// Unreadable or invalid, the configuration is the operator's
			// to fix: exit 2.
			return nil, nil, &configError{err}
		}
		cfg = c
	}
	if o.db != "" {
		cfg.DB = o.db
	}
	if o.out != "" {
		cfg.Out = o.out
	}
	if o.daily != "" {
		cfg.Schedule.Daily = o.daily
	}
	if o.monthly != "" {
		cfg.Schedule.Monthly = o.monthly
	}
	if o.set["catch-up-days"] {
		cfg.Schedule.CatchUpDays = o.catchUpDays
	}
	if !needMerchant {
		return cfg, nil, nil
	}
	var m config.Merchant
	switch {
	case o.merchant != "":
		if c, ok := cfg.Merchant(o.merchant); ok {
			m = *c
		} else if o.configFile != "" && len(cfg.Merchants) > 0 {
			return nil, nil, usagef("merchant %s is not in %s", o.merchant, o.configFile)
		} else {
			m = config.Merchant{ID: o.merchant, Window: config.DefaultWindow}
		}
	case len(cfg.Merchants) == 1:
		m = cfg.Merchants[0]
	case len(cfg.Merchants) > 1:
		return nil, nil, usagef("%s has %d merchants: say which with --merchant", o.configFile, len(cfg.Merchants))
	default:
		return nil, nil, usagef("--merchant is required without a configuration file")
	}
	if !merchantRE.MatchString(m.ID) {
		return nil, nil, usagef("--merchant %q: want the 18-digit oid_partner", m.ID)
	}
	if o.set["window"] {
		if o.window < 0 || o.window > 31 {
			return nil, nil, usagef("--window %d: want 0 to 31 days", o.window)
		}
		m.Window = o.window
	}
	if o.set["ignore-busi"] {
		m.IgnoreBusi = nil
		for _, c := range strings.Split(o.ignoreBusi, ",") {
			if c = strings.TrimSpace(c); c != "" {
				m.IgnoreBusi = append(m.IgnoreBusi, c)
			}
		}
	}
	if o.deadline != "" {
		m.Deadline = o.deadline
	}
	if o.ledgerFile != "" {
		m.Ledger = o.ledgerFile
	}
	if o.dataDir != "" {
		m.DataDir = o.dataDir
	}
	sftpFlags := o.sftpHost != "" || o.sftpUser != "" || o.sftpKey != "" || o.sftpPasswordEnv != "" ||
		o.knownHosts != "" || len(o.fingerprints) > 0 || o.remoteDir != "" || o.sftpPassphraseEnv != ""
	if sftpFlags {
		s := config.SFTP{}
		if m.SFTP != nil {
			s = *m.SFTP
		}
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&s.Host, o.sftpHost)
		set(&s.User, o.sftpUser)
		set(&s.KeyFile, o.sftpKey)
		set(&s.PasswordEnv, o.sftpPasswordEnv)
		set(&s.KeyPassphraseEnv, o.sftpPassphraseEnv)
		set(&s.KnownHosts, o.knownHosts)
		set(&s.RemoteDir, o.remoteDir)
		if len(o.fingerprints) > 0 {
			s.Fingerprints = o.fingerprints
		}
		m.SFTP = &s
	}
	if o.source != "" {
		m.Source = o.source
	}
	if m.Source == "" && m.SFTP != nil {
		m.Source = "sftp"
	}
	if m.Source == "" {
		return nil, nil, usagef("no source: give --source DIR, or the SFTP flags (--sftp-host …), or a configuration file")
	}
	if m.Deadline == "" {
		m.Deadline = config.DefaultDeadline
	}
	// Validate the merged settings as one configuration, so a flag-only
	// run gets the same checks and messages as a file.
	check := config.Config{DB: cfg.DB, Out: cfg.Out, Merchants: []config.Merchant{m}, Schedule: cfg.Schedule}
	if err := check.Validate(); err != nil {
		return nil, nil, err
	}
	return cfg, &m, nil
}

// source opens where the merchant's files come from.
func (p *Program) source(m *config.Merchant, log *slog.Logger) (fetch.Source, error) {
	if m.Source != "sftp" {
		return fetch.Dir{Path: m.Source}, nil
	}
	if m.SFTP == nil {
		return nil, usagef("merchant %s: source sftp without SFTP settings", m.ID)
	}
	password, err := m.SFTP.Password(p.Getenv)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	passphrase, err := m.SFTP.KeyPassphrase(p.Getenv)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	return fetch.NewSFTP(fetch.SFTPConfig{
		Addr: m.SFTP.Host, User: m.SFTP.User, KeyFile: m.SFTP.KeyFile, KeyPassphrase: passphrase,
		Password: password, KnownHostsFile: m.SFTP.KnownHosts, Fingerprints: m.SFTP.Fingerprints,
		RemoteDir: m.SFTP.RemoteDir, DataDir: m.DataDir, Logger: log,
	})
}

// settleDate reads --date: YYYYMMDD or "yesterday" (Asia/Shanghai).
func (p *Program) settleDate(s string) (string, error) {
	if s == "yesterday" {
		return job.Yesterday(p.now()), nil
	}
	if _, err := time.Parse("20060102", s); err != nil || len(s) != 8 {
		return "", usagef("--date %q: want YYYYMMDD or yesterday", s)
	}
	return s, nil
}

func (p *Program) period(o *opts) (string, bool, error) {
	switch {
	case o.date != "" && o.month != "":
		return "", false, usagef("give --date or --month, not both")
	case o.date != "":
		d, err := p.settleDate(o.date)
		return d, false, err
	case o.month != "":
		if o.month == "lastmonth" {
			return job.LastMonth(p.now()), true, nil
		}
		if _, err := time.Parse("200601", o.month); err != nil || len(o.month) != 6 {
			return "", false, usagef("--month %q: want YYYYMM", o.month)
		}
		return o.month, true, nil
	}
	return "", false, usagef("--date or --month is required")
}

// newJob wires a merchant's job: store, source, retry deadline, options.
func (p *Program) newJob(st *store.Store, cfg *config.Config, m *config.Merchant, period string, monthly bool, log *slog.Logger) (*job.Job, error) {
	src, err := p.source(m, log)
	if err != nil {
		return nil, err
	}
	j := &job.Job{Store: st, Source: src, Out: cfg.Out, Now: p.Now, Log: log,
		Options: match.Options{Window: m.Window, IgnoreBusi: m.IgnoreBusi}}
	if m.Source == "sftp" {
		j.Retry = &fetch.Retry{Deadline: deadline(m, period, monthly), Logger: log}
		if p.shutdown != nil {
			j.Retry.Sleep = sleepUntil(p.shutdown)
		}
	}
	return j, nil
}

// errDaemonStopping ends a wait for unpublished files when the daemon is
// told to stop.
var errDaemonStopping = fmt.Errorf("daemon stopping: %w", context.Canceled)

// sleepUntil is fetch.Sleep that also ends when stop is done.
func sleepUntil(stop context.Context) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		defer context.AfterFunc(stop, func() { cancel(errDaemonStopping) })()
		if err := fetch.Sleep(ctx, d); err != nil {
			return context.Cause(ctx)
		}
		return nil
	}
}

// deadline is when waiting for a period's files stops: the merchant's
// deadline on the day the files are due (D+1, or the 1st of the next month).
func deadline(m *config.Merchant, period string, monthly bool) time.Time {
	var due time.Time
	if monthly {
		t, _ := time.ParseInLocation("200601", period, config.Shanghai)
		due = t.AddDate(0, 1, -1) // the month's last day: files due the day after
	} else {
		due, _ = time.ParseInLocation("20060102", period, config.Shanghai)
	}
	return m.DeadlineOn(due)
}

// importLedger reads a ledger CSV into the store and prints the counts;
// rejected rows are listed on stderr.
func (p *Program) importLedger(ctx context.Context, st *store.Store, path string) (rejected int, err error) {
	entries, rejects, err := readLedger(path)
	if err != nil {
		return 0, err
	}
	c, err := st.UpsertLedger(ctx, entries)
	if err != nil {
		return 0, fmt.Errorf("ledger %s: %w", path, err)
	}
	p.ledgerCounts(path, c, rejects)
	return len(rejects), nil
}

func readLedger(path string) ([]recon.Entry, []ledger.Reject, error) {
	entries, rejects, err := ledger.ReadFile(path)
	if err != nil {
		return nil, nil, &usageError{msg: fmt.Sprintf("ledger %s: %v", path, err)}
	}
	return entries, rejects, nil
}

// ledgerCounts prints what an import did: the rejected rows on stderr,
// the counts on stdout.
func (p *Program) ledgerCounts(path string, c store.LedgerCounts, rejects []ledger.Reject) {
	for _, r := range rejects {
		fmt.Fprintf(p.Stderr, "reconcile: ledger %s line %d: %s\n", path, r.Line, r.Reason)
	}
	fmt.Fprintf(p.Stdout, "ledger %s: inserted %d, updated %d, unchanged %d, rejected %d\n",
		filepath.Base(path), c.Inserted, c.Updated, c.Unchanged, len(rejects))
}

func (p *Program) cmdLedgerImport(ctx context.Context, args []string) error {
	var o opts
	fs := p.flags("ledger import", &o)
	pos, err := p.parse(fs, &o, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: reconcile ledger import FILE.csv")
	}
	cfg, _, err := p.settings(&o, false)
	if err != nil {
		return err
	}
	st, err := p.openStore(cfg.DB, p.logger(&o, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := p.importLedger(ctx, st, pos[0])
	if err != nil {
		return err
	}
	if n > 0 {
		return errFindings
	}
	return nil
}

func (p *Program) cmdRun(ctx context.Context, args []string) error {
	var o opts
	fs := p.flags("run", &o)
	pos, err := p.parse(fs, &o, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("run: unexpected argument %q", pos[0])
	}
	period, monthly, err := p.period(&o)
	if err != nil {
		return err
	}
	cfg, m, err := p.settings(&o, true)
	if err != nil {
		return err
	}
	log := p.logger(&o, slog.LevelWarn)
	res, err := p.runOne(ctx, cfg, m, period, monthly, log)
	if err != nil {
		return err
	}
	return p.verdict(cfg, res)
}

// runOne is the one-shot run and the daemon's job: lock the merchant, open
// the store, import the ledger, reconcile.
func (p *Program) runOne(ctx context.Context, cfg *config.Config, m *config.Merchant, period string, monthly bool, log *slog.Logger) (*recon.Result, error) {
	lockDir := filepath.Dir(cfg.DB)
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return nil, fmt.Errorf("store folder: %w", err)
	}
	lock, err := runlock.Acquire(lockDir, m.ID)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	st, err := p.openStore(cfg.DB, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if m.Ledger != "" && monthly {
		if _, err := p.importLedger(ctx, st, m.Ledger); err != nil {
			return nil, err
		}
	}
	j, err := p.newJob(st, cfg, m, period, monthly, log)
	if err != nil {
		return nil, err
	}
	defer j.Source.Close()
	if monthly {
		return j.Monthly(ctx, m.ID, period)
	}
	if m.Ledger != "" {
		// A daily run reads and stores the ledger itself, beside the
		// statements (see job.Import).
		var rejects []ledger.Reject
		j.Import = &job.Import{Load: func() (entries []recon.Entry, err error) {
			entries, rejects, err = readLedger(m.Ledger)
			return entries, err
		}}
		res, err := j.Daily(ctx, m.ID, period)
		if imp := j.Import; imp.Done && imp.Err == nil {
			p.ledgerCounts(m.Ledger, imp.Counts, rejects)
		} else if imp.Err != nil {
			return nil, fmt.Errorf("ledger %s: %w", m.Ledger, imp.Err)
		}
		return res, err
	}
	return j.Daily(ctx, m.ID, period)
}

// verdict prints the one-line result and returns errFindings when there
// are any.
func (p *Program) verdict(cfg *config.Config, res *recon.Result) error {
	dir := report.Dir(cfg.Out, res.Merchant, res.Period)
	if len(res.Findings) == 0 {
		fmt.Fprintf(p.Stdout, "reconciled %s %s: balanced, no finding, %d pending; report in %s\n",
			res.Merchant, res.Period, len(res.Pending), dir)
		return nil
	}
	counts := map[recon.FindingKind]int{}
	for _, f := range res.Findings {
		counts[f.Kind]++
	}
	var parts []string
	for _, k := range recon.FindingKinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	fmt.Fprintf(p.Stdout, "reconciled %s %s: %d findings (%s), %d pending; report in %s\n",
		res.Merchant, res.Period, len(res.Findings), strings.Join(parts, ", "), len(res.Pending), dir)
	return errFindings
}

func (p *Program) cmdReport(ctx context.Context, args []string) error {
	var o opts
	fs := p.flags("report", &o)
	if _, err := p.parse(fs, &o, args); err != nil {
		return err
	}
	period, _, err := p.period(&o)
	if err != nil {
		return err
	}
	cfg, _, err := p.settings(&o, false)
	if err != nil {
		return err
	}
	merchant := o.merchant
	if merchant == "" && len(cfg.Merchants) == 1 {
		merchant = cfg.Merchants[0].ID
	}
	if !merchantRE.MatchString(merchant) {
		return usagef("report: --merchant ID is required")
	}
	st, err := p.openStore(cfg.DB, p.logger(&o, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer st.Close()
	res, _, err := st.LoadRun(ctx, merchant, period)
	if errors.Is(err, store.ErrNotFound) {
		return usagef("no stored run for merchant %s, period %s in %s: run it first", merchant, period, cfg.DB)
	}
	if err != nil {
		return err
	}
	if err := report.WriteAll(report.Dir(cfg.Out, merchant, period), res); err != nil {
		return err
	}
	return p.verdict(cfg, res)
}

func (p *Program) cmdFetch(ctx context.Context, args []string) error {
	var o opts
	fs := p.flags("fetch", &o)
	if _, err := p.parse(fs, &o, args); err != nil {
		return err
	}
	period, monthly, err := p.period(&o)
	if err != nil {
		return err
	}
	_, m, err := p.settings(&o, true)
	if err != nil {
		return err
	}
	log := p.logger(&o, slog.LevelWarn)
	src, err := p.source(m, log)
	if err != nil {
		return err
	}
	defer src.Close()
	retry := fetch.Retry{Deadline: deadline(m, period, monthly), Logger: log}
	required := []recon.FileKind{recon.FileJYMX, recon.FileJYMXSUM}
	optional := []recon.FileKind{recon.FileFKMX, recon.FileFKMXSUM}
	if monthly {
		required, optional = []recon.FileKind{recon.FileJYMX}, []recon.FileKind{recon.FileFKMX}
	}
	name := func(k recon.FileKind) string { return string(k) + "_" + m.ID + "_" + period + ".txt" }
	show := func(f fetch.Fetched) error {
		if f.SHA256 == "" { // a folder's file, not read by Get
			var err error
			if f.Size, f.SHA256, err = fetch.Digest(f.Path); err != nil {
				return err
			}
		}
		changed := ""
		if f.Changed {
			changed = " (changed on the server, was " + f.PrevSHA256 + ")"
		}
		fmt.Fprintf(p.Stdout, "%s\t%d bytes\tsha256 %s%s\n", f.Path, f.Size, f.SHA256, changed)
		return nil
	}
	for _, k := range required {
		f, err := retry.Get(ctx, src, name(k))
		if err != nil {
			return err
		}
		if err := show(f); err != nil {
			return err
		}
	}
	for _, k := range optional {
		f, err := src.Get(ctx, name(k))
		if errors.Is(err, fetch.ErrNotPublished) {
			continue
		}
		if err != nil {
			return err
		}
		if err := show(f); err != nil {
			return err
		}
	}
	return nil
}

func (p *Program) cmdConfigCheck(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return &configError{err}
	}
	ids := make([]string, 0, len(cfg.Merchants))
	for _, m := range cfg.Merchants {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	fmt.Fprintf(p.Stdout, "%s: ok, %d merchants (%s)\n", path, len(ids), strings.Join(ids, ", "))
	return nil
}
