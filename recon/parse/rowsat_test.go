package parse

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/recon"
)

// TestRowsAt: the rows at the lines asked for are the rows ScanFileLean
// hands over for those lines, in GB18030 and in UTF-8 with a BOM (line 1
// asked for), with CRLF line ends, blank and malformed lines around them,
// a title row, and a line longer than RowsAt's buffer; a line beyond the
// end, or no longer a good row, is an error.
func TestRowsAt(t *testing.T) {
	long := line(0, "201405280000009", 13, strings.Repeat("商品", 10_000)) // 60 kB of UTF-8: a good row
	tooLong := strings.Repeat("x", 2<<20)                                // longer than RowsAt's buffer
	lines := []string{
		line(0, "201405280000001"),
		"",
		line(0, "201405280000002", 6, "-12.50", 10, "-0.06"),
		"bad,line",
		line(0, "201405280000003", 13, "含,逗号"),
		long,
		tooLong,
		line(0, "201405280000004"),
	}
	for _, tc := range []struct {
		name, enc string
		title     bool
	}{
		{"gbk", recon.EncodingGB18030, false},
		{"utf8bom", recon.EncodingUTF8BOM, false},
		{"gbk-title", recon.EncodingGB18030, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Join(lines, "\r\n") + "\r\n"
			if tc.title {
				text = "商户订单号,商户号,下单时间,业务类型,连连支付单号,清算日期,金额,收付标识,状态,更新时间,手续费,产品,支付方式,订单信息\r\n" + text
			}
			b := []byte(text)
			if tc.enc == recon.EncodingGB18030 {
				var err error
				if b, err = simplifiedchinese.GB18030.NewEncoder().Bytes(b); err != nil {
					t.Fatal(err)
				}
			} else {
				b = append([]byte("\xef\xbb\xbf"), b...)
			}
			path := filepath.Join(t.TempDir(), jymxName.Name)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			byLine := map[int]recon.Row{}
			sf, err := ScanFileLean(path, func(r *recon.Row) error { byLine[r.Line] = *r; return nil }, func() error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if sf.Encoding != tc.enc || len(byLine) != 5 {
				t.Fatalf("first reading: %s, %d rows", sf.Encoding, len(byLine))
			}
			var want []int
			for l := range 10 {
				if _, ok := byLine[l]; ok {
					want = append(want, l)
				}
			}
			for _, ask := range [][]int{want, want[1:2], want[len(want)-2:]} {
				got, err := RowsAt(path, sf.Encoding, ask)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(ask) {
					t.Fatalf("RowsAt(%v): %d rows", ask, len(got))
				}
				for i, l := range ask {
					if !reflect.DeepEqual(got[i], byLine[l]) {
						t.Errorf("line %d:\n got %+v\nwant %+v", l, got[i], byLine[l])
					}
				}
			}
			if _, err := RowsAt(path, sf.Encoding, []int{want[0], 100}); err == nil || !strings.Contains(err.Error(), "line 100") {
				t.Errorf("a line beyond the end: %v", err)
			}
			first := 1
			if tc.title {
				first = 2
			}
			for _, bad := range []int{first + 3, first + 6} { // "bad,line", tooLong
				if _, err := RowsAt(path, sf.Encoding, []int{bad}); err == nil {
					t.Errorf("line %d, malformed, read again as a row", bad)
				}
			}
		})
	}
}
