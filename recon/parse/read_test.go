package parse

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func TestRead(t *testing.T) {
	in := "商户订单号,商户号,商户订单时间\r\n" +
		line() + "\r\n" +
		"\r\n" +
		line(0, " bad1 ", 6, "1.234") + "\r\n" +
		"short,row\r\n" +
		line(0, "ok2")
	sf, err := Read(strings.NewReader(in), jymxName.Name)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(in))
	if sf.FileName != jymxName || sf.Size != int64(len(in)) || sf.SHA256 != hex.EncodeToString(sum[:]) || sf.Encoding != recon.EncodingUTF8 {
		t.Errorf("file %+v size %d sha %s enc %s", sf.FileName, sf.Size, sf.SHA256, sf.Encoding)
	}
	if sf.TitleLine != 1 || len(sf.Warnings) != 1 || sf.Summary != nil {
		t.Errorf("title %d warnings %q summary %v", sf.TitleLine, sf.Warnings, sf.Summary)
	}
	if len(sf.Rows) != 2 || sf.Rows[0].Line != 2 || sf.Rows[1].Line != 6 || sf.Rows[1].NoOrder != "ok2" {
		t.Errorf("rows %+v", sf.Rows)
	}
	want := []recon.Malformed{
		{File: jymxName.Name, Line: 4, NoOrder: "bad1", Field: "amount", Raw: line(0, " bad1 ", 6, "1.234"),
			Reason: `bad amount "1.234": more than 2 decimals`},
		{File: jymxName.Name, Line: 5, NoOrder: "short", Raw: "short,row", Reason: "wrong number of fields: got 2, want 14"},
	}
	if !reflect.DeepEqual(sf.Malformed, want) {
		t.Errorf("malformed\n got %+v\nwant %+v", sf.Malformed, want)
	}
}

func TestReadSummaryFile(t *testing.T) {
	sf, err := Read(strings.NewReader("8|8|551.23|0|0|0\n"), sumName.Name)
	if err != nil {
		t.Fatal(err)
	}
	if sf.Summary != nil || len(sf.Malformed) != 1 || sf.Malformed[0].Line != 1 || sf.Malformed[0].Raw != "8|8|551.23|0|0|0" || sf.Size != 17 {
		t.Errorf("summary %v malformed %+v size %d", sf.Summary, sf.Malformed, sf.Size)
	}
	// A summary file past its bound is still hashed whole.
	big := strings.Repeat("x", maxSummaryBytes*2)
	sf, err = Read(strings.NewReader(big), sumName.Name)
	if err != nil || sf.Size != int64(len(big)) || len(sf.Malformed) != 1 {
		t.Errorf("big summary: %v size %d", err, sf.Size)
	}
}

type failingReader struct{ after io.Reader }

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.after.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

func TestReadFatal(t *testing.T) {
	tests := []struct {
		name string
		file string
		r    io.Reader
		err  error
	}{
		{"unknown name", "RHZZW_" + merchant + "_20140528.txt", strings.NewReader(line()), ErrUnknownName},
		{"cross-border", jymxName.Name, strings.NewReader("a," + merchant + ",20140528 10:00:00,101001,p,20140528,USD,1,1,CNY,1,0,0,x,0.5,p,m,i,r\n"), ErrCrossBorder},
		{"I/O error in a detail file", jymxName.Name, &failingReader{strings.NewReader(line() + "\n")}, errDisk},
		{"I/O error in a summary file", sumName.Name, &failingReader{strings.NewReader("8|8|551.23|0|0|0|0")}, errDisk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sf, err := Read(tc.r, tc.file)
			if !errors.Is(err, tc.err) || sf != nil {
				t.Errorf("got %v, %v; want %v", sf, err, tc.err)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), jymxName.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// onceFailingReader returns its error once, then EOF, as some readers do.
type onceFailingReader struct {
	data   []byte
	failed bool
}

func (o *onceFailingReader) Read(p []byte) (int, error) {
	if len(o.data) > 0 {
		n := copy(p, o.data)
		o.data = o.data[n:]
		return n, nil
	}
	if !o.failed {
		o.failed = true
		return 0, errDisk
	}
	return 0, io.EOF
}

func TestReadErrorNotSwallowed(t *testing.T) {
	_, err := Read(&onceFailingReader{data: []byte(line() + "\n")}, jymxName.Name)
	if !errors.Is(err, errDisk) {
		t.Errorf("got %v, want the I/O error", err)
	}
}
