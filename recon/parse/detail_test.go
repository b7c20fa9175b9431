package parse

import (
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestDetailLayout: SPEC §2.3 layout quirks, one row each.
func TestDetailLayout(t *testing.T) {
	tests := []struct {
		name     string
		file     recon.FileName
		line     string
		edit     func(*recon.Row)
		warnings []string // substrings, in order
	}{
		{name: "plain", line: line()},
		{name: "seed spacing", line: strings.Join(seedFields, ", ")},
		{name: "tabs and spaces", line: " " + strings.Join(seedFields, " \t, ") + "\t"},
		{name: "CRLF", line: line() + "\r"},
		{name: "quoted fields", line: `"201405287094797", "` + merchant + `",` + strings.Join(seedFields[2:], ",")},
		{name: "quoted with doubled quote", line: line(13, `"say ""hi"""`),
			edit: func(r *recon.Row) { r.InfoOrder = `say "hi"` }},
		{name: "stray quote at end of no_order", line: line(0, `201405287094797"`),
			warnings: []string{"no_order: stray double quote"}},
		{name: "stray quote at start of info_order", line: line(13, `"彩票连连支付充值`),
			warnings: []string{"info_order: stray double quote"}},
		{name: "unicode double prime is text", line: line(0, "201405287094797″"),
			edit: func(r *recon.Row) { r.NoOrder = "201405287094797″" }},
		{name: "info with commas", line: line(13, " 订单:蓝牙耳机,数据线, 2件 "),
			edit: func(r *recon.Row) { r.InfoOrder = "订单:蓝牙耳机,数据线, 2件" }},
		{name: "info with commas to 17 fields in JYMX", line: line(13, "a,b,c,d"),
			edit: func(r *recon.Row) { r.InfoOrder = "a,b,c,d" }},
		{name: "info with 10 commas", line: line(13, "1,2,3,4,5,6,7,8,9,10,11"),
			edit: func(r *recon.Row) { r.InfoOrder = "1,2,3,4,5,6,7,8,9,10,11" }},
		{name: "info with USD in it", line: line(13, "USD,HKD,CNY,EUR,1,2,3"),
			edit: func(r *recon.Row) { r.InfoOrder = "USD,HKD,CNY,EUR,1,2,3" }},
		{name: "empty info", line: line(13, ""), edit: func(r *recon.Row) { r.InfoOrder = "" }},
		{name: "extra empty field (seed row 2)", line: strings.Join(seedFields[:9], ", ") + ", , " + strings.Join(seedFields[9:], ", "),
			warnings: []string{"extra empty field"}},
		{name: "extra empty field and commas in info", line: strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:13], ",") + ",x,y",
			edit: func(r *recon.Row) { r.InfoOrder = "x,y" }, warnings: []string{"extra empty field"}},
		{name: "seed row 2 whole", line: `201405287094244", ` + merchant + `, 20140528 16:32:53, 101001, 2014052846671022, 20140528, 15, 0, 0, , 20140528 16:32:53, 0.1, 手机应用支付网关, 信用卡快捷支付, 彩票连连支付充值`,
			edit: func(r *recon.Row) {
				r.NoOrder, r.DtOrder, r.OidPaybill, r.Amount, r.UpdatedAt, r.Fee, r.PayMethod =
					"201405287094244", "20140528 16:32:53", "2014052846671022", 1500, "20140528 16:32:53", 10, "信用卡快捷支付"
			},
			warnings: []string{"extra empty field", "no_order: stray double quote"}},
		{name: "amounts with two decimals", line: line(6, "100.01", 10, "0.60"),
			edit: func(r *recon.Row) { r.Amount, r.Fee = 10001, 60 }},
		{name: "refund leg", line: line(0, "R1", 6, "-100", 10, "-0.5", 8, "5"),
			edit: func(r *recon.Row) {
				r.NoOrder, r.Amount, r.Fee, r.Status, r.Kind = "R1", -10000, -50, 5, recon.KindRefund
			}},
		{name: "revoked payment", line: line(8, "5"),
			edit: func(r *recon.Row) { r.Status = 5 }},
		{name: "direction 1 is a payout", line: line(7, "1"),
			edit: func(r *recon.Row) { r.Direction, r.Kind = 1, recon.KindPayout }},
		{name: "unknown busi_partner kept", line: line(3, "999999"),
			edit: func(r *recon.Row) { r.EditMeta().BusiPartner = "999999" }},
		{name: "other merchant is not a parse error", line: line(1, "201301221000001001"),
			edit: func(r *recon.Row) { r.EditMeta().OidPartner = "201301221000001001" }},
		{name: "other settle date is not a parse error", line: line(5, "20140527"),
			edit: func(r *recon.Row) { r.EditMeta().SettleDate = "20140527" }},
		{name: "refund paybill is the original order number", line: line(4, "201405287094797"),
			edit: func(r *recon.Row) { r.OidPaybill = "201405287094797" }},
		{name: "no_order of 32 characters", line: line(0, strings.Repeat("订", 32)),
			edit: func(r *recon.Row) { r.NoOrder = strings.Repeat("订", 32) }},
		{name: "leap day", line: line(2, "20240229 23:59:59", 5, "20240229"),
			edit: func(r *recon.Row) { r.DtOrder, r.EditMeta().SettleDate = "20240229 23:59:59", "20240229" }},
		{name: "FKMX 17 fields", file: fkmxName, line: line(7, "1", 13, "商户提现") + ",中国工商银行, ****1234 ,张*三",
			edit: func(r *recon.Row) {
				r.EditMeta().File, r.Direction, r.Kind, r.InfoOrder = fkmxName.Name, 1, recon.KindPayout, "商户提现"
				r.PayeeBank, r.PayeeAccount, r.PayeeName = "中国工商银行", "****1234", "张*三"
			}},
		{name: "FKMX 14 fields", file: fkmxName, line: line(7, "1"),
			edit: func(r *recon.Row) { r.EditMeta().File, r.Direction, r.Kind = fkmxName.Name, 1, recon.KindPayout }},
		{name: "FKMX 16 fields: commas in info", file: fkmxName, line: line(13, "a,b,c"),
			edit: func(r *recon.Row) { r.EditMeta().File, r.InfoOrder = fkmxName.Name, "a,b,c" }},
		{name: "FKMX 18 fields with extra empty field", file: fkmxName,
			line: strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:], ",") + ",招商银行,****0001,李*",
			edit: func(r *recon.Row) {
				r.EditMeta().File, r.PayeeBank, r.PayeeAccount, r.PayeeName = fkmxName.Name, "招商银行", "****0001", "李*"
			},
			warnings: []string{"extra empty field"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file.Name == "" {
				file = jymxName
			}
			res := readAll(t, file, strings.NewReader(tc.line+"\n"), 0)
			if res.fatal != nil || len(res.errs) > 0 || len(res.rows) != 1 {
				t.Fatalf("rows %d, errors %v, fatal %v", len(res.rows), res.errs, res.fatal)
			}
			got := res.rows[0]
			want := seedRow()
			if tc.edit != nil {
				tc.edit(&want)
			}
			gotWarn := got.Warnings
			got.Warnings = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if len(gotWarn) != len(tc.warnings) {
				t.Fatalf("warnings %q, want %q", gotWarn, tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(gotWarn[i], w) {
					t.Errorf("warning %d = %q, want it to say %q", i, gotWarn[i], w)
				}
			}
		})
	}
}

// TestDetailErrors: every validation rule of SPEC §2.3, with its sentinel
// and position. The bad line is line 3, between a good line 1, a blank
// line 2 and a good line 4: a malformed line never stops the file.
func TestDetailErrors(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		field string
		err   error
	}{
		{"13 fields", strings.Join(seedFields[:13], ","), "", ErrFieldCount},
		{"one field", "garbage", "", ErrFieldCount},
		{"empty no_order", line(0, ""), "no_order", ErrBadField},
		{"quotes only no_order", line(0, `""`), "no_order", ErrBadField},
		{"33-character no_order", line(0, strings.Repeat("1", 33)), "no_order", ErrBadField},
		{"17-digit merchant", line(1, merchant[:17]), "oid_partner", ErrBadMerchant},
		{"merchant with a letter", line(1, "20140325100000114x"), "oid_partner", ErrBadMerchant},
		{"full-width merchant", line(1, "２０１４０３２５１０００００１１４７"), "oid_partner", ErrBadMerchant},
		{"empty merchant", line(1, ""), "oid_partner", ErrBadMerchant},
		{"dashed dt_order", line(2, "2014-05-28 16:35:56"), "dt_order", ErrBadDate},
		{"30 February", line(2, "20140230 16:35:56"), "dt_order", ErrBadDate},
		{"hour 24", line(2, "20140528 24:00:00"), "dt_order", ErrBadDate},
		{"no seconds", line(2, "20140528 16:35"), "dt_order", ErrBadDate},
		{"date only", line(2, "20140528"), "dt_order", ErrBadDate},
		{"empty busi_partner", line(3, ""), "busi_partner", ErrBadField},
		{"busi_partner not digits", line(3, "10100a"), "busi_partner", ErrBadField},
		{"empty oid_paybill", line(4, ""), "oid_paybill", ErrBadField},
		{"seed's split paybill is fine, long one not", line(4, strings.Repeat("9", 33)), "oid_paybill", ErrBadField},
		{"month settle_date", line(5, "201405"), "settle_date", ErrBadDate},
		{"month 13 settle_date", line(5, "20141301"), "settle_date", ErrBadDate},
		{"three decimals", line(6, "1.234"), "amount", recon.ErrBadAmount},
		{"exponent", line(6, "1e3"), "amount", recon.ErrBadAmount},
		{"full-width amount", line(6, "１００"), "amount", recon.ErrBadAmount},
		{"yuan sign", line(6, "¥5"), "amount", recon.ErrBadAmount},
		{"empty amount", line(6, ""), "amount", recon.ErrEmptyAmount},
		{"direction 2", line(7, "2"), "direction", ErrBadDirection},
		{"empty direction", line(7, ""), "direction", ErrBadDirection},
		{"status 1", line(8, "1"), "status", ErrBadStatus},
		{"status 05", line(8, "05"), "status", ErrBadStatus},
		{"empty updated_at", line(9, ""), "updated_at", ErrBadDate},
		{"seed's split fee", line(10, "0. 5"), "fee", recon.ErrBadAmount},
		{"empty fee", line(10, ""), "fee", recon.ErrEmptyAmount},
		{"15 fields, field 10 empty, field 11 not a time",
			strings.Join(seedFields[:9], ",") + ",,0.5," + strings.Join(seedFields[11:], ","), "updated_at", ErrBadDate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := line() + "\n\n" + tc.line + "\n" + line(0, "last") + "\n"
			res := readAll(t, jymxName, strings.NewReader(in), 0)
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			if len(res.rows) != 2 || res.rows[0].Line != 1 || res.rows[1].Line != 4 || res.rows[1].NoOrder != "last" {
				t.Errorf("good rows around the bad one: %+v", res.rows)
			}
			if len(res.errs) != 1 {
				t.Fatalf("errors %v, want one", res.errs)
			}
			pe := res.errs[0]
			if !errors.Is(pe, tc.err) {
				t.Errorf("error %v, want %v", pe, tc.err)
			}
			if pe.File != jymxName.Name || pe.Line != 3 || pe.Field != tc.field || pe.Raw != tc.line {
				t.Errorf("position %s line %d field %q raw %q; want line 3 field %q raw %q", pe.File, pe.Line, pe.Field, pe.Raw, tc.field, tc.line)
			}
			msg := pe.Error()
			wantPrefix := "parse " + jymxName.Name + " line 3"
			if tc.field != "" {
				wantPrefix += " field " + tc.field
			}
			if !strings.HasPrefix(msg, wantPrefix+": ") {
				t.Errorf("message %q, want prefix %q", msg, wantPrefix)
			}
		})
	}
}

// TestTitleRow: SPEC §2.2.
func TestTitleRow(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		titleLine int
		rows      int
		errs      int
	}{
		{"seed's column names", "商户订单号(商户退款单号),商户号,商户订单时间,商户业务编号,银通支付单号,银通账务日期,订单金额,商户收款标志,交易状态,更新时间,手续费,支付产品,支付方式,订单信息\n" + line() + "\n", 1, 1, 0},
		{"English names", "no_order,oid_partner,dt_order,busi_partner,oid_paybill,settle_date,money_order,flag,status,dt_update,fee,product,pay_type,info_order\n" + line() + "\n", 1, 1, 0},
		{"after blank lines", "\n \n商户订单号,商户号\n" + line() + "\n", 3, 1, 0},
		{"not naming columns", "hello,world\n" + line() + "\n", 0, 1, 1},
		{"a second title is malformed", "商户订单号,商户号\n商户订单号,商户号\n" + line() + "\n", 1, 1, 1},
		{"a data row first, then a title", line() + "\n商户订单号,商户号\n", 0, 1, 1},
		{"column words in a real row's info", line(13, "商户订单号") + "\n", 0, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, jymxName, strings.NewReader(tc.in), 0)
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			if got := res.dr.TitleLine(); got != tc.titleLine {
				t.Errorf("TitleLine %d, want %d", got, tc.titleLine)
			}
			if len(res.rows) != tc.rows || len(res.errs) != tc.errs {
				t.Errorf("rows %d errors %d (%v), want %d %d", len(res.rows), len(res.errs), res.errs, tc.rows, tc.errs)
			}
			hasWarning := len(res.dr.Warnings()) == 1 && strings.Contains(res.dr.Warnings()[0], "title row")
			if hasWarning != (tc.titleLine != 0) {
				t.Errorf("warnings %q", res.dr.Warnings())
			}
		})
	}
}

// TestCrossBorder: SPEC §2.2, the 19-column layout with currency fields
// stops the file; a domestic row with commas in info_order does not.
func TestCrossBorder(t *testing.T) {
	cb := "CB20140528001," + merchant + ",20140528 10:00:00,101001,2014052846671792,20140528,USD,100.00,6.8000,CNY,680.00,0,0,20140528 10:00:01,0.5,跨境支付,信用卡,商品,备注"
	title := "商户订单号,商户号,订单时间,业务编号,支付单号,账务日期,币种,外币金额,汇率,结算币种,人民币金额,收款标志,交易状态,更新时间,手续费,支付产品,支付方式,订单信息,备注"
	tests := []struct {
		name  string
		in    string
		fatal bool
		rows  int
		errs  int
	}{
		{"cross-border row", cb + "\n" + line() + "\n", true, 0, 0},
		{"cross-border title", title + "\n" + line() + "\n", true, 0, 0},
		{"title without currency, cross-border row", strings.ReplaceAll(strings.ReplaceAll(title, "币种", "x"), "结算x", "y") + "\n" + cb + "\n", true, 0, 0},
		{"domestic row with currency words in info", line(13, "USD,HKD,CNY,1,2,3,4,5,6") + "\n", false, 1, 0},
		{"domestic row with the extra empty field and currencies in info",
			strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:13], ",") + ",USD,1,2,3,4,5", false, 1, 0},
		{"cross-border-looking line later is malformed, not fatal", line() + "\n" + cb + "\n", false, 1, 1},
		{"18 fields with a currency is malformed", strings.Join(strings.Split(cb, ",")[:18], ",") + "\n", false, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, jymxName, strings.NewReader(tc.in), 0)
			if tc.fatal {
				if !errors.Is(res.fatal, ErrCrossBorder) {
					t.Fatalf("fatal %v, want ErrCrossBorder", res.fatal)
				}
				if msg := res.fatal.Error(); !strings.Contains(msg, "cross-border") || !strings.Contains(msg, jymxName.Name) {
					t.Errorf("message %q does not say what and where", msg)
				}
				return
			}
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			if len(res.rows) != tc.rows || len(res.errs) != tc.errs {
				t.Errorf("rows %d errors %d (%v), want %d %d", len(res.rows), len(res.errs), res.errs, tc.rows, tc.errs)
			}
		})
	}
}

// repeatReader yields n bytes of c without holding them.
type repeatReader struct {
	c byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= k
	return k, nil
}

// TestLineTooLong: a line over MaxLineBytes is one malformed row, reading
// goes on, and a huge line is not held in memory.
func TestLineTooLong(t *testing.T) {
	const maxLine = 300
	long := line(13, strings.Repeat("长", 100)) // 300 bytes of info alone
	exact := line(13, strings.Repeat("x", maxLine-len(line(13, ""))))
	if len(exact) != maxLine {
		t.Fatalf("test setup: %d", len(exact))
	}
	tests := []struct {
		name    string
		in      func() io.Reader
		lines   []int // good rows' lines
		errLine int
	}{
		{"just over the bound", func() io.Reader { return strings.NewReader(line() + "\n" + long + "\r\n" + line() + "\n") }, []int{1, 3}, 2},
		{"exactly the bound, CRLF", func() io.Reader { return strings.NewReader(exact + "\r\n" + exact) }, []int{1, 2}, 0},
		{"100 MB line", func() io.Reader {
			return io.MultiReader(strings.NewReader(line()+"\nLONG"), &repeatReader{c: 'x', n: 100 << 20}, strings.NewReader("\n"+line()+"\n"))
		}, []int{1, 3}, 2},
		{"100 MB last line without newline", func() io.Reader {
			return io.MultiReader(strings.NewReader(line()+"\nLONG"), &repeatReader{c: 'x', n: 100 << 20})
		}, []int{1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := readAll(t, jymxName, tc.in(), maxLine)
			runtime.ReadMemStats(&after)
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			var lines []int
			for _, r := range res.rows {
				lines = append(lines, r.Line)
			}
			if !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("good rows on lines %v, want %v", lines, tc.lines)
			}
			if tc.errLine == 0 {
				if len(res.errs) != 0 {
					t.Errorf("errors %v", res.errs)
				}
			} else if len(res.errs) != 1 || res.errs[0].Line != tc.errLine || !errors.Is(res.errs[0], ErrLineTooLong) || len(res.errs[0].Raw) > 2*rawPrefix {
				t.Errorf("errors %v, want one ErrLineTooLong on line %d with a short Raw", res.errs, tc.errLine)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("allocated %d bytes reading the file: the long line was held", alloc)
			}
		})
	}
}
