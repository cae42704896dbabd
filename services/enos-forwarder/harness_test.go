package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/service"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/testkit"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

const (
	accessKey = "ak-test"
	secretKey = "sk-test"
	orgID     = "org-test"
)

// harness is one EnOS emulator, one mapping file and a fresh set of topics
// and consumer group.
type harness struct {
	kc                  kafkaconf.Config
	telemetry, events   string
	dlq, group          string
	sim                 *sinksim.EnOS
	url                 string
	mappingFile         string
	codec               *records.Codec
	batchSize           int
	concurrency         int // ENOS_CONCURRENCY (newHarness: the default, 4)
	backfillAge         time.Duration
	maxMessageBytes     int // ENOS_MAX_MESSAGE_BYTES; 0: the default
	telemetryW, eventsW *kafka.Writer
	// logs, when set, receives the in-process forwarder's logs (info and
	// above) besides the test log.
	logs io.Writer
}

func newHarness(t testing.TB, mapping string, simCfg sinksim.EnOSConfig) *harness {
	t.Helper()
	brokers := kafkatest.Brokers(t)
	simCfg.Credentials = map[string]string{accessKey: secretKey}
	simCfg.OrgID = orgID
	sim, err := sinksim.NewEnOS(simCfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	mf := filepath.Join(t.TempDir(), "mapping.json")
	if err := os.WriteFile(mf, []byte(mapping), 0o600); err != nil {
		t.Fatal(err)
	}
	codec, err := records.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		kc:        kafkaconf.Config{Brokers: brokers},
		telemetry: kafkatest.Topic(t, brokers, 3), events: kafkatest.Topic(t, brokers, 3), dlq: kafkatest.Topic(t, brokers, 1),
		sim: sim, url: srv.URL, mappingFile: mf, codec: codec, batchSize: 200, concurrency: 4, backfillAge: time.Hour,
	}
	h.group = "enos-" + h.telemetry
	if h.telemetryW, err = h.kc.NewWriter(h.telemetry); err != nil {
		t.Fatal(err)
	}
	if h.eventsW, err = h.kc.NewWriter(h.events); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.telemetryW.Close(); _ = h.eventsW.Close() })
	return h
}

func (h *harness) config() Config {
	cfg := Config{
		Base: service.Base{Kafka: h.kc, ShutdownTimeout: 20 * time.Second},
		EnOS: enosfwd.Config{
			APIMURL: h.url, APIURL: h.url, AccessKey: accessKey, SecretKey: secretKey, OrgID: orgID,
			MappingFile: h.mappingFile, BackfillAge: h.backfillAge, RequestTimeout: 5 * time.Second,
			MaxMessageBytes: h.maxMessageBytes,
		},
		TopicTelemetry: h.telemetry, TopicEvents: h.events, TopicDLQ: h.dlq, GroupID: h.group, BatchSize: h.batchSize,
		Concurrency: h.concurrency,
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level, cfg.Log.Format = "warn", "json"
	return cfg
}

func (h *harness) env() []string {
	return append(os.Environ(),
		"KAFKA_BROKERS="+h.kc.Brokers[0], "ENOS_APIM_URL="+h.url, "ENOS_API_URL="+h.url,
		"ENOS_ACCESS_KEY="+accessKey, "ENOS_SECRET_KEY="+secretKey, "ENOS_ORG_ID="+orgID,
		"ENOS_MAPPING_FILE="+h.mappingFile, "ENOS_BACKFILL_AGE="+h.backfillAge.String(), "ENOS_REQUEST_TIMEOUT=5s",
		"TOPIC_TELEMETRY="+h.telemetry, "TOPIC_EVENTS="+h.events, "TOPIC_DLQ="+h.dlq, "GROUP_ID="+h.group,
		fmt.Sprintf("ENOS_BATCH_SIZE=%d", h.batchSize), fmt.Sprintf("ENOS_CONCURRENCY=%d", h.concurrency), "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=10s",
	)
}

// startInProcess runs the forwarder until the returned stop is called.
func (h *harness) startInProcess(t testing.TB) (stop func()) {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	if h.logs != nil {
		log = zerolog.New(zerolog.MultiLevelWriter(zerolog.NewTestWriter(t), h.logs)).Level(zerolog.InfoLevel)
	}
	cfg := h.config()
	return testkit.RunInProcess(t, "forwarder", func(ctx context.Context) error { return run(ctx, cfg, log) })
}

func (h *harness) startProcess(t *testing.T) *exec.Cmd {
	t.Helper()
	return testkit.Start(t, testkit.Build(t, "."), h.env())
}

// produce writes records to their topics with acks=all, keyed by did.
func (h *harness) produce(t testing.TB, recs ...records.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tel, ev []kafka.Message
	for _, r := range recs {
		switch r := r.(type) {
		case *records.DeviceTelemetry:
			m, err := h.codec.Message("", []byte(r.DID), r)
			if err != nil {
				t.Fatal(err)
			}
			tel = append(tel, m)
		case *records.SnotiEvent:
			m, err := h.codec.Message("", []byte(r.DID), r)
			if err != nil {
				t.Fatal(err)
			}
			ev = append(ev, m)
		default:
			t.Fatalf("cannot produce a %T", r)
		}
	}
	if len(tel) > 0 {
		if err := h.telemetryW.WriteMessages(ctx, tel...); err != nil {
			t.Fatalf("writing telemetry: %v", err)
		}
	}
	if len(ev) > 0 {
		if err := h.eventsW.WriteMessages(ctx, ev...); err != nil {
			t.Fatalf("writing events: %v", err)
		}
	}
}

// topicCount is the number of records in topic (the sum of its partitions'
// log end offsets; the test topics are fresh and never compacted).
func (h *harness) topicCount(t testing.TB, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := h.kc.Client()
	if err != nil {
		t.Fatal(err)
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 {
		t.Fatalf("reading metadata of %s: %v", topic, err)
	}
	var req []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		req = append(req, kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		t.Fatalf("listing offsets of %s: %v", topic, err)
	}
	var n int64
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("listing offsets of %s/%d: %v", topic, p.Partition, p.Error)
		}
		n += p.LastOffset
	}
	return n
}

// deadLetters reads n dead letters from the DLQ topic.
func (h *harness) deadLetters(t testing.TB, n int) []records.DeadLetter {
	t.Helper()
	msgs := kafkatest.ReadN(t, h.kc.Brokers, h.dlq, n, time.Minute)
	out := make([]records.DeadLetter, len(msgs))
	for i, m := range msgs {
		if err := h.codec.Unmarshal(m.Value, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// waitCommitted waits until the group has committed every record of the
// two input topics, so what the forwarder will ever do with them is done.
func (h *harness) waitCommitted(t testing.TB, timeout time.Duration) {
	t.Helper()
	client, err := h.kc.Client()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{h.telemetry: h.topicCount(t, h.telemetry), h.events: h.topicCount(t, h.events)}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: h.group, Topics: map[string][]int{h.telemetry: {0, 1, 2}, h.events: {0, 1, 2}}})
		if err == nil {
			done := true
			for topic, n := range want {
				var got int64
				for _, p := range resp.Topics[topic] {
					got += max(p.CommittedOffset, 0)
				}
				done = done && got >= n
			}
			if done {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s did not commit every record within %s (last error %v)", h.group, timeout, err)
		case <-tick.C:
		}
	}
}
