package snotisim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// TestEnterpriseAPIDrivesTheFleet: the Enterprise API emulator serves the
// product's definition and applies a control call to the same virtual
// device SNoti pushes from; an offline device is refused with 5305.
func TestEnterpriseAPIDrivesTheFleet(t *testing.T) {
	srv := startSim(t, snotisim.Config{Fleet: snotisim.Fleet{Devices: 2, MaxEvents: 2, Seed: 1}})
	c := dial(t, srv)
	c.send(fmt.Sprintf(benchLogin, 100, `["device.online","device.offline","device.status.kv"]`))
	c.line()
	for range 2 { // each device comes online
		c.ack(c.push())
	}
	if _, err := srv.Publish(snotisim.Event{ProductKey: benchPK, EventType: "device_offline", DID: "simdev0000000000000001"}); err != nil {
		t.Fatal(err)
	}
	c.ack(c.push())

	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{EnterpriseID: "ent", EnterpriseSecret: "es",
		Products: srv.EnterpriseProducts("ps"), Devices: srv}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	hs := httptest.NewTLSServer(mux)
	defer hs.Close()
	client, err := gizwitsapi.New(gizwitsapi.Config{URL: hs.URL, EnterpriseID: "ent", EnterpriseSecret: "es",
		ProductSecrets: map[string]string{benchPK: "ps"}, HTTPClient: hs.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	def, err := client.Datapoint(ctx, benchPK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gizwits.Parse(def); err != nil {
		t.Fatalf("the served definition does not load: %v", err)
	}
	if err := client.Control(ctx, benchPK, "simdev0000000000000000", gizwitsapi.Control{Attrs: map[string]any{"current_limit": 12, "mode": "scheduled"}}); err != nil {
		t.Fatalf("control of an online device: %v", err)
	}
	status := c.push()
	var kv map[string]any
	_ = json.Unmarshal(status.Data, &kv)
	if status.EventType != "device_status_kv" || status.DID != "simdev0000000000000000" || kv["current_limit"] != 12.0 || kv["mode"] != "scheduled" {
		t.Fatalf("next push %s %s %s: want the written values", status.EventType, status.DID, status.Data)
	}
	err = client.Control(ctx, benchPK, "simdev0000000000000001", gizwitsapi.Control{Attrs: map[string]any{"current_limit": 12}})
	if gizwitsapi.CodeOf(err) != gizwitsapi.CodeDeviceOffline {
		t.Fatalf("offline device: %v, want error_code 5305", err)
	}
	err = client.Control(ctx, benchPK, "simdev0000000000000000", gizwitsapi.Control{Attrs: map[string]any{"voltage": 1}})
	if gizwitsapi.CodeOf(err) != gizwitsapi.CodeAttrInvalid {
		t.Fatalf("read-only attr: %v, want error_code 5401", err)
	}
}
