package fetch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const (
	daily   = "JYMX_201912110000123456_20261125.txt"
	payouts = "FKMX_201912110000123456_20261125.txt"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// counting counts Get calls, to prove what Retry retries.
type counting struct {
	Source
	gets int
}

func (c *counting) Get(ctx context.Context, name string) (Fetched, error) {
	c.gets++
	return c.Source.Get(ctx, name)
}

// fakeClock is Retry's injected clock: Sleep advances Now and records the
// waits, and runs hook (if any) with the number of the sleep.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
	hook   func(n int)
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	if c.hook != nil {
		c.hook(len(c.sleeps))
	}
	return ctx.Err()
}

func newSFTP(t *testing.T, cfg SFTPConfig) *SFTP {
	t.Helper()
	s, err := NewSFTP(cfg)
	if err != nil {
		t.Fatalf("NewSFTP: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dirNames lists a folder, hidden temporary files included.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSFTPGetDownloadsAndReusesConnection(t *testing.T) {
	srv := newTestServer(t, false)
	content := "201912110000123456,ord-1,20261125,10.00\r\n"
	srv.put(daily, content)
	srv.put(payouts, "")
	data := t.TempDir()
	s := newSFTP(t, srv.config(data))

	for _, tc := range []struct{ name, content string }{{daily, content}, {payouts, ""}, {daily, content}} {
		got, err := s.Get(context.Background(), tc.name)
		if err != nil {
			t.Fatalf("Get(%s): %v", tc.name, err)
		}
		want := Fetched{Name: tc.name, Path: filepath.Join(data, tc.name), Size: int64(len(tc.content)), SHA256: sum([]byte(tc.content))}
		if got != want {
			t.Errorf("Get(%s) = %+v, want %+v", tc.name, got, want)
		}
		b, err := os.ReadFile(got.Path)
		if err != nil || string(b) != tc.content {
			t.Errorf("local %s = %q, %v; want %q", tc.name, b, err, tc.content)
		}
	}
	if got, want := dirNames(t, data), []string{payouts, daily}; !slices.Equal(got, want) {
		t.Errorf("data folder holds %q, want %q (no temporary file)", got, want)
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for three gets, want 1 (reused)", n)
	}
	// The remote folder is untouched.
	if got, want := dirNames(t, srv.Root), []string{payouts, daily}; !slices.Equal(got, want) {
		t.Errorf("remote folder holds %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(srv.Root, daily)); string(b) != content {
		t.Errorf("remote file changed to %q", b)
	}
}

func TestSFTPGetChangedFile(t *testing.T) {
	srv := newTestServer(t, false)
	data := t.TempDir()
	s := newSFTP(t, srv.config(data))
	ctx := context.Background()

	v1, v2 := "a,1.00\n", "a,2.00\n" // same size, other bytes
	srv.put(daily, v1)
	if _, err := s.Get(ctx, daily); err != nil {
		t.Fatal(err)
	}
	srv.put(daily, v2)
	got, err := s.Get(ctx, daily)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Changed || got.PrevSHA256 != sum([]byte(v1)) || got.SHA256 != sum([]byte(v2)) {
		t.Errorf("Get after change = %+v, want Changed with PrevSHA256 %s and SHA256 %s", got, sum([]byte(v1)), sum([]byte(v2)))
	}
	if b, _ := os.ReadFile(got.Path); string(b) != v2 {
		t.Errorf("local copy = %q, want the new bytes %q", b, v2)
	}
	got, err = s.Get(ctx, daily)
	if err != nil || got.Changed || got.PrevSHA256 != "" {
		t.Errorf("Get again = %+v, %v; want unchanged", got, err)
	}
	if names := dirNames(t, data); !slices.Equal(names, []string{daily}) {
		t.Errorf("data folder holds %q", names)
	}
}

func TestSFTPHostKey(t *testing.T) {
	srv := newTestServer(t, false)
	srv.put(daily, "x\n")
	seen := ssh.FingerprintSHA256(srv.HostKeys[0].PublicKey())
	other := newEd25519Signer(t).PublicKey()

	tests := []struct {
		name   string
		known  []ssh.PublicKey // nil with pins: no known_hosts file
		pins   []string
		ok     bool
		inText string
	}{
		{name: "unknown", known: []ssh.PublicKey{}, inText: "is not in"},
		{name: "changed", known: []ssh.PublicKey{other}, inText: "does not match"},
		{name: "pinned other", pins: []string{ssh.FingerprintSHA256(other)}, inText: "not a pinned"},
		{name: "changed and not pinned", known: []ssh.PublicKey{other}, pins: []string{ssh.FingerprintSHA256(other)}, inText: "nor pinned"},
		{name: "known", known: []ssh.PublicKey{srv.HostKeys[0].PublicKey()}, ok: true},
		{name: "pinned", pins: []string{seen}, ok: true},
		{name: "pinned with padding", pins: []string{seen + "="}, ok: true},
		{name: "changed but pinned", known: []ssh.PublicKey{other}, pins: []string{seen}, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config(t.TempDir())
			cfg.KnownHostsFile, cfg.Fingerprints = "", tc.pins
			if tc.known != nil {
				cfg.KnownHostsFile = srv.knownHosts(tc.known...)
			}
			src := &counting{Source: newSFTP(t, cfg)}
			clock := &fakeClock{now: time.Unix(0, 0)}
			r := Retry{Deadline: clock.now.Add(time.Hour), Now: clock.Now, Sleep: clock.Sleep}
			_, err := r.Get(context.Background(), src, daily)
			if tc.ok {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrHostKey) || !IsPermanent(err) {
				t.Fatalf("Get error = %v, want permanent ErrHostKey", err)
			}
			for _, want := range []string{seen, tc.inText, "ssh-keyscan -p", "--host-key-fingerprint " + seen} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if src.gets != 1 || len(clock.sleeps) != 0 {
				t.Errorf("%d attempts and %d sleeps, want 1 attempt and no retry", src.gets, len(clock.sleeps))
			}
			if names := dirNames(t, cfg.DataDir); len(names) != 0 {
				t.Errorf("data folder holds %q", names)
			}
		})
	}
}

// A server with ECDSA and ed25519 host keys, known_hosts listing only the
// ed25519 one: the client must ask for ed25519 (TESTING.md), while a
// known_hosts with only the ECDSA key must still work too.
func TestSFTPKnownHostsKeyType(t *testing.T) {
	srv := newTestServer(t, true)
	srv.put(daily, "x\n")
	for _, key := range srv.HostKeys {
		t.Run(key.PublicKey().Type(), func(t *testing.T) {
			cfg := srv.config(t.TempDir())
			cfg.KnownHostsFile = srv.knownHosts(key.PublicKey())
			if _, err := newSFTP(t, cfg).Get(context.Background(), daily); err != nil {
				t.Fatalf("Get: %v", err)
			}
		})
	}
}

func TestSFTPAuth(t *testing.T) {
	srv := newTestServer(t, false)
	srv.put(daily, "x\n")
	_, strangerKey := newEd25519SignerKey(t)
	stranger := writeKeyFile(t, strangerKey, "")
	const passphrase = "s3cret-passphrase"
	_, userKey := newEd25519SignerKey(t)
	encrypted := writeKeyFile(t, userKey, passphrase)
	srv.UserKey, _ = ssh.NewSignerFromKey(userKey)

	tests := []struct {
		name                string
		key, pass, password string
		ok                  bool
	}{
		{name: "password", password: srv.Password, ok: true},
		{name: "encrypted key", key: encrypted, pass: passphrase, ok: true},
		{name: "stranger key then password", key: stranger, password: srv.Password, ok: true},
		{name: "wrong password", password: "hunter2-wrong"},
		{name: "stranger key", key: stranger},
		{name: "stranger key and wrong password", key: stranger, password: "hunter2-wrong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config(t.TempDir())
			cfg.KeyFile, cfg.KeyPassphrase, cfg.Password = tc.key, tc.pass, tc.password
			src := &counting{Source: newSFTP(t, cfg)}
			clock := &fakeClock{now: time.Unix(0, 0)}
			r := Retry{Deadline: clock.now.Add(time.Hour), Now: clock.Now, Sleep: clock.Sleep}
			_, err := r.Get(context.Background(), src, daily)
			if tc.ok {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrAuth) || !IsPermanent(err) {
				t.Fatalf("Get error = %v, want permanent ErrAuth", err)
			}
			if src.gets != 1 {
				t.Errorf("%d attempts, want 1", src.gets)
			}
			for _, secret := range []string{srv.Password, "hunter2", passphrase} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestNewSFTPRejectsConfig(t *testing.T) {
	const passphrase = "s3cret-passphrase"
	_, key := newEd25519SignerKey(t)
	encrypted := writeKeyFile(t, key, passphrase)
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := SFTPConfig{Addr: "127.0.0.1:2222", User: "u", Password: "hunter2-pw", KnownHostsFile: known, DataDir: t.TempDir()}

	tests := []struct {
		name   string
		edit   func(*SFTPConfig)
		inText string
	}{
		{"no host key check", func(c *SFTPConfig) { c.KnownHostsFile = "" }, "known_hosts"},
		{"bad fingerprint", func(c *SFTPConfig) { c.Fingerprints = []string{"MD5:aa:bb"} }, "fingerprint"},
		{"short fingerprint", func(c *SFTPConfig) { c.Fingerprints = []string{"SHA256:abc"} }, "fingerprint"},
		{"missing known_hosts", func(c *SFTPConfig) { c.KnownHostsFile = known + ".missing" }, "known_hosts"},
		{"no credentials", func(c *SFTPConfig) { c.Password = "" }, "credentials"},
		{"no user", func(c *SFTPConfig) { c.User = "" }, "user"},
		{"no data folder", func(c *SFTPConfig) { c.DataDir = "" }, "data folder"},
		{"wrong passphrase", func(c *SFTPConfig) { c.KeyFile, c.KeyPassphrase = encrypted, "hunter2-not-it" }, "wrong passphrase"},
		{"passphrase missing", func(c *SFTPConfig) { c.KeyFile = encrypted }, "encrypted"},
		{"missing key file", func(c *SFTPConfig) { c.KeyFile = encrypted + ".missing" }, "key file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := NewSFTP(cfg)
			if err == nil {
				t.Fatal("NewSFTP accepted the configuration")
			}
			if !strings.Contains(err.Error(), tc.inText) {
				t.Errorf("error %q does not mention %q", err, tc.inText)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), passphrase) {
				t.Errorf("error %q contains a secret", err)
			}
		})
	}
	if _, err := NewSFTP(good); err != nil {
		t.Errorf("NewSFTP(good) = %v", err)
	}
}

func TestSFTPConfigHidesSecrets(t *testing.T) {
	cfg := SFTPConfig{Addr: "sftp.example:22", User: "u", KeyFile: "/k", KeyPassphrase: "pass-SECRET-1", Password: "pw-SECRET-2", KnownHostsFile: "/kh", RemoteDir: "/out", DataDir: "/data"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "sftp", cfg)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "sftp", cfg)
	for _, out := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v %#v", cfg, cfg), logged.String()} {
		if strings.Contains(out, "SECRET") {
			t.Errorf("secret in %q", out)
		}
		if !strings.Contains(out, "sftp.example:22") || !strings.Contains(out, "password set") {
			t.Errorf("%q does not describe the configuration", out)
		}
	}
}

func TestSFTPRefusesNames(t *testing.T) {
	srv := newTestServer(t, false)
	srv.put("JYMX_1_2.txt", "x\n")
	data := t.TempDir()
	s := newSFTP(t, srv.config(data))
	for _, name := range []string{
		"../x", "/etc/passwd", "JYMX_1_2.txt", "a/b", "", ".", "..",
		"../" + daily, "./" + daily, daily + "/..", "sub/" + daily,
		"JYMXSUM_201912110000123456_202611.txt", // monthly summaries do not exist
		"RHZZW_201912110000123456_20261125.txt",
		"JYMX_201912110000123456_20261125.txt\x00",
		"JYMX_201912110000123456_20261125.TXT",
	} {
		_, err := s.Get(context.Background(), name)
		if !errors.Is(err, ErrRefusedName) || !IsPermanent(err) {
			t.Errorf("Get(%q) error = %v, want permanent ErrRefusedName", name, err)
		}
	}
	if names := dirNames(t, data); len(names) != 0 {
		t.Errorf("data folder holds %q", names)
	}
	if n := srv.conns.Load(); n != 0 {
		t.Errorf("%d connections for refused names, want 0", n)
	}
}

func TestCheckNameAccepts(t *testing.T) {
	for _, name := range []string{
		"JYMX_201912110000123456_20261125.txt",
		"FKMX_201912110000123456_20261125.txt",
		"JYMX_201912110000123456_202611.txt",
		"FKMX_201912110000123456_202611.txt",
		"JYMXSUM_201912110000123456_20261125.txt",
		"FKMXSUM_201912110000123456_20261125.txt",
	} {
		if err := checkName(name); err != nil {
			t.Errorf("checkName(%q) = %v", name, err)
		}
	}
}

func TestSFTPNotPublishedUntilDeadline(t *testing.T) {
	srv := newTestServer(t, false)
	src := &counting{Source: newSFTP(t, srv.config(t.TempDir()))}
	clock := &fakeClock{now: time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC)}
	r := Retry{Deadline: clock.now.Add(5 * time.Minute), Initial: 30 * time.Second, Max: 2 * time.Minute, Now: clock.Now, Sleep: clock.Sleep}

	_, err := r.Get(context.Background(), src, daily)
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, ErrNotPublished) || !strings.Contains(err.Error(), daily) {
		t.Fatalf("error = %v, want ErrDeadline wrapping ErrNotPublished and naming %s", err, daily)
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true", err)
	}
	// 30 s doubling, capped at 2 min, the last wait cut to the deadline.
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 90 * time.Second}
	if !slices.Equal(clock.sleeps, want) || src.gets != len(want)+1 {
		t.Errorf("waits %v over %d attempts, want %v over %d", clock.sleeps, src.gets, want, len(want)+1)
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (a missing file keeps the connection)", n)
	}
}

func TestSFTPPublishedLate(t *testing.T) {
	srv := newTestServer(t, false)
	src := &counting{Source: newSFTP(t, srv.config(t.TempDir()))}
	clock := &fakeClock{now: time.Unix(0, 0)}
	clock.hook = func(n int) {
		if n == 2 {
			srv.put(daily, "late\n")
		}
	}
	r := Retry{Deadline: clock.now.Add(time.Hour), Now: clock.Now, Sleep: clock.Sleep}
	got, err := r.Get(context.Background(), src, daily)
	if err != nil {
		t.Fatal(err)
	}
	if src.gets != 3 || got.SHA256 != sum([]byte("late\n")) {
		t.Errorf("got %+v after %d attempts, want the late file on attempt 3", got, src.gets)
	}
}

func TestSFTPCutMidTransfer(t *testing.T) {
	srv := newTestServer(t, false)
	content := make([]byte, 1<<20)
	rand.Read(content)
	srv.put(daily, string(content))
	srv.cutAfter.Store(256 << 10)
	data := t.TempDir()
	src := &counting{Source: newSFTP(t, srv.config(data))}
	clock := &fakeClock{now: time.Unix(0, 0)}
	var afterCut []string
	clock.hook = func(int) { afterCut = dirNames(t, data) }
	var logged bytes.Buffer
	r := Retry{Deadline: clock.now.Add(time.Hour), Now: clock.Now, Sleep: clock.Sleep, Logger: slog.New(slog.NewTextHandler(&logged, nil))}

	got, err := r.Get(context.Background(), src, daily)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if src.gets != 2 || len(afterCut) != 0 {
		t.Errorf("%d attempts, data folder after the cut %q; want 2 attempts and an empty folder (log: %s)", src.gets, afterCut, logged.String())
	}
	if got.Size != int64(len(content)) || got.SHA256 != sum(content) {
		t.Errorf("got %+v, want %d bytes with SHA-256 %s", got, len(content), sum(content))
	}
	if names := dirNames(t, data); !slices.Equal(names, []string{daily}) {
		t.Errorf("data folder holds %q", names)
	}
}

func TestSFTPIdleTimeout(t *testing.T) {
	srv := newTestServer(t, false)
	content := make([]byte, 1<<20)
	rand.Read(content)
	srv.put(daily, string(content))
	srv.stallAfter.Store(256 << 10)
	data := t.TempDir()
	cfg := srv.config(data)
	cfg.IdleTimeout = 300 * time.Millisecond
	s := newSFTP(t, cfg)

	_, err := s.Get(context.Background(), daily)
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "idle time-out") {
		t.Fatalf("Get from a stalled server = %v, want a transient idle time-out", err)
	}
	if names := dirNames(t, data); len(names) != 0 {
		t.Errorf("data folder holds %q after the stall", names)
	}
	// The next call dials again and succeeds.
	got, err := s.Get(context.Background(), daily)
	if err != nil || got.SHA256 != sum(content) {
		t.Fatalf("Get after the stall = %+v, %v", got, err)
	}
}

// A kept connection the server closed in the meantime costs no failed
// attempt, whether or not the client noticed the close yet.
func TestSFTPReconnectsAfterServerClose(t *testing.T) {
	srv := newTestServer(t, false)
	srv.put(daily, "x\n")
	s := newSFTP(t, srv.config(t.TempDir()))
	for i := range 3 {
		if i > 0 {
			srv.dropAll()
		}
		if _, err := s.Get(context.Background(), daily); err != nil {
			t.Fatalf("Get %d: %v", i, err)
		}
	}
	// Broken in a way the client cannot have noticed: the SSH connection
	// is up, its SFTP session gone.
	s.mu.Lock()
	s.client.Close()
	s.mu.Unlock()
	if _, err := s.Get(context.Background(), daily); err != nil {
		t.Fatalf("Get on a broken session: %v", err)
	}
	if n := srv.conns.Load(); n != 4 {
		t.Errorf("%d connections, want 4", n)
	}
}

func TestSFTPCancel(t *testing.T) {
	srv := newTestServer(t, false)
	srv.put(daily, strings.Repeat("x", 1<<20))
	srv.stallAfter.Store(256 << 10)
	data := t.TempDir()
	s := newSFTP(t, srv.config(data))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.conns.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	_, err := s.Get(ctx, daily)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
	if names := dirNames(t, data); len(names) != 0 {
		t.Errorf("data folder holds %q", names)
	}
}

func TestSFTPList(t *testing.T) {
	srv := newTestServer(t, false)
	for _, name := range []string{payouts, daily, "RHZZW_201912110000123456_20261125.txt"} {
		srv.put(name, "x")
	}
	if err := os.Mkdir(filepath.Join(srv.Root, "archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := newSFTP(t, srv.config(t.TempDir())).List(context.Background())
	want := []string{payouts, daily, "RHZZW_201912110000123456_20261125.txt"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("List = %q, %v; want %q", got, err, want)
	}
}

// A server that accepts but never speaks, and an address nobody listens on:
// both fail within the dial time-out and are worth retrying.
func TestSFTPUnreachable(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()

	for _, addr := range []string{silent.Addr().String(), closed.Addr().String()} {
		cfg := SFTPConfig{Addr: addr, User: "u", Password: "pw", Fingerprints: []string{"SHA256:" + strings.Repeat("A", 43)}, DataDir: t.TempDir(), DialTimeout: 200 * time.Millisecond}
		_, err := newSFTP(t, cfg).Get(context.Background(), daily)
		if err == nil || IsPermanent(err) || errors.Is(err, ErrNotPublished) || !strings.Contains(err.Error(), addr) {
			t.Errorf("Get from %s = %v, want a transient error naming the server", addr, err)
		}
	}
}
