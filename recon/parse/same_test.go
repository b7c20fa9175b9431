package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/gen"
	"github.com/lianlian-recon/reconcile/recon"
)

// event is one answer of a reader's Read.
type event struct {
	row   recon.Row
	perr  *ParseError
	fatal string
}

// said is all a reader said about an input.
type said struct {
	events   []event
	enc      string
	title    int
	warnings []string
	mixed    bool
}

type detailReader interface{ Read() (recon.Row, error) }

func collect(t testing.TB, dr detailReader) []event {
	t.Helper()
	var evs []event
	for i := 0; ; i++ {
		if i > 1e7 {
			t.Fatal("reader does not end")
		}
		row, err := dr.Read()
		if err == io.EOF {
			return evs
		}
		var pe *ParseError
		switch {
		case errors.As(err, &pe):
			evs = append(evs, event{perr: pe})
		case err != nil:
			again, err2 := dr.Read()
			if !reflect.DeepEqual(again, recon.Row{}) || err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("Read after fatal %v returned %v", err, err2)
			}
			return append(evs, event{fatal: err.Error()})
		default:
			evs = append(evs, event{row: row})
		}
	}
}

// readBoth reads data with DetailReader and with a DetailReader that reads
// every line the slow way (which was the whole reader before the fast path
// came, and is what it falls back to).
func readBoth(t testing.TB, data []byte, name recon.FileName, maxLine int, force string) (got, want said) {
	t.Helper()
	dr := NewDetailReader(bytes.NewReader(data), name)
	dr.MaxLineBytes, dr.ForceEncoding = maxLine, force
	got.events = collect(t, dr)
	got.enc, got.title, got.warnings, got.mixed = dr.Encoding(), dr.TitleLine(), dr.Warnings(), dr.Mixed()

	rr := NewDetailReader(bytes.NewReader(data), name)
	rr.MaxLineBytes, rr.ForceEncoding, rr.slowOnly = maxLine, force, true
	want.events = collect(t, rr)
	want.enc, want.title, want.warnings, want.mixed = rr.Encoding(), rr.TitleLine(), rr.Warnings(), rr.Mixed()
	return got, want
}

// sameAsSlow fails t at the first difference between DetailReader and the
// slow path alone, for every file kind, line bound and forced encoding.
func sameAsSlow(t testing.TB, data []byte) {
	t.Helper()
	for _, name := range []recon.FileName{jymxName, fkmxName} {
		for _, maxLine := range []int{0, 200} {
			for _, force := range []string{"", recon.EncodingGB18030, recon.EncodingUTF8} {
				got, want := readBoth(t, data, name, maxLine, force)
				where := fmt.Sprintf("%s, max %d, force %q", name.Kind, maxLine, force)
				for i := range max(len(got.events), len(want.events)) {
					if i >= len(got.events) || i >= len(want.events) {
						t.Fatalf("%s: %d answers, want %d", where, len(got.events), len(want.events))
					}
					g, w := got.events[i], want.events[i]
					if !reflect.DeepEqual(g, w) {
						t.Fatalf("%s: answer %d\n got %s\nwant %s", where, i, show(g), show(w))
					}
				}
				got.events, want.events = nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: reader state\n got %+v\nwant %+v", where, got, want)
				}
			}
		}
	}
}

func show(e event) string {
	switch {
	case e.perr != nil:
		return fmt.Sprintf("ParseError %+v (%v)", *e.perr, e.perr.Err)
	case e.fatal != "":
		return "fatal " + e.fatal
	}
	s := fmt.Sprintf("%+v", e.row)
	if e.row.RowText != nil {
		s += fmt.Sprintf(" text %+v", *e.row.RowText)
	}
	return s
}

// sameLines are lines that take the fast path to its edges; each is read
// after a good first row, as the second line of a file.
var sameLines = []string{
	line(),
	line(11, " 手机应用支付网关 ", 12, `"储蓄卡快捷支付"`, 13, `"彩票`),
	line(11, "\u3000手机\u3000", 12, "\u00a0x", 13, "y\u0085"),
	line(13, `"say ""hi"""`),
	line(11, `"a""b"`),
	line(0, `"R1""x"`),
	line(0, " R1 ", 4, `"p1"`, 6, ` "-0.50" `, 10, "-0"),
	line(0, "订单1"),
	line(0, "\u3000201405287094797"),
	line(2, "\u300020140528 16:35:56"),
	line(4, strings.Repeat("x", 33)),
	line(0, strings.Repeat("x", 32), 4, strings.Repeat("y", 32)),
	line(6, "1.234"), line(6, "1."), line(6, ".5"), line(6, "+5"), line(6, "-"), line(6, ""),
	line(6, "1234567890123456"), line(6, "123456789012345.99"), line(10, "0.5x"), line(6, "1e3"),
	line(7, "2"), line(7, "01"), line(8, "1"), line(8, " 5 "), line(7, ""),
	line(1, "20140325100000114"), line(1, "20140325100000114x"), line(3, ""), line(3, "1a"),
	line(5, "20140230"), line(9, "20140528 24:00:00"), line(9, "20140528T16:35:56"),
	line(13, "a,b,c,d,e,f,g,h,i,j,k,l"),
	line(13, "a,b,c"),
	line(13, "a,b,c,d"),
	line(13, "a,b,c,\"d"),
	line(13, ""),
	line(12, ""),
	strings.Join(seedFields[:13], ","),
	strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:], ","),
	strings.Join(seedFields[:9], ",") + ", \"\" ," + strings.Join(seedFields[9:], ","),
	strings.Join(seedFields[:9], ",") + `,"""",` + strings.Join(seedFields[9:], ","),
	strings.Join(seedFields[:9], ",") + `,,"20140528 16:35:56""",` + strings.Join(seedFields[10:], ","),
	strings.Join(seedFields[:9], ",") + ",,x," + strings.Join(seedFields[10:], ","),
	strings.Join(seedFields[:9], ",") + ",\u3000," + strings.Join(seedFields[9:], ","),
	strings.Join(seedFields[:9], ",") + ",," + strings.Join(seedFields[9:13], ",") + ",x,y",
	line(7, "1", 13, "商户提现") + ",中国工商银行, ****1234 ,张*三",
	line(7, "1", 13, "商户提现") + `,"中国工商银行, "****1234" ,张*三"`,
	line(7, "1", 13, "商户提现") + `,"a""b",,`,
	line(7, "1") + ",a,b,c,d",
	line(11, "\xff\xfe", 13, "\x81"),
	line(13, "\x81\x30"),
	line(0, "\x81", 13, "\x80"),
	"a," + merchant + ",20140528 10:00:00,101001,p,20140528,USD,1,1,CNY,1,0,0,x,0.5,p,m,i,r",
	"  \t ",
	"x,y",
}

func TestFastSameAsSlow(t *testing.T) {
	first := line() + "\n"
	for _, l := range sameLines {
		for _, enc := range []string{"utf8", "gbk", "gbk-first"} {
			data := []byte(first + l + "\n" + l + "\r\n" + l)
			switch enc {
			case "gbk":
				data = gbkLoose(first + l + "\n" + l + "\r\n" + l)
			case "gbk-first": // a GBK first row, then the line as UTF-8
				data = append(gbkLoose(first), l+"\n"+l...)
			}
			t.Run(fmt.Sprintf("%s %.40q", enc, l), func(t *testing.T) { sameAsSlow(t, data) })
		}
	}
}

// gbkLoose encodes s in GB18030, keeping bytes it cannot encode as they
// are (so that invalid input stays invalid).
func gbkLoose(s string) []byte {
	enc := simplifiedchinese.GB18030.NewEncoder()
	var out []byte
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		b, err := enc.Bytes([]byte(s[:size]))
		if err != nil || r == utf8.RuneError && size == 1 {
			b = []byte(s[:size])
		}
		out = append(out, b...)
		s = s[size:]
	}
	return out
}

// TestFastSameAsSlowGenerated reads generated files of every kind, in both
// encodings.
func TestFastSameAsSlowGenerated(t *testing.T) {
	for _, gbk := range []bool{false, true} {
		dir := t.TempDir()
		_, err := gen.Write(dir, filepath.Join(dir, "ledger.csv"), gen.Config{
			Merchant: merchant, Date: "20140528", Payments: 3000, RefundRate: 0.1, Payouts: 50, GBK: gbk, Seed: 7,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{jymxName.Name, fkmxName.Name} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			sameAsSlow(t, data)
		}
	}
}

func FuzzDetailSame(f *testing.F) {
	addSeeds(f, filepath.Join(seedDir, jymxName.Name), filepath.Join(seedDir, "gbk", jymxName.Name))
	for _, l := range sameLines {
		f.Add([]byte(line() + "\n" + l + "\n"))
		f.Add(gbkLoose(line() + "\n" + l + "\r\n" + l))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsSlow(t, data) })
}
