package sftpexport

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyPinner works out which host-key algorithms to offer a server:
// those of the keys the known_hosts file holds for it. Go offers its whole
// list otherwise, ECDSA before ed25519, so a server holding both keys signs
// with ECDSA, and a client that knows only the server's ed25519 key fails
// with "key mismatch" although the server is the right one
// (golang/go#49631; OpenSSH's client orders by known_hosts for the same
// reason).
type hostKeyPinner struct {
	check ssh.HostKeyCallback
	// caLines are the line numbers of @cert-authority entries: a host
	// trusted through a CA presents a certificate, of any key type.
	caLines map[int]bool
	probe   ssh.PublicKey
}

func newHostKeyPinner(file string, check ssh.HostKeyCallback) (*hostKeyPinner, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := &hostKeyPinner{check: check, caLines: map[int]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "@cert-authority") {
			p.caLines[n] = true
		}
	}
	// A key no known_hosts holds: checking it returns the keys known for
	// the host in the error.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a probe key: %w", err)
	}
	if p.probe, err = ssh.NewPublicKey(pub); err != nil {
		return nil, fmt.Errorf("generating a probe key: %w", err)
	}
	return p, nil
}

// algorithms returns the algorithms for the server at addr (as dialled),
// reached at remote, in Go's order of preference; nil (Go's defaults) when
// the file holds no key for it, so the handshake fails as an unknown host.
func (p *hostKeyPinner) algorithms(addr string, remote net.Addr) []string {
	var ke *knownhosts.KeyError
	if err := p.check(addr, remote, p.probe); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	supported := ssh.SupportedAlgorithms().HostKeys
	want := map[string]bool{}
	for _, k := range ke.Want {
		if p.caLines[k.Line] {
			for _, a := range supported {
				if strings.Contains(a, "-cert-v01@openssh.com") {
					want[a] = true
				}
			}
			continue
		}
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			want[ssh.KeyAlgoRSASHA512], want[ssh.KeyAlgoRSASHA256], want[ssh.KeyAlgoRSA] = true, true, true
		default:
			want[t] = true
		}
	}
	var out []string
	for _, a := range supported {
		if want[a] {
			out = append(out, a)
			delete(want, a)
		}
	}
	// Types Go lists only as insecure (ssh-rsa with SHA-1, say) keep
	// their place after the rest; Go refuses those it cannot verify.
	rest := make([]string, 0, len(want))
	for a := range want {
		rest = append(rest, a)
	}
	slices.Sort(rest)
	return append(out, rest...)
}
