package sinkenv

import (
	"errors"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
)

// EnOS is the ENOS_* variables of the EnOS forwarder and of bridgectl's
// "enos" sink. Its fields are enosfwd.Config's, in the same order.
type EnOS struct {
	APIMURL           string        `envconfig:"ENOS_APIM_URL"`
	APIURL            string        `envconfig:"ENOS_API_URL"`
	AccessKey         string        `envconfig:"ENOS_ACCESS_KEY"`
	SecretKey         string        `envconfig:"ENOS_SECRET_KEY" file:"true"`
	OrgID             string        `envconfig:"ENOS_ORG_ID"`
	MappingFile       string        `envconfig:"ENOS_MAPPING_FILE"`
	AllowInsecureHTTP bool          `envconfig:"ENOS_ALLOW_INSECURE_HTTP"`
	BackfillAge       time.Duration `envconfig:"ENOS_BACKFILL_AGE" default:"1h"`
	RequestTimeout    time.Duration `envconfig:"ENOS_REQUEST_TIMEOUT" default:"30s"`
	RefreshAhead      time.Duration `envconfig:"ENOS_TOKEN_REFRESH_AHEAD" default:"10m"`
	MaxMessageBytes   int           `envconfig:"ENOS_MAX_MESSAGE_BYTES" default:"500000"`
}

// Config returns the typed configuration.
func (e EnOS) Config() enosfwd.Config { return enosfwd.Config(e) }

// Validate checks every ENOS_* variable and the mapping file.
func (e EnOS) Validate() error {
	c := e.Config()
	return config.Rename(c.Validate(), e)
}

// LoadEnOS reads and validates the ENOS_* variables, every problem at once.
func LoadEnOS() (enosfwd.Config, error) {
	var e EnOS
	if err := config.Load(&e); err != nil {
		return enosfwd.Config{}, err
	}
	return e.Config(), nil
}

// EnergismePush is the variables of the Energisme forwarder's push part and
// of bridgectl's "energisme" sink. Its fields are energismefwd.PushSettings',
// in the same order. The part is enabled when ENERGISME_URL is set.
type EnergismePush struct {
	URL               string        `envconfig:"ENERGISME_URL"`
	Token             string        `envconfig:"ENERGISME_TOKEN" file:"true"`
	AllowInsecureHTTP bool          `envconfig:"ENERGISME_ALLOW_INSECURE_HTTP"`
	Source            string        `envconfig:"ENERGISME_SOURCE" default:"generic-sensors"`
	MappingFile       string        `envconfig:"ENERGISME_MAPPING_FILE"`
	Unmapped          string        `envconfig:"ENERGISME_UNMAPPED" default:"dlq"`
	Concurrency       int           `envconfig:"ENERGISME_CONCURRENCY" default:"64"`
	RequestTimeout    time.Duration `envconfig:"ENERGISME_REQUEST_TIMEOUT" default:"30s"`
}

// Config returns the typed settings.
func (e EnergismePush) Config() energismefwd.PushSettings { return energismefwd.PushSettings(e) }

// Validate reports every problem of an enabled push part.
func (e EnergismePush) Validate() error { return config.Rename(e.Config().Validate(), e) }

// LoadEnergismePush reads and validates the push part's variables, as the
// forwarder does; ENERGISME_URL is required.
func LoadEnergismePush() (energismefwd.PushSettings, error) {
	var e EnergismePush
	if err := config.Load(&e); err != nil {
		return energismefwd.PushSettings{}, err
	}
	if !e.Config().Enabled() {
		return energismefwd.PushSettings{}, errEnergismeURL
	}
	return e.Config(), nil
}

var errEnergismeURL = errors.New("ENERGISME_URL is empty: set the Energisme push URL (and ENERGISME_TOKEN, ENERGISME_MAPPING_FILE)")

// EnergismeFiles is the variables of the Energisme forwarder's file part
// and of bridgectl's "energisme-files" sink. Its fields are
// energismefwd.FileSettings', in the same order. The part is enabled when
// ENERGISME_SFTP_ADDR is set.
type EnergismeFiles struct {
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

// Config returns the typed settings.
func (f EnergismeFiles) Config() energismefwd.FileSettings { return energismefwd.FileSettings(f) }

// Validate reports every problem of an enabled file part.
func (f EnergismeFiles) Validate() error { return config.Rename(f.Config().Validate(), f) }

// LoadEnergismeFiles reads and validates the file part's variables, as the
// forwarder does; ENERGISME_SFTP_ADDR is required.
func LoadEnergismeFiles() (energismefwd.FileSettings, error) {
	var f EnergismeFiles
	if err := config.Load(&f); err != nil {
		return energismefwd.FileSettings{}, err
	}
	if !f.Config().Enabled() {
		return energismefwd.FileSettings{}, errEnergismeSFTP
	}
	return f.Config(), nil
}

var errEnergismeSFTP = errors.New("ENERGISME_SFTP_ADDR is empty: set the SFTP server (and ENERGISME_SFTP_USER, ENERGISME_SFTP_PASSWORD or ENERGISME_SFTP_KEY_FILE, ENERGISME_SFTP_KNOWN_HOSTS)")
