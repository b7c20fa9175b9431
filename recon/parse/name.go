package parse

import (
	"fmt"
	"strings"

	"github.com/lianlian-recon/reconcile/recon"
)

// ParseName reads a statement file name (SPEC §2.1):
// JYMX_/FKMX_{18 digits}_{yyyymmdd|yyyymm}.txt and
// JYMXSUM_/FKMXSUM_{18 digits}_{yyyymmdd}.txt, with a real calendar date.
// Anything else (RHZZW, YHZZW, a path, another extension) is an error
// wrapping ErrUnknownName that names the file.
func ParseName(name string) (recon.FileName, error) {
	bad := func(why string) (recon.FileName, error) {
		return recon.FileName{}, fmt.Errorf("%w %q: %s", ErrUnknownName, name, why)
	}
	prefix, rest, ok := strings.Cut(name, "_")
	if !ok {
		return bad("no kind prefix")
	}
	kind := recon.FileKind(prefix)
	switch kind {
	case recon.FileJYMX, recon.FileFKMX, recon.FileJYMXSUM, recon.FileFKMXSUM:
	default:
		return bad("kind is not JYMX, FKMX, JYMXSUM or FKMXSUM")
	}
	rest, ok = strings.CutSuffix(rest, ".txt")
	if !ok {
		return bad("extension is not .txt")
	}
	merchant, date, ok := strings.Cut(rest, "_")
	if !ok || len(merchant) != 18 || !allDigits(merchant) {
		return bad("merchant number is not 18 digits")
	}
	switch {
	case len(date) == 8 && validDate8(date):
	case len(date) == 6 && !kind.IsSummary() && validMonth6(date):
	default:
		if kind.IsSummary() {
			return bad("date is not a real yyyymmdd")
		}
		return bad("date is not a real yyyymmdd or yyyymm")
	}
	return recon.FileName{Name: name, Kind: kind, Merchant: merchant, Date: date}, nil
}
