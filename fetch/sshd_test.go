package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianlian-recon/reconcile/fetch/sshdtest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestOpenSSH fetches from a real OpenSSH sshd (internal-sftp) on loopback.
// It skips without /usr/sbin/sshd, except in CI where it must run.
func TestOpenSSH(t *testing.T) {
	srv := sshdtest.Start(t, sshdtest.Options{})
	content := "201912110000123456,ord-1,20261125,10.00\r\n"
	if err := os.WriteFile(filepath.Join(srv.RemoteDir, daily), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	config := func(t *testing.T) SFTPConfig {
		return SFTPConfig{Addr: srv.Addr, User: srv.User, KeyFile: srv.KeyFile, KnownHostsFile: srv.KnownHostsFile, RemoteDir: srv.RemoteDir, DataDir: t.TempDir()}
	}
	get := func(t *testing.T, cfg SFTPConfig) (Fetched, error) {
		s, err := NewSFTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return s.Get(context.Background(), daily)
	}
	check := func(t *testing.T, got Fetched, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		b, rerr := os.ReadFile(got.Path)
		if got.SHA256 != sum([]byte(content)) || string(b) != content {
			t.Errorf("got %+v holding %q, %v; want %q", got, b, rerr, content)
		}
	}

	// The server has an ECDSA key too, which the client would pick without
	// restricting itself to known_hosts' key type.
	t.Run("key and known_hosts", func(t *testing.T) {
		got, err := get(t, config(t))
		check(t, got, err)
	})
	t.Run("pinned", func(t *testing.T) {
		cfg := config(t)
		cfg.KnownHostsFile = ""
		for _, fp := range srv.HostKeyFingerprints {
			cfg.Fingerprints = append(cfg.Fingerprints, fp)
		}
		got, err := get(t, cfg)
		check(t, got, err)
	})
	t.Run("known_hosts with another key", func(t *testing.T) {
		cfg := config(t)
		other := newEd25519Signer(t).PublicKey()
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(cfg.KnownHostsFile, []byte(knownhosts.Line([]string{srv.Addr}, other)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := get(t, cfg)
		if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), srv.HostKeyFingerprint) {
			t.Fatalf("Get = %v, want ErrHostKey naming %s", err, srv.HostKeyFingerprint)
		}
	})
	t.Run("pinned other", func(t *testing.T) {
		cfg := config(t)
		cfg.KnownHostsFile, cfg.Fingerprints = "", []string{ssh.FingerprintSHA256(newEd25519Signer(t).PublicKey())}
		_, err := get(t, cfg)
		if !errors.Is(err, ErrHostKey) {
			t.Fatalf("Get = %v, want ErrHostKey", err)
		}
	})
	t.Run("unknown user key", func(t *testing.T) {
		cfg := config(t)
		_, key := newEd25519SignerKey(t)
		cfg.KeyFile = writeKeyFile(t, key, "")
		_, err := get(t, cfg)
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("Get = %v, want ErrAuth", err)
		}
	})
	t.Run("not published", func(t *testing.T) {
		s, err := NewSFTP(config(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = s.Get(context.Background(), payouts)
		if !errors.Is(err, ErrNotPublished) {
			t.Fatalf("Get = %v, want ErrNotPublished", err)
		}
		names, err := s.List(context.Background())
		if err != nil || len(names) != 1 || names[0] != daily {
			t.Errorf("List = %q, %v", names, err)
		}
	})
}
