package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/kafkatest"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/replay"
	"github.com/snotibridge/snotibridge/pkg/sftpexport"
	"github.com/snotibridge/snotibridge/pkg/sinksim"
)

// filesRange is what the files tests replay: records 10..49 of voltage
// (stamped t0+i min), four 10-minute windows on every partition.
var filesFrom, filesTo = t0.Add(10 * time.Minute), t0.Add(50 * time.Minute)

// TestReplayIntoEnergismeFiles replays a time range of telemetry as
// Energisme flat files, in each format, to the SFTP emulator: every row
// of the range is in exactly one file, every file parses, holds one
// window of one partition and is named after its offsets; replaying the
// range again (--restart) writes the same names, replacing the files.
func TestReplayIntoEnergismeFiles(t *testing.T) {
	for _, format := range []string{"csv", "json", "xml"} {
		t.Run(format, func(t *testing.T) {
			ctx := testContext(t)
			ta, root, _ := newFilesTest(ctx, t, format)
			args := []string{"replay", "--sink", "energisme-files", "--from", filesFrom.Format(time.RFC3339), "--to", filesTo.Format(time.RFC3339)}
			if code := ta.run(ctx, t, args...); code != exitOK {
				t.Fatalf("replay: exit %d", code)
			}
			first := checkFiles(t, root, format)
			if code := ta.run(ctx, t, append(args, "--restart")...); code != exitOK {
				t.Fatalf("replay --restart: exit %d", code)
			}
			if again := checkFiles(t, root, format); !slices.Equal(again, first) {
				t.Errorf("files after a second replay %v, want the same names %v", again, first)
			}
		})
	}
}

// TestReplayEnergismeFilesResumes: a replay interrupted after its first
// file, run again, ends with exactly the files of an uninterrupted replay;
// so does one whose saved state ran ahead of the uploaded files (a crash
// after the engine saved its progress over records the sink still held).
func TestReplayEnergismeFilesResumes(t *testing.T) {
	ctx := testContext(t)
	ta, root, srv := newFilesTest(ctx, t, "csv")
	args := []string{"replay", "--sink", "energisme-files", "--from", filesFrom.Format(time.RFC3339), "--to", filesTo.Format(time.RFC3339),
		"--state", filepath.Join(ta.cfg.StateDir, "files.json")}

	// The reference: the files of an uninterrupted replay, then removed.
	if code := ta.run(ctx, t, append(args, "--state", filepath.Join(ta.cfg.StateDir, "ref.json"))...); code != exitOK {
		t.Fatalf("reference replay: exit %d", code)
	}
	want := checkFiles(t, root, "csv")
	clearDir(t, root)

	t.Run("interrupted", func(t *testing.T) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if srv.WaitFor(rctx, func(s *sinksim.SFTPServer) bool { return len(listFiles(t, root)) > 0 }) == nil {
				cancel()
			}
		}()
		if code := ta.run(rctx, t, append(args, "--rate", "10/s")...); code == exitOK {
			t.Fatalf("interrupted replay: exit 0, want an interruption (the range took too little time?)")
		}
		if n := len(listFiles(t, root)); n == 0 || n >= len(want) {
			t.Fatalf("%d files after the interruption, want some of the %d", n, len(want))
		}
		if code := ta.run(ctx, t, args...); code != exitOK {
			t.Fatalf("resumed replay: exit %d", code)
		}
		if got := checkFiles(t, root, "csv"); !slices.Equal(got, want) {
			t.Errorf("files after resuming %v, want %v", got, want)
		}
	})

	t.Run("state ahead of the files", func(t *testing.T) {
		clearDir(t, root)
		state := filepath.Join(ta.cfg.StateDir, "crash.json")
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if srv.WaitFor(rctx, func(s *sinksim.SFTPServer) bool { return len(listFiles(t, root)) > 0 }) == nil {
				cancel()
			}
		}()
		crashArgs := append(slices.Clone(args), "--state", state)
		if code := ta.run(rctx, t, append(crashArgs, "--rate", "10/s")...); code == exitOK {
			t.Fatalf("interrupted replay: exit 0, want an interruption")
		}
		// What a crash can leave: the engine's state saved at the end of
		// every range, not complete, while the files sink had uploaded less.
		st, err := replay.LoadState(state)
		if err != nil || st == nil {
			t.Fatalf("loading the state: %v", err)
		}
		for i := range st.Ranges {
			st.Ranges[i].Next = st.Ranges[i].End
		}
		if err := st.Save(state); err != nil {
			t.Fatal(err)
		}
		if code := ta.run(ctx, t, crashArgs...); code != exitOK {
			t.Fatalf("resumed replay: exit %d", code)
		}
		if got := checkFiles(t, root, "csv"); !slices.Equal(got, want) {
			t.Errorf("files after resuming %v, want %v", got, want)
		}
	})
}

// TestReplayEnergismeFilesConfig: without ENERGISME_SFTP_ADDR, or with a
// known_hosts file that does not exist, the replay refuses to start with
// a usage error naming the variable.
func TestReplayEnergismeFilesConfig(t *testing.T) {
	for _, tt := range []struct {
		name, unset, set, value, wantErr string
	}{
		{name: "no server", unset: "ENERGISME_SFTP_ADDR", wantErr: "ENERGISME_SFTP_ADDR is empty"},
		{name: "no known_hosts", set: "ENERGISME_SFTP_KNOWN_HOSTS", value: "/nonexistent/known_hosts", wantErr: "ENERGISME_SFTP_KNOWN_HOSTS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			ta, _, _ := newFilesTest(ctx, t, "csv")
			if tt.unset != "" {
				t.Setenv(tt.unset, "")
			}
			if tt.set != "" {
				t.Setenv(tt.set, tt.value)
			}
			if code := ta.run(ctx, t, "replay", "--sink", "energisme-files"); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(ta.errw.String(), tt.wantErr) {
				t.Errorf("stderr %q does not name %s", ta.errw, tt.wantErr)
			}
		})
	}
}

// newFilesTest writes records 0..59 of voltage on a 3-partition telemetry
// topic, serves an SFTP emulator on a fresh root and points the
// ENERGISME_SFTP_* and ENERGISME_FILE_* variables at it.
func newFilesTest(ctx context.Context, t *testing.T, format string) (*testApp, string, *sinksim.SFTPServer) {
	t.Helper()
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.Telemetry = kafkatest.Topic(t, ta.brokers, 3)
	ta.cfg.Topics.EnergismeDLQ = kafkatest.Topic(t, ta.brokers, 1)
	var msgs []kafka.Message
	for i := range 60 {
		msgs = append(msgs, voltage(t, codec, i, "pk-ev"))
	}
	produce(ctx, t, ta, ta.cfg.Topics.Telemetry, msgs...)

	root := t.TempDir()
	srv, err := sinksim.NewSFTPServer(sinksim.SFTPConfig{Root: root, Passwords: map[string]string{"u": "p"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte(srv.KnownHostsLine(srv.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"ENERGISME_SFTP_ADDR": srv.Addr(), "ENERGISME_SFTP_USER": "u", "ENERGISME_SFTP_PASSWORD": "p",
		"ENERGISME_SFTP_KNOWN_HOSTS": known, "ENERGISME_FILE_FORMAT": format, "ENERGISME_FILE_INTERVAL": "10m",
	} {
		t.Setenv(k, v)
	}
	return ta, root, srv
}

var fileName = regexp.MustCompile(`^telemetry-p(\d+)-(\d+)-(\d+)\.(csv|json|xml)$`)

// listFiles lists the uploaded files of root (not the temporary ones).
func listFiles(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if fileName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func clearDir(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFiles parses every file of root and checks that the rows of records
// 10..49 are each in exactly one file, that a file's rows are of one
// 10-minute window and one partition's offsets; it returns the names.
func checkFiles(t *testing.T, root, format string) []string {
	t.Helper()
	names := listFiles(t, root)
	if entries, _ := os.ReadDir(root); len(entries) != len(names) {
		t.Errorf("root holds %d entries, %d of them files: leftovers", len(entries), len(names))
	}
	seen := map[int]string{}
	for _, name := range names {
		parts := fileName.FindStringSubmatch(name)
		if parts[4] != format {
			t.Errorf("%s: want a .%s file", name, format)
		}
		first, _ := strconv.Atoi(parts[2])
		last, _ := strconv.Atoi(parts[3])
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		rows := parseRows(t, name, format, b)
		if len(rows) == 0 || len(rows) > last-first+1 {
			t.Errorf("%s: %d rows for offsets %d..%d", name, len(rows), first, last)
		}
		window := -1
		for _, r := range rows {
			i := int(r.value)
			if prev, dup := seen[i]; dup {
				t.Errorf("record %d is in %s and %s", i, prev, name)
			}
			seen[i] = name
			want := voltageRow(i)
			if r.module != want.module || r.timestamp != want.timestamp {
				t.Errorf("%s: row %+v, want %+v", name, r, want)
			}
			if window >= 0 && i/10 != window {
				t.Errorf("%s: records of windows %d and %d in one file", name, window, i/10)
			}
			window = i / 10
		}
	}
	var got []int
	for i := range seen {
		got = append(got, i)
	}
	slices.Sort(got)
	var want []int
	for i := 10; i < 50; i++ {
		want = append(want, i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("records in files %v, want %v", got, want)
	}
	return names
}

type fileRow struct {
	module, timestamp string
	value             float64
}

func voltageRow(i int) fileRow {
	return fileRow{module: fmt.Sprintf("dev%d.voltage", i%5), timestamp: t0.Add(time.Duration(i) * time.Minute).Format(sftpexport.TimestampLayout), value: float64(i)}
}

// parseRows parses a file with the standard library's decoder of its
// format.
func parseRows(t *testing.T, name, format string, b []byte) []fileRow {
	t.Helper()
	var rows []fileRow
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Errorf("%s: value %q: %v", name, s, err)
		}
		return v
	}
	switch format {
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(recs) == 0 || strings.Join(recs[0], ",") != "module,timestamp,value" {
			t.Fatalf("%s: not CSV with a module,timestamp,value header (%v):\n%s", name, err, b)
		}
		for _, r := range recs[1:] {
			rows = append(rows, fileRow{module: r[0], timestamp: r[1], value: num(r[2])})
		}
	case "json":
		var doc []struct {
			Module    string  `json:"module"`
			Timestamp string  `json:"timestamp"`
			Value     float64 `json:"value"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: not a JSON array of rows: %v\n%s", name, err, b)
		}
		for _, r := range doc {
			rows = append(rows, fileRow{module: r.Module, timestamp: r.Timestamp, value: r.Value})
		}
	case "xml":
		var doc struct {
			XMLName xml.Name `xml:"rows"`
			Rows    []struct {
				Module    string `xml:"module"`
				Timestamp string `xml:"timestamp"`
				Value     struct {
					Type string `xml:"type,attr"`
					Text string `xml:",chardata"`
				} `xml:"value"`
			} `xml:"row"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: not XML rows: %v\n%s", name, err, b)
		}
		for _, r := range doc.Rows {
			if r.Value.Type != "number" {
				t.Errorf("%s: value type %q, want number", name, r.Value.Type)
			}
			rows = append(rows, fileRow{module: r.Module, timestamp: r.Timestamp, value: num(r.Value.Text)})
		}
	}
	return rows
}

// TestRedriveEnergismeDLQ: energisme.dlq.v1 is both Energisme parts' dead-
// letter topic; a redrive without --sink goes to the push (energisme), and
// energisme-files refuses redrives (it takes replays of a range).
func TestRedriveEnergismeDLQ(t *testing.T) {
	ctx := testContext(t)
	ta := newTestApp(t)
	codec, _ := records.NewCodec()
	ta.cfg.Topics.EnergismeDLQ = kafkatest.Topic(t, ta.brokers, 1)
	source := kafkatest.Topic(t, ta.brokers, 1)
	m := event(t, codec, 1, "pk", "device_status_raw", []byte{1})
	m.Topic = source
	deadLetter(ctx, t, ta, "energisme", ta.cfg.Topics.EnergismeDLQ, []kafka.Message{m}, func(kafka.Message) string { return "http_400" })

	if code := ta.run(ctx, t, "dlq", "redrive", "--topic", ta.cfg.Topics.EnergismeDLQ); code != exitRefused {
		t.Fatalf("redrive plan: exit %d, want %d", code, exitRefused)
	}
	if got := ta.errw.String() + ta.out.String(); !strings.Contains(got, "to sink energisme\n") {
		t.Errorf("redrive plan without --sink: want it to go to sink energisme:\n%s", got)
	}
	if code := ta.run(ctx, t, "dlq", "redrive", "--topic", ta.cfg.Topics.EnergismeDLQ, "--sink", "energisme-files", "--execute"); code != exitUsage {
		t.Fatalf("redrive into energisme-files: exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(ta.errw.String(), "takes replays, not redrives") {
		t.Errorf("stderr %q: want the refusal's reason", ta.errw)
	}
}
