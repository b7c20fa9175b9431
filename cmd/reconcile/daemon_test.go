package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lianlian-recon/reconcile/job"
)

// TestDaemonCatchUpAndSIGTERM starts `reconcile daemon` on a configuration
// whose source folder holds the statements of the last two settle dates: on
// start it catches them up (a run for each, reports written), and SIGTERM
// then ends it cleanly with exit 0 and no temporary file left behind.
func TestDaemonCatchUpAndSIGTERM(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	// The two latest settle dates a morning run could want, whatever the
	// hour: yesterday and the day before (Asia/Shanghai).
	now := time.Now()
	dates := []string{job.Yesterday(now), job.Yesterday(now.AddDate(0, 0, -1))}
	demo := "../../testdata/fixtures/demo/statements"
	for _, d := range dates {
		for _, k := range []string{"JYMX", "JYMXSUM"} {
			b, err := os.ReadFile(filepath.Join(demo, k+"_"+merchant+"_20240312.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, k+"_"+merchant+"_"+d+".txt"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(tmp, "out")
	cfg := filepath.Join(tmp, "reconcile.toml")
	fmt.Fprintf(must(os.Create(cfg)), `db = %q
out = %q
[schedule]
catch_up_days = 3
[[merchant]]
id = %q
source = %q
`, filepath.Join(tmp, "r.db"), out, merchant, src)

	cmd := exec.Command(binary, "daemon", "--config", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The latest catch-up date depends on the hour (before 08:30 it is the
	// day before yesterday): wait for any of the two reports.
	deadline := time.Now().Add(60 * time.Second)
	found := ""
	for found == "" && time.Now().Before(deadline) {
		for _, d := range dates {
			if _, err := os.Stat(filepath.Join(out, merchant, d, "report.html")); err == nil {
				found = d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if found == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no catch-up report within a minute; daemon log:\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon after SIGTERM: %v\n%s", err, stderr.String())
	}
	log := stderr.String()
	for _, s := range []string{"daemon started", "daemon stopped", found} {
		if !strings.Contains(log, s) {
			t.Errorf("daemon log lacks %q:\n%s", s, log)
		}
	}
	ents, err := os.ReadDir(filepath.Join(out, merchant, found))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
