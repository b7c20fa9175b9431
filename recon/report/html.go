package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
	"strconv"

	"github.com/lianlian-recon/reconcile/recon"
)

// The page's template, style and script are embedded: report.html is one
// self-contained file (SPEC §6) that opens offline, from an e-mail attachment
// or a file share, and prints.
var (
	//go:embed report.html.tmpl
	pageTemplate string
	//go:embed report.css
	pageCSS string
	//go:embed report.js
	pageJS string
)

// pageTmpl is parsed once. html/template escapes every value by its context;
// the only values of the trusted types template.CSS and template.JS are the
// embedded style and script above — never anything read from a file.
var pageTmpl = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"kindLabel":   kindLabel,
	"figureLabel": figureLabel,
	"entryKind":   entryKindLabel,
	"date":        displayDate,
}).Parse(pageTemplate))

// scriptHash is the CSP hash of the inline script: the page's
// Content-Security-Policy allows that script and nothing else, so even a
// value that escaped escaping could not run (defence in depth).
var scriptHash = func() string {
	h := sha256.Sum256([]byte(pageJS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

// htmlRowLimit bounds the findings table of the page. A page costs about
// 30 µs of CPU and 1 KB per row and a browser struggles long before 100,000
// rows; past the limit the page shows the first rows in report order and says
// how many more there are: discrepancies.csv always has them all, and the
// verdict and the per-kind counts always count them all. A variable so that
// the tests can lower it.
var htmlRowLimit = 20000

// WriteHTML writes report.html for finance (SPEC §6): the verdict, the input
// files, the control totals, the accounting identity, the counts per finding
// kind, the findings table (sortable, filterable and searchable with a small
// inline script, complete and readable without it), the pending entries, the
// missing statement days and, for a monthly run, the per-day totals.
func WriteHTML(w io.Writer, res *recon.Result) error {
	return pageTmpl.Execute(w, buildPage(res))
}

// page is the template's view of a Result: every value already formatted,
// so that the template holds no logic beyond loops and conditions.
type page struct {
	CSS template.CSS
	JS  template.JS
	CSP string

	Merchant    string
	Period      string // "2024-05-28" or "2024-05"
	Monthly     bool
	RanAt       string
	Balanced    bool
	Count       int
	Total       string // yuan
	Files       []recon.InputFile
	Totals      []pageTotal
	TotalsOK    bool
	Tallies     []pageTally
	Kinds       []pageKind
	KindsUsed   []pageKind // kinds with findings, for the filter
	Findings    []pageFinding
	Omitted     int // findings beyond htmlRowLimit, not in the table
	Pending     []pagePending
	MissingDays []string
	DayTotals   []pageDay
}

type pageTotal struct {
	File, Figure      string
	Summary, Computed string // yuan for an amount figure, an integer for a count
	Difference        string
	OK                bool
}

type pageTally struct {
	Side     string // Chinese and English label
	T        recon.Tally
	Reasons  []reasonCount
	Balanced bool
	Sum      int // matched + findings + pending + ignored
}

type pageKind struct {
	Code     string
	Count    int
	Involved string
}

// pageFinding is one row of the findings table, flat (no embedded struct:
// the template's field lookups on promoted fields cost most of the time of a
// large page). The *Sort fields are what the script sorts on: integers (fen,
// line numbers) in data attributes, so that no yuan text is ever parsed back
// into a number.
type pageFinding struct {
	SettleDate, Kind, Label, NoOrder, OidPaybill string
	File, Detail                                 string
	Statement, Ledger, Diff                      string
	StatementSort, LedgerSort                    string
	DiffSort, LineSort, LineText                 string
}

type pagePending struct {
	recon.Pending
	Amount string
}

type pageDay struct {
	recon.DayTotal
	Monthly, Daily string
	OK             bool
}

func buildPage(res *recon.Result) *page {
	p := &page{
		CSS:         template.CSS(pageCSS),
		JS:          template.JS(pageJS),
		CSP:         "default-src 'none'; style-src 'unsafe-inline'; script-src " + scriptHash,
		Merchant:    res.Merchant,
		Period:      displayDate(res.Period),
		Monthly:     res.Monthly,
		RanAt:       res.RanAt,
		Balanced:    len(res.Findings) == 0,
		Count:       len(res.Findings),
		Files:       res.Files,
		TotalsOK:    true,
		MissingDays: res.MissingDays,
	}
	var sum recon.Fen
	for _, k := range kindTotals(res.Findings) {
		sum += k.Involved
		pk := pageKind{Code: string(k.Kind), Count: k.Count, Involved: k.Involved.String()}
		p.Kinds = append(p.Kinds, pk)
		if k.Count > 0 {
			p.KindsUsed = append(p.KindsUsed, pk)
		}
	}
	p.Total = sum.String()
	for _, t := range res.Totals {
		pt := pageTotal{File: t.File, Figure: t.Figure, OK: t.OK()}
		pt.Summary, pt.Computed, pt.Difference = figure(t.Summary, t.Amount), figure(t.Computed, t.Amount), figure(t.Summary-t.Computed, t.Amount)
		if !pt.OK {
			p.TotalsOK = false
		}
		p.Totals = append(p.Totals, pt)
	}
	for _, side := range []struct {
		label string
		t     recon.Tally
	}{{"对账单 / Statement rows", res.Statement}, {"商户账 / Ledger entries", res.Ledger}} {
		t := side.t
		p.Tallies = append(p.Tallies, pageTally{
			Side: side.label, T: t, Reasons: sortedReasons(t.IgnoredReasons),
			Balanced: t.Balanced(), Sum: t.Matched + t.Findings + t.Pending + t.Ignored,
		})
	}
	sorted := sortedFindings(res.Findings)
	if len(sorted) > htmlRowLimit {
		p.Omitted = len(sorted) - htmlRowLimit
		sorted = sorted[:htmlRowLimit]
	}
	for _, f := range sorted {
		pf := pageFinding{
			SettleDate: f.SettleDate, Kind: string(f.Kind), Label: kindLabel(f.Kind),
			NoOrder: f.NoOrder, OidPaybill: f.OidPaybill, File: f.File, Detail: f.Detail,
		}
		pf.Statement, pf.StatementSort = amountSort(f.StatementAmount, f.HasStatementAmount)
		pf.Ledger, pf.LedgerSort = amountSort(f.LedgerAmount, f.HasLedgerAmount)
		d, ok := f.Difference()
		pf.Diff, pf.DiffSort = amountSort(d, ok)
		if f.Line != 0 {
			pf.LineText = strconv.Itoa(f.Line)
			pf.LineSort = pf.LineText
		}
		p.Findings = append(p.Findings, pf)
	}
	for _, pe := range res.Pending {
		p.Pending = append(p.Pending, pagePending{Pending: pe, Amount: pe.Entry.Amount.String()})
	}
	for _, d := range res.DayTotals {
		p.DayTotals = append(p.DayTotals, pageDay{
			DayTotal: d, Monthly: d.MonthlyAmount.String(), Daily: d.DailyAmount.String(), OK: dayOK(d),
		})
	}
	return p
}

// figure formats a control-total value: yuan for money, an integer for a
// count.
func figure(v int64, amount bool) string {
	if amount {
		return recon.Fen(v).String()
	}
	return strconv.FormatInt(v, 10)
}

// amountSort gives an amount's cell text (yuan) and its sort key (fen); both
// empty when absent.
func amountSort(v recon.Fen, ok bool) (string, string) {
	if !ok {
		return "", ""
	}
	return v.String(), strconv.FormatInt(int64(v), 10)
}

// displayDate writes "20240528" as "2024-05-28" and "202405" as "2024-05";
// anything else is returned as it is.
func displayDate(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	switch len(s) {
	case 8:
		return s[:4] + "-" + s[4:6] + "-" + s[6:]
	case 6:
		return s[:4] + "-" + s[4:]
	}
	return s
}

// kindLabels are the Chinese names a finance team uses for each finding kind.
var kindLabels = map[recon.FindingKind]string{
	recon.MissingInLedger:      "商户账无此笔",
	recon.MissingInStatement:   "对账单无此笔",
	recon.AmountMismatch:       "金额不符",
	recon.StatusMismatch:       "状态不符",
	recon.FeeMismatch:          "手续费不符",
	recon.DuplicateInStatement: "对账单重复",
	recon.UnpairedRefund:       "退款无原交易",
	recon.RefundExceedsPayment: "退款超原交易金额",
	recon.SummaryMismatch:      "汇总文件不符",
	recon.MonthlyDailyMismatch: "月账与日账不符",
	recon.MalformedRow:         "无法解析的行",
	recon.MerchantMismatch:     "商户号不符",
	recon.SettleDateMismatch:   "清算日期不符",
}

func kindLabel(k any) string {
	var code recon.FindingKind
	switch v := k.(type) {
	case recon.FindingKind:
		code = v
	case string:
		code = recon.FindingKind(v)
	}
	if l, ok := kindLabels[code]; ok {
		return l
	}
	return "其他"
}

var figureLabels = map[string]string{
	"total_count":    "总笔数",
	"success_count":  "成功笔数",
	"success_amount": "成功金额",
	"refund_count":   "退款笔数",
	"refund_amount":  "退款金额",
	"revoke_count":   "撤销笔数",
	"revoke_amount":  "撤销金额",
}

func figureLabel(s string) string { return figureLabels[s] }

func entryKindLabel(k recon.Kind) string {
	switch k {
	case recon.KindPayment:
		return "支付 payment"
	case recon.KindRefund:
		return "退款 refund"
	case recon.KindPayout:
		return "付款 payout"
	}
	return k.String()
}
