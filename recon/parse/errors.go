// Package parse reads LianLian statement files (SPEC §2): the file name, the
// comma-delimited JYMX/FKMX detail rows and the pipe-delimited JYMXSUM/FKMXSUM
// summary. Readers stream, like encoding/csv: a bad line is a *ParseError the
// caller records before reading on; only I/O errors and a layout this package
// does not read (the cross-border report) stop a file.
//
// Decisions where SPEC §2 is silent:
//   - Encoding is decided on the first 64 KiB window that holds a non-ASCII
//     byte (see DetailReader); Read re-reads a seekable input as GB18030
//     when invalid UTF-8 turns up past that window.
//   - The cross-border layout is recognised on the title row (19+ fields
//     naming 币种 or currency) or the first data row (19+ fields, field 10
//     not a timestamp, and an ISO 4217 code such as USD as a whole field).
//     Later lines that look so are malformed rows, not a stop.
//   - A title row is a first non-blank line whose field 2 is not 18 digits
//     and that holds 商户订单号, 商户号, 订单号, no_order, oid_partner or
//     dt_order.
//   - Summary amounts keep the sign the file prints.
package parse

import (
	"errors"
	"fmt"
)

// Sentinel errors for the kind of failure; test them with errors.Is. Bad
// amounts wrap recon.ErrBadAmount or recon.ErrEmptyAmount instead.
var (
	ErrUnknownName  = errors.New("unknown statement file name")
	ErrFieldCount   = errors.New("wrong number of fields")
	ErrBadDate      = errors.New("bad date")
	ErrBadMerchant  = errors.New("bad merchant number")
	ErrBadDirection = errors.New("bad direction")
	ErrBadStatus    = errors.New("bad status")
	ErrBadField     = errors.New("bad field")
	ErrLineTooLong  = errors.New("line too long")
	// ErrCrossBorder is fatal: the file is LianLian's cross-border report,
	// a different layout that reconcile does not read (SPEC §2.2).
	ErrCrossBorder = errors.New("cross-border statement layout (19 columns with currency fields) is not supported")
)

// ParseError is one line that could not be read. It names the position and
// the decoded text so that a malformed_row finding can show them (SPEC §4.1).
type ParseError struct {
	File  string // base name
	Line  int    // 1-based physical line, blank lines counted
	Field string // "amount", "dt_order", …; "" when the whole line is at fault
	Raw   string // the decoded line (a prefix of it for an over-long line)
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("parse %s line %d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("parse %s line %d field %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }
