package parse

import (
	"errors"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func TestParseName(t *testing.T) {
	const m = "201403251000001147"
	good := []struct {
		name string
		want recon.FileName
	}{
		{"JYMX_" + m + "_20140528.txt", recon.FileName{Kind: recon.FileJYMX, Merchant: m, Date: "20140528"}},
		{"FKMX_" + m + "_20140528.txt", recon.FileName{Kind: recon.FileFKMX, Merchant: m, Date: "20140528"}},
		{"JYMX_" + m + "_201405.txt", recon.FileName{Kind: recon.FileJYMX, Merchant: m, Date: "201405"}},
		{"FKMX_" + m + "_201412.txt", recon.FileName{Kind: recon.FileFKMX, Merchant: m, Date: "201412"}},
		{"JYMXSUM_" + m + "_20140528.txt", recon.FileName{Kind: recon.FileJYMXSUM, Merchant: m, Date: "20140528"}},
		{"FKMXSUM_" + m + "_20240229.txt", recon.FileName{Kind: recon.FileFKMXSUM, Merchant: m, Date: "20240229"}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseName(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Name = tc.name
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	bad := []string{
		"",
		"RHZZW_" + m + "_20140528.txt",
		"YHZZW_" + m + "_20140528.txt",
		"JYMX_" + m + "_20140528.csv",
		"JYMX_" + m + "_20140528.TXT",
		"JYMX_" + m + "_20140528",
		"jymx_" + m + "_20140528.txt",
		"JYMX_" + m[:17] + "_20140528.txt",     // 17 digits
		"JYMX_" + m + "1_20140528.txt",         // 19 digits
		"JYMX_20140325100000114x_20140528.txt", // not digits
		"JYMX_" + m + "_20140230.txt",          // no 30 February
		"JYMX_" + m + "_20230229.txt",          // not a leap year
		"JYMX_" + m + "_20141301.txt",          // month 13
		"JYMX_" + m + "_201413.txt",            // month 13
		"JYMX_" + m + "_201400.txt",            // month 0
		"JYMXSUM_" + m + "_201405.txt",         // a summary is daily
		"JYMX_" + m + "_2014052.txt",           // 7 digits
		"JYMX_" + m + "_20140528_1.txt",
		"dir/JYMX_" + m + "_20140528.txt",
		"MX_" + m + "_20140528.txt", // the seed's §5.1 typo
	}
	for _, name := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseName(name)
			if !errors.Is(err, ErrUnknownName) {
				t.Fatalf("got %v, want ErrUnknownName", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}
