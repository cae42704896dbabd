package schemaregistry_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/registrytest"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
)

// TestMain stops the shared broker, if the tests started one; the registry
// is killed with the test binary.
func TestMain(m *testing.M) { kafkatest.Main(m) }

var t0 = time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)

func newCodec(t *testing.T) *records.Codec {
	t.Helper()
	c, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// brokers is the broker of make test (KAFKA_BROKERS) or one shared by the
// tests of this binary.
func brokers(t *testing.T) []string {
	t.Helper()
	return kafkatest.Brokers(t)
}

func sample(i int) *records.DeviceTelemetry {
	return &records.DeviceTelemetry{
		EventID: fmt.Sprintf("ev-%d", i), ProductKey: "pk-ev", DID: fmt.Sprintf("did-%d", i), MAC: "m1",
		Time: t0.Add(time.Duration(i) * time.Second), ReceivedAt: t0, Source: "device_status_raw", Codec: "standard", Kind: "status_report",
		Points: []records.DataPoint{{Name: "voltage", Value: 230.5 + float64(i)}, {Name: "state", Value: "charging"}},
	}
}

// confluentDecode is a Confluent wire-format decoder of the test's own,
// sharing no code with the pipeline's: magic byte 0, big-endian schema id,
// the schema fetched from the registry's REST API by id, the body decoded
// with it.
func confluentDecode(t *testing.T, url string, value []byte) (int, map[string]any) {
	t.Helper()
	if len(value) < 5 || value[0] != 0 {
		t.Fatalf("value % x… is not in the Confluent wire format", value[:min(len(value), 10)])
	}
	id := int(binary.BigEndian.Uint32(value[1:5]))
	resp, err := http.Get(fmt.Sprintf("%s/schemas/ids/%d", url, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET schema id %d: %d %v", id, resp.StatusCode, err)
	}
	codec, err := goavro.NewCodec(body.Schema)
	if err != nil {
		t.Fatalf("schema id %d: %v", id, err)
	}
	native, rest, err := codec.NativeFromBinary(value[5:])
	if err != nil || len(rest) != 0 {
		t.Fatalf("decoding with schema id %d: %v (%d bytes left)", id, err, len(rest))
	}
	return id, native.(map[string]any)
}

// latestID asks the registry for the id of the subject's latest version.
func latestID(t *testing.T, url, subject string) int {
	t.Helper()
	resp, err := http.Get(url + "/subjects/" + subject + "/versions/latest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ID int `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET latest of %s: %d %v", subject, resp.StatusCode, err)
	}
	return v.ID
}

// postSchema registers a schema directly, as another producer would.
func postSchema(t *testing.T, url, subject, schema string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"schema": schema})
	resp, err := http.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registering under %s: %d", subject, resp.StatusCode)
	}
}

// TestWriteThroughRegistry registers DeviceTelemetry under the topic's
// subject, writes records through Kafka, and reads them back three ways:
// with the test's own Confluent decoder, with a reading codec that has
// never seen the id (it fetches it), and a single-object-encoded record
// with the same codec. A codec without a registry refuses framed records
// with a message naming the variable.
func TestWriteThroughRegistry(t *testing.T) {
	url := registrytest.URL(t)
	bs := brokers(t)
	topic := kafkatest.Topic(t, bs, 1)
	ctx := context.Background()
	cfg := schemaregistry.Config{URL: url, Timeout: 10 * time.Second}

	writer, err := schemaregistry.Setup(ctx, cfg, newCodec(t), []schemaregistry.Write{{Topic: topic, Record: "DeviceTelemetry"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	id := latestID(t, url, topic+"-value")
	w := newWriter(t, bs, topic)
	var msgs []kafka.Message
	for i := range 3 {
		m, err := writer.Message(topic, []byte(fmt.Sprint(i)), sample(i))
		if err != nil {
			t.Fatal(err)
		}
		m.Topic = "" // the writer names it
		msgs = append(msgs, m)
	}
	soe, err := newCodec(t).Message(topic, []byte("soe"), sample(9))
	if err != nil {
		t.Fatal(err)
	}
	soe.Topic = ""
	if err := w.WriteMessages(ctx, append(msgs, soe)...); err != nil {
		t.Fatal(err)
	}
	got := kafkatest.ReadN(t, bs, topic, 4, time.Minute)

	reader, err := schemaregistry.Setup(ctx, cfg, newCodec(t), nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		i := 9
		if string(m.Key) != "soe" {
			gotID, native := confluentDecode(t, url, m.Value)
			if gotID != id {
				t.Errorf("record framed with schema id %d, the subject's latest is %d", gotID, id)
			}
			if _, err := fmt.Sscan(string(m.Key), &i); err != nil {
				t.Fatalf("key %q: %v", m.Key, err)
			}
			if native["did"] != sample(i).DID || native["event_id"] != sample(i).EventID {
				t.Errorf("Confluent decoder read %v, want did %s", native, sample(i).DID)
			}
			var plain records.DeviceTelemetry
			err := newCodec(t).Unmarshal(m.Value, &plain)
			if err == nil || !strings.Contains(err.Error(), "SCHEMA_REGISTRY_URL") || !strings.Contains(err.Error(), fmt.Sprint(id)) {
				t.Errorf("codec without a registry on a framed record: %v, want an error naming SCHEMA_REGISTRY_URL and id %d", err, id)
			}
		} else if m.Value[0] != 0xC3 {
			t.Errorf("the single-object record starts % x", m.Value[:2])
		}
		var rt records.DeviceTelemetry
		if err := reader.Unmarshal(m.Value, &rt); err != nil {
			t.Fatalf("key %s: %v", m.Key, err)
		}
		want := sample(i)
		if rt.DID != want.DID || rt.EventID != want.EventID || !rt.Time.Equal(want.Time) || len(rt.Points) != 2 || rt.Points[0].Value != want.Points[0].Value {
			t.Errorf("key %s: read %+v, want %+v", m.Key, rt, *want)
		}
	}
}

// TestForwarderConsumesFramedRecords feeds registry-framed records, as
// read from Kafka, to the EnOS forwarder's handler built with a
// registry-aware codec: each becomes a measurepoint post.
func TestForwarderConsumesFramedRecords(t *testing.T) {
	url := registrytest.URL(t)
	bs := brokers(t)
	topic := kafkatest.Topic(t, bs, 1)
	ctx := context.Background()
	cfg := schemaregistry.Config{URL: url, Timeout: 10 * time.Second}
	writer, err := schemaregistry.Setup(ctx, cfg, newCodec(t), []schemaregistry.Write{{Topic: topic, Record: "DeviceTelemetry"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, bs, topic)
	for i := range 3 {
		m, err := writer.Message(topic, []byte(fmt.Sprint(i)), sample(i))
		if err != nil {
			t.Fatal(err)
		}
		m.Topic = ""
		if err := w.WriteMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got := kafkatest.ReadN(t, bs, topic, 3, time.Minute)
	for _, m := range got {
		if m.Value[0] != 0 {
			t.Fatalf("record % x… is not registry-framed", m.Value[:5])
		}
	}

	reader, err := schemaregistry.Setup(ctx, cfg, newCodec(t), nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := enosfwd.ParseMapping("test.json", []byte(`{"products": {"pk-ev": {"enos_product_key": "EV", "points": {"voltage": "Voltage"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	poster := &poster{}
	h, err := enosfwd.NewHandler(enosfwd.Config{BackfillAge: time.Hour}, poster,
		enosfwd.Options{Mapping: mapping, Codec: reader, Now: func() time.Time { return t0.Add(time.Minute) }}, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range h.Handle(ctx, got) {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	poster.mu.Lock()
	defer poster.mu.Unlock()
	if len(poster.points) != 3 {
		t.Fatalf("forwarder posted %d measurepoints, want 3: %+v", len(poster.points), poster.points)
	}
	seen := map[float64]bool{}
	for _, p := range poster.points {
		raw, _ := p.Value("Voltage")
		v, _ := raw.(float64)
		seen[v] = true
	}
	for i := range 3 {
		if !seen[230.5+float64(i)] {
			t.Errorf("no measurepoint Voltage=%v among %+v", 230.5+float64(i), poster.points)
		}
	}
}

// TestIncompatibleSchemaRefusedAtStart: a subject whose latest version our
// current schema cannot read the data of (BACKWARD, the harness's rule)
// makes Setup fail with an IncompatibleError naming the subject; a start
// against a subject that already has our schema gets the same id again.
func TestIncompatibleSchemaRefusedAtStart(t *testing.T) {
	url := registrytest.URL(t)
	ctx := context.Background()
	cfg := schemaregistry.Config{URL: url, Timeout: 10 * time.Second}
	topic := fmt.Sprintf("compat-%d", time.Now().UnixNano())
	subject := topic + "-value"
	postSchema(t, url, subject, `{"type":"record","name":"DeviceTelemetry","namespace":"io.snotibridge","fields":[{"name":"other","type":"int"}]}`)

	_, err := schemaregistry.Setup(ctx, cfg, newCodec(t), []schemaregistry.Write{{Topic: topic, Record: "DeviceTelemetry"}}, zerolog.Nop())
	var inc *schemaregistry.IncompatibleError
	if !errors.As(err, &inc) {
		t.Fatalf("Setup against an incompatible subject: %v, want an IncompatibleError", err)
	}
	if inc.Subject != subject || !strings.Contains(err.Error(), `"`+subject+`"`) || !strings.Contains(err.Error(), "DeviceTelemetry.v1") {
		t.Errorf("error %q: want it to name subject %q and DeviceTelemetry.v1", err, subject)
	}

	ok := fmt.Sprintf("again-%d", time.Now().UnixNano())
	var ids []int
	for range 2 {
		c, err := schemaregistry.Setup(ctx, cfg, newCodec(t), []schemaregistry.Write{{Topic: ok, Record: "DeviceTelemetry"}}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.Message(ok, nil, sample(1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, int(binary.BigEndian.Uint32(m.Value[1:5])))
	}
	if ids[0] != ids[1] || ids[0] != latestID(t, url, ok+"-value") {
		t.Errorf("ids of two starts %v, subject's latest %d: want one id", ids, latestID(t, url, ok+"-value"))
	}
}

// newWriter is a writer with a transport of its own: kafka-go's shared
// default transport caches metadata for seconds, so a topic created since
// its last refresh would be unknown to it.
func newWriter(t *testing.T, bs []string, topic string) *kafka.Writer {
	t.Helper()
	w, err := kafkaconf.Config{Brokers: bs}.NewWriter(topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

type poster struct {
	mu     sync.Mutex
	points []enos.MeasurepointEntry
}

func (p *poster) PostMeasurepoints(_ context.Context, e []enos.MeasurepointEntry, _ ...enos.SendOption) enos.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.points = append(p.points, e...)
	return enos.Result{Errs: make([]error, len(e))}
}

func (p *poster) PostEvents(_ context.Context, e []enos.EventEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}

func (p *poster) PostAttributes(_ context.Context, e []enos.AttributeEntry, _ ...enos.SendOption) enos.Result {
	return enos.Result{Errs: make([]error, len(e))}
}
