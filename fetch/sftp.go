package fetch

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Errors callers branch on. All three are permanent: retrying cannot help,
// a person has to act (SPEC §7: an unknown or changed key stops the fetch).
var (
	// ErrHostKey: the server's host key is unknown or differs from the one
	// trusted. The message names the fingerprint seen and the fix.
	ErrHostKey = errors.New("host key not trusted")
	// ErrAuth: the server refused every credential offered.
	ErrAuth = errors.New("authentication failed")
	// ErrRefusedName: a remote name outside SPEC §2.1's patterns, which
	// could otherwise write outside the data folder.
	ErrRefusedName = errors.New("refused file name")
)

// errPermanent marks other failures no retry can fix (a key file that does
// not parse, a remote path that is not a regular file).
var errPermanent = errors.New("permanent")

// IsPermanent reports whether err is one that retrying cannot fix: host key,
// authentication, permission denied, refused name, bad key file. Network
// errors, time-outs, EOF, a short transfer and ErrNotPublished are not.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range []error{ErrHostKey, ErrAuth, ErrRefusedName, fs.ErrPermission, errPermanent} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Defaults for the zero values of SFTPConfig's time-outs.
const (
	DefaultDialTimeout = 15 * time.Second
	DefaultIdleTimeout = 60 * time.Second
)

// SFTPConfig says where and how to fetch statement files over SFTP (SPEC §7).
// Secrets (KeyPassphrase, Password) come from the environment; String,
// GoString and LogValue leave them out, and no error repeats them.
type SFTPConfig struct {
	Addr           string // host:port; a missing port means 22
	User           string
	KeyFile        string // private key path (optional)
	KeyPassphrase  string // from the environment, never logged
	Password       string // from the environment, never logged
	KnownHostsFile string // known_hosts path, or
	// Fingerprints are pinned "SHA256:..." host-key fingerprints (as printed
	// by `ssh-keygen -lf`). At least one of KnownHostsFile and Fingerprints
	// is required: there is no insecure mode. With both, a key is trusted
	// when it matches either.
	Fingerprints []string
	RemoteDir    string        // empty: the login folder
	DataDir      string        // local folder the files are downloaded into; created if missing
	DialTimeout  time.Duration // dial + SSH handshake; 0 means DefaultDialTimeout
	IdleTimeout  time.Duration // a transfer with no progress for this long fails; 0 means DefaultIdleTimeout
	Logger       *slog.Logger  // nil: no logs
}

// String describes the configuration for logs: never a secret, only whether
// one is set.
func (c SFTPConfig) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sftp://%s@%s/%s", c.User, c.Addr, strings.TrimPrefix(c.RemoteDir, "/"))
	var auth []string
	if c.KeyFile != "" {
		k := "key " + c.KeyFile
		if c.KeyPassphrase != "" {
			k += " (passphrase set)"
		}
		auth = append(auth, k)
	}
	if c.Password != "" {
		auth = append(auth, "password set")
	}
	if len(auth) == 0 {
		auth = append(auth, "no credentials")
	}
	fmt.Fprintf(&b, " auth: %s;", strings.Join(auth, ", "))
	if c.KnownHostsFile != "" {
		fmt.Fprintf(&b, " known_hosts %s;", c.KnownHostsFile)
	}
	if len(c.Fingerprints) > 0 {
		fmt.Fprintf(&b, " pinned %s;", strings.Join(c.Fingerprints, ","))
	}
	fmt.Fprintf(&b, " data %s", c.DataDir)
	return b.String()
}

// GoString keeps %#v from printing the secrets.
func (c SFTPConfig) GoString() string { return "fetch.SFTPConfig{" + c.String() + "}" }

// LogValue keeps slog from printing the secrets.
func (c SFTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// SFTP is a Source that downloads statement files from an SFTP server into
// DataDir. It connects on first use, reuses the connection, and reconnects
// after a failure. Its methods are safe for concurrent use; they run one at
// a time. It never writes, renames or removes a remote file.
type SFTP struct {
	cfg      SFTPConfig
	where    string // user@host:port, the prefix of every error
	log      *slog.Logger
	auth     []ssh.AuthMethod
	hkAlgos  []string
	pinned   map[string]bool
	knownCB  ssh.HostKeyCallback
	mu       sync.Mutex
	conn     *idleConn
	sshc     *ssh.Client
	client   *sftp.Client
	lost     chan struct{} // closed when the SSH connection ends
	closeErr error
}

// NewSFTP validates cfg and reads the key and known_hosts files, so that a
// configuration mistake shows before the first fetch. No error contains a
// secret. It does not connect.
func NewSFTP(cfg SFTPConfig) (*SFTP, error) {
	if cfg.Addr == "" {
		return nil, errors.New("sftp: no server address")
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		cfg.Addr = net.JoinHostPort(cfg.Addr, "22")
		if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
			return nil, fmt.Errorf("sftp: server address %q: want host:port", cfg.Addr)
		}
	}
	s := &SFTP{cfg: cfg, where: "sftp " + cfg.User + "@" + cfg.Addr, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.DialTimeout <= 0 {
		s.cfg.DialTimeout = DefaultDialTimeout
	}
	if s.cfg.IdleTimeout <= 0 {
		s.cfg.IdleTimeout = DefaultIdleTimeout
	}
	if s.cfg.RemoteDir == "" {
		s.cfg.RemoteDir = "."
	}
	if cfg.User == "" {
		return nil, fmt.Errorf("%s: no user name", s.where)
	}
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("%s: no data folder", s.where)
	}
	if cfg.KeyFile == "" && cfg.Password == "" {
		return nil, fmt.Errorf("%s: no credentials: set a key file or a password", s.where)
	}
	if cfg.KeyFile != "" {
		signer, err := readKey(cfg.KeyFile, cfg.KeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where, err)
		}
		s.auth = append(s.auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		s.auth = append(s.auth, ssh.Password(cfg.Password))
	}
	if cfg.KnownHostsFile == "" && len(cfg.Fingerprints) == 0 {
		return nil, fmt.Errorf("%s: no way to check the host key: set a known_hosts file or pin a SHA256 fingerprint", s.where)
	}
	s.pinned = map[string]bool{}
	for _, fp := range cfg.Fingerprints {
		norm, err := normalizeFingerprint(fp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where, err)
		}
		s.pinned[norm] = true
	}
	if cfg.KnownHostsFile != "" {
		cb, err := knownhosts.New(cfg.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("%s: known_hosts: %w", s.where, err)
		}
		s.knownCB = cb
		if len(s.pinned) == 0 {
			s.hkAlgos = knownAlgorithms(cb, cfg.Addr)
		}
	}
	return s, nil
}

// readKey parses a private key file. The passphrase never enters a message.
func readKey(file, passphrase string) (ssh.Signer, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	var signer ssh.Signer
	if passphrase != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
	} else {
		signer, err = ssh.ParsePrivateKey(pem)
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return signer, nil
	case errors.As(err, &missing):
		return nil, fmt.Errorf("key file %s is encrypted and no passphrase is set: %w", file, errPermanent)
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("key file %s: wrong passphrase: %w", file, errPermanent)
	default:
		// The parser's message names the format problem, never the passphrase.
		return nil, fmt.Errorf("key file %s: %v: %w", file, err, errPermanent)
	}
}

// normalizeFingerprint accepts "SHA256:base64" with or without padding, as
// ssh-keygen -lf and ssh.FingerprintSHA256 print it.
func normalizeFingerprint(fp string) (string, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(fp), "SHA256:")
	b64 = strings.TrimRight(b64, "=")
	if raw, err := base64.RawStdEncoding.DecodeString(b64); !ok || err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("host key fingerprint %q: want SHA256: and 43 base64 characters, as `ssh-keygen -lf` prints", fp)
	}
	return "SHA256:" + b64, nil
}

// fakeKey is a key of no real type: asking the known_hosts callback about
// it returns every key the file holds for the host (KeyError.Want).
type fakeKey struct{}

func (fakeKey) Type() string                        { return "reconcile-probe" }
func (fakeKey) Marshal() []byte                     { return []byte("reconcile-probe") }
func (fakeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

// knownAlgorithms lists the host key algorithms of the keys known_hosts has
// for addr. Without it the client may negotiate a key type the file does not
// hold for the host, and knownhosts reports a mismatch that is not one
// (TESTING.md). Nil (library defaults) when the host is not in the file.
func knownAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	remote := &net.TCPAddr{IP: net.ParseIP(host), Port: p}
	if remote.IP == nil {
		remote.IP = net.IPv4zero
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, remote, fakeKey{}); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	slices.Sort(algos)
	return slices.Compact(algos)
}

// checkHostKey trusts key if its fingerprint is pinned or known_hosts holds
// it for the host. Anything else is ErrHostKey with the fingerprint seen
// and the two ways to trust it.
func (s *SFTP) checkHostKey(hostname string, remote net.Addr, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	if s.pinned[fp] {
		return nil
	}
	var why string
	if s.knownCB != nil {
		err := s.knownCB(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			why = fmt.Sprintf("is not in %s", s.cfg.KnownHostsFile)
		case errors.As(err, &ke):
			var lines []string
			for _, w := range ke.Want {
				lines = append(lines, strconv.Itoa(w.Line))
			}
			why = fmt.Sprintf("does not match the host's key in %s (line %s): the server's key changed or someone is in between; check with the server's owner before trusting it", s.cfg.KnownHostsFile, strings.Join(lines, ", "))
		case errors.As(err, &re):
			why = fmt.Sprintf("is revoked in %s", s.cfg.KnownHostsFile)
		default:
			why = err.Error()
		}
		if len(s.pinned) > 0 {
			why += " nor pinned"
		}
	} else {
		why = "is not a pinned fingerprint"
	}
	host, port, _ := net.SplitHostPort(s.cfg.Addr)
	file := s.cfg.KnownHostsFile
	if file == "" {
		file = "KNOWN_HOSTS"
	}
	return fmt.Errorf("host key %s (%s) of %s %s; to trust it, add it to known_hosts with `ssh-keyscan -p %s %s >> %s` or pin --host-key-fingerprint %s: %w",
		fp, key.Type(), s.cfg.Addr, why, port, host, file, fp, ErrHostKey)
}

// session returns a working SFTP client, dialling if there is none or the
// last one was lost; reused says it was kept from an earlier call. Called
// with s.mu held; the caller must call s.conn.end.
func (s *SFTP) session(ctx context.Context) (c *sftp.Client, reused bool, err error) {
	if s.client != nil {
		select {
		case <-s.lost:
			s.dropLocked()
		default:
			s.conn.begin()
			return s.client, true, nil
		}
	}
	c, err = s.dial(ctx)
	return c, false, err
}

// hostKeyFamilies are the host key types a server may hold, each with the
// algorithms that select it.
var hostKeyFamilies = [][]string{
	{ssh.KeyAlgoED25519},
	{ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521},
	{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA},
}

// dial connects, checks the host key, authenticates and starts SFTP.
//
// A pinned fingerprint does not say its key type, and a server with several
// host keys shows only the one the negotiation picks. So with pins alone, a
// refused key is followed by one handshake per other key type: the server
// is trusted if any of its keys is pinned, and refused with the first
// error otherwise.
func (s *SFTP) dial(ctx context.Context) (*sftp.Client, error) {
	c, err := s.dialAlgos(ctx, s.hkAlgos)
	if err == nil || !errors.Is(err, ErrHostKey) || s.hkAlgos != nil || len(s.pinned) == 0 {
		return c, err
	}
	for _, family := range hostKeyFamilies {
		c2, err2 := s.dialAlgos(ctx, family)
		if err2 == nil {
			return c2, nil
		}
		if ctx.Err() != nil || errors.Is(err2, ErrAuth) {
			return nil, err2
		}
	}
	return nil, err
}

// dialAlgos is one connection attempt offering the given host key
// algorithms (nil: the library's defaults), all within DialTimeout.
func (s *SFTP) dialAlgos(ctx context.Context, algos []string) (*sftp.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.where, err)
	}
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", s.where, err)
	}
	conn := &idleConn{Conn: raw, idle: s.cfg.IdleTimeout}
	// The handshake and the SFTP start-up share the dial time-out.
	_ = raw.SetDeadline(time.Now().Add(s.cfg.DialTimeout))
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	var hostKeyErr error
	config := &ssh.ClientConfig{
		User: s.cfg.User,
		Auth: s.auth,
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			hostKeyErr = s.checkHostKey(hostname, remote, key)
			return hostKeyErr
		},
		HostKeyAlgorithms: algos,
		Timeout:           s.cfg.DialTimeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, s.cfg.Addr, config)
	if err != nil {
		raw.Close()
		switch {
		case hostKeyErr != nil:
			return nil, fmt.Errorf("%s: %w", s.where, hostKeyErr)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s: connect: %w", s.where, ctx.Err())
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%s: the server refused the %s: %w", s.where, s.credentials(), ErrAuth)
		}
		return nil, fmt.Errorf("%s: connect: %w", s.where, err)
	}
	sshc := ssh.NewClient(c, chans, reqs)
	client, err := sftp.NewClient(sshc)
	if err != nil {
		sshc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%s: start sftp: %w", s.where, err)
	}
	_ = raw.SetDeadline(time.Time{})
	lost := make(chan struct{})
	go func() {
		_ = sshc.Wait()
		close(lost)
	}()
	s.conn, s.sshc, s.client, s.lost = conn, sshc, client, lost
	s.conn.begin()
	s.log.Debug("sftp connected", "server", s.cfg.Addr, "user", s.cfg.User)
	return client, nil
}

// credentials names what was offered, for ErrAuth's message.
func (s *SFTP) credentials() string {
	switch {
	case s.cfg.KeyFile != "" && s.cfg.Password != "":
		return "key " + s.cfg.KeyFile + " and the password for " + s.cfg.User
	case s.cfg.KeyFile != "":
		return "key " + s.cfg.KeyFile + " for " + s.cfg.User
	default:
		return "password for " + s.cfg.User
	}
}

// dropLocked closes the connection so the next call dials afresh.
func (s *SFTP) dropLocked() {
	if s.client != nil {
		s.client.Close()
		s.sshc.Close()
	}
	s.conn, s.sshc, s.client, s.lost = nil, nil, nil, nil
}

// do runs op on a live connection, with ctx able to cut it, and drops the
// connection after a failure other than a missing file. When a kept
// connection fails (the server may have closed it while it sat idle), op is
// tried once more on a new one: every op only reads, so that is safe.
func (s *SFTP) do(ctx context.Context, op func(*sftp.Client) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		c, reused, err := s.session(ctx)
		if err != nil {
			return err
		}
		conn := s.conn
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		err = op(c)
		stop()
		conn.end()
		if err == nil || errors.Is(err, ErrNotPublished) {
			return err
		}
		s.dropLocked()
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", s.where, ctx.Err())
		case conn.timedOut.Load():
			return fmt.Errorf("%w (no progress for %s, the idle time-out)", err, s.cfg.IdleTimeout)
		case reused && !IsPermanent(err):
			s.log.Debug("sftp connection lost, reconnecting", "server", s.cfg.Addr, "error", err)
			continue
		}
		return err
	}
}

// Get implements Source: it downloads RemoteDir/name into DataDir/name
// through a temporary file, checks the byte count against the server's
// size, and replaces an older local copy only when the bytes differ
// (Changed, PrevSHA256). A missing remote file is ErrNotPublished; a cut
// connection leaves no partial file and is not permanent.
func (s *SFTP) Get(ctx context.Context, name string) (Fetched, error) {
	if err := checkName(name); err != nil {
		return Fetched{}, fmt.Errorf("%s: %w", s.where, err)
	}
	var got Fetched
	err := s.do(ctx, func(c *sftp.Client) error {
		var err error
		got, err = s.download(c, name)
		return err
	})
	if err != nil {
		return Fetched{}, err
	}
	s.log.Info("fetched", "file", name, "size", got.Size, "sha256", got.SHA256, "changed", got.Changed, "server", s.cfg.Addr)
	return got, nil
}

func (s *SFTP) download(c *sftp.Client, name string) (Fetched, error) {
	remote := path.Join(s.cfg.RemoteDir, name)
	fail := func(format string, args ...any) (Fetched, error) {
		return Fetched{}, fmt.Errorf("%s: %s: "+format, append([]any{s.where, remote}, args...)...)
	}
	fi, err := c.Stat(remote)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("%w", ErrNotPublished)
		}
		return fail("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fail("not a regular file (%s): %w", fi.Mode(), errPermanent)
	}
	rf, err := c.Open(remote) // read-only
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fail("%w", ErrNotPublished)
		}
		return fail("open: %w", err)
	}
	defer rf.Close()

	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return Fetched{}, fmt.Errorf("data folder: %w", err)
	}
	tmp, err := os.CreateTemp(s.cfg.DataDir, "."+name+".part-*")
	if err != nil {
		return Fetched{}, fmt.Errorf("data folder: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), rf)
	if err != nil {
		return fail("download after %d of %d bytes: %w", n, fi.Size(), err)
	}
	if n != fi.Size() {
		return fail("downloaded %d bytes, the server said %d", n, fi.Size())
	}
	if err := tmp.Sync(); err != nil {
		return Fetched{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return Fetched{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	local := filepath.Join(s.cfg.DataDir, name)
	got := Fetched{Name: name, Path: local, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}

	prev, err := fileSHA256(local)
	switch {
	case err == nil && prev == got.SHA256:
		return got, nil // same bytes: keep the old copy, the deferred cleanup drops ours
	case err == nil:
		got.Changed, got.PrevSHA256 = true, prev
		s.log.Warn("file changed on the server since the last fetch", "file", name, "old_sha256", prev, "new_sha256", got.SHA256)
	case !errors.Is(err, fs.ErrNotExist):
		return Fetched{}, fmt.Errorf("read previous copy: %w", err)
	}
	_ = os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime())
	if err := os.Rename(tmp.Name(), local); err != nil {
		return Fetched{}, fmt.Errorf("data folder: %w", err)
	}
	keep = true
	syncDir(s.cfg.DataDir)
	return got, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncDir makes a rename durable; a failure only weakens that guarantee.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// List implements Source: the regular files in RemoteDir, sorted.
func (s *SFTP) List(ctx context.Context) ([]string, error) {
	var names []string
	err := s.do(ctx, func(c *sftp.Client) error {
		ents, err := c.ReadDir(s.cfg.RemoteDir)
		if err != nil {
			return fmt.Errorf("%s: list %s: %w", s.where, s.cfg.RemoteDir, err)
		}
		for _, e := range ents {
			if e.Mode().IsRegular() {
				names = append(names, e.Name())
			}
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// Close implements Source. Calls after the first do nothing.
func (s *SFTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		err := s.client.Close()
		if cerr := s.sshc.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		s.conn, s.sshc, s.client, s.lost = nil, nil, nil, nil
		if err != nil {
			s.closeErr = fmt.Errorf("%s: close: %w", s.where, err)
		}
	}
	return s.closeErr
}

// idleConn fails a stalled transfer: while an operation runs (begin..end)
// every Read and Write pushes the deadline idle further, so only a
// connection that makes no progress for idle times out. Between operations
// there is no deadline, so a connection kept for reuse does not die idle.
type idleConn struct {
	net.Conn
	idle     time.Duration
	mu       sync.Mutex
	active   bool
	timedOut atomic.Bool // a deadline fired: the error the SSH layer reports hides it
}

func (c *idleConn) begin() {
	c.mu.Lock()
	c.active = true
	_ = c.Conn.SetDeadline(time.Now().Add(c.idle))
	c.mu.Unlock()
}

func (c *idleConn) end() {
	c.mu.Lock()
	c.active = false
	_ = c.Conn.SetDeadline(time.Time{})
	c.mu.Unlock()
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.active {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.timedOut.Store(true)
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.active {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	}
	c.mu.Unlock()
	n, err := c.Conn.Write(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.timedOut.Store(true)
	}
	return n, err
}
