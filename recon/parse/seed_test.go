package parse

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

var seedDir = filepath.Join("..", "..", "testdata", "fixtures", "seed")

// TestSeedExamples reads the seed's own rows (seed §5.2, fixtures README):
// rows 1 and 3 exactly, row 2 with two warnings; the GBK copy the same.
func TestSeedExamples(t *testing.T) {
	row1 := seedRow()
	row2 := seedRow()
	row2.Line, row2.NoOrder, row2.DtOrder, row2.OidPaybill = 2, "201405287094244", "20140528 16:32:53", "2014052846671022"
	row2.Amount, row2.UpdatedAt, row2.Fee, row2.PayMethod = 1500, "20140528 16:32:53", 10, "信用卡快捷支付"
	row2.Warnings = []string{"extra empty field between status and updated_at dropped", "field no_order: stray double quote dropped"}
	row3 := seedRow()
	row3.Line, row3.NoOrder, row3.DtOrder, row3.OidPaybill, row3.UpdatedAt = 3, "201405287094894", "20140528 16:36:35", "2014052846671934", "20140528 16:36:35"
	want := []recon.Row{row1, row2, row3}

	for _, tc := range []struct{ path, enc string }{
		{filepath.Join(seedDir, jymxName.Name), recon.EncodingUTF8},
		{filepath.Join(seedDir, "gbk", jymxName.Name), recon.EncodingGB18030},
	} {
		t.Run(tc.enc, func(t *testing.T) {
			sf, err := ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if sf.Encoding != tc.enc || sf.FileName != jymxName || len(sf.Malformed) != 0 || sf.TitleLine != 0 {
				t.Errorf("file: %+v encoding %q malformed %v", sf.FileName, sf.Encoding, sf.Malformed)
			}
			if !reflect.DeepEqual(sf.Rows, want) {
				t.Errorf("rows:\n got %+v\nwant %+v", sf.Rows, want)
			}
			data, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if sf.Size != int64(len(data)) || sf.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("size %d sha %q", sf.Size, sf.SHA256)
			}
		})
	}

	sf, err := ReadFile(filepath.Join(seedDir, sumName.Name))
	if err != nil {
		t.Fatal(err)
	}
	wantSum := recon.Summary{TotalCount: 8, SuccessCount: 8, SuccessAmount: 55123}
	if sf.Summary == nil || *sf.Summary != wantSum || len(sf.Malformed) != 0 {
		t.Errorf("summary %+v malformed %v", sf.Summary, sf.Malformed)
	}
	public, _, err := ReadSummary(strings.NewReader("8|8|551.23|0||0|"), sumName)
	if err != nil || public != *sf.Summary {
		t.Errorf("public form %+v %v, want %+v", public, err, *sf.Summary)
	}
}
