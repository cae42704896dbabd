package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energisme/energismetest"
	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enos/enostest"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
)

// TestAppRunsTheSinkContracts runs the program as main would (all
// listeners on 127.0.0.1:0) and passes the EnOS and Energisme contracts and
// an SFTP upload against it, then stops it cleanly.
func TestAppRunsTheSinkContracts(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{
		Base:          service.Base{ShutdownTimeout: 10 * time.Second},
		Addr:          "127.0.0.1:0",
		EnOSAccessKey: "ak", EnOSSecretKey: "sk", EnOSOrgID: "org", EnOSTokenTTL: 2 * time.Hour,
		EnergismeToken: "tok", EnergismeSource: "generic-sensors", EnergismePath: "/push",
		SFTPAddr: "127.0.0.1:0", SFTPRoot: filepath.Join(dir, "sftp"), SFTPUser: "energisme", SFTPPassword: "pw",
		SFTPHostKeyFile: filepath.Join(dir, "host_key"), SFTPKnownHostsFile: filepath.Join(dir, "known_hosts"),
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	base := "http://" + a.addr()

	resp, err := http.Get("http://" + a.opsAddr.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: HTTP %d", resp.StatusCode)
	}

	t.Run("EnOS contract", func(t *testing.T) {
		enostest.Run(t, func(t *testing.T) enostest.Target {
			a.stack.EnOS.Reset()
			return enostest.Target{
				Config:  enos.Config{APIMURL: base, APIURL: base, AccessKey: "ak", SecretKey: "sk", OrgID: "org"},
				Devices: []enos.Device{{ProductKey: "pk", DeviceKey: "dk"}},
				WaitPoints: func(ctx context.Context, n int) ([]enostest.ReceivedPoint, error) {
					if err := a.stack.EnOS.WaitPoints(ctx, n); err != nil {
						return nil, err
					}
					var out []enostest.ReceivedPoint
					for _, p := range a.stack.EnOS.Points() {
						out = append(out, enostest.ReceivedPoint{Device: enos.Device{AssetID: p.AssetID, ProductKey: p.ProductKey, DeviceKey: p.DeviceKey}, PointID: p.PointID, Value: p.Value, TimeMs: p.Time, Realtime: p.Realtime})
					}
					return out, nil
				},
			}
		})
	})

	t.Run("Energisme contract", func(t *testing.T) {
		energismetest.Run(t, func(t *testing.T) energismetest.Target {
			a.stack.Energisme.Reset()
			return energismetest.Target{
				Config:     energisme.Config{URL: base + "/push", Token: "tok"},
				DeviceType: "dt",
				WaitUplinks: func(ctx context.Context, n int) ([]energismetest.ReceivedUplink, error) {
					if err := a.stack.Energisme.WaitUplinks(ctx, n); err != nil {
						return nil, err
					}
					var out []energismetest.ReceivedUplink
					for _, u := range a.stack.Energisme.Uplinks() {
						out = append(out, energismetest.ReceivedUplink{Timestamp: u.Timestamp, DeviceID: u.DeviceID, Payload: u.Payload, DeviceType: u.DeviceType, Source: u.Source})
					}
					return out, nil
				},
			}
		})
	})

	t.Run("SFTP upload with the written known_hosts", func(t *testing.T) {
		_, port, err := net.SplitHostPort(a.stack.SFTP.Addr())
		if err != nil {
			t.Fatal(err)
		}
		u, err := sftpexport.New(sftpexport.Config{
			Addr: net.JoinHostPort("localhost", port), User: "energisme", Password: "pw",
			KnownHostsFile: cfg.SFTPKnownHostsFile,
		}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close(context.Background())
		uctx, ucancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer ucancel()
		if err := u.Upload(uctx, "f.csv", []byte("module,timestamp,value\n")); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(cfg.SFTPRoot, "f.csv")); err != nil || string(b) != "module,timestamp,value\n" {
			t.Fatalf("uploaded file: %q, %v", b, err)
		}
	})
}

func TestHostKeyIsKeptAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	first, err := loadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := loadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(first.PublicKey().Marshal()) != string(second.PublicKey().Marshal()) {
		t.Fatal("host key changed across loads")
	}
}
