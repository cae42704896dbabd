package sftpexport_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// TestLoginWithOneOfSeveralHostKeys logs in to a server holding an ECDSA
// and an ed25519 host key (as an OpenSSH server does by default) with a
// known_hosts file holding only one of them. Go's default preference picks
// ECDSA, so without offering only the known key's algorithms the ed25519
// case fails with "key mismatch" (golang/go#49631).
func TestLoginWithOneOfSeveralHostKeys(t *testing.T) {
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ssh.NewSignerFromKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewSignerFromKey(ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		known, other ssh.Signer
	}{
		{name: "ed25519 known, ECDSA too", known: ed, other: ec},
		{name: "ECDSA known, ed25519 too", known: ec, other: ed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startSFTP(t, func(c *sinksim.SFTPConfig) {
				c.HostKey, c.ExtraHostKeys = tt.known, []ssh.Signer{tt.other}
			})
			// The host under its name and its address, as ssh-keyscan
			// writes it, and a comment line.
			kh := filepath.Join(t.TempDir(), "known_hosts")
			line := knownhosts.Line([]string{knownhosts.Normalize(env.srv.Addr())}, tt.known.PublicKey())
			other := knownhosts.Line([]string{"other.example:22"}, tt.other.PublicKey())
			if err := os.WriteFile(kh, []byte("# trusted\n"+other+"\n"+line+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := env.config()
			cfg.KnownHostsFile = kh
			if err := newUploader(t, cfg).Upload(ctxFor(t), "k.csv", []byte("x\n")); err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if got := readFile(t, filepath.Join(env.root, "upload", "k.csv")); got != "x\n" {
				t.Fatalf("content %q", got)
			}
		})
	}
}
