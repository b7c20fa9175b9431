// Package gen writes realistic LianLian statement files and a matching
// merchant ledger CSV, for tests, benchmarks and demos. Amounts are integer
// fen throughout; the only float is the refund probability.
package gen

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/recon"
)

// Config says what to generate.
type Config struct {
	Merchant   string  // 18 digits
	Date       string  // settle date yyyymmdd
	Payments   int     // number of payments
	RefundRate float64 // probability that a payment is refunded
	Payouts    int     // FKMX rows; 0 writes no FKMX file (a day without payouts)
	GBK        bool    // encode statement files in GBK (else UTF-8)
	Seed       int64
	// LedgerFindings is the number of planted discrepancies, taken in turn
	// from missing_in_ledger, amount_mismatch, status_mismatch, fee_mismatch
	// and missing_in_statement.
	LedgerFindings int
	// RefundOf are payments of earlier days (Planted.Refundable of an
	// earlier Write) refunded on this date: each gets a refund leg in this
	// day's JYMX file and a refund entry in this ledger.
	RefundOf []Refundable
}

// Refundable is a status-0 payment whose refund the generator leaves to a
// later date (SPEC §2.4).
type Refundable struct {
	NoOrder    string
	OidPaybill string
	DtOrder    string // yyyymmdd hh:mm:ss
	Amount     recon.Fen
	Fee        recon.Fen
}

// Planted says what Write planted, so tests can check the findings.
//
// MissingInStatement entries are dated Date: they are pending in the run of
// Date and missing_in_statement in the run of Date+window (SPEC §4.1).
type Planted struct {
	MissingInLedger    []string // no_orders
	MissingInStatement []string
	AmountMismatch     []string
	StatusMismatch     []string
	FeeMismatch        []string

	Rows    int // detail rows written, JYMX and FKMX
	Entries int // ledger entries written

	// Refundable are this day's status-0 payments chosen to be refunded on
	// a later date: pass them to that date's Config.RefundOf.
	Refundable []Refundable
	// Summary is what the JYMXSUM file says (SPEC §2.5's reading).
	Summary recon.Summary
	Files   []string // statement file names written
}

var (
	products = []string{"WEB支付网关", "手机应用支付网关", "API渠道", "WAP支付网关", "IVR支付网关"}
	methods  = []string{"余额支付", "储蓄卡网银支付", "信用卡网银支付", "储蓄卡快捷支付", "信用卡快捷支付", "线下网点支付", "充值卡支付", "企业网银支付"}
	infos    = []string{
		"彩票连连支付充值", "手机充值50元", "会员月卡", "订单:蓝牙耳机,数据线", "游戏点卡, 100点",
		"", "图书《支付系统设计》", "生鲜配送,周五送达", "电影票2张", "话费充值",
	}
	busi     = []string{"101001", "101001", "101001", "109001", "109001", "108001", "110001"}
	banks    = []string{"中国工商银行", "中国建设银行", "招商银行", "中国农业银行"}
	payees   = []string{"张*三", "李*", "上海某某贸易有限公司", "王*明"}
	fkInfos  = []string{"商户提现", "代付供应商货款", "结算划款"}
	fkInfos2 = []string{"代付,供应商货款", "商户提现"}
)

type kind int

const (
	plantNone kind = iota
	plantMissingInLedger
	plantAmount
	plantStatus
	plantFee
)

// Write writes JYMX_, JYMXSUM_ and (when Payouts > 0) FKMX_ files for
// cfg.Date into dir, and a ledger CSV (SPEC §3) to ledgerPath that matches
// the statements but for the planted discrepancies.
func Write(dir, ledgerPath string, cfg Config) (Planted, error) {
	var p Planted
	if len(cfg.Merchant) != 18 {
		return p, fmt.Errorf("gen: merchant %q is not 18 digits", cfg.Merchant)
	}
	day, err := time.Parse("20060102", cfg.Date)
	if err != nil {
		return p, fmt.Errorf("gen: date %q: %w", cfg.Date, err)
	}
	g := &writer{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6c69616e6c69616e)), day: day}
	g.text = func(s string) []byte { return []byte(s) }
	if cfg.GBK {
		enc := simplifiedchinese.GBK.NewEncoder()
		g.text = func(s string) []byte {
			b, err := enc.Bytes([]byte(s))
			if err != nil {
				panic("gen: text not encodable in GBK: " + s) // only our own constant lists reach here
			}
			return b
		}
	}
	if err := g.open(dir, ledgerPath); err != nil {
		return p, err
	}
	err = g.run(&p)
	if cerr := g.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Planted{}, err
	}
	return p, nil
}

type writer struct {
	cfg  Config
	rng  *rand.Rand
	day  time.Time
	text func(string) []byte

	files            []*os.File
	jymx, fkmx, ledg *bufio.Writer
	sumPath          string
	buf              []byte
	lbuf             []byte
	sum              recon.Summary
	encoded          map[string][]byte
}

func (g *writer) create(path string) (*bufio.Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("gen: %w", err)
	}
	g.files = append(g.files, f)
	return bufio.NewWriterSize(f, 256<<10), nil
}

func (g *writer) open(dir, ledgerPath string) error {
	var err error
	base := g.cfg.Merchant + "_" + g.cfg.Date + ".txt"
	if g.jymx, err = g.create(filepath.Join(dir, "JYMX_"+base)); err != nil {
		return err
	}
	if g.cfg.Payouts > 0 {
		if g.fkmx, err = g.create(filepath.Join(dir, "FKMX_"+base)); err != nil {
			return err
		}
	}
	if g.ledg, err = g.create(ledgerPath); err != nil {
		return err
	}
	g.sumPath = filepath.Join(dir, "JYMXSUM_"+base)
	return nil
}

func (g *writer) close() error {
	var errs []error
	for _, w := range []*bufio.Writer{g.jymx, g.fkmx, g.ledg} {
		if w != nil {
			errs = append(errs, w.Flush())
		}
	}
	for _, f := range g.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// row is one detail row before formatting.
type row struct {
	noOrder, busi, paybill string
	dt, updated            int // seconds after midnight of the settle date; may be < 0 (the day before)
	amount, fee            recon.Fen
	direction, status      int
	product, method, info  int
	payee                  bool // FKMX 17-field layout
}

func (g *writer) run(p *Planted) error {
	cfg := g.cfg
	p.Files = append(p.Files, "JYMX_"+cfg.Merchant+"_"+cfg.Date+".txt", "JYMXSUM_"+cfg.Merchant+"_"+cfg.Date+".txt")
	if cfg.Payouts > 0 {
		p.Files = append(p.Files, "FKMX_"+cfg.Merchant+"_"+cfg.Date+".txt")
	}
	g.ledg.WriteString("kind,no_order,dt_order,amount,status,orig_no_order,oid_paybill,oid_partner,fee\n")

	plants := g.choosePlants()
	n := cfg.Payments
	for i := 0; i < n; i++ {
		r := row{
			noOrder: cfg.Date + pad(i, 9),
			busi:    busi[g.rng.IntN(len(busi))],
			paybill: cfg.Date + pad(i, 8),
			dt:      i * 86400 / max(n, 1),
			amount:  g.amount(),
			product: g.rng.IntN(len(products)),
			method:  g.rng.IntN(len(methods)),
			info:    g.rng.IntN(len(infos)),
		}
		if g.rng.IntN(50) == 0 {
			r.dt = -1 - g.rng.IntN(3600) // ordered late the evening before, settled today (seed: dates may differ by a day)
		}
		r.updated = r.dt + 1 + g.rng.IntN(30)
		r.fee = r.amount * 6 / 1000 // 0.6 %, rounded down to the fen
		plant := plants[i]
		refunded := plant == plantNone && g.rng.Float64() < cfg.RefundRate
		switch {
		case refunded && g.rng.IntN(10) < 3: // same-day revoke pair (SPEC §2.4)
			r.status = 5
			if err := g.payment(p, r, plantNone); err != nil {
				return err
			}
			leg := r
			leg.noOrder = "R" + r.noOrder
			refund := r.amount
			if g.rng.IntN(5) == 0 {
				refund = r.amount / 2 // partial refund
			}
			if refund == 0 {
				refund = r.amount
			}
			leg.amount = -refund
			leg.fee = -(r.fee * refund / r.amount)
			leg.updated = r.updated + 60 + g.rng.IntN(3600)
			if err := g.refund(p, leg, r.noOrder); err != nil {
				return err
			}
		default:
			if err := g.payment(p, r, plant); err != nil {
				return err
			}
			if refunded {
				p.Refundable = append(p.Refundable, Refundable{
					NoOrder: r.noOrder, OidPaybill: r.paybill, DtOrder: g.stamp(r.dt),
					Amount: r.amount, Fee: r.fee,
				})
			}
		}
	}
	for k, ref := range cfg.RefundOf { // refunds of earlier days' payments: status-0 legs
		leg := row{
			noOrder: "R" + ref.NoOrder,
			busi:    busi[0],
			paybill: ref.OidPaybill,
			dt:      k * 86400 / max(len(cfg.RefundOf), 1),
			amount:  -ref.Amount,
			fee:     -ref.Fee,
			product: g.rng.IntN(len(products)),
			method:  g.rng.IntN(len(methods)),
			info:    g.rng.IntN(len(infos)),
		}
		if g.rng.IntN(5) == 0 {
			leg.paybill = ref.NoOrder // field 5 may hold the original order number instead
		}
		leg.updated = leg.dt + 5
		if err := g.refund(p, leg, ref.NoOrder); err != nil {
			return err
		}
	}
	for i := 0; i < cfg.Payouts; i++ {
		r := row{
			noOrder:   "FK" + cfg.Date + pad(i, 6),
			busi:      "101001",
			paybill:   cfg.Date + pad(90000000+i, 8),
			dt:        i * 86400 / cfg.Payouts,
			amount:    recon.Fen(100000 + g.rng.Int64N(100000000)),
			fee:       200,
			direction: 1,
			product:   2, // API渠道
			method:    7, // 企业网银支付
			payee:     g.rng.IntN(2) == 0,
		}
		if r.payee {
			r.info = g.rng.IntN(len(fkInfos))
		} else {
			r.info = g.rng.IntN(len(fkInfos2))
		}
		r.updated = r.dt + 120
		g.detail(g.fkmx, r, false)
		p.Rows++
		g.entry(p, "payout", r, "SUCCESS", r.amount, r.fee, "")
	}
	g.missingInStatement(p)
	p.Summary = g.sum
	return g.writeSummary()
}

// choosePlants picks distinct payments for the planted mismatches.
func (g *writer) choosePlants() map[int]kind {
	plants := make(map[int]kind)
	want := g.cfg.LedgerFindings - g.cfg.LedgerFindings/5 // the fifth kind needs no payment
	if want > g.cfg.Payments {
		want = g.cfg.Payments
	}
	k := 0
	for len(plants) < want {
		i := g.rng.IntN(g.cfg.Payments)
		if _, ok := plants[i]; ok {
			continue
		}
		plants[i] = kind(k%4 + 1)
		k++
	}
	return plants
}

func (g *writer) missingInStatement(p *Planted) {
	n := g.cfg.LedgerFindings / 5
	for i := 0; i < n; i++ {
		r := row{noOrder: "M" + g.cfg.Date + pad(i, 6), paybill: "", dt: 43200 + i%40000, amount: 1000 + recon.Fen(i)}
		g.entry(p, "payment", r, "SUCCESS", r.amount, -1, "")
		p.MissingInStatement = append(p.MissingInStatement, r.noOrder)
	}
}

// amount draws a payment in fen: mostly small, some large, some whole yuan.
func (g *writer) amount() recon.Fen {
	var f recon.Fen
	switch g.rng.IntN(10) {
	case 0:
		f = recon.Fen(g.rng.Int64N(5000000) + 100000)
	case 1, 2:
		f = recon.Fen(g.rng.Int64N(500)+1) * 100
	default:
		f = recon.Fen(g.rng.Int64N(50000) + 1)
	}
	return f
}

func (g *writer) payment(p *Planted, r row, plant kind) error {
	g.detail(g.jymx, r, true)
	p.Rows++
	status, amount, fee := "SUCCESS", r.amount, r.fee
	switch plant {
	case plantMissingInLedger:
		p.MissingInLedger = append(p.MissingInLedger, r.noOrder)
		return nil
	case plantAmount:
		amount += 100
		p.AmountMismatch = append(p.AmountMismatch, r.noOrder)
	case plantStatus:
		status = "PROCESSING"
		if len(p.StatusMismatch)%2 == 1 {
			status = "FAILURE"
		}
		p.StatusMismatch = append(p.StatusMismatch, r.noOrder)
	case plantFee:
		fee++
		p.FeeMismatch = append(p.FeeMismatch, r.noOrder)
	}
	g.entry(p, "payment", r, status, amount, fee, "")
	return nil
}

func (g *writer) refund(p *Planted, leg row, orig string) error {
	g.detail(g.jymx, leg, true)
	p.Rows++
	g.entry(p, "refund", leg, "SUCCESS", -leg.amount, -1, orig)
	return nil
}

// detail formats one row; JYMX rows are counted into the summary.
func (g *writer) detail(w *bufio.Writer, r row, jymx bool) {
	b := g.buf[:0]
	b = append(b, r.noOrder...)
	b = append(b, ',')
	b = append(b, g.cfg.Merchant...)
	b = append(b, ',')
	b = g.appendStamp(b, r.dt)
	b = append(b, ',')
	b = append(b, r.busi...)
	b = append(b, ',')
	b = append(b, r.paybill...)
	b = append(b, ',')
	b = append(b, g.cfg.Date...)
	b = append(b, ',')
	b = g.appendYuan(b, r.amount)
	b = append(b, ',', byte('0'+r.direction), ',', byte('0'+r.status), ',')
	b = g.appendStamp(b, r.updated)
	b = append(b, ',')
	b = g.appendYuan(b, r.fee)
	b = append(b, ',')
	b = append(b, g.enc(products[r.product])...)
	b = append(b, ',')
	b = append(b, g.enc(methods[r.method])...)
	b = append(b, ',')
	switch {
	case !jymx && r.payee:
		b = append(b, g.enc(fkInfos[r.info])...)
		b = append(b, ',')
		b = append(b, g.enc(banks[r.info%len(banks)])...)
		b = append(b, ",****"...)
		b = strconv.AppendInt(b, int64(1000+r.info*1111), 10)
		b = append(b, ',')
		b = append(b, g.enc(payees[r.info%len(payees)])...)
	case !jymx:
		b = append(b, g.enc(fkInfos2[r.info])...)
	default:
		b = append(b, g.enc(infos[r.info])...)
	}
	b = append(b, '\r', '\n')
	g.buf = b
	w.Write(b) // bufio keeps the first error for Flush
	if !jymx {
		return
	}
	s := &g.sum
	s.TotalCount++
	switch {
	case r.status == 0:
		s.SuccessCount++
		s.SuccessAmount += r.amount
	case r.amount > 0:
		s.RevokeCount++
		s.RevokeAmount -= r.amount
	}
	if r.amount < 0 {
		s.RefundCount++
		s.RefundAmount += r.amount
	}
}

// enc returns the file encoding of one of the constant texts, cached.
func (g *writer) enc(s string) []byte {
	if g.encoded == nil {
		g.encoded = make(map[string][]byte)
	}
	b, ok := g.encoded[s]
	if !ok {
		b = g.text(s)
		g.encoded[s] = b
	}
	return b
}

// entry writes one ledger line; fee < 0 leaves the fee column empty.
func (g *writer) entry(p *Planted, kind string, r row, status string, amount, fee recon.Fen, orig string) {
	b := g.lbuf[:0]
	b = append(b, kind...)
	b = append(b, ',')
	b = append(b, r.noOrder...)
	b = append(b, ',')
	st := g.appendStamp(nil, r.dt) // yyyymmdd hh:mm:ss → yyyymmddhhmmss
	b = append(b, st[:8]...)
	b = append(b, st[9:11]...)
	b = append(b, st[12:14]...)
	b = append(b, st[15:17]...)
	b = append(b, ',')
	b = append(b, amount.String()...)
	b = append(b, ',')
	b = append(b, status...)
	b = append(b, ',')
	b = append(b, orig...)
	b = append(b, ',')
	b = append(b, r.paybill...)
	b = append(b, ',')
	b = append(b, g.cfg.Merchant...)
	b = append(b, ',')
	if fee >= 0 && kind != "refund" {
		b = append(b, fee.String()...)
	}
	b = append(b, '\n')
	g.lbuf = b
	g.ledg.Write(b)
	p.Entries++
}

func (g *writer) writeSummary() error {
	s := g.sum
	line := fmt.Sprintf("%d|%d|%s|%d|%s|%d|%s\r\n", s.TotalCount, s.SuccessCount, s.SuccessAmount,
		s.RefundCount, s.RefundAmount, s.RevokeCount, s.RevokeAmount)
	if err := os.WriteFile(g.sumPath, []byte(line), 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

// appendYuan writes fen as yuan; whole amounts sometimes without decimals
// and a trailing zero sometimes dropped, as LianLian prints them ("100",
// "0.5").
func (g *writer) appendYuan(b []byte, f recon.Fen) []byte {
	s := f.String()
	if f%100 == 0 && g.rng.IntN(2) == 0 {
		return append(b, s[:len(s)-3]...)
	}
	if f%10 == 0 && g.rng.IntN(4) == 0 {
		return append(b, s[:len(s)-1]...)
	}
	return append(b, s...)
}

func (g *writer) stamp(sec int) string { return string(g.appendStamp(nil, sec)) }

// appendStamp writes "yyyymmdd hh:mm:ss" for sec seconds after midnight of
// the settle date (negative: the day before).
func (g *writer) appendStamp(b []byte, sec int) []byte {
	d := g.cfg.Date
	if sec < 0 || sec >= 86400 {
		t := g.day.Add(time.Duration(sec) * time.Second)
		d = t.Format("20060102")
		sec = t.Hour()*3600 + t.Minute()*60 + t.Second()
	}
	b = append(b, d...)
	b = append(b, ' ')
	b = append2(b, sec/3600)
	b = append(b, ':')
	b = append2(b, sec/60%60)
	b = append(b, ':')
	return append2(b, sec%60)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
