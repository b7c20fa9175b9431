package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/fetch/sshdtest"
)

// TestRunFromRealSSHD is the whole `reconcile run --date D` against a real
// OpenSSH sshd on 127.0.0.1: files fetched over SFTP with key auth and
// known_hosts, reconciled, reported; then the same with a pinned
// fingerprint; then a host key that does not match stops the run with
// exit 2, the fingerprint seen, and nothing fetched.
func TestRunFromRealSSHD(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	demo := "../../testdata/fixtures/demo/statements"
	ents, err := os.ReadDir(demo)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(demo, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(srv.RemoteDir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	common := []string{"--merchant", merchant, "--sftp-host", srv.Addr, "--sftp-user", srv.User,
		"--sftp-key", srv.KeyFile, "--remote-dir", srv.RemoteDir, "--data-dir", data,
		"--ledger", "../../testdata/fixtures/demo/ledger.csv",
		"--db", filepath.Join(tmp, "r.db"), "--out", filepath.Join(tmp, "out")}

	r := run(t, append([]string{"run", "--date", "20240311", "--known-hosts", srv.KnownHostsFile}, common...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "1 findings (amount_mismatch 1)") {
		t.Fatalf("run over sftp: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	local, err := os.ReadFile(filepath.Join(data, "JYMX_"+merchant+"_20240311.txt"))
	if err != nil {
		t.Fatalf("downloaded file: %v", err)
	}
	orig, _ := os.ReadFile(filepath.Join(demo, "JYMX_"+merchant+"_20240311.txt"))
	if !bytes.Equal(local, orig) {
		t.Errorf("downloaded bytes differ from the server's")
	}

	r = run(t, append([]string{"run", "--date", "20240312", "--host-key-fingerprint", srv.HostKeyFingerprint}, common...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "missing_in_statement 1") {
		t.Fatalf("run with a pinned fingerprint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(tmp, "out", merchant, "20240312", "report.html")); err != nil {
		t.Errorf("no report: %v", err)
	}

	// A known_hosts that names another key for this host: refused.
	other := sshdtest.Start(t, sshdtest.Options{})
	wrong := filepath.Join(tmp, "known_hosts_wrong")
	kh, err := os.ReadFile(other.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	kh = bytes.Replace(kh, []byte(other.Addr[strings.LastIndex(other.Addr, ":")+1:]), []byte(srv.Addr[strings.LastIndex(srv.Addr, ":")+1:]), 1)
	if err := os.WriteFile(wrong, kh, 0o600); err != nil {
		t.Fatal(err)
	}
	data2 := filepath.Join(tmp, "data2")
	args := append([]string{"run", "--date", "20240312", "--known-hosts", wrong}, common...)
	for i, a := range args {
		if a == data {
			args[i] = data2
		}
	}
	r = run(t, args...)
	if r.code != 2 {
		t.Fatalf("host key mismatch: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, srv.HostKeyFingerprint) || !strings.Contains(r.stderr, "reconcile: hint:") {
		t.Errorf("the message should give the fingerprint seen (%s) and a hint:\n%s", srv.HostKeyFingerprint, r.stderr)
	}
	if ents, _ := os.ReadDir(data2); len(ents) != 0 {
		t.Errorf("files fetched despite the host key mismatch: %v", ents)
	}
}
