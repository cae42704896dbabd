package energismefwd

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

// FileSettings configure the file part (the forwarder reads them from the
// ENERGISME_SFTP_* and ENERGISME_FILE_* variables). The part is enabled
// when SFTPAddr is set; only then are the others checked. Validation
// errors name the fields, the uploader's renamed to these.
type FileSettings struct {
	SFTPAddr       string
	SFTPUser       string
	SFTPPassword   string
	SFTPKeyFile    string
	SFTPKnownHosts string
	SFTPDir        string
	Interval       time.Duration
	Format         string
	TimeZone       string
	ModuleTemplate string
	Prefix         string
	MaxMessages    int
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
		errs = append(errs, fielderr.Bad("TimeZone", s.TimeZone, "not an IANA time zone, e.g. UTC or Europe/Paris"))
	} else if _, err := sftpexport.ParseFormat(s.Format); err != nil {
		errs = append(errs, fielderr.Bad("Format", s.Format, "must be csv, json or xml"))
	} else if u, err := sftpexport.New(s.uploaderConfig(), zerolog.Nop()); err != nil {
		errs = append(errs, fielderr.Rename(err, uploaderFields))
	} else {
		_ = u // never connected: nothing to close
	}
	if s.Interval < time.Second {
		errs = append(errs, fielderr.Bad("Interval", s.Interval, "must be at least 1s, e.g. 10m"))
	}
	if _, err := sftpexport.ParseModuleTemplate(s.ModuleTemplate); err != nil {
		errs = append(errs, &fielderr.Error{Field: "ModuleTemplate", Err: err})
	}
	if _, err := (sftpexport.Batch{Prefix: s.Prefix, Ranges: []sftpexport.OffsetRange{{}}}).FileName(sftpexport.FormatCSV); err != nil {
		errs = append(errs, fielderr.Bad("Prefix", s.Prefix, "must be non-empty, without '/' and not start with '.'"))
	}
	if s.MaxMessages < 1 || s.MaxMessages > 1_000_000 {
		errs = append(errs, fielderr.Bad("MaxMessages", s.MaxMessages, "must be 1..1000000"))
	}
	return errors.Join(errs...)
}

// uploaderFields names the fields of sftpexport.Config as FileSettings
// names them.
var uploaderFields = map[string]string{
	"Addr": "SFTPAddr", "User": "SFTPUser", "Password": "SFTPPassword", "KeyFile": "SFTPKeyFile",
	"KnownHostsFile": "SFTPKnownHosts", "Dir": "SFTPDir",
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
		return nil, nil, &fielderr.Error{Field: "ModuleTemplate", Err: err}
	}
	up, err := sftpexport.New(s.uploaderConfig(), log)
	if err != nil {
		return nil, nil, fielderr.Rename(err, uploaderFields)
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
