package fetch

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// testServer is an in-process SSH server with the pkg/sftp subsystem on
// 127.0.0.1:0, serving root. Faults are armed per test: the next connection
// is cut, or stalls, once the server has written a number of bytes.
type testServer struct {
	t        testing.TB
	Addr     string
	Root     string
	HostKeys []ssh.Signer // the first is the one known_hosts lists by default
	Password string
	UserKey  ssh.Signer // the authorized client key
	KeyFile  string     // UserKey as an OpenSSH private key file
	User     string

	cutAfter   atomic.Int64 // > 0: the next connection closes after this many bytes written
	stallAfter atomic.Int64 // > 0: the next connection stops writing after this many bytes
	conns      atomic.Int32 // connections accepted

	ln     net.Listener
	mu     sync.Mutex
	open   []net.Conn
	closed chan struct{}
	wg     sync.WaitGroup
}

// newTestServer starts a server with an ed25519 host key, and an ECDSA one
// too when twoKeys (a Go client prefers ECDSA, see knownAlgorithms).
func newTestServer(t testing.TB, twoKeys bool) *testServer {
	t.Helper()
	s := &testServer{t: t, Root: t.TempDir(), Password: "correct horse battery", User: "recon", closed: make(chan struct{})}
	s.HostKeys = append(s.HostKeys, newEd25519Signer(t))
	if twoKeys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(k)
		if err != nil {
			t.Fatal(err)
		}
		s.HostKeys = append(s.HostKeys, signer)
	}
	var priv ed25519.PrivateKey
	s.UserKey, priv = newEd25519SignerKey(t)
	s.KeyFile = writeKeyFile(t, priv, "")

	config := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == s.User && string(pw) == s.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == s.User && string(key.Marshal()) == string(s.UserKey.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	for _, k := range s.HostKeys {
		config.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			c = &faultConn{Conn: c, cutAfter: s.cutAfter.Swap(0), stallAfter: s.stallAfter.Swap(0), closed: s.closed}
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c, config)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(s.closed)
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) serve(c net.Conn, config *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range chReqs {
				ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if !ok {
					continue
				}
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Root))
				if err != nil {
					ch.Close()
					return
				}
				_ = srv.Serve()
				srv.Close()
				return
			}
		}()
	}
}

// dropAll closes every connection, as a server does with idle clients.
func (s *testServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.open {
		c.Close()
	}
}

// put writes a remote file.
func (s *testServer) put(name, content string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.Root, name), []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// knownHosts writes a known_hosts file listing keys for the server.
func (s *testServer) knownHosts(keys ...ssh.PublicKey) string {
	s.t.Helper()
	var b []byte
	for _, k := range keys {
		b = append(b, knownhosts.Line([]string{s.Addr}, k)+"\n"...)
	}
	p := filepath.Join(s.t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// config is a working key + known_hosts configuration for the server.
func (s *testServer) config(dataDir string) SFTPConfig {
	return SFTPConfig{
		Addr:           s.Addr,
		User:           s.User,
		KeyFile:        s.KeyFile,
		KnownHostsFile: s.knownHosts(s.HostKeys[0].PublicKey()),
		RemoteDir:      s.Root,
		DataDir:        dataDir,
	}
}

// faultConn is the server side of a connection that is cut, or stops
// writing without closing, after a number of bytes.
type faultConn struct {
	net.Conn
	cutAfter, stallAfter int64
	written              int64
	closed               <-chan struct{}
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.cutAfter > 0 && c.written+int64(len(p)) > c.cutAfter {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	if c.stallAfter > 0 && c.written+int64(len(p)) > c.stallAfter {
		<-c.closed // until the test ends
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Write(p)
	c.written += int64(n)
	return n, err
}

func newEd25519Signer(t testing.TB) ssh.Signer {
	s, _ := newEd25519SignerKey(t)
	return s
}

func newEd25519SignerKey(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// writeKeyFile writes key as an OpenSSH private key file, encrypted when
// passphrase is set.
func writeKeyFile(t testing.TB, key ed25519.PrivateKey, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase != "" {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "test", []byte(passphrase))
	} else {
		block, err = ssh.MarshalPrivateKey(key, "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("id_ed25519_%d", len(passphrase)))
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
