package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// deadLetter runs msgs through a live-style consume.Processor whose
// handler rejects every record with reasonOf's reason, so that dlq holds
// real dead letters.
func deadLetter(ctx context.Context, t *testing.T, ta *testApp, stage, dlq string, msgs []kafka.Message, reasonOf func(kafka.Message) string) {
	t.Helper()
	codec, _ := records.NewCodec()
	w, err := ta.cfg.Kafka.NewWriter(dlq)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	h := consume.HandlerFunc(func(ctx context.Context, msgs []kafka.Message) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			errs[i] = consume.Reject(reasonOf(m), errors.New("refused by the test sink"))
		}
		return errs
	})
	p, err := consume.NewProcessor(consume.ProcessorConfig{Stage: stage, DLQTopic: dlq}, h, w, codec, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	done, err := p.Process(ctx, msgs)
	if err != nil || slices.Contains(consume.Done(done), false) {
		t.Fatalf("dead-lettering: %v %v", done, err)
	}
}

// TestDLQRoutine lists, shows and redrives the dead letters of a sink
// whose mapping was fixed, then sends some back to their source topic.
func TestDLQRoutine(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	source := kafkatest.Topic(t, ta.brokers, 3)
	dlq := kafkatest.Topic(t, ta.brokers, 2)
	var msgs []kafka.Message
	for i := 0; i < 5; i++ {
		m := event(t, codec, i, "pk", "device_online", nil)
		m.Topic, m.Partition, m.Offset = source, i%3, int64(100+i)
		msgs = append(msgs, m)
	}
	deadLetter(ctx, t, ta, "fake", dlq, msgs, func(m kafka.Message) string {
		if records.Header(m, "event_id") < "ev-003" {
			return "no_mapping"
		}
		return "validation"
	})

	t.Run("list counts by reason", func(t *testing.T) {
		if code := ta.run(ctx, t, "dlq", "list", "--topic", dlq, "--since", "1h"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		rows := map[string]string{}
		for _, line := range strings.Split(ta.out.String(), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "fake" {
				rows[f[1]] = f[2]
			}
		}
		if rows["no_mapping"] != "3" || rows["validation"] != "2" {
			t.Errorf("counts %v, want no_mapping 3, validation 2", rows)
		}
	})

	t.Run("show decodes the dead letter and its record", func(t *testing.T) {
		if code := ta.run(ctx, t, "dlq", "show", "--topic", dlq, "--filter", "reason=validation"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		lines := strings.Split(strings.TrimSpace(ta.out.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2", len(lines))
		}
		for _, l := range lines {
			var r struct {
				Schema   string
				Value    struct{ Reason, Stage string }
				Original struct {
					EventID string `json:"event_id"`
				}
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("not JSON: %v: %s", err, l)
			}
			if r.Schema != "DeadLetter.v1" || r.Value.Reason != "validation" || r.Value.Stage != "fake" || !strings.HasPrefix(r.Original.EventID, "ev-00") {
				t.Errorf("line %s", l)
			}
		}
	})

	t.Run("redrive without execute shows the plan", func(t *testing.T) {
		sink := &fakeSink{}
		ta.useFakeSink(sink, source, dlq)
		if code := ta.run(ctx, t, "dlq", "redrive", "--topic", dlq); code != exitRefused {
			t.Fatalf("exit %d, want %d", code, exitRefused)
		}
		if len(sink.accepted()) != 0 || !strings.Contains(ta.errw.String(), "redrive 5 dead letters") {
			t.Errorf("plan run sent %d records or printed no plan", len(sink.accepted()))
		}
	})

	t.Run("redrive after the mapping fix delivers", func(t *testing.T) {
		sink := &fakeSink{} // accepts everything: the mapping is fixed
		ta.useFakeSink(sink, source, dlq)
		report := filepath.Join(t.TempDir(), "report.jsonl")
		if code := ta.run(ctx, t, "dlq", "redrive", "--topic", dlq, "--execute", "--report", report); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		got := sink.accepted()
		slices.Sort(got)
		if want := []string{"ev-000", "ev-001", "ev-002", "ev-003", "ev-004"}; !slices.Equal(got, want) {
			t.Fatalf("sink got %v, want %v", got, want)
		}
		results := readReport(t, report)
		if len(results) != 1 || results["sent"] != 5 {
			t.Errorf("report results %v, want 5 sent", results)
		}
		// Evidence stays: the DLQ still holds its five records.
		if code := ta.run(ctx, t, "dlq", "list", "--topic", dlq); code != exitOK || !strings.Contains(ta.out.String(), "TOTAL") || !strings.Contains(ta.out.String(), "  5") {
			t.Errorf("DLQ after redrive:\n%s", ta.out)
		}
	})

	t.Run("redrive to source", func(t *testing.T) {
		if code := ta.run(ctx, t, "dlq", "redrive", "--topic", dlq, "--to-source", "--filter", "reason=no_mapping", "--execute"); code != exitOK {
			t.Fatalf("exit %d", code)
		}
		back := kafkatest.ReadN(t, ta.brokers, source, 3, 30*time.Second)
		var ids []string
		for _, m := range back {
			var e records.SnotiEvent
			if err := codec.Unmarshal(m.Value, &e); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(records.Header(m, "redriven_from"), dlq+"/") || string(m.Key) != e.DID {
				t.Errorf("record %s: key %q, redriven_from %q", e.EventID, m.Key, records.Header(m, "redriven_from"))
			}
			ids = append(ids, e.EventID)
		}
		slices.Sort(ids)
		if want := []string{"ev-000", "ev-001", "ev-002"}; !slices.Equal(ids, want) {
			t.Errorf("source got %v, want %v", ids, want)
		}
	})
}

func readReport(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct{ Result string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out[l.Result]++
	}
	return out
}

const evCharger = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// TestRedecodeAfterCodecFix is the re-decode routine with the decoder's
// own handler: events of a product without a codec are dead-lettered by a
// replay into the telemetry sink; once the codec exists, a redrive decodes
// them; and a time-range replay decodes exactly its range.
func TestRedecodeAfterCodecFix(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Events = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.DecoderDLQ = kafkatest.Topic(t, ta.brokers, 1)
	codecs := t.TempDir()
	spec, err := os.ReadFile("../decoder/codecs/" + evCharger + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(codecs, evCharger+".json"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	ta.cfg.CodecsDir = codecs
	frame, _ := base64.StdEncoding.DecodeString("AAAAAxoAAJEEAxAFCQEGJwAAMDlLAQIDBAUGBwgCAA==")
	const newProduct = "0123456789abcdef0123456789abcdef"
	var msgs []kafka.Message
	for i := 0; i < 40; i++ {
		pk := evCharger
		if i >= 30 {
			pk = newProduct // no codec yet
		}
		msgs = append(msgs, event(t, codec, i, pk, "device_status_raw", frame))
	}
	produce(ctx, t, ta, ta.cfg.Topics.Events, msgs...)

	// Events 5..34: 25 decode, 5 are dead-lettered (no codec).
	from, to := t0.Add(5*time.Minute).Format(time.RFC3339), t0.Add(35*time.Minute).Format(time.RFC3339)
	if code := ta.run(ctx, t, "replay", "--sink", "telemetry", "--from", from, "--to", to); code != exitOK {
		t.Fatalf("replay: exit %d", code)
	}
	if !strings.Contains(ta.errw.String(), "sent 25, skipped 0, duplicates 0, dead-lettered 5") {
		t.Errorf("summary:\n%s", ta.errw)
	}
	tel := kafkatest.ReadN(t, ta.brokers, ta.cfg.Topics.Telemetry, 25, 30*time.Second)
	var ids []string
	for _, m := range tel {
		var d records.DeviceTelemetry
		if err := codec.Unmarshal(m.Value, &d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.EventID)
		values := map[string]any{}
		for _, p := range d.Points {
			values[p.Name] = p.Value
		}
		if values["voltage"] != 230.5 || values["mode"] != "manual" {
			t.Errorf("%s decoded to %v", d.EventID, values)
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("ev-%03d", i+5); id != want {
			t.Fatalf("telemetry ids %v: want ev-005..ev-029", ids)
		}
	}

	if code := ta.run(ctx, t, "dlq", "list", "--topic", ta.cfg.Topics.DecoderDLQ); code != exitOK || !strings.Contains(ta.out.String(), "no_codec") {
		t.Fatalf("dlq list: exit %d\n%s", code, ta.out)
	}

	// The codec fix: the new product gets its codec file.
	fixed := strings.Replace(string(spec), evCharger, newProduct, 1)
	if err := os.WriteFile(filepath.Join(codecs, newProduct+".json"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := ta.run(ctx, t, "dlq", "redrive", "--topic", ta.cfg.Topics.DecoderDLQ, "--execute"); code != exitOK {
		t.Fatalf("redrive: exit %d", code)
	}
	if !strings.Contains(ta.errw.String(), "sent 5") {
		t.Errorf("redrive summary:\n%s", ta.errw)
	}
	tel = kafkatest.ReadN(t, ta.brokers, ta.cfg.Topics.Telemetry, 30, 30*time.Second)
	n := 0
	for _, m := range tel {
		if records.Header(m, "product_key") == newProduct {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d telemetry records of the fixed product, want 5", n)
	}
}
