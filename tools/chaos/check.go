package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/energisme"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
	"github.com/snotibridge/snotibridge/pkg/snotisim"
)

// getJSON reads one JSON answer of a simulator.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (s *stack) ledger(ctx context.Context) (snotisim.Summary, error) {
	var l struct {
		Summary snotisim.Summary `json:"summary"`
	}
	err := getJSON(ctx, s.snotiURL("/ledger"), &l)
	return l.Summary, err
}

// entries is the whole ledger, page by page.
func (s *stack) entries(ctx context.Context) ([]snotisim.Entry, error) {
	var out []snotisim.Entry
	var since uint64
	for {
		var page []snotisim.Entry
		if err := getJSON(ctx, s.snotiURL(fmt.Sprintf("/ledger/entries?since=%d", since)), &page); err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return out, nil
		}
		out = append(out, page...)
		since = page[len(page)-1].Message
	}
}

// sinkList reads one of sink-sim's listings, page by page.
func sinkList[T any](ctx context.Context, s *stack, path string, seq func(T) int64) ([]T, error) {
	var out []T
	var after int64
	for {
		var page []T
		if err := getJSON(ctx, s.sinkURL(fmt.Sprintf("%s?after=%d&limit=20000", path, after)), &page); err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return out, nil
		}
		out = append(out, page...)
		after = seq(page[len(page)-1])
	}
}

// readTopic calls fn with every record of topic, partition by partition,
// up to the end offsets of when it starts.
func (s *stack) readTopic(ctx context.Context, topic string, fn func(kafka.Message) error) error {
	ends, err := endOffsets(ctx, s.kafkaClient(), topic)
	if err != nil {
		return err
	}
	for p, end := range ends {
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: strings.Split(s.brokers, ","), Topic: topic, Partition: p,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 250 * time.Millisecond})
		err := func() error {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return fmt.Errorf("reading %s/%d: %w", topic, p, err)
				}
				if err := fn(m); err != nil {
					return err
				}
				if m.Offset >= end-1 {
					return nil
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// identity counts one sink's items by identity against what Kafka says
// it should hold.
type identity struct {
	expected   int // distinct identities
	received   int // items
	missing    int
	duplicates int // items beyond the first of their identity
	unexpected int // items Kafka holds no source of
}

func compare(expected map[string]bool, got map[string]int) identity {
	id := identity{expected: len(expected)}
	for k, n := range got {
		id.received += n
		id.duplicates += n - 1
		if !expected[k] {
			id.unexpected++
		}
	}
	for k := range expected {
		if got[k] == 0 {
			id.missing++
		}
	}
	return id
}

// result is everything the table shows.
type result struct {
	summary         snotisim.Summary
	acked           int
	kafkaRecords    int
	kafkaUnique     int
	ackedNotInKafka int
	ackedEarly      int // ACKed before Kafka had the record
	unacked         int // published, never ACKed
	enos, uplinks   identity
	rows            identity
	files           int
	maxLag          map[string]int64
	drain           time.Duration
	drained         bool
	faults          []string
	faultCounts     map[string]int
	faultTotal      int
	faultErrors     []string
	unplanned       map[string]int
	invalid         int // lines in snoti.invalid.v1
}

var fileName = regexp.MustCompile(`^telemetry-p(\d+)-(\d+)-(\d+)\.csv$`)

// verify reads the ledger, both topics and every sink and compares them.
func (s *stack) verify(ctx context.Context, r *result) error {
	codec, err := records.NewCodec()
	if err != nil {
		return err
	}
	if r.summary, err = s.ledger(ctx); err != nil {
		return err
	}
	entries, err := s.entries(ctx)
	if err != nil {
		return err
	}
	if uint64(len(entries)) != r.summary.Messages {
		return fmt.Errorf("the ledger holds %d of %d messages (SNOTI_SIM_LEDGER_SIZE)", len(entries), r.summary.Messages)
	}

	// The events topic: each sim_seq's first record time; Energisme's
	// expected uplinks.
	emap, err := energismefwd.LoadMapping(filepath.Join(s.cfg.root, "services", "energisme-forwarder", "mapping.example.json"))
	if err != nil {
		return err
	}
	firstAt := map[uint64]time.Time{}
	wantUplinks := map[string]bool{}
	err = s.readTopic(ctx, topicEvents, func(m kafka.Message) error {
		var e records.SnotiEvent
		if err := codec.Unmarshal(m.Value, &e); err != nil {
			return fmt.Errorf("%s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
		}
		r.kafkaRecords++
		var v struct {
			Seq uint64 `json:"sim_seq"`
		}
		if err := json.Unmarshal([]byte(e.RawJSON), &v); err != nil || v.Seq == 0 {
			return fmt.Errorf("%s/%d@%d: no sim_seq in %.200s", m.Topic, m.Partition, m.Offset, e.RawJSON)
		}
		if t, ok := firstAt[v.Seq]; !ok || m.Time.Before(t) {
			firstAt[v.Seq] = m.Time
		}
		if e.EventType == energismefwd.EventTypeRaw && len(e.Raw) > 0 {
			t, err := emap.Resolve(e.ProductKey, e.DID, e.MAC)
			if err != nil {
				return fmt.Errorf("energisme mapping of %s/%s: %w", e.ProductKey, e.DID, err)
			}
			wantUplinks[t.DeviceID+"|"+e.CreatedAt.UTC().Format(energisme.TimestampLayout)] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.kafkaUnique = len(firstAt)
	for _, e := range entries {
		if e.Acked.IsZero() {
			r.unacked++
			continue
		}
		r.acked++
		at, ok := firstAt[e.Seq]
		switch {
		case !ok:
			r.ackedNotInKafka++
			r.ackedEarly++
		case e.Acked.UnixMilli() < at.UnixMilli(): // Kafka's timestamps are milliseconds
			r.ackedEarly++
		}
	}

	// The telemetry topic: EnOS's expected points, the files' rows.
	enosMap, err := enosfwd.LoadMapping(filepath.Join(s.cfg.root, "services", "enos-forwarder", "mapping.example.json"))
	if err != nil {
		return err
	}
	module, err := sftpexport.ParseModuleTemplate(sftpexport.DefaultModuleTemplate)
	if err != nil {
		return err
	}
	wantPoints := map[string]bool{}
	rowsAt := map[int]map[int64][]string{} // partition → offset → "module|timestamp" of its rows
	err = s.readTopic(ctx, topicTelemetry, func(m kafka.Message) error {
		var t records.DeviceTelemetry
		if err := codec.Unmarshal(m.Value, &t); err != nil {
			return fmt.Errorf("%s/%d@%d: %w", m.Topic, m.Partition, m.Offset, err)
		}
		p, ok := enosMap.Lookup(t.ProductKey)
		if !ok {
			return fmt.Errorf("no EnOS mapping for %s", t.ProductKey)
		}
		dev, err := p.Device(t.DID, t.MAC)
		if err != nil {
			return err
		}
		key := dev.ProductKey + "/" + dev.DeviceKey
		if dev.AssetID != "" {
			key = "asset:" + dev.AssetID
		}
		for id := range p.Measurepoints(t.Points) {
			wantPoints[key+"|"+id+"|"+strconv.FormatInt(t.Time.UnixMilli(), 10)] = true
		}
		if rowsAt[m.Partition] == nil {
			rowsAt[m.Partition] = map[int64][]string{}
		}
		rows := make([]string, len(t.Points))
		for i, dp := range t.Points {
			rows[i] = module.Render(sftpexport.ModuleFields{ProductKey: t.ProductKey, DID: t.DID, MAC: t.MAC, Point: dp.Name}) + "|" +
				t.Time.UTC().Format(sftpexport.TimestampLayout)
		}
		rowsAt[m.Partition][m.Offset] = rows
		return nil
	})
	if err != nil {
		return err
	}

	// EnOS.
	points, err := sinkList(ctx, s, "/sim/enos/points", func(p sinksim.EnOSPoint) int64 { return p.Seq })
	if err != nil {
		return err
	}
	var es sinksim.EnOSStats
	if err := getJSON(ctx, s.sinkURL("/sim/enos/stats"), &es); err != nil {
		return err
	}
	if es.Points != len(points) {
		return fmt.Errorf("sink-sim kept %d of the %d EnOS points it received (sinksim.DefaultMaxStored): a shorter run or a lower rate", len(points), es.Points)
	}
	got := map[string]int{}
	for _, p := range points {
		key := p.ProductKey + "/" + p.DeviceKey
		if p.AssetID != "" {
			key = "asset:" + p.AssetID
		}
		got[key+"|"+p.PointID+"|"+strconv.FormatInt(p.Time, 10)]++
	}
	r.enos = compare(wantPoints, got)

	// Energisme.
	uplinks, err := sinkList(ctx, s, "/sim/energisme/uplinks", func(u sinksim.EnergismeUplink) int64 { return u.Seq })
	if err != nil {
		return err
	}
	var ns sinksim.EnergismeStats
	if err := getJSON(ctx, s.sinkURL("/sim/energisme/stats"), &ns); err != nil {
		return err
	}
	if ns.Accepted != len(uplinks) {
		return fmt.Errorf("sink-sim kept %d of the %d uplinks it accepted (sinksim.DefaultMaxStored)", len(uplinks), ns.Accepted)
	}
	got = map[string]int{}
	for _, u := range uplinks {
		got[u.DeviceID+"|"+u.Timestamp]++
	}
	r.uplinks = compare(wantUplinks, got)

	// SFTP files: each row is named by the offset of the record it came
	// from, walking the file's records in order.
	wantRows := map[string]bool{}
	for p, offs := range rowsAt {
		for off, rows := range offs {
			for _, row := range rows {
				wantRows[fmt.Sprintf("p%d@%d|%s", p, off, row)] = true
			}
		}
	}
	got = map[string]int{}
	unexpected := 0
	err = filepath.WalkDir(s.plan.SFTPRoot(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		mm := fileName.FindStringSubmatch(d.Name())
		if mm == nil {
			return nil // an upload under way, or not ours
		}
		r.files++
		p, _ := strconv.Atoi(mm[1])
		first, _ := strconv.ParseInt(mm[2], 10, 64)
		last, _ := strconv.ParseInt(mm[3], 10, 64)
		rows, err := readCSV(path)
		if err != nil {
			return err
		}
		left := map[string]int{}
		for _, row := range rows {
			left[row]++
		}
		for off := first; off <= last; off++ {
			for _, row := range rowsAt[p][off] {
				if left[row] > 0 {
					left[row]--
					got[fmt.Sprintf("p%d@%d|%s", p, off, row)]++
				}
			}
		}
		for _, n := range left {
			unexpected += n
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	r.rows = compare(wantRows, got)
	r.rows.unexpected += unexpected
	r.rows.received += unexpected

	invalid, err := endOffsets(ctx, s.kafkaClient(), "snoti.invalid.v1")
	if err != nil {
		return err
	}
	for _, n := range invalid {
		r.invalid += int(n)
	}
	return nil
}

// readCSV returns a file's rows as "module|timestamp".
func readCSV(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "module,timestamp,value" {
		return nil, fmt.Errorf("%s: no module,timestamp,value header", path)
	}
	out := make([]string, 0, len(recs)-1)
	for _, r := range recs[1:] {
		if len(r) != 3 {
			return nil, fmt.Errorf("%s: a row of %d fields", path, len(r))
		}
		out = append(out, r[0]+"|"+r[1])
	}
	return out, nil
}
