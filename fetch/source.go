// Package fetch brings LianLian statement files from where they are
// published (an SFTP server, or a local folder) into the data folder, and
// says what it brought: size, SHA-256, and whether the bytes changed since
// the last fetch (SPEC §7).
package fetch

import (
	"context"
	"errors"
)

// ErrNotPublished means the file is not (yet) at the source. Callers retry
// it until a deadline; after that it is exit code 3 (SPEC §5).
var ErrNotPublished = errors.New("not published")

// Fetched is a statement file made available locally.
type Fetched struct {
	Name       string // base name
	Path       string // local path to read it from
	Size       int64
	SHA256     string // hex; "" when the source did not read the file (Dir): Digest gives it
	Changed    bool   // a previous copy with other bytes was replaced
	PrevSHA256 string // that copy's SHA-256 when Changed
}

// Source is where statement files come from. Get returns an error wrapping
// ErrNotPublished when the named file does not exist at the source; other
// errors are failures of the source itself.
type Source interface {
	Get(ctx context.Context, name string) (Fetched, error)
	// List names every file at the source (for the log: files the run
	// leaves alone are listed, SPEC §2.1).
	List(ctx context.Context) ([]string, error)
	Close() error
}
