package parse

import (
	"errors"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

var sumName = recon.FileName{Name: "JYMXSUM_" + merchant + "_20140528.txt", Kind: recon.FileJYMXSUM, Merchant: merchant, Date: "20140528"}

func TestReadSummary(t *testing.T) {
	seed := recon.Summary{TotalCount: 8, SuccessCount: 8, SuccessAmount: 55123}
	good := []struct {
		name string
		in   string
		want recon.Summary
		enc  string
	}{
		{"seed", "8|8|551.23|0|0|0|0", seed, recon.EncodingUTF8},
		{"public document: empty amounts with zero counts", "8|8|551.23|0||0|", seed, recon.EncodingUTF8},
		{"spaces, blank lines, CRLF", "\r\n  8 | 8 | 551.23 | 0 | 0 | 0 | 0 \r\n\r\n", seed, recon.EncodingUTF8},
		{"BOM", "\ufeff8|8|551.23|0|0|0|0\n", seed, recon.EncodingUTF8BOM},
		{"negative refund and revoke", "10|7|100|2|-30.5|1|-20",
			recon.Summary{TotalCount: 10, SuccessCount: 7, SuccessAmount: 10000, RefundCount: 2, RefundAmount: -3050, RevokeCount: 1, RevokeAmount: -2000}, recon.EncodingUTF8},
		{"a GB18030 byte in a blank-looking line", "8|8|551.23|0|0|0|0\n\xa1\xa1\n", seed, recon.EncodingGB18030}, // 0xA1A1 is the ideographic space
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, enc, err := ReadSummary(strings.NewReader(tc.in), sumName)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || enc != tc.enc {
				t.Errorf("got %+v %q, want %+v %q", got, enc, tc.want, tc.enc)
			}
		})
	}
	bad := []struct {
		name  string
		in    string
		line  int
		field string
		err   error
	}{
		{"empty file", "", 1, "", ErrFieldCount},
		{"blank lines only", "\n \r\n", 1, "", ErrFieldCount},
		{"six figures", "8|8|551.23|0|0|0", 1, "", ErrFieldCount},
		{"eight figures", "8|8|551.23|0|0|0|0|0", 1, "", ErrFieldCount},
		{"commas", "8,8,551.23,0,0,0,0", 1, "", ErrFieldCount},
		{"two lines", "8|8|551.23|0|0|0|0\n\n8|8|551.23|0|0|0|0\n", 3, "", ErrFieldCount},
		{"empty count", "|8|551.23|0|0|0|0", 1, "total_count", ErrBadField},
		{"negative count", "8|-8|551.23|0|0|0|0", 1, "success_count", ErrBadField},
		{"decimal count", "8|8|551.23|1.0|0|0|0", 1, "refund_count", ErrBadField},
		{"bad amount", "8|8|551.234|0|0|0|0", 1, "success_amount", recon.ErrBadAmount},
		{"empty amount with a count", "8|8||0|0|0|0", 1, "success_amount", recon.ErrEmptyAmount},
		{"empty revoke amount with a count", "8|7|551.23|0||1|", 1, "revoke_amount", recon.ErrEmptyAmount},
		{"on line 2", "\n8|8|551.23|0|0|x|0", 2, "revoke_count", ErrBadField},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadSummary(strings.NewReader(tc.in), sumName)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want *ParseError", err)
			}
			if !errors.Is(err, tc.err) || pe.Line != tc.line || pe.Field != tc.field || pe.File != sumName.Name {
				t.Errorf("got %v (line %d field %q), want %v line %d field %q", err, pe.Line, pe.Field, tc.err, tc.line, tc.field)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		_, _, err := ReadSummary(strings.NewReader(strings.Repeat(" ", maxSummaryBytes+1)), sumName)
		if !errors.Is(err, ErrLineTooLong) {
			t.Errorf("got %v", err)
		}
	})
}
