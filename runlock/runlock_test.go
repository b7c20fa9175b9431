package runlock

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

const merchant = "201403251000001147"

// TestHolderProcess is not a test: the cross-process test re-executes the
// test binary with RUNLOCK_HOLD_DIR set to run it as a child that takes the
// lock, says "locked" on stdout, and holds it until its stdin closes.
func TestHolderProcess(t *testing.T) {
	dir := os.Getenv("RUNLOCK_HOLD_DIR")
	if dir == "" {
		return
	}
	l, err := Acquire(dir, merchant)
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	io.Copy(io.Discard, os.Stdin)
	if err := l.Release(); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func TestAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHolderProcess$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	_, err = Acquire(dir, merchant)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Acquire while the child holds it: err = %v, want ErrBusy", err)
	}
	for _, want := range []string{merchant, ".reconcile-" + merchant + ".lock", "pid " + strconv.Itoa(cmd.Process.Pid)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Another merchant is not blocked.
	other, err := Acquire(dir, "201403251000001148")
	if err != nil {
		t.Fatalf("other merchant: %v", err)
	}
	other.Release()

	stdin.Close() // the child releases and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	l, err := Acquire(dir, merchant)
	if err != nil {
		t.Fatalf("Acquire after the child exited: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
}

// A holder killed without releasing (a crash) leaves the file but not the lock.
func TestKilledHolder(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHolderProcess$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD_DIR="+dir)
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	if _, err := Acquire(dir, merchant); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(dir, merchant)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

func TestWithinOneProcess(t *testing.T) {
	dir := t.TempDir()
	l1, err := Acquire(dir, merchant)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir, merchant)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second Acquire in one process: err = %v, want ErrBusy", err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name our pid", err)
	}
	if err := l1.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l1.Release(); err == nil {
		t.Error("second Release: no error")
	}
	l2, err := Acquire(dir, merchant)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestBadKeyAndDir(t *testing.T) {
	for _, key := range []string{"", "../x", "a/b", ".."} {
		if _, err := Acquire(t.TempDir(), key); err == nil || errors.Is(err, ErrBusy) {
			t.Errorf("key %q: err = %v, want a key error", key, err)
		}
	}
	if _, err := Acquire("/nonexistent/dir", merchant); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: err = %v", err)
	}
}
