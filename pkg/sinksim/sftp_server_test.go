package sinksim_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

func startSFTP(t *testing.T) (*sinksim.SFTPServer, string) {
	t.Helper()
	root := t.TempDir()
	srv, err := sinksim.NewSFTPServer(sinksim.SFTPConfig{Root: root, Passwords: map[string]string{"u": "p"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return srv, root
}

func dialSFTP(srv *sinksim.SFTPServer, user, password string) (*sftp.Client, error) {
	conn, err := ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func TestSFTPServerIsChrooted(t *testing.T) {
	srv, root := startSFTP(t)
	c, err := dialSFTP(srv, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f, err := c.Create("/../../escape.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(f, "inside")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "escape.txt")); err != nil || string(b) != "inside" {
		t.Fatalf("file in root: %q, %v", b, err)
	}
	entries, err := c.ReadDir("/")
	if err != nil || len(entries) != 1 || entries[0].Name() != "escape.txt" {
		t.Fatalf("ReadDir(/) = %v, %v", entries, err)
	}
}

func TestSFTPServerAuthAndRestart(t *testing.T) {
	srv, _ := startSFTP(t)
	if _, err := dialSFTP(srv, "u", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := dialSFTP(srv, "nobody", "p"); err == nil {
		t.Fatal("unknown user accepted")
	}
	c, err := dialSFTP(srv, "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Getwd(); err == nil {
		t.Fatal("connection survived Stop")
	}
	c.Close()
	if _, err := dialSFTP(srv, "u", "p"); err == nil {
		t.Fatal("dial succeeded while stopped")
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", srv.Addr(), addr)
	}
	c, err = dialSFTP(srv, "u", "p")
	if err != nil {
		t.Fatalf("dial after restart: %v", err)
	}
	c.Close()
}
