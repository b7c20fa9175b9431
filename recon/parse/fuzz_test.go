package parse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lianlian-recon/reconcile/recon"
)

// writeField writes a cleaned value back so that clean reads it again:
// a value with a double quote at one end is quoted, inner quotes doubled.
func writeField(v string) string {
	if strings.HasPrefix(v, `"`) || strings.HasSuffix(v, `"`) {
		return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return v
}

// writeRow writes a row as a 14-field line.
func writeRow(r recon.Row) string {
	f := []string{
		r.NoOrder, r.OidPartner, r.DtOrder, r.BusiPartner, r.OidPaybill, r.SettleDate,
		r.Amount.String(), strconv.Itoa(int(r.Direction)), strconv.Itoa(int(r.Status)),
		r.UpdatedAt, r.Fee.String(), r.Product, r.PayMethod, r.InfoOrder,
	}
	for i := range f {
		f[i] = writeField(f[i])
	}
	return strings.Join(f, ",")
}

func addSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzDetail(f *testing.F) {
	addSeeds(f, filepath.Join(seedDir, jymxName.Name), filepath.Join(seedDir, "gbk", jymxName.Name))
	for _, s := range []string{
		line(), line(13, "a,b,c,d,e,f"), line(0, `"x"`, 13, `""y"`), "\ufeff" + line() + "\r\n\r\n",
		"商户订单号,商户号\n" + line(), line(7, "1") + ",bank,****1234,name",
		strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:], ","),
		"a," + merchant + ",20140528 10:00:00,101001,p,20140528,USD,1,1,CNY,1,0,0,x,0.5,p,m,i,r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []recon.FileName{jymxName, fkmxName} {
			res := readAll(t, name, bytes.NewReader(data), 4096)
			if res.fatal != nil && !errors.Is(res.fatal, ErrCrossBorder) {
				t.Fatalf("fatal %v", res.fatal)
			}
			last := 0
			for _, pe := range res.errs {
				if pe.Line < 1 || pe.File != name.Name || pe.Err == nil || !utf8.ValidString(pe.Raw) {
					t.Fatalf("bad ParseError %+v", pe)
				}
			}
			for _, r := range res.rows {
				if r.Line <= last {
					t.Fatalf("line %d after %d", r.Line, last)
				}
				last = r.Line
				if r.Kind != recon.Classify(r.Direction, r.Amount) || len(r.OidPartner) != 18 {
					t.Fatalf("row %+v", r)
				}
				for _, s := range []string{r.NoOrder, r.OidPaybill, r.Product, r.PayMethod, r.InfoOrder, r.PayeeName} {
					if !utf8.ValidString(s) {
						t.Fatalf("invalid UTF-8 %q", s)
					}
				}
				// Round trip: write the row back as a 14-field line (after a
				// blank line, so that a U+FEFF at its start is no BOM) and
				// read it again.
				back := readAll(t, jymxName, strings.NewReader("\n"+writeRow(r)+"\n"), 0)
				if back.fatal != nil || len(back.errs) != 0 || len(back.rows) != 1 {
					t.Fatalf("round trip of %+v as %q: %v %v", r, writeRow(r), back.fatal, back.errs)
				}
				got, want := back.rows[0], r
				got.Line, got.Warnings, got.EditMeta().File = 0, nil, ""
				want.Line, want.Warnings, want.EditMeta().File = 0, nil, ""
				want.PayeeBank, want.PayeeAccount, want.PayeeName = "", "", ""
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
				}
			}
		}
	})
}

func FuzzSummary(f *testing.F) {
	addSeeds(f, filepath.Join(seedDir, sumName.Name))
	for _, s := range []string{"8|8|551.23|0||0|", "\r\n 1|0|0|1|-5|0|0 \r\n", "10|7|100|2|-30.5|1|-20", "|||||||"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, err := ReadSummary(bytes.NewReader(data), sumName)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Err == nil {
				t.Fatalf("error %v is not a positioned *ParseError", err)
			}
			return
		}
		v := s.Figures()
		parts := make([]string, 7)
		for i, x := range v {
			if recon.IsAmountFigure(i) {
				parts[i] = recon.Fen(x).String()
			} else {
				parts[i] = strconv.FormatInt(x, 10)
			}
		}
		back, _, err := ReadSummary(strings.NewReader(strings.Join(parts, "|")), sumName)
		if err != nil || back != s {
			t.Fatalf("round trip %v: %+v, %v", parts, back, err)
		}
	})
}
