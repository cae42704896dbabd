package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// environ is sink-sim's environment: the variables every service reads and
// its own.
type environ struct {
	config.Base
	Config
}

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := e.Config
	c.Base = e.Base.Service()
	return c
}

// Config is sink-sim's configuration. The emulators accept the credentials
// below; point the forwarders' ENOS_* and ENERGISME_* variables at them.
type Config struct {
	service.Base

	// Addr serves the EnOS token and integration endpoints, the Energisme
	// push endpoint and the /sim/ control API.
	Addr string `envconfig:"SINK_SIM_ADDR" default:":8090"`

	EnOSAccessKey string        `envconfig:"SINK_SIM_ENOS_ACCESS_KEY" default:"sim-access-key"`
	EnOSSecretKey string        `envconfig:"SINK_SIM_ENOS_SECRET_KEY" default:"sim-secret-key"`
	EnOSOrgID     string        `envconfig:"SINK_SIM_ENOS_ORG_ID"`
	EnOSTokenTTL  time.Duration `envconfig:"SINK_SIM_ENOS_TOKEN_TTL" default:"2h"`
	// EnOSKnownDevices, when set, is the only devices accepted:
	// productKey/deviceKey or asset:<assetId>, comma-separated.
	EnOSKnownDevices []string `envconfig:"SINK_SIM_ENOS_KNOWN_DEVICES"`

	EnergismeToken  string `envconfig:"SINK_SIM_ENERGISME_TOKEN" default:"sim-token"`
	EnergismeSource string `envconfig:"SINK_SIM_ENERGISME_SOURCE" default:"generic-sensors"`
	EnergismePath   string `envconfig:"SINK_SIM_ENERGISME_PATH" default:"/push"`

	// SFTPAddr is the SFTP listen address; empty disables the SFTP server.
	SFTPAddr     string `envconfig:"SINK_SIM_SFTP_ADDR" default:":2022"`
	SFTPRoot     string `envconfig:"SINK_SIM_SFTP_ROOT" default:".run/sink-sim/sftp"`
	SFTPUser     string `envconfig:"SINK_SIM_SFTP_USER" default:"energisme"`
	SFTPPassword string `envconfig:"SINK_SIM_SFTP_PASSWORD" default:"energisme"`
	// SFTPAuthorizedKeys is an authorized_keys file for SFTPUser.
	SFTPAuthorizedKeys string `envconfig:"SINK_SIM_SFTP_AUTHORIZED_KEYS"`
	// SFTPHostKeyFile holds the host key; it is generated there when
	// missing, so the key survives restarts.
	SFTPHostKeyFile string `envconfig:"SINK_SIM_SFTP_HOST_KEY_FILE" default:".run/sink-sim/ssh_host_ed25519_key"`
	// SFTPKnownHostsFile, when set, is written with a known_hosts line for
	// localhost and 127.0.0.1 at the SFTP port, for ENERGISME_SFTP_KNOWN_HOSTS.
	SFTPKnownHostsFile string `envconfig:"SINK_SIM_SFTP_KNOWN_HOSTS_FILE" default:".run/sink-sim/known_hosts"`
	// SFTPKnownHostsNames are the host names the known_hosts line is written
	// for: the names clients use to reach the server (e.g. the compose
	// service name).
	SFTPKnownHostsNames []string `envconfig:"SINK_SIM_SFTP_KNOWN_HOSTS_NAMES" default:"localhost,127.0.0.1"`
}

// Validate reports every invalid sink-sim variable.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("SINK_SIM_ADDR=%q: must be host:port, e.g. :8090", c.Addr))
	}
	if c.EnOSAccessKey == "" || c.EnOSSecretKey == "" {
		errs = append(errs, errors.New("SINK_SIM_ENOS_ACCESS_KEY and SINK_SIM_ENOS_SECRET_KEY must not be empty"))
	}
	if c.EnOSTokenTTL < time.Second {
		errs = append(errs, fmt.Errorf("SINK_SIM_ENOS_TOKEN_TTL=%s: must be at least 1s", c.EnOSTokenTTL))
	}
	if _, err := c.knownDevices(); err != nil {
		errs = append(errs, err)
	}
	if c.EnergismeToken == "" {
		errs = append(errs, errors.New("SINK_SIM_ENERGISME_TOKEN must not be empty"))
	}
	if !strings.HasPrefix(c.EnergismePath, "/") || strings.HasPrefix(c.EnergismePath, "/sim/") {
		errs = append(errs, fmt.Errorf("SINK_SIM_ENERGISME_PATH=%q: must start with / and not be under /sim/", c.EnergismePath))
	}
	if c.SFTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SFTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("SINK_SIM_SFTP_ADDR=%q: must be host:port, e.g. :2022, or empty to disable", c.SFTPAddr))
		}
		if c.SFTPRoot == "" || c.SFTPUser == "" {
			errs = append(errs, errors.New("SINK_SIM_SFTP_ROOT and SINK_SIM_SFTP_USER must not be empty when SINK_SIM_SFTP_ADDR is set"))
		}
		if c.SFTPPassword == "" && c.SFTPAuthorizedKeys == "" {
			errs = append(errs, errors.New("SINK_SIM_SFTP_PASSWORD and SINK_SIM_SFTP_AUTHORIZED_KEYS are both empty: set one"))
		}
	}
	return errors.Join(errs...)
}

func (c Config) knownDevices() ([]sinksim.EnOSDevice, error) {
	if len(c.EnOSKnownDevices) == 0 {
		return nil, nil
	}
	var out []sinksim.EnOSDevice
	for _, s := range c.EnOSKnownDevices {
		s = strings.TrimSpace(s)
		if id, ok := strings.CutPrefix(s, "asset:"); ok && id != "" {
			out = append(out, sinksim.EnOSDevice{AssetID: id})
			continue
		}
		pk, dk, ok := strings.Cut(s, "/")
		if !ok || pk == "" || dk == "" {
			return nil, fmt.Errorf("SINK_SIM_ENOS_KNOWN_DEVICES entry %q: must be productKey/deviceKey or asset:<assetId>", s)
		}
		out = append(out, sinksim.EnOSDevice{ProductKey: pk, DeviceKey: dk})
	}
	return out, nil
}
