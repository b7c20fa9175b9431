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

// readWith reads data with a DetailReader set up by set.
func readWith(t testing.TB, data []byte, name recon.FileName, maxLine int, force string, set func(*DetailReader)) said {
	t.Helper()
	dr := NewDetailReader(bytes.NewReader(data), name)
	dr.MaxLineBytes, dr.ForceEncoding = maxLine, force
	set(dr)
	s := said{events: collect(t, dr)}
	s.enc, s.title, s.warnings, s.mixed = dr.Encoding(), dr.TitleLine(), dr.Warnings(), dr.Mixed()
	return s
}

// readBoth reads data with DetailReader and with a DetailReader that reads
// every line the slow way (which was the whole reader before the fast path
// came, and is what it falls back to).
func readBoth(t testing.TB, data []byte, name recon.FileName, maxLine int, force string) (got, want said) {
	t.Helper()
	got = readWith(t, data, name, maxLine, force, func(*DetailReader) {})
	want = readWith(t, data, name, maxLine, force, func(dr *DetailReader) { dr.slowOnly = true })
	return got, want
}

// sameAsSlow fails t at the first difference between DetailReader and the
// slow path alone, and between DetailReader in lean mode and DetailReader
// with each row made lean, for every file kind, line bound and forced
// encoding.
func sameAsSlow(t testing.TB, data []byte) {
	t.Helper()
	for _, name := range []recon.FileName{jymxName, fkmxName} {
		for _, maxLine := range []int{0, 200} {
			for _, force := range []string{"", recon.EncodingGB18030, recon.EncodingUTF8} {
				got, want := readBoth(t, data, name, maxLine, force)
				where := fmt.Sprintf("%s, max %d, force %q", name.Kind, maxLine, force)
				sameSaid(t, where, got, want)
				lean := readWith(t, data, name, maxLine, force, func(dr *DetailReader) { dr.lean = true })
				sameSaid(t, where+", lean", lean, leanSaid(got))
			}
		}
	}
}

// leanSaid is s with every row made lean, as a lean reader should say it.
func leanSaid(s said) said {
	s.events = append([]event(nil), s.events...)
	for i, e := range s.events {
		if e.perr == nil && e.fatal == "" {
			s.events[i].row = e.row.Lean()
		}
	}
	return s
}

// sameSaid fails t at the first difference between got and want.
func sameSaid(t testing.TB, where string, got, want said) {
	t.Helper()
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
	// The lean path's own edges: timestamps read in place, the date of
	// one checked once, values compared with their comma with those of
	// rows before, one-character fields, and the ASCII of fields 1–11.
	line(2, "20140528 16:35:60"), line(2, "20140528 16:60:00"), line(2, "20140528 23:59:59"),
	line(9, "20140528 1:35:56x"), line(9, "20140528 16:35:5"), line(9, "20140528 16:35:567"),
	line(2, "20140528,16:35:56"), line(2, "20140527 16:35:56"), line(2, "20140229 00:00:00"),
	line(2, "\x00\x00\x00\x00\x00\x00\x00\x00 16:35:56"), line(9, "2014052816:35:56 "),
	line(9, `"20140528 16:35:56"`), line(2, " 20140528 16:35:56"), line(9, ""), line(2, ""),
	line(1, `"`+merchant+`"`), line(1, merchant+" "), line(1, merchant[:17]+"x"), line(1, ""),
	line(3, "101001 "), line(3, `"109001"`), line(3, strings.Repeat("1", 30)), line(3, "1,2"),
	line(5, "20140528 "), line(5, `"20140529"`), line(5, "2014052"), line(5, "20140528x"),
	line(6, "\u00a0100"), line(10, "0.5\u3000"), line(6, "１00"), line(10, " 0.5"),
	line(0, "R\u00e91"), line(4, "p\u00e9x"), line(4, "\u00a0p"), line(0, "\x81\x40"),
	line(7, "1", 8, "5"), line(7, "0 "), line(8, "5,"), line(7, " 1"), line(8, ""),
	line(1, "201403251000001147\u00e9"), line(3, "\u00e9101001"),
	line(2, "x0140528 16:35:56"), line(9, "2014052x 16:35:56"), line(2, "20140528 1a:35:56"), line(9, "20140528 16:3 :56"), line(9, "20140528 16:35:5\x00"),
	line(0, strings.Repeat("x", 33)), strings.Join(append(seedFields[:1:1], seedFields[2:]...), ","),
	"R1,20140528 16:35:56,p1,100,0,0,20140528 16:35:56,0.5,a,b,c", // fields 2, 4 and 6 left out
	line(4, `"p""1"`), line(6, `"1""0"`), line(0, `"R""1"`), line(3, `"10""1"`),
	strings.Join(seedFields[:5], ","), strings.Join(seedFields[:6], ","), strings.Join(seedFields[:7], ","),
	strings.Join(seedFields[:11], ","), strings.Join(seedFields[:12], ","),
	strings.Join(seedFields[:11], ",") + ",",
	strings.Join(seedFields[:12], ",") + ",",
}

func TestFastSameAsSlow(t *testing.T) {
	// The first line is read the slow way; the second fills what the fast
	// and lean paths keep of the rows before.
	first := line() + "\n" + line(0, "R0", 3, "109001") + "\n"
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

// leanFiles are files whose rows take the lean path through its caches:
// values that come back after others, a day that changes, a bad value after
// a good one of the same prefix.
func leanFiles() map[string]string {
	busi := []string{"101000", "101001", "109001", "108001", "110001", "102001", "101001", "109002"}
	var cycle, days, bad strings.Builder
	for i := range 40 {
		cycle.WriteString(line(0, fmt.Sprintf("R%d", i), 3, busi[i%len(busi)], 5, []string{"20140528", "20140529", "20140530"}[i%3],
			1, []string{merchant, "201403251000001148"}[i/20], 13, "彩票") + "\n")
		days.WriteString(line(0, fmt.Sprintf("D%d", i), 2, fmt.Sprintf("201402%02d 23:59:59", 20+i%12),
			9, fmt.Sprintf("2014%02d%02d 00:00:00", 1+i%13, 28+i%4)) + "\n")
	}
	for _, l := range []string{
		line(), line(2, "20140528 16:35:57"), line(2, "20140528 24:35:57"), line(2, "20140528 16:35:58"),
		line(3, "1010011"), line(3, "10100"), line(3, "101001"), line(5, "20140528"), line(5, "20140532"),
		line(1, merchant+"7"), line(1, merchant), line(9, "20140528 16:35:56"), line(9, "20140528 16:35:56 "),
		strings.Join(append(seedFields[:1:1], seedFields[2:]...), ","), // no merchant: 13 fields that line up
	} {
		bad.WriteString(l + "\n")
	}
	var late strings.Builder // mixed: a GBK line past the window that decided UTF-8
	for late.Len() < 80<<10 {
		late.WriteString(line() + "\n")
	}
	mixed := late.String() + string(gbkLoose(line(0, "late", 13, "国标编码"))) + "\n" + line(0, "after") + "\n"
	// values one bit apart, the second just after the first
	pairs := strings.Join([]string{line(), line(3, "101000"), line(3, "101001"), line(5, "20140528"), line(5, "20140529"),
		line(1, "201403251000001146"), line(1, merchant), line(3, "101001"), line(3, "101000")}, "\n")
	return map[string]string{
		"cycle": cycle.String(), "pairs": pairs, "days": days.String(), "bad": bad.String(), "mixed": mixed,
		"title":        "商户订单号,商户号,下单时间\n" + cycle.String(),
		"cross-border": "a," + merchant + ",20140528 10:00:00,101001,p,20140528,USD,1,1,CNY,1,0,0,x,0.5,p,m,i,r\n" + cycle.String(),
		"blank lines":  "\r\n\n  \n" + strings.ReplaceAll(bad.String(), "\n", "\r\n\n"),
	}
}

// TestLeanSameAsFull: DetailReader in lean mode says what it says in full
// mode with each row made lean, on files that exercise the lean path's
// caches, in UTF-8, GBK and a GBK head with UTF-8 lines after it.
func TestLeanSameAsFull(t *testing.T) {
	for name, data := range leanFiles() {
		for _, enc := range []string{"utf8", "gbk", "gbk-first"} {
			b := []byte(data)
			switch enc {
			case "gbk":
				b = gbkLoose(data)
			case "gbk-first":
				b = append(gbkLoose(line(13, "国标")+"\n"), data...)
			}
			t.Run(name+" "+enc, func(t *testing.T) { sameAsSlow(t, b) })
		}
	}
}

// scanLean runs ScanFile and ScanFileLean on the file at path and fails t
// unless the lean scan hands over ScanFile's rows made lean, restarts as
// often, and reports the same file.
func scanLean(t *testing.T, path string) (rows, restarts int) {
	t.Helper()
	var full, lean []recon.Row
	var fullRestarts, leanRestarts int
	want, err := ScanFile(path,
		func(r *recon.Row) error { full = append(full, r.Lean()); return nil },
		func() error { fullRestarts++; full = nil; return nil })
	got, err2 := ScanFileLean(path,
		func(r *recon.Row) error {
			if r.RowText != nil {
				t.Fatalf("line %d: ScanFileLean handed over a row with RowText", r.Line)
			}
			lean = append(lean, *r)
			return nil
		},
		func() error { leanRestarts++; lean = nil; return nil })
	if fmt.Sprint(err) != fmt.Sprint(err2) {
		t.Fatalf("ScanFileLean error %v, ScanFile %v", err2, err)
	}
	if leanRestarts != fullRestarts {
		t.Errorf("ScanFileLean restarted %d times, ScanFile %d", leanRestarts, fullRestarts)
	}
	for i := range max(len(full), len(lean)) {
		if i >= len(full) || i >= len(lean) {
			t.Fatalf("ScanFileLean handed over %d rows, ScanFile %d", len(lean), len(full))
		}
		if !reflect.DeepEqual(lean[i], full[i]) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, lean[i], full[i])
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file facts differ:\n got %+v\nwant %+v", got, want)
	}
	return len(full), fullRestarts
}

// TestScanFileLean compares ScanFileLean with ScanFile on the detail files
// of the fixtures, on generated files, on the lean test files, and on a
// file that is read again as GB18030.
func TestScanFileLean(t *testing.T) {
	var paths []string
	err := filepath.WalkDir(filepath.Join("..", "..", "testdata", "fixtures"), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n, err := ParseName(e.Name()); err == nil && !e.IsDir() && !n.Kind.IsSummary() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 10 {
		t.Fatalf("found %d detail files in the fixtures", len(paths))
	}
	for _, gbk := range []bool{false, true} {
		dir := t.TempDir()
		_, err := gen.Write(dir, filepath.Join(dir, "ledger.csv"), gen.Config{
			Merchant: merchant, Date: "20140528", Payments: 2000, RefundRate: 0.1, Payouts: 50, GBK: gbk, Seed: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(dir, jymxName.Name), filepath.Join(dir, fkmxName.Name))
	}
	files := leanFiles()
	var late bytes.Buffer // UTF-8 for 100 KiB, then GB18030: read again
	for late.Len() < 100<<10 {
		late.WriteString(line(13, "彩票连连支付充值") + "\n")
	}
	late.Write(gbkLoose(line(0, "late", 13, "国标编码") + "\n" + line(2, "20140528 25:00:00") + "\n"))
	files["late GB18030"] = late.String()
	dir := t.TempDir()
	for name, data := range files {
		for i, b := range [][]byte{[]byte(data), gbkLoose(data)} {
			sub := filepath.Join(dir, fmt.Sprint(name, i))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(sub, jymxName.Name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	restarts := 0
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			_, n := scanLean(t, p)
			restarts += n
		})
	}
	if restarts == 0 {
		t.Error("no file was read again as GB18030")
	}
}
