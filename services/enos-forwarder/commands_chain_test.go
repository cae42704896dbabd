package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
	"github.com/snotibridge/snotibridge/pkg/snotisim/simtest"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

// TestChainCommandsReachEnOS: a command produced to the commands topic is
// sent by the ingest (a v1 login, so through the Enterprise API) to a
// virtual charger, whose next status report — pushed by SNoti, ingested,
// decoded and forwarded — carries the written value at the EnOS emulator.
// Then 20 commands for one device while the ingest is killed with kill -9
// and restarted: each gets exactly one result, in order, none is lost, and
// a command is sent again only if the kill fell between its send and its
// result.
func TestChainCommandsReachEnOS(t *testing.T) {
	for _, path := range []string{"enterprise_api", "snoti"} {
		t.Run(path, func(t *testing.T) { testChainCommands(t, path) })
	}
}

func testChainCommands(t *testing.T, path string) {
	// No device_offline in the mix: the commanded devices stay online (a
	// command to an offline one fails, as on Gizwits; other tests cover it).
	fleet := snotisim.Fleet{Devices: 2, Rate: 20, Seed: 3,
		Mix: map[string]float64{"device_status_raw": 50, "device_status_kv": 40, "attr_alert": 5, "attr_fault": 5}}
	c := newChain(t, fleet)
	c.keepAlive = true
	if path == "snoti" {
		// A v2 product login with a subkey: the ingest reads the product's
		// queue and sends commands on the same connections.
		c.sim, c.caFile = simtest.New(t, snotisim.Config{
			Addr:     "127.0.0.1:0",
			Products: []snotisim.Product{{ProductKey: evChargerPK, AuthID: "auth", AuthSecret: "auth-secret", Subkeys: []string{"main"}}},
			Fleet:    fleet,
		})
		products, _ := json.Marshal([]map[string]any{{"product_key": evChargerPK, "auth_id": "auth", "auth_secret": "auth-secret", "subkey": "main", "events": snoti.Subscriptions()}})
		productsFile := filepath.Join(t.TempDir(), "products.json")
		if err := os.WriteFile(productsFile, products, 0o600); err != nil {
			t.Fatal(err)
		}
		c.ingestEnv = []string{"SNOTI_PROTOCOL=v2", "SNOTI_PRODUCTS_FILE=" + productsFile, "SNOTI_ENTERPRISE_ID=", "SNOTI_ENTERPRISE_SECRET="}
	}
	api, err := snotisim.NewEnterpriseAPI(snotisim.EnterpriseAPIConfig{EnterpriseID: chainEnterprise, EnterpriseSecret: chainSecret,
		Products: c.sim.EnterpriseProducts("prod-secret"), Devices: c.sim}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux) // loopback
	t.Cleanup(srv.Close)
	cmds, results, dlq := kafkatest.Topic(t, c.brokers, 3), kafkatest.Topic(t, c.brokers, 3), kafkatest.Topic(t, c.brokers, 1)
	c.ingestEnv = append(c.ingestEnv, "COMMANDS_ENABLED=true", "COMMANDS_PATH="+path, "GIZWITS_API_URL="+srv.URL,
		"GIZWITS_ENTERPRISE_ID="+chainEnterprise, "GIZWITS_ENTERPRISE_SECRET="+chainSecret,
		"GIZWITS_PRODUCT_SECRETS="+evChargerPK+":prod-secret", "TOPIC_COMMANDS="+cmds, "TOPIC_COMMAND_RESULTS="+results,
		"TOPIC_COMMANDS_DLQ="+dlq, "COMMANDS_GROUP_ID=commands-"+c.suffix, "COMMANDS_CONCURRENCY=4")
	c.start(t)
	testkit.Eventually(t, 3*time.Minute, "the fleet's pushes ACKed", func() bool { return c.sim.Summary().Acks >= 20 })

	const dev = "simdev0000000000000000"
	send := func(id string, limit int64) {
		t.Helper()
		m, err := c.codec.Message("", []byte(dev), &records.DeviceCommand{CommandID: id, ProductKey: evChargerPK, DID: dev,
			Kind: records.CommandWriteAttrs, Attrs: []records.DataPoint{{Name: "current_limit", Value: limit}}, RequestedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		w := &kafka.Writer{Addr: kafka.TCP(c.brokers...), Topic: cmds, RequiredAcks: kafka.RequireAll, Balancer: &kafka.Murmur2Balancer{}}
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for { // a topic created a moment ago may not be known to every node yet
			err := w.WriteMessages(ctx, m)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	resultsOf := func() map[string][]records.CommandResult {
		out := map[string][]records.CommandResult{}
		for p := range 3 {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.brokers, Topic: results, Partition: p, MaxWait: 100 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					break
				}
				var res records.CommandResult
				if err := c.codec.Unmarshal(m.Value, &res); err == nil {
					out[res.CommandID] = append(out[res.CommandID], res)
				}
			}
			cancel()
			_ = r.Close()
		}
		return out
	}
	currentLimitAtEnOS := func(since time.Time) (last float64, ok bool) {
		for _, p := range c.enos.Points() {
			if p.DeviceKey == dev && p.PointID == "current_limit" && p.Time >= since.UnixMilli() {
				if v, isNum := p.Value.(float64); isNum {
					last, ok = v, true
				}
			}
		}
		return last, ok
	}

	// One command, its effect at EnOS.
	at := time.Now().Add(-time.Second)
	send("first", 7)
	testkit.Eventually(t, 2*time.Minute, "the first command's result", func() bool { return len(resultsOf()["first"]) == 1 })
	if r := resultsOf()["first"][0]; r.Status != records.CommandSucceeded || r.Path != path {
		t.Fatalf("first: %+v", r)
	}
	testkit.Eventually(t, 2*time.Minute, "current_limit 7 at the EnOS emulator", func() bool {
		v, ok := currentLimitAtEnOS(at)
		return ok && v == 7
	})

	// 20 commands, the ingest killed in the middle.
	for i := range 20 {
		send(fmt.Sprintf("c%02d", i), int64(10+i))
	}
	testkit.Eventually(t, 2*time.Minute, "a few results before the kill", func() bool { return len(resultsOf()) >= 4 })
	if err := syscall.Kill(c.pid("ingest"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 4*time.Minute, "a result for every command", func() bool { return len(resultsOf()) == 21 })
	got := resultsOf()
	for id, rs := range got {
		if len(rs) != 1 || rs[0].Status != records.CommandSucceeded {
			t.Errorf("command %s: %d results %+v, want one succeeded", id, len(rs), rs)
		}
	}
	var applied []int64
	if path == "snoti" {
		// remote_control_v2_req writes, as the simulator's ledger counts them.
		n := int(c.sim.Summary().RemoteWrites)
		resent := n - 21
		if resent < 0 || resent > 1 {
			t.Errorf("%d remote writes for 21 commands: want each once, at most one sent again", n)
		}
		testkit.Eventually(t, 2*time.Minute, "the last value (29) at the EnOS emulator", func() bool {
			v, ok := currentLimitAtEnOS(at)
			return ok && v == 29
		})
		t.Logf("21 commands, 21 results, %d remote writes; ingest exits %d", n, c.exits["ingest"])
		return
	}
	for _, ctl := range api.Controls() {
		if ctl.DID != dev {
			continue
		}
		var body struct {
			Attrs map[string]int64 `json:"attrs"`
		}
		_ = json.Unmarshal(ctl.Body, &body)
		applied = append(applied, body.Attrs["current_limit"])
	}
	resent := len(applied) - 21
	if resent < 0 || resent > 1 {
		t.Errorf("%d controls for 21 commands: want each once, and at most one sent again (the one the kill interrupted): %v", len(applied), applied)
	}
	for i := 1; i < len(applied); i++ {
		if applied[i] < applied[i-1] {
			t.Errorf("controls out of order: %v", applied)
			break
		}
	}
	testkit.Eventually(t, 2*time.Minute, "the last value (29) at the EnOS emulator", func() bool {
		v, ok := currentLimitAtEnOS(at)
		return ok && v == 29
	})
	t.Logf("21 commands, 21 results, %d controls (%d sent again after kill -9); ingest exits %d", len(applied), resent, c.exits["ingest"])
}
