package sftpexport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// ErrHostKey marks a server whose host key is not in the known_hosts file
// (unknown or changed). It is wrapped in a retryable error: the files are
// not at fault, but nothing is uploaded until an operator fixes it.
var ErrHostKey = errors.New("SFTP host key not trusted")

// Uploader uploads files to an SFTP server over one SSH connection, opened
// on first use and reopened after a failure. Upload calls are serialised;
// it is safe for concurrent use.
type Uploader struct {
	cfg    Config
	loc    *time.Location
	log    zerolog.Logger
	sshCfg *ssh.ClientConfig
	pinner *hostKeyPinner
	connMu sync.Mutex // serialises uploads and guards conn
	conn   *connection
	closed bool
}

type connection struct {
	ssh   *ssh.Client
	sftp  *sftp.Client
	posix bool
}

func (c *connection) close() {
	_ = c.sftp.Close()
	_ = c.ssh.Close()
}

// New validates cfg, reads the key and known_hosts files and returns an
// Uploader. It does not connect.
func New(cfg Config, log zerolog.Logger) (*Uploader, error) {
	cfg.applyDefaults()
	loc, err := cfg.validate()
	if err != nil {
		return nil, err // field errors, joined: a service renames them
	}
	hostKeys, err := knownhosts.New(cfg.KnownHostsFile)
	if err != nil {
		return nil, fielderr.Wrap("KnownHostsFile", cfg.KnownHostsFile, fmt.Errorf("reading: %w", err))
	}
	pinner, err := newHostKeyPinner(cfg.KnownHostsFile, hostKeys)
	if err != nil {
		return nil, fielderr.Wrap("KnownHostsFile", cfg.KnownHostsFile, fmt.Errorf("reading: %w", err))
	}
	var auth ssh.AuthMethod
	if cfg.KeyFile != "" {
		pem, err := os.ReadFile(cfg.KeyFile)
		if err != nil {
			return nil, fielderr.Wrap("KeyFile", cfg.KeyFile, fmt.Errorf("reading: %w", err))
		}
		signer, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			return nil, fielderr.Wrap("KeyFile", cfg.KeyFile, fmt.Errorf("parsing: %w", err))
		}
		auth = ssh.PublicKeys(signer)
	} else {
		auth = ssh.Password(cfg.Password)
	}
	return &Uploader{
		cfg:    cfg,
		loc:    loc,
		pinner: pinner,
		log:    log.With().Str("component", "sftpexport").Str("addr", cfg.Addr).Logger(),
		sshCfg: &ssh.ClientConfig{
			User: cfg.User,
			Auth: []ssh.AuthMethod{auth},
			HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
				if err := hostKeys(host, remote, key); err != nil {
					return fmt.Errorf("%w: %w", ErrHostKey, err)
				}
				return nil
			},
			Timeout: cfg.DialTimeout,
		},
	}, nil
}

// Export renders the batch in the configured format and time zone and
// uploads it under b.FileName. It returns the file name. See Upload for the
// contract.
func (u *Uploader) Export(ctx context.Context, b Batch) (string, error) {
	name, err := b.FileName(u.cfg.Format)
	if err != nil {
		return "", sinkerr.NewPermanent(fmt.Errorf("naming export file: %w", err))
	}
	data, err := u.cfg.Format.Render(b.Rows, u.loc)
	if err != nil {
		return "", sinkerr.NewPermanent(fmt.Errorf("rendering %s: %w", name, err))
	}
	return name, u.Upload(ctx, name, data)
}

// Upload writes data to Dir/name so that the file appears whole: it is
// written to a temporary name (".<name>.tmp") and then renamed over any
// existing file of that name (posix-rename@openssh.com when the server
// supports it, else remove then rename). When Upload returns nil the file is
// complete on the server. It blocks until done or ctx ends; ctx ending
// closes the connection to abort the transfer. Errors are retryable (the
// server, network or credentials are at fault), or a ctx error.
func (u *Uploader) Upload(ctx context.Context, name string, data []byte) error {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return sinkerr.NewPermanent(fmt.Errorf("file name %q: must be a base name not starting with '.'", name))
	}
	u.connMu.Lock()
	defer u.connMu.Unlock()
	if u.closed {
		return errors.New("uploading: uploader is closed")
	}
	c, err := u.connect(ctx)
	if err != nil {
		return u.fail(ctx, fmt.Errorf("connecting to SFTP server %s: %w", u.cfg.Addr, err))
	}
	stop := context.AfterFunc(ctx, c.close)
	defer stop()

	final := path.Join(u.cfg.Dir, name)
	tmp := path.Join(u.cfg.Dir, "."+name+".tmp")
	if err := write(c.sftp, tmp, data); err != nil {
		return u.fail(ctx, fmt.Errorf("writing %s: %w", tmp, err))
	}
	if err := rename(c, tmp, final); err != nil {
		return u.fail(ctx, fmt.Errorf("renaming %s to %s: %w", tmp, final, err))
	}
	u.log.Debug().Str("file", final).Int("bytes", len(data)).Msg("uploaded file")
	return nil
}

// fail drops the connection (the next Upload reconnects) and classifies
// err. Called with connMu held.
func (u *Uploader) fail(ctx context.Context, err error) error {
	if u.conn != nil {
		u.conn.close()
		u.conn = nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	u.log.Warn().Err(err).Msg("SFTP upload failed")
	return sinkerr.NewRetryable(err, 0)
}

// connect returns the open connection or dials one. Called with connMu held.
func (u *Uploader) connect(ctx context.Context) (*connection, error) {
	if u.conn != nil {
		return u.conn, nil
	}
	dialer := net.Dialer{Timeout: u.cfg.DialTimeout}
	tcp, err := dialer.DialContext(ctx, "tcp", u.cfg.Addr)
	if err != nil {
		return nil, err
	}
	// The handshake does not take a ctx: closing the socket aborts it.
	stop := context.AfterFunc(ctx, func() { _ = tcp.Close() })
	defer stop()
	if u.cfg.DialTimeout > 0 {
		_ = tcp.SetDeadline(time.Now().Add(u.cfg.DialTimeout))
	}
	sshCfg := *u.sshCfg
	sshCfg.HostKeyAlgorithms = u.pinner.algorithms(u.cfg.Addr, tcp.RemoteAddr())
	sc, chans, reqs, err := ssh.NewClientConn(tcp, u.cfg.Addr, &sshCfg)
	if err != nil {
		_ = tcp.Close()
		return nil, err
	}
	_ = tcp.SetDeadline(time.Time{})
	client := ssh.NewClient(sc, chans, reqs)
	sf, err := sftp.NewClient(client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("starting SFTP session: %w", err)
	}
	_, posix := sf.HasExtension("posix-rename@openssh.com")
	u.conn = &connection{ssh: client, sftp: sf, posix: posix}
	return u.conn, nil
}

func write(c *sftp.Client, name string, data []byte) error {
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// rename moves tmp over final, replacing final if it exists.
func rename(c *connection, tmp, final string) error {
	if c.posix {
		err := c.sftp.PosixRename(tmp, final)
		var se *sftp.StatusError
		if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxOpUnsupported {
			return err
		}
		c.posix = false
	}
	// Plain SFTP rename refuses an existing target. A crash between the
	// remove and the rename leaves no file, but the offsets are not yet
	// committed, so the retry uploads it again.
	if _, err := c.sftp.Lstat(final); err == nil {
		if err := c.sftp.Remove(final); err != nil {
			return fmt.Errorf("removing the previous %s: %w", final, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking for a previous %s: %w", final, err)
	}
	return c.sftp.Rename(tmp, final)
}

// Close closes the connection. It is idempotent; later Uploads fail.
func (u *Uploader) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		u.connMu.Lock()
		defer u.connMu.Unlock()
		u.closed = true
		if u.conn != nil {
			u.conn.close()
			u.conn = nil
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing SFTP uploader: %w", ctx.Err())
	}
}
