package parse

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

const merchant = "201403251000001147"

var (
	jymxName = recon.FileName{Name: "JYMX_" + merchant + "_20140528.txt", Kind: recon.FileJYMX, Merchant: merchant, Date: "20140528"}
	fkmxName = recon.FileName{Name: "FKMX_" + merchant + "_20140528.txt", Kind: recon.FileFKMX, Merchant: merchant, Date: "20140528"}
)

// seedFields are the seed's first example row (§5.2), artefacts removed.
var seedFields = []string{
	"201405287094797", merchant, "20140528 16:35:56", "101001", "2014052846671792",
	"20140528", "100", "0", "0", "20140528 16:35:56", "0.5", "手机应用支付网关",
	"储蓄卡快捷支付", "彩票连连支付充值",
}

// seedRow is what seedFields parse to.
func seedRow() recon.Row {
	return recon.Row{
		RowMeta: &recon.RowMeta{File: jymxName.Name, OidPartner: merchant, BusiPartner: "101001", SettleDate: "20140528"}, Line: 1,
		NoOrder: "201405287094797", OidPaybill: "2014052846671792",
		Amount: 10000, Direction: 0, Status: 0, Fee: 50,
		Kind: recon.KindPayment,
		RowText: &recon.RowText{
			DtOrder: "20140528 16:35:56", UpdatedAt: "20140528 16:35:56",
			Product: "手机应用支付网关", PayMethod: "储蓄卡快捷支付", InfoOrder: "彩票连连支付充值",
		},
	}
}

// line joins seedFields with field k (0-based) replaced by v, for each
// pair in kv.
func line(kv ...any) string {
	f := append([]string(nil), seedFields...)
	for i := 0; i < len(kv); i += 2 {
		f[kv[i].(int)] = kv[i+1].(string)
	}
	return strings.Join(f, ",")
}

// result is everything a DetailReader said about one input.
type result struct {
	rows  []recon.Row
	errs  []*ParseError
	fatal error
	dr    *DetailReader
}

func readAll(t testing.TB, name recon.FileName, r io.Reader, maxLine int) result {
	t.Helper()
	dr := NewDetailReader(r, name)
	dr.MaxLineBytes = maxLine
	res := result{dr: dr}
	for i := 0; ; i++ {
		if i > 1e7 {
			t.Fatal("reader does not end")
		}
		row, err := dr.Read()
		if err == io.EOF {
			return res
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			res.errs = append(res.errs, pe)
			continue
		}
		if err != nil {
			res.fatal = err
			if _, again := dr.Read(); again != err {
				t.Errorf("Read after fatal %v returned %v", err, again)
			}
			return res
		}
		res.rows = append(res.rows, row)
	}
}
