package sftpexport_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// sftpEnv is an SFTP emulator serving a temporary root with an "upload"
// directory, and a known_hosts file trusting it.
type sftpEnv struct {
	srv        *sinksim.SFTPServer
	root       string
	knownHosts string
}

func startSFTP(t *testing.T, mod func(*sinksim.SFTPConfig)) *sftpEnv {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "upload"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := sinksim.SFTPConfig{Root: root, Passwords: map[string]string{"energisme": "s3cret"}}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := sinksim.NewSFTPServer(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &sftpEnv{srv: srv, root: root, knownHosts: kh}
}

func (e *sftpEnv) config() sftpexport.Config {
	return sftpexport.Config{Addr: e.srv.Addr(), User: "energisme", Password: "s3cret", KnownHostsFile: e.knownHosts, Dir: "/upload"}
}

func newUploader(t *testing.T, cfg sftpexport.Config) *sftpexport.Uploader {
	t.Helper()
	u, err := sftpexport.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("sftpexport.New: %v", err)
	}
	t.Cleanup(func() { _ = u.Close(context.Background()) })
	return u
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// listDir returns the names in dir, to check no temporary file is left.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func opsSummary(ops []sinksim.SFTPOp) []string {
	var out []string
	for _, op := range ops {
		s := op.Op + " " + op.Path
		if op.Target != "" {
			s += " -> " + op.Target
		}
		if op.Err != "" {
			s += " !"
		}
		out = append(out, s)
	}
	return out
}

func TestExportWritesTempThenRenames(t *testing.T) {
	env := startSFTP(t, nil)
	u := newUploader(t, env.config())
	batch := sftpexport.Batch{
		Prefix: "telemetry",
		Ranges: []sftpexport.OffsetRange{{Partition: 2, First: 10, Last: 12}},
		Rows:   []sftpexport.Row{{Module: "d1.temp", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Value: 21.5}},
	}
	name, err := u.Export(ctxFor(t), batch)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if name != "telemetry-p2-10-12.csv" {
		t.Fatalf("name = %q", name)
	}
	if got := readFile(t, filepath.Join(env.root, "upload", name)); got != "module,timestamp,value\nd1.temp,2026-01-02 03:04:05,21.5\n" {
		t.Fatalf("file content %q", got)
	}
	want := []string{
		"Write /upload/.telemetry-p2-10-12.csv.tmp",
		"PosixRename /upload/.telemetry-p2-10-12.csv.tmp -> /upload/telemetry-p2-10-12.csv",
	}
	if got := opsSummary(env.srv.Ops()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ops =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRetriedUploadReplaces(t *testing.T) {
	tests := []struct {
		name          string
		noPosixRename bool
		wantOps       []string
	}{
		{name: "posix-rename", wantOps: []string{
			"Write /upload/.f.csv.tmp", "PosixRename /upload/.f.csv.tmp -> /upload/f.csv",
			"Write /upload/.f.csv.tmp", "PosixRename /upload/.f.csv.tmp -> /upload/f.csv",
		}},
		{name: "remove and rename fallback", noPosixRename: true, wantOps: []string{
			"Write /upload/.f.csv.tmp", "PosixRename /upload/.f.csv.tmp -> /upload/f.csv !", "Rename /upload/.f.csv.tmp -> /upload/f.csv",
			"Write /upload/.f.csv.tmp", "Remove /upload/f.csv", "Rename /upload/.f.csv.tmp -> /upload/f.csv",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startSFTP(t, func(c *sinksim.SFTPConfig) { c.NoPosixRename = tt.noPosixRename })
			u := newUploader(t, env.config())
			for _, content := range []string{"first\n", "second\n"} {
				if err := u.Upload(ctxFor(t), "f.csv", []byte(content)); err != nil {
					t.Fatalf("Upload %q: %v", content, err)
				}
			}
			if got := readFile(t, filepath.Join(env.root, "upload", "f.csv")); got != "second\n" {
				t.Fatalf("content %q, want the second upload", got)
			}
			if names := listDir(t, filepath.Join(env.root, "upload")); len(names) != 1 || names[0] != "f.csv" {
				t.Fatalf("directory holds %v, want only f.csv", names)
			}
			if got := opsSummary(env.srv.Ops()); strings.Join(got, "\n") != strings.Join(tt.wantOps, "\n") {
				t.Fatalf("ops =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantOps, "\n"))
			}
		})
	}
}

func TestPublicKeyAuth(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startSFTP(t, func(c *sinksim.SFTPConfig) {
		c.Passwords = nil
		c.AuthorizedKeys = map[string][]ssh.PublicKey{"energisme": {sshPub}}
	})
	cfg := env.config()
	cfg.Password, cfg.KeyFile = "", keyFile
	if err := newUploader(t, cfg).Upload(ctxFor(t), "k.json", []byte("[]\n")); err != nil {
		t.Fatalf("Upload with key: %v", err)
	}
	if got := readFile(t, filepath.Join(env.root, "upload", "k.json")); got != "[]\n" {
		t.Fatalf("content %q", got)
	}
}

func TestUntrustedHostKeyIsRejected(t *testing.T) {
	env := startSFTP(t, nil)
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ssh.NewPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		knownHosts string
	}{
		{name: "key mismatch", knownHosts: knownhosts.Line([]string{knownhosts.Normalize(env.srv.Addr())}, otherKey) + "\n"},
		{name: "unknown host", knownHosts: knownhosts.Line([]string{"other.example:22"}, env.srv.HostKey()) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(tt.knownHosts), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := env.config()
			cfg.KnownHostsFile = kh
			err := newUploader(t, cfg).Upload(ctxFor(t), "x.csv", []byte("x"))
			if !errors.Is(err, sftpexport.ErrHostKey) {
				t.Fatalf("err = %v, want ErrHostKey", err)
			}
			if _, ok := sinkerr.Retryable(err); !ok {
				t.Fatalf("err = %v, want retryable", err)
			}
		})
	}
	if ops := env.srv.Ops(); len(ops) != 0 {
		t.Fatalf("ops = %v, want none", ops)
	}
}

func TestWrongPasswordIsRetryable(t *testing.T) {
	env := startSFTP(t, nil)
	cfg := env.config()
	cfg.Password = "wrong"
	err := newUploader(t, cfg).Upload(ctxFor(t), "x.csv", []byte("x"))
	if _, ok := sinkerr.Retryable(err); !ok || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("err = %v, want retryable authentication failure", err)
	}
}

func TestOutageThenRecovery(t *testing.T) {
	env := startSFTP(t, nil)
	u := newUploader(t, env.config())
	ctx := ctxFor(t)
	if err := u.Upload(ctx, "a.csv", []byte("a")); err != nil {
		t.Fatalf("Upload before outage: %v", err)
	}
	if err := env.srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	err := u.Upload(ctx, "b.csv", []byte("b"))
	if _, ok := sinkerr.Retryable(err); !ok {
		t.Fatalf("Upload during outage: err = %v, want retryable", err)
	}
	if err := env.srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := u.Upload(ctx, "b.csv", []byte("b")); err != nil {
		t.Fatalf("Upload after recovery: %v", err)
	}
	if got := readFile(t, filepath.Join(env.root, "upload", "b.csv")); got != "b" {
		t.Fatalf("content %q", got)
	}
}

func TestUploadRespectsContext(t *testing.T) {
	env := startSFTP(t, nil)
	u := newUploader(t, env.config())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := u.Upload(ctx, "c.csv", []byte("c"))
	if !errors.Is(err, context.Canceled) || sinkerr.Classify(err) != sinkerr.ClassUnknown {
		t.Fatalf("err = %v, want unclassified context.Canceled", err)
	}
	if err := u.Upload(ctxFor(t), "c.csv", []byte("c")); err != nil {
		t.Fatalf("Upload after a cancelled one: %v", err)
	}
}

func TestUploadRejectsBadNames(t *testing.T) {
	env := startSFTP(t, nil)
	u := newUploader(t, env.config())
	for _, name := range []string{"", "../x.csv", "a/b.csv", ".hidden.csv"} {
		if err := u.Upload(ctxFor(t), name, []byte("x")); !sinkerr.IsPermanent(err) {
			t.Fatalf("Upload(%q) err = %v, want permanent", name, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ok := sftpexport.Config{Addr: "h:22", User: "u", Password: "p", KnownHostsFile: kh}
	tests := []struct {
		name    string
		mod     func(*sftpexport.Config)
		wantErr string
	}{
		{name: "ok", mod: func(*sftpexport.Config) {}},
		{name: "no port", mod: func(c *sftpexport.Config) { c.Addr = "h" }, wantErr: `Addr="h": must be host:port`},
		{name: "no user", mod: func(c *sftpexport.Config) { c.User = "" }, wantErr: "User is empty"},
		{name: "no credentials", mod: func(c *sftpexport.Config) { c.Password = "" }, wantErr: "both empty"},
		{name: "both credentials", mod: func(c *sftpexport.Config) { c.KeyFile = "/k" }, wantErr: "both set"},
		{name: "no known_hosts", mod: func(c *sftpexport.Config) { c.KnownHostsFile = "" }, wantErr: "KnownHostsFile is empty"},
		{name: "missing known_hosts", mod: func(c *sftpexport.Config) { c.KnownHostsFile = "/nonexistent" }, wantErr: `KnownHostsFile="/nonexistent"`},
		{name: "bad format", mod: func(c *sftpexport.Config) { c.Format = "yaml" }, wantErr: `Format="yaml": must be csv, json or xml`},
		{name: "bad zone", mod: func(c *sftpexport.Config) { c.TimeZone = "Mars/Olympus" }, wantErr: "time zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			_, err := sftpexport.New(cfg, zerolog.Nop())
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New() err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}
