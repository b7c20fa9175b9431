// Package recon holds the domain values every part of reconcile shares:
// money in fen, statement rows, ledger entries, findings and the result of a
// run. It has no I/O; parsing, storage, matching and reporting live in the
// packages that are named for them.
package recon

import (
	"errors"
	"fmt"
	"strconv"
)

// Fen is an amount of money in fen (分), one hundredth of a yuan. Amounts are
// exact integers from parse to report (SPEC §2.3): no float ever holds one.
type Fen int64

// maxYuanDigits bounds the integer part of an amount so that the value in fen
// cannot overflow int64 (10^15 yuan is far beyond any real statement).
const maxYuanDigits = 15

// Sentinel errors for amounts; callers test them with errors.Is.
var (
	ErrEmptyAmount = errors.New("empty amount")
	ErrBadAmount   = errors.New("bad amount")
)

// ParseYuan reads an amount written in yuan as LianLian and the ledger print
// it: an optional minus sign, ASCII digits, and optionally a point followed by
// one or two digits ("100", "0.5", "-15.00"). Anything else ("1.234", "1e3",
// "¥5", full-width digits, "+5", ".5", "5.", "-") is rejected with a reason.
func ParseYuan(s string) (Fen, error) {
	if s == "" {
		return 0, ErrEmptyAmount
	}
	neg := false
	i := 0
	if s[0] == '-' {
		neg = true
		i = 1
	}
	var whole, frac int64
	intDigits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		whole = whole*10 + int64(s[i]-'0')
		intDigits++
	}
	if intDigits == 0 {
		return 0, fmt.Errorf("%w %q: no digits before the decimal point", ErrBadAmount, s)
	}
	if intDigits > maxYuanDigits {
		return 0, fmt.Errorf("%w %q: more than %d digits", ErrBadAmount, s, maxYuanDigits)
	}
	if i < len(s) {
		if s[i] != '.' {
			return 0, fmt.Errorf("%w %q: unexpected character %q", ErrBadAmount, s, rune(s[i]))
		}
		i++
		fracDigits := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			fracDigits++
			if fracDigits > 2 {
				return 0, fmt.Errorf("%w %q: more than 2 decimals", ErrBadAmount, s)
			}
			frac = frac*10 + int64(s[i]-'0')
		}
		if fracDigits == 0 {
			return 0, fmt.Errorf("%w %q: no digits after the decimal point", ErrBadAmount, s)
		}
		if i < len(s) {
			return 0, fmt.Errorf("%w %q: unexpected character %q", ErrBadAmount, s, rune(s[i]))
		}
		if fracDigits == 1 {
			frac *= 10
		}
	}
	v := Fen(whole*100 + frac)
	if neg {
		v = -v
	}
	return v, nil
}

// String formats the amount in yuan with exactly two decimals: "-1.50".
func (f Fen) String() string {
	n := int64(f)
	sign := ""
	if n < 0 {
		sign = "-"
		n = -n // fits: |amount| ≤ 10^17 by ParseYuan's bound
	}
	frac := n % 100
	s := sign + strconv.FormatInt(n/100, 10) + "."
	if frac < 10 {
		s += "0"
	}
	return s + strconv.FormatInt(frac, 10)
}

// Abs returns the absolute value.
func (f Fen) Abs() Fen {
	if f < 0 {
		return -f
	}
	return f
}
