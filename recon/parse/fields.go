package parse

import "github.com/lianlian-recon/reconcile/recon"

// Field checks shared by the detail and summary readers. They work on bytes
// of ASCII text and never allocate: they run for every field of every row.
// They take a string or the raw bytes of a line alike, so that the detail
// reader checks fields before making strings of them.

// text is what the checks read.
type text interface{ ~string | ~[]byte }

func allDigits[T text](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// num reads s[i:j] as a decimal number; s[i:j] must be digits.
func num[T text](s T, i, j int) int {
	n := 0
	for ; i < j; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// validMonth6 reports a real "yyyymm".
func validMonth6[T text](s T) bool {
	if len(s) != 6 || !allDigits(s) {
		return false
	}
	y, m := num(s, 0, 4), num(s, 4, 6)
	return y >= 1 && m >= 1 && m <= 12
}

// validDate8 reports a real calendar date "yyyymmdd".
func validDate8[T text](s T) bool {
	if len(s) != 8 || !allDigits(s) {
		return false
	}
	y, m, d := num(s, 0, 4), num(s, 4, 6), num(s, 6, 8)
	return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= recon.DaysIn(y, m)
}

// validTimestamp reports a real "yyyymmdd hh:mm:ss" (SPEC §2.3 fields 3, 10).
func validTimestamp[T text](s T) bool {
	if len(s) != 17 || s[8] != ' ' || s[11] != ':' || s[14] != ':' {
		return false
	}
	if !validDate8(s[:8]) {
		return false
	}
	for _, p := range [3]int{9, 12, 15} {
		if s[p] < '0' || s[p] > '9' || s[p+1] < '0' || s[p+1] > '9' {
			return false
		}
	}
	return num(s, 9, 11) < 24 && num(s, 12, 14) < 60 && num(s, 15, 17) < 60
}
