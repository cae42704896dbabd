package main

import (
	"strings"
	"testing"
	"time"

	"github.com/snotibridge/snotibridge/pkg/command"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

func TestCommandPathsPerProduct(t *testing.T) {
	base := Commands{Enabled: true, GroupID: "g", Topic: "c", ResultsTopic: "r", DLQTopic: "d", Concurrency: 4, DedupeWindow: time.Hour,
		Timeout: time.Second, APIURL: "https://enterpriseapi.example", EnterpriseID: "e", EnterpriseSecret: "s"}
	tests := []struct {
		name        string
		protocol    string
		path        string
		secrets     map[string]string
		wantDefault string            // path name of the default, "" for none
		wantPaths   map[string]string // product → path name
	}{
		{name: "v2: logged-in products by SNoti, the others by the Enterprise API", protocol: snoti.ProtocolV2,
			secrets: map[string]string{"pkA": "x", "pkB": "y"}, wantDefault: command.PathSNoti, wantPaths: map[string]string{"pkB": command.PathEnterpriseAPI}},
		{name: "v2 without secrets", protocol: snoti.ProtocolV2, wantDefault: command.PathSNoti, wantPaths: map[string]string{}},
		{name: "v2, every product by the Enterprise API", protocol: snoti.ProtocolV2, path: command.PathEnterpriseAPI,
			secrets: map[string]string{"pkA": "x"}, wantDefault: command.PathEnterpriseAPI},
		{name: "v1", protocol: snoti.ProtocolV1, secrets: map[string]string{"pkA": "x"}, wantDefault: command.PathEnterpriseAPI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Config: snoti.Config{Protocol: tt.protocol, Products: []snoti.Product{{ProductKey: "pkA"}}}, Commands: base}
			cfg.Commands.Path, cfg.Commands.ProductSecrets = tt.path, tt.secrets
			paths, def, err := commandPaths(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if name := nameOf(def); name != tt.wantDefault {
				t.Errorf("default path %q, want %q", name, tt.wantDefault)
			}
			got := map[string]string{}
			for pk, p := range paths {
				got[pk] = p.Name()
			}
			if len(got) != len(tt.wantPaths) {
				t.Fatalf("paths %v, want %v", got, tt.wantPaths)
			}
			for pk, want := range tt.wantPaths {
				if got[pk] != want {
					t.Errorf("%s: %q, want %q", pk, got[pk], want)
				}
			}
		})
	}
}

func nameOf(p command.Path) string {
	if p == nil {
		return ""
	}
	return p.Name()
}

func TestCommandsConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		edit     func(c *Commands)
		wantErr  string
	}{
		{name: "snoti path on v1", protocol: snoti.ProtocolV1, edit: func(c *Commands) { c.Path = command.PathSNoti }, wantErr: "COMMANDS_PATH=snoti needs SNOTI_PROTOCOL=v2"},
		{name: "enterprise path without secrets", protocol: snoti.ProtocolV2, edit: func(c *Commands) { c.Path = command.PathEnterpriseAPI }, wantErr: "needs GIZWITS_PRODUCT_SECRETS"},
		{name: "secrets without the enterprise", protocol: snoti.ProtocolV2, edit: func(c *Commands) { c.ProductSecrets = map[string]string{"pk": "x"} }, wantErr: "GIZWITS_PRODUCT_SECRETS needs GIZWITS_ENTERPRISE_ID"},
		{name: "unknown path", protocol: snoti.ProtocolV2, edit: func(c *Commands) { c.Path = "mqtt" }, wantErr: `COMMANDS_PATH="mqtt": must be snoti or enterprise_api`},
		{name: "concurrency", protocol: snoti.ProtocolV2, edit: func(c *Commands) { c.Concurrency = 0 }, wantErr: "COMMANDS_CONCURRENCY=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Commands{Enabled: true, GroupID: "g", Topic: "c", ResultsTopic: "r", DLQTopic: "d", Concurrency: 4, DedupeWindow: time.Hour, Timeout: time.Second}
			tt.edit(&c)
			var msgs []string
			for _, err := range c.validate(tt.protocol, "", "") {
				msgs = append(msgs, err.Error())
			}
			if !strings.Contains(strings.Join(msgs, "; "), tt.wantErr) {
				t.Errorf("errors %q, want one containing %q", msgs, tt.wantErr)
			}
		})
	}
	// v1 credentials stand in for the Enterprise API's.
	c := Commands{Enabled: true, GroupID: "g", Topic: "c", ResultsTopic: "r", DLQTopic: "d", Concurrency: 4, DedupeWindow: time.Hour, Timeout: time.Second,
		ProductSecrets: map[string]string{"pk": "x"}}
	if errs := c.validate(snoti.ProtocolV1, "ent", "sec"); len(errs) != 0 || c.EnterpriseID != "ent" || c.EnterpriseSecret != "sec" {
		t.Errorf("v1 defaults: %v, %+v", errs, c)
	}
}
