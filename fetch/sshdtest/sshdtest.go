// Package sshdtest runs a real OpenSSH sshd on loopback for integration
// tests of the SFTP fetch (TESTING.md: "A real OpenSSH sftp server on
// loopback"). It serves a folder over `internal-sftp` to the current user,
// with key authentication only.
package sshdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sshd is the binary used; sshd refuses to run from a relative path.
const Sshd = "/usr/sbin/sshd"

// Options configures Start.
type Options struct {
	RootDir string // folder served as the remote dir (files put here by the test); empty: a new temporary folder
}

// Server is a running sshd.
type Server struct {
	Addr           string // 127.0.0.1:PORT
	User           string // the current user, the one the key logs in as
	KeyFile        string // client private key (ed25519, no passphrase)
	KnownHostsFile string // one line: the server's ed25519 host key for [127.0.0.1]:PORT
	// HostKeyFingerprint is the SHA256 fingerprint of the ed25519 host key,
	// the one in KnownHostsFile.
	HostKeyFingerprint string
	// HostKeyFingerprints holds every host key's fingerprint by key type.
	// The server also has an ECDSA key, which a Go client prefers by default:
	// a client must restrict its host key algorithms to the known_hosts
	// entry's type, or it sees the ECDSA key.
	HostKeyFingerprints map[string]string
	RemoteDir           string // absolute path of the served folder
}

// Start starts sshd -D -e -f CONFIG on a free loopback port and stops it at
// the end of the test. Without /usr/sbin/sshd it fails the test when the
// environment variable CI is set, and skips it otherwise.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := os.Stat(Sshd); err != nil {
		msg := fmt.Sprintf("sshdtest: %s not found (install openssh-server): %v", Sshd, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Fatalf("sshdtest: ssh-keygen not found: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshdtest: current user: %v", err)
	}
	if os.Geteuid() == 0 {
		// A root sshd refuses to start without its privilege separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshdtest: %v", err)
		}
	}

	dir := t.TempDir()
	root := opts.RootDir
	if root == "" {
		root = filepath.Join(dir, "remote")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root, err = filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	// sshd reads authorized_keys as the user: keep the folders traversable.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	keygen := func(typ, file string) {
		t.Helper()
		out, err := exec.Command("ssh-keygen", "-q", "-t", typ, "-N", "", "-C", "sshdtest", "-f", file).CombinedOutput()
		if err != nil {
			t.Fatalf("sshdtest: ssh-keygen -t %s: %v: %s", typ, err, out)
		}
	}
	hostKeys := map[string]string{
		"ed25519": filepath.Join(dir, "host_ed25519"),
		"ecdsa":   filepath.Join(dir, "host_ecdsa"),
	}
	for typ, file := range hostKeys {
		keygen(typ, file)
	}
	clientKey := filepath.Join(dir, "client_ed25519")
	keygen("ed25519", clientKey)
	authorized := filepath.Join(dir, "authorized_keys")
	copyFile(t, clientKey+".pub", authorized, 0o644)

	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv := &Server{
		Addr:                addr,
		User:                u.Username,
		KeyFile:             clientKey,
		KnownHostsFile:      filepath.Join(dir, "known_hosts"),
		HostKeyFingerprints: map[string]string{},
		RemoteDir:           root,
	}
	for _, file := range hostKeys {
		key := readPublicKey(t, file+".pub")
		srv.HostKeyFingerprints[key.Type()] = ssh.FingerprintSHA256(key)
	}
	ed := readPublicKey(t, hostKeys["ed25519"]+".pub")
	srv.HostKeyFingerprint = ssh.FingerprintSHA256(ed)
	line := knownhosts.Line([]string{addr}, ed) + "\n"
	if err := os.WriteFile(srv.KnownHostsFile, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}

	config := strings.Join([]string{
		"ListenAddress 127.0.0.1",
		"Port " + strconv.Itoa(port),
		"HostKey " + hostKeys["ed25519"],
		"HostKey " + hostKeys["ecdsa"],
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorized,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + u.Username,
		"UsePAM no",
		"StrictModes no",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
		"",
	}, "\n")
	configFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	var log syncBuffer
	cmd := exec.Command(Sshd, "-D", "-e", "-f", configFile)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshdtest: start %s: %v", Sshd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		waitPort(addr, false, 5*time.Second)
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	if !waitPort(addr, true, 10*time.Second) {
		select {
		case err := <-exited:
			t.Fatalf("sshdtest: sshd exited: %v\n%s", err, log.String())
		default:
			t.Fatalf("sshdtest: sshd not listening on %s after 10 s\n%s", addr, log.String())
		}
	}
	return srv
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before sshd binds it; Start then fails with sshd's message.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until addr accepts connections (open) or refuses them.
func waitPort(addr string, open bool, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		if (err == nil) == open {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func readPublicKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("sshdtest: %s: %v", file, err)
	}
	return key
}

func copyFile(t testing.TB, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects sshd's log, written by the exec copy goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
