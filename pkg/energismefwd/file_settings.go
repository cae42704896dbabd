package energismefwd

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

// FileSettings are the file part's environment variables. The part is
// enabled when ENERGISME_SFTP_ADDR is set; only then are the others
// checked.
type FileSettings struct {
	SFTPAddr       string        `envconfig:"ENERGISME_SFTP_ADDR"`
	SFTPUser       string        `envconfig:"ENERGISME_SFTP_USER"`
	SFTPPassword   string        `envconfig:"ENERGISME_SFTP_PASSWORD" file:"true"`
	SFTPKeyFile    string        `envconfig:"ENERGISME_SFTP_KEY_FILE"`
	SFTPKnownHosts string        `envconfig:"ENERGISME_SFTP_KNOWN_HOSTS"`
	SFTPDir        string        `envconfig:"ENERGISME_SFTP_DIR"`
	Interval       time.Duration `envconfig:"ENERGISME_FILE_INTERVAL" default:"10m"`
	Format         string        `envconfig:"ENERGISME_FILE_FORMAT" default:"csv"`
	TimeZone       string        `envconfig:"ENERGISME_FILE_TZ" default:"UTC"`
	ModuleTemplate string        `envconfig:"ENERGISME_FILE_MODULE_TEMPLATE" default:"<did>.<point>"`
	Prefix         string        `envconfig:"ENERGISME_FILE_PREFIX" default:"telemetry"`
	MaxMessages    int           `envconfig:"ENERGISME_FILE_MAX_MESSAGES" default:"10000"`
}

// Enabled reports whether the file part is configured.
func (s FileSettings) Enabled() bool { return s.SFTPAddr != "" }

// Validate reports every problem of an enabled file part; the key and
// known_hosts files are read, nothing is dialled.
func (s FileSettings) Validate() error {
	if !s.Enabled() {
		return nil
	}
	var errs []error
	if _, err := time.LoadLocation(s.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_TZ=%q: not an IANA time zone, e.g. UTC or Europe/Paris", s.TimeZone))
	} else if _, err := sftpexport.ParseFormat(s.Format); err != nil {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_FORMAT=%q: must be csv, json or xml", s.Format))
	} else if u, err := sftpexport.New(s.uploaderConfig(), zerolog.Nop()); err != nil {
		errs = append(errs, err)
	} else {
		_ = u // never connected: nothing to close
	}
	if s.Interval < time.Second {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_INTERVAL=%s: must be at least 1s, e.g. 10m", s.Interval))
	}
	if _, err := sftpexport.ParseModuleTemplate(s.ModuleTemplate); err != nil {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_MODULE_TEMPLATE: %w", err))
	}
	if _, err := (sftpexport.Batch{Prefix: s.Prefix, Ranges: []sftpexport.OffsetRange{{}}}).FileName(sftpexport.FormatCSV); err != nil {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_PREFIX=%q: must be non-empty, without '/' and not start with '.'", s.Prefix))
	}
	if s.MaxMessages < 1 || s.MaxMessages > 1_000_000 {
		errs = append(errs, fmt.Errorf("ENERGISME_FILE_MAX_MESSAGES=%d: must be 1..1000000", s.MaxMessages))
	}
	return errors.Join(errs...)
}

func (s FileSettings) uploaderConfig() sftpexport.Config {
	format, _ := sftpexport.ParseFormat(s.Format)
	return sftpexport.Config{
		Addr: s.SFTPAddr, User: s.SFTPUser, Password: s.SFTPPassword, KeyFile: s.SFTPKeyFile,
		KnownHostsFile: s.SFTPKnownHosts, Dir: s.SFTPDir, Format: format, TimeZone: s.TimeZone,
	}
}

// NewFileExporter builds the SFTP uploader and the exporter using it. The
// caller closes the uploader after the exporter's runner returned. Each of
// opts may adjust the FileConfig built from the variables (a replay sets
// Bounded).
func (s FileSettings) NewFileExporter(codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer, opts ...func(*FileConfig)) (*FileExporter, *sftpexport.Uploader, error) {
	tmpl, err := sftpexport.ParseModuleTemplate(s.ModuleTemplate)
	if err != nil {
		return nil, nil, fmt.Errorf("ENERGISME_FILE_MODULE_TEMPLATE: %w", err)
	}
	up, err := sftpexport.New(s.uploaderConfig(), log)
	if err != nil {
		return nil, nil, err
	}
	fc := FileConfig{Interval: s.Interval, Prefix: s.Prefix, Module: &tmpl, MaxMessages: s.MaxMessages}
	for _, o := range opts {
		o(&fc)
	}
	fe, err := NewFileExporter(fc, up, codec, log, reg)
	if err != nil {
		return nil, nil, err
	}
	return fe, up, nil
}
