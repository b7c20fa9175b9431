package parse

// The money tests live here, not in recon/, so that recon/ stays the lead's.

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lianlian-recon/reconcile/recon"
)

func TestParseYuanRoundTrip(t *testing.T) {
	check := func(f recon.Fen) {
		s := f.String()
		got, err := recon.ParseYuan(s)
		if err != nil || got != f {
			t.Fatalf("ParseYuan(%q) = %d, %v; want %d", s, got, err, f)
		}
	}
	for f := recon.Fen(0); f <= 200000; f++ {
		check(f)
		check(-f)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(recon.Fen(rng.Int64N(1e17))) // up to 15 digits of yuan
	}
	check(recon.Fen(999999999999999*100 + 99))
}

func TestParseYuanForms(t *testing.T) {
	good := []struct {
		in   string
		want recon.Fen
	}{
		{"100", 10000}, {"0.5", 50}, {"0.05", 5}, {"-15.00", -1500}, {"551.23", 55123},
		{"0", 0}, {"-0", 0}, {"007", 700}, {"0.1", 10}, {"-0.01", -1},
	}
	for _, tc := range good {
		got, err := recon.ParseYuan(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", recon.ErrEmptyAmount},
		{"1.234", recon.ErrBadAmount},
		{"1e3", recon.ErrBadAmount},
		{"¥5", recon.ErrBadAmount},
		{"１００", recon.ErrBadAmount},
		{"-", recon.ErrBadAmount},
		{"+5", recon.ErrBadAmount},
		{".5", recon.ErrBadAmount},
		{"5.", recon.ErrBadAmount},
		{"1,000", recon.ErrBadAmount},
		{" 5", recon.ErrBadAmount},
		{"--5", recon.ErrBadAmount},
		{"1" + strconv.Itoa(1e15), recon.ErrBadAmount}, // 17 digits would overflow the bound
	}
	for _, tc := range bad {
		_, err := recon.ParseYuan(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseYuan(%q) = %v, want %v", tc.in, err, tc.want)
			continue
		}
		if err.Error() == tc.want.Error() && tc.want != recon.ErrEmptyAmount {
			t.Errorf("ParseYuan(%q) = %q: gives no reason", tc.in, err)
		}
	}
}
