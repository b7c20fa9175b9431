package report

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestDir(t *testing.T) {
	tests := []struct{ out, merchant, period, want string }{
		{"reports", merchant, "20240528", "reports/201403251000001147/20240528"},
		{"/var/out/", merchant, "202405", "/var/out/201403251000001147/202405"},
	}
	for _, tt := range tests {
		if got := Dir(tt.out, tt.merchant, tt.period); got != filepath.FromSlash(tt.want) {
			t.Errorf("Dir(%q, %q, %q) = %q, want %q", tt.out, tt.merchant, tt.period, got, tt.want)
		}
	}
}

func TestWriteAll(t *testing.T) {
	res := fixture()
	dir := Dir(t.TempDir(), res.Merchant, res.Period) // does not exist yet
	if err := WriteAll(dir, res); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listDir(t, dir), " "); got != "discrepancies.csv report.html summary.json" {
		t.Fatalf("folder holds %q, want the three reports and nothing else", got)
	}
	for name, want := range map[string][]byte{
		CSVName: writeCSV(t, res), JSONName: writeJSON(t, res), HTMLName: writeHTML(t, res),
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its writer's output", name)
		}
		fi, _ := os.Stat(filepath.Join(dir, name))
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v, want 0644", name, fi.Mode().Perm())
		}
	}

	// The same Result again, in another folder and over the first: the
	// same bytes.
	dir2 := filepath.Join(t.TempDir(), "again")
	for _, d := range []string{dir2, dir} {
		if err := WriteAll(d, fixture()); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{CSVName, JSONName, HTMLName} {
		a, _ := os.ReadFile(filepath.Join(dir, name))
		b, _ := os.ReadFile(filepath.Join(dir2, name))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: the same Result gave different bytes", name)
		}
	}
	if got := len(listDir(t, dir)); got != 3 {
		t.Errorf("rewriting left %d files, want 3", got)
	}
}

func TestWriteAllFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) (dir string)
		want  []string // what the folder holds afterwards
	}{
		{"a file where the folder should be", func(t *testing.T, root string) string {
			p := filepath.Join(root, "201403251000001147")
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(p, "20240528")
		}, nil},
		{"a folder where the first report should be", func(t *testing.T, root string) string {
			// rename(2) cannot replace a non-empty directory with a file:
			// the three temporary files were complete and must go.
			if err := os.MkdirAll(filepath.Join(root, CSVName, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			return root
		}, []string{CSVName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tt.setup(t, root)
			err := WriteAll(dir, fixture())
			if err == nil {
				t.Fatal("WriteAll succeeded")
			}
			t.Logf("error: %v", err)
			var left []string
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if strings.Contains(filepath.Base(p), ".tmp-") || strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".json") {
					left = append(left, p)
				}
				return nil
			})
			if len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
			if _, statErr := os.Stat(dir); statErr == nil {
				if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("folder holds %q, want %q", got, tt.want)
				}
			}
		})
	}
}
