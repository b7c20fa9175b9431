package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Dir is a Source that reads statement files from a local folder
// (`--source DIR`). Files are read in place, never copied or changed, and
// Get does not read them: its Fetched has no SHA-256, which whoever reads
// the file computes on the way (a run's parse), or Digest.
type Dir struct {
	Path string
}

// Get implements Source.
func (d Dir) Get(ctx context.Context, name string) (Fetched, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return Fetched{}, fmt.Errorf("source %s: refusing file name %q", d.Path, name)
	}
	p := filepath.Join(d.Path, name)
	f, err := os.Open(p)
	if err != nil {
		if os.IsNotExist(err) {
			return Fetched{}, fmt.Errorf("source %s: %s: %w", d.Path, name, ErrNotPublished)
		}
		return Fetched{}, fmt.Errorf("source %s: %w", d.Path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Fetched{}, fmt.Errorf("source %s: %w", d.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return Fetched{}, fmt.Errorf("source %s: %s is not a regular file", d.Path, name)
	}
	return Fetched{Name: name, Path: p, Size: fi.Size()}, nil
}

// Digest returns the size and the hex SHA-256 of the file at path.
func Digest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// List implements Source.
func (d Dir) List(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(d.Path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", d.Path, err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Close implements Source.
func (d Dir) Close() error { return nil }
