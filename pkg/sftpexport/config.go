package sftpexport

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// DefaultDialTimeout bounds the TCP connect and SSH handshake.
const DefaultDialTimeout = 15 * time.Second

// Config configures an Uploader. The fields map onto the ENERGISME_SFTP_*
// and ENERGISME_FILE_* variables of the Energisme forwarder.
type Config struct {
	// Addr is host:port of the SFTP server (ENERGISME_SFTP_ADDR).
	Addr string
	// User is the login (ENERGISME_SFTP_USER).
	User string
	// Password (ENERGISME_SFTP_PASSWORD) or KeyFile, a private key in
	// OpenSSH or PEM form (ENERGISME_SFTP_KEY_FILE): exactly one is set.
	Password string
	KeyFile  string
	// KnownHostsFile is an OpenSSH known_hosts file holding the server's
	// host key (ENERGISME_SFTP_KNOWN_HOSTS); a server whose key is not in it
	// is refused.
	KnownHostsFile string
	// Dir is the remote directory files are written to (ENERGISME_SFTP_DIR,
	// default: the login directory).
	Dir string
	// Format is the file format (ENERGISME_FILE_FORMAT, default csv).
	Format Format
	// TimeZone is the IANA name of the row timestamps' zone (default UTC).
	TimeZone string
	// DialTimeout bounds connecting and the SSH handshake (default 15 s).
	DialTimeout time.Duration
}

func (c *Config) applyDefaults() {
	if c.Format == "" {
		c.Format = FormatCSV
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
}

// validate checks cfg and returns the time zone.
func (c *Config) validate() (*time.Location, error) {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fielderr.Bad("Addr", c.Addr, "must be host:port"))
	}
	if c.User == "" {
		errs = append(errs, fielderr.New("User", "is empty: set the SFTP login"))
	}
	switch {
	case c.Password == "" && c.KeyFile == "":
		errs = append(errs, fielderr.New("Password", "and KeyFile are both empty: set one"))
	case c.Password != "" && c.KeyFile != "":
		errs = append(errs, fielderr.New("Password", "and KeyFile are both set: set only one"))
	}
	if c.KnownHostsFile == "" {
		errs = append(errs, fielderr.New("KnownHostsFile", "is empty: set a known_hosts file holding the server's host key"))
	} else if _, err := os.Stat(c.KnownHostsFile); err != nil {
		errs = append(errs, fielderr.Wrap("KnownHostsFile", c.KnownHostsFile, err))
	}
	if _, err := ParseFormat(string(c.Format)); err != nil {
		errs = append(errs, fielderr.Bad("Format", string(c.Format), "must be csv, json or xml"))
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		errs = append(errs, fielderr.Bad("TimeZone", c.TimeZone, "not an IANA time zone, e.g. UTC or Europe/Paris"))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fielderr.Bad("DialTimeout", c.DialTimeout, "must not be negative"))
	}
	return loc, errors.Join(errs...)
}
