package sftpexport

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestHostKeyAlgorithms(t *testing.T) {
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _ := ssh.NewPublicKey(&rsaPriv.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edKey, _ := ssh.NewPublicKey(edPub)
	line := func(marker, host string, k ssh.PublicKey) string {
		return strings.TrimSpace(marker + " " + knownhosts.Line([]string{host}, k))
	}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 22}
	tests := []struct {
		name  string
		lines []string
		addr  string
		want  []string // nil: Go's defaults
		cert  bool     // want the certificate algorithms too
	}{
		{name: "rsa", lines: []string{line("", "sftp.example", rsaKey)}, addr: "sftp.example:22",
			want: []string{ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA}},
		{name: "rsa and ed25519, other port", lines: []string{line("", "sftp.example:2022", edKey), line("", "sftp.example:2022", rsaKey), line("", "other.example", edKey)},
			addr: "sftp.example:2022", want: []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSA}},
		{name: "unknown host", lines: []string{line("", "other.example", edKey)}, addr: "sftp.example:22"},
		{name: "certificate authority", lines: []string{line("@cert-authority", "*.example", edKey)}, addr: "sftp.example:22", cert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(file, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			check, err := knownhosts.New(file)
			if err != nil {
				t.Fatal(err)
			}
			p, err := newHostKeyPinner(file, check)
			if err != nil {
				t.Fatal(err)
			}
			got := p.algorithms(tt.addr, remote)
			if tt.cert {
				if !slices.Contains(got, ssh.CertAlgoED25519v01) || !slices.Contains(got, ssh.CertAlgoECDSA256v01) || slices.Contains(got, ssh.KeyAlgoED25519) {
					t.Fatalf("algorithms = %v, want the certificate algorithms only", got)
				}
				return
			}
			// Order aside, the set must match.
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("algorithms = %v, want %v", got, tt.want)
			}
		})
	}
}
