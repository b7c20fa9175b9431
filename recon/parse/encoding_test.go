package parse

import (
	"bytes"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/lianlian-recon/reconcile/recon"
)

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodingsAgree: SPEC §2.2. The same text in GBK/GB18030 and UTF-8,
// with and without BOM, CRLF or LF, with or without a final newline, reads
// to identical rows (line numbers included: blank lines count).
func TestEncodingsAgree(t *testing.T) {
	lines := []string{
		line(),
		"",
		line(0, "201405287094244", 12, "信用卡快捷支付", 13, "订单:蓝牙耳机,数据线"),
		"   ",
		line(0, "R201405287094797", 6, "-100", 10, "-0.5", 8, "5", 13, "退款：𠮷野家,¥5"), // 𠮷 is 4 bytes in GB18030
		line(0, "x3", 11, "WEB支付网关", 12, "企业网银支付", 13, "€"),
	}
	lf := strings.Join(lines, "\n")
	crlf := strings.Join(lines, "\r\n")
	variants := []struct {
		name string
		data []byte
		enc  string
	}{
		{"UTF-8 LF final newline", []byte(lf + "\n"), recon.EncodingUTF8},
		{"UTF-8 LF no final newline", []byte(lf), recon.EncodingUTF8},
		{"UTF-8 CRLF", []byte(crlf + "\r\n"), recon.EncodingUTF8},
		{"UTF-8 BOM LF", []byte("\ufeff" + lf + "\n"), recon.EncodingUTF8BOM},
		{"UTF-8 BOM CRLF no final newline", []byte("\ufeff" + crlf), recon.EncodingUTF8BOM},
		{"GB18030 LF", gbk(t, lf+"\n"), recon.EncodingGB18030},
		{"GB18030 CRLF", gbk(t, crlf+"\r\n"), recon.EncodingGB18030},
		{"GB18030 CRLF no final newline", gbk(t, crlf), recon.EncodingGB18030},
	}
	var want []recon.Row
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			res := readAll(t, jymxName, bytes.NewReader(v.data), 0)
			if res.fatal != nil || len(res.errs) != 0 {
				t.Fatalf("fatal %v errors %v", res.fatal, res.errs)
			}
			if got := res.dr.Encoding(); got != v.enc {
				t.Errorf("Encoding %q, want %q", got, v.enc)
			}
			if i == 0 {
				want = res.rows
				if len(want) != 4 || want[1].Line != 3 || want[2].InfoOrder != "退款：𠮷野家,¥5" || want[3].InfoOrder != "€" {
					t.Fatalf("reference rows wrong: %+v", want)
				}
				return
			}
			if !reflect.DeepEqual(res.rows, want) {
				t.Errorf("rows differ:\n got %+v\nwant %+v", res.rows, want)
			}
		})
	}
}

// asciiRows is more than the 64 KiB detection window of ASCII-only rows.
func asciiRows() string {
	var b strings.Builder
	for b.Len() < 100<<10 {
		b.WriteString(line(11, "API", 12, "card", 13, "plain ascii") + "\n")
	}
	return b.String()
}

// TestEncodingDecidedLate: a file whose head is ASCII is decided on its
// first non-ASCII line.
func TestEncodingDecidedLate(t *testing.T) {
	head := asciiRows()
	n := strings.Count(head, "\n")
	for _, tc := range []struct {
		name string
		tail []byte
		enc  string
	}{
		{"GBK after ASCII", gbk(t, line(13, "彩票连连支付充值")+"\n"), recon.EncodingGB18030},
		{"UTF-8 after ASCII", []byte(line(13, "彩票连连支付充值") + "\n"), recon.EncodingUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := readAll(t, jymxName, io.MultiReader(strings.NewReader(head), bytes.NewReader(tc.tail)), 0)
			if res.fatal != nil || len(res.errs) != 0 || len(res.rows) != n+1 {
				t.Fatalf("fatal %v errors %v rows %d", res.fatal, res.errs, len(res.rows))
			}
			last := res.rows[n]
			if last.InfoOrder != "彩票连连支付充值" || last.Warnings != nil {
				t.Errorf("last row info %q warnings %q", last.InfoOrder, last.Warnings)
			}
			if got := res.dr.Encoding(); got != tc.enc {
				t.Errorf("Encoding %q, want %q", got, tc.enc)
			}
		})
	}
	t.Run("ASCII only is UTF-8", func(t *testing.T) {
		res := readAll(t, jymxName, strings.NewReader(line(11, "API", 12, "card", 13, "")), 0)
		if res.dr.Encoding() != recon.EncodingUTF8 || len(res.rows) != 1 {
			t.Errorf("Encoding %q rows %d", res.dr.Encoding(), len(res.rows))
		}
	})
}

// TestInvalidUTF8Late: a UTF-8 head, then past the detection window a line
// that is not UTF-8. Streaming, that line alone is GB18030 with a warning;
// Read of a seekable input reads the whole file as GB18030 (SPEC §2.2).
func TestInvalidUTF8Late(t *testing.T) {
	var b bytes.Buffer
	for b.Len() < 100<<10 {
		b.WriteString(line() + "\n")
	}
	n := bytes.Count(b.Bytes(), []byte("\n"))
	b.Write(gbk(t, line(0, "late", 13, "国标编码")+"\n"))
	data := b.Bytes()

	res := readAll(t, jymxName, io.MultiReader(bytes.NewReader(data)), 0)
	if res.fatal != nil || len(res.errs) != 0 || len(res.rows) != n+1 {
		t.Fatalf("fatal %v errors %v rows %d", res.fatal, res.errs, len(res.rows))
	}
	last := res.rows[n]
	if last.InfoOrder != "国标编码" || len(last.Warnings) != 1 || !strings.Contains(last.Warnings[0], "GB18030") {
		t.Errorf("late row %q warnings %q", last.InfoOrder, last.Warnings)
	}
	if res.rows[0].InfoOrder != "彩票连连支付充值" || res.dr.Encoding() != recon.EncodingUTF8 || !res.dr.Mixed() {
		t.Errorf("first row %q encoding %q mixed %v", res.rows[0].InfoOrder, res.dr.Encoding(), res.dr.Mixed())
	}

	// Not seekable: as streamed.
	sf, err := Read(io.MultiReader(bytes.NewReader(data)), jymxName.Name)
	if err != nil {
		t.Fatal(err)
	}
	if sf.Encoding != recon.EncodingUTF8 || len(sf.Rows) != n+1 || sf.Rows[0].InfoOrder != "彩票连连支付充值" || len(sf.Warnings) != 1 {
		t.Errorf("streamed Read: encoding %q rows %d warnings %q", sf.Encoding, len(sf.Rows), sf.Warnings)
	}
	// Seekable: the whole file is GB18030, so the UTF-8 text reads as what
	// those bytes mean in GB18030.
	sf, err = Read(bytes.NewReader(data), jymxName.Name)
	if err != nil {
		t.Fatal(err)
	}
	wantFirst, _ := simplifiedchinese.GB18030.NewDecoder().String("彩票连连支付充值")
	if sf.Encoding != recon.EncodingGB18030 || len(sf.Rows) != n+1 || sf.Rows[0].InfoOrder != wantFirst ||
		sf.Rows[n].InfoOrder != "国标编码" || sf.Rows[n].Warnings != nil || len(sf.Warnings) != 1 {
		t.Errorf("seekable Read: encoding %q rows %d first %q last %q warnings %q", sf.Encoding, len(sf.Rows), sf.Rows[0].InfoOrder, sf.Rows[n].InfoOrder, sf.Warnings)
	}
	if sf.Size != int64(len(data)) {
		t.Errorf("Size %d, want %d", sf.Size, len(data))
	}
}

// TestDecodeGB18030Table: the table decoder gives what x/text gives, for
// every two-byte input, for mixed random input, and for four-byte
// sequences.
func TestDecodeGB18030Table(t *testing.T) {
	want := func(b []byte) string {
		s, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	tr := simplifiedchinese.GB18030.NewDecoder()
	check := func(b []byte) {
		if got := string(appendGB18030(nil, b, tr)); got != want(b) {
			t.Fatalf("% x: got %q, want %q", b, got, want(b))
		}
	}
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			check([]byte{byte(a), byte(b)})
			check([]byte{'x', byte(a), byte(b), 'y'})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte{',', ' ', 'a', 0x30, 0x39, 0x7f, 0x80, 0x81, 0x84, 0xa1, 0xb0, 0xd6, 0xfe, 0xff}
	for range 200000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			if rng.IntN(2) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte(rng.IntN(256))
			}
		}
		check(b)
	}
	check(gbk(t, "𠮷野家€，订单"))
}
