package main

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

func validConfig() Config {
	return Config{
		Addr: ":8090", EnOSAccessKey: "a", EnOSSecretKey: "s", EnOSTokenTTL: time.Hour,
		EnergismeToken: "t", EnergismePath: "/push",
		SFTPAddr: ":2022", SFTPRoot: "/tmp/x", SFTPUser: "u", SFTPPassword: "p",
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{name: "ok", mod: func(*Config) {}},
		{name: "sftp disabled", mod: func(c *Config) { c.SFTPAddr, c.SFTPPassword = "", "" }},
		{name: "bad addr", mod: func(c *Config) { c.Addr = "8090" }, wantErr: "SINK_SIM_ADDR"},
		{name: "short ttl", mod: func(c *Config) { c.EnOSTokenTTL = time.Millisecond }, wantErr: "SINK_SIM_ENOS_TOKEN_TTL"},
		{name: "bad device", mod: func(c *Config) { c.EnOSKnownDevices = []string{"justone"} }, wantErr: "SINK_SIM_ENOS_KNOWN_DEVICES"},
		{name: "path under sim", mod: func(c *Config) { c.EnergismePath = "/sim/push" }, wantErr: "SINK_SIM_ENERGISME_PATH"},
		{name: "no sftp credentials", mod: func(c *Config) { c.SFTPPassword = "" }, wantErr: "SINK_SIM_SFTP_PASSWORD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mod(&c)
			err := c.Validate()
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestKnownDevices(t *testing.T) {
	c := validConfig()
	c.EnOSKnownDevices = []string{"pk/dk", " asset:a1 "}
	got, err := c.knownDevices()
	if err != nil {
		t.Fatal(err)
	}
	want := []sinksim.EnOSDevice{{ProductKey: "pk", DeviceKey: "dk"}, {AssetID: "a1"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("knownDevices = %+v, want %+v", got, want)
	}
}
