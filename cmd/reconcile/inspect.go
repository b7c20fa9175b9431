package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/lianlian-recon/reconcile/config"
	"github.com/lianlian-recon/reconcile/daemon"
	"github.com/lianlian-recon/reconcile/recon"
	"github.com/lianlian-recon/reconcile/recon/parse"
)

// cmdInspect parses statement files and prints what they hold. Exit 1 when a
// row is malformed, 2 when a file cannot be read at all (issue 2).
func (p *Program) cmdInspect(args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rows := fs.Int("rows", 10, "print the first N rows field by field (-1: all)")
	var files []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return usagef("inspect: %v", err)
		}
		args = fs.Args()
		if len(args) > 0 {
			files = append(files, args[0])
			args = args[1:]
		}
	}
	if len(files) == 0 {
		return usagef("usage: reconcile inspect [--rows N] FILE…")
	}
	var unreadable, malformed int
	for i, path := range files {
		if i > 0 {
			fmt.Fprintln(p.Stdout)
		}
		f, err := parse.ReadFile(path)
		if err != nil {
			fmt.Fprintf(p.Stderr, "reconcile: error: %v\n", err)
			unreadable++
			continue
		}
		malformed += len(f.Malformed)
		p.describe(f, *rows)
	}
	switch {
	case unreadable > 0:
		return usagef("%d of %d files could not be read", unreadable, len(files))
	case malformed > 0:
		return errFindings
	}
	return nil
}

var kindNames = map[recon.FileKind]string{
	recon.FileJYMX:    "transaction detail (交易明细)",
	recon.FileFKMX:    "payout detail (付款明细)",
	recon.FileJYMXSUM: "transaction summary (交易汇总)",
	recon.FileFKMXSUM: "payout summary (付款汇总)",
}

func (p *Program) describe(f *recon.StatementFile, rows int) {
	w := tabwriter.NewWriter(p.Stdout, 0, 4, 2, ' ', 0)
	period := "daily"
	if f.Monthly() {
		period = "monthly"
	}
	fmt.Fprintf(w, "%s\n", f.Name)
	fmt.Fprintf(w, "  kind\t%s %s, %s\n", f.Kind, kindNames[f.Kind], period)
	fmt.Fprintf(w, "  merchant\t%s\n", f.Merchant)
	fmt.Fprintf(w, "  date\t%s\n", f.Date)
	fmt.Fprintf(w, "  encoding\t%s\n", f.Encoding)
	fmt.Fprintf(w, "  size\t%d bytes, sha256 %s\n", f.Size, f.SHA256)
	if f.TitleLine > 0 {
		fmt.Fprintf(w, "  title row\tline %d, skipped\n", f.TitleLine)
	}
	if f.Summary != nil {
		figs := f.Summary.Figures()
		for i, name := range recon.SummaryFigures {
			v := fmt.Sprint(figs[i])
			if recon.IsAmountFigure(i) {
				v = recon.Fen(figs[i]).String()
			}
			fmt.Fprintf(w, "  %s\t%s\n", name, v)
		}
	}
	if !f.Kind.IsSummary() {
		type agg struct {
			n           int
			amount, fee recon.Fen
		}
		by := map[string]*agg{}
		var order []string
		for i := range f.Rows {
			r := &f.Rows[i]
			k := r.Kind.String()
			if r.Revoked() {
				k = "payment (revoked same day)"
			}
			a := by[k]
			if a == nil {
				a = &agg{}
				by[k] = a
				order = append(order, k)
			}
			a.n++
			a.amount += r.Amount
			a.fee += r.Fee
		}
		fmt.Fprintf(w, "  rows\t%d\n", len(f.Rows))
		for _, k := range order {
			a := by[k]
			fmt.Fprintf(w, "    %s\t%d rows, amount %s yuan, fee %s yuan\n", k, a.n, a.amount, a.fee)
		}
	}
	for _, s := range f.Warnings {
		fmt.Fprintf(w, "  warning\t%s\n", s)
	}
	for i := range f.Rows {
		for _, s := range f.Rows[i].Warnings {
			fmt.Fprintf(w, "  warning\tline %d: %s\n", f.Rows[i].Line, s)
		}
	}
	for _, m := range f.Malformed {
		field := ""
		if m.Field != "" {
			field = " field " + m.Field
		}
		fmt.Fprintf(w, "  malformed\tline %d%s: %s\n", m.Line, field, m.Reason)
	}
	w.Flush()
	if rows < 0 || rows > len(f.Rows) {
		rows = len(f.Rows)
	}
	for i := range f.Rows[:rows] {
		p.describeRow(&f.Rows[i])
	}
	if rows < len(f.Rows) {
		fmt.Fprintf(p.Stdout, "  … %d more rows (--rows -1 prints all)\n", len(f.Rows)-rows)
	}
}

// describeRow prints one row field by field, with the seed's names.
func (p *Program) describeRow(r *recon.Row) {
	w := tabwriter.NewWriter(p.Stdout, 0, 4, 2, ' ', 0)
	kind := r.Kind.String()
	if r.Revoked() {
		kind += " (revoked same day)"
	}
	fmt.Fprintf(w, "  line %d\t%s\n", r.Line, kind)
	fields := [][3]string{
		{"no_order", "商户订单号", r.NoOrder},
		{"oid_partner", "商户号", r.OidPartner},
		{"dt_order", "商户订单时间", r.DtOrder},
		{"busi_partner", "商户业务编号", r.BusiPartner},
		{"oid_paybill", "银通支付单号", r.OidPaybill},
		{"settle_date", "银通账务日期", r.SettleDate},
		{"amount", "订单金额", r.Amount.String()},
		{"direction", "商户收款标志", fmt.Sprint(r.Direction)},
		{"status", "交易状态", fmt.Sprint(r.Status)},
		{"updated_at", "更新时间", r.UpdatedAt},
		{"fee", "手续费", r.Fee.String()},
		{"product", "支付产品", r.Product},
		{"pay_method", "支付方式", r.PayMethod},
		{"info_order", "订单信息", r.InfoOrder},
	}
	if r.PayeeBank != "" || r.PayeeAccount != "" || r.PayeeName != "" {
		fields = append(fields, [3]string{"payee_bank", "收款方银行", r.PayeeBank},
			[3]string{"payee_account", "收款方账号", r.PayeeAccount}, [3]string{"payee_name", "收款方名称", r.PayeeName})
	}
	for _, f := range fields {
		// The Chinese name goes last: tabwriter counts runes, not
		// display width, so CJK text is never followed by a column.
		fmt.Fprintf(w, "    %s\t%s  (%s)\n", f[0], f[2], f[1])
	}
	w.Flush()
}

// cmdDaemon runs every configured merchant on the cron schedule (SPEC §7).
func (p *Program) cmdDaemon(ctx context.Context, args []string) error {
	var o opts
	fs := p.flags("daemon", &o)
	if _, err := p.parse(fs, &o, args); err != nil {
		return err
	}
	if o.configFile == "" {
		return usagef("daemon: --config FILE is required")
	}
	cfg, _, err := p.settings(&o, false)
	if err != nil {
		return err
	}
	if len(cfg.Merchants) == 0 {
		return usagef("daemon: %s has no merchant", o.configFile)
	}
	log := p.logger(&o, slog.LevelInfo)
	p.shutdown = ctx
	st, err := p.openStore(cfg.DB, log)
	if err != nil {
		return err
	}
	state := runState{db: st.DB()}
	d := &daemon.Daemon{
		Daily: cfg.Schedule.Daily, Monthly: cfg.Schedule.Monthly, CatchUpDays: cfg.Schedule.CatchUpDays,
		State: state, Now: p.Now, Logger: log,
		Run: func(ctx context.Context, jb daemon.Job) error {
			m, ok := cfg.Merchant(jb.Merchant)
			if !ok {
				return fmt.Errorf("merchant %s not configured", jb.Merchant)
			}
			res, err := p.runOne(ctx, cfg, m, jb.Period, jb.Monthly(), log)
			if err != nil {
				return err
			}
			log.Info("verdict", "merchant", jb.Merchant, "period", jb.Period, "findings", len(res.Findings), "pending", len(res.Pending))
			return nil
		},
	}
	for _, m := range cfg.Merchants {
		d.Merchants = append(d.Merchants, m.ID)
	}
	log.Info("daemon started", "merchants", len(d.Merchants), "daily", cfg.Schedule.Daily, "monthly", cfg.Schedule.Monthly, "tz", config.Shanghai.String())
	err = d.Serve(ctx)
	st.Close()
	if errors.Is(err, context.Canceled) {
		log.Info("daemon stopped")
		return nil
	}
	return err
}

// runState backs the daemon's catch-up with the store: a period is done
// when a run for it is stored (a run with findings is still reconciled).
type runState struct{ db *sql.DB }

func (s runState) LastSuccess(ctx context.Context, merchant string, monthly bool) (string, bool, error) {
	var period sql.NullString
	err := s.db.QueryRowContext(ctx,
		`SELECT max(period) FROM runs WHERE merchant = ? AND length(period) = ?`,
		merchant, map[bool]int{false: 8, true: 6}[monthly]).Scan(&period)
	if err != nil {
		return "", false, fmt.Errorf("last run of %s: %w", merchant, err)
	}
	return period.String, period.Valid, nil
}

// RecordSuccess needs no write: the run stored itself.
func (s runState) RecordSuccess(context.Context, string, string) error { return nil }
