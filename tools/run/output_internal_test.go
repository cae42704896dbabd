package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"
)

// ansi matches the escape sequences the output writes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// testSupervisor is enough of a supervisor for the guide.
func testSupervisor(t *testing.T, out *output) *supervisor {
	root := t.TempDir()
	cfg := config{root: root, runDir: filepath.Join(root, ".run"), kafkaPort: 9092}
	return &supervisor{cfg: cfg, out: out, ports: cfg.ports()}
}

// drive writes what a run writes: the guide, three tables with an event
// line between them, and the guide again at the end.
func drive(t *testing.T, o *output) {
	p := &progress{s: testSupervisor(t, o)}
	o.lines(p.guide())
	o.atClose(func() { o.lines(p.guide()) })
	for i := range 3 {
		o.table(func(width int) []string { return renderTable(bigSnapshot(), width) })
		if i == 1 {
			o.say("decoder exited (exit status 1); restarting it in 2s; see .run/logs/decoder.log")
		}
	}
	o.close()
}

// TestOutputRedrawsInPlaceOnATerminal runs the output on a pseudo-terminal
// of 80 columns: the table is redrawn with cursor-up and clear-line
// sequences, and no line of the table or the guide is wider than 80
// columns. A window of 60 columns gets a 60-column table.
func TestOutputRedrawsInPlaceOnATerminal(t *testing.T) {
	for _, cols := range []uint16{80, 60} {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal here: %v", err)
		}
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: cols}); err != nil {
			t.Fatal(err)
		}
		var screen bytes.Buffer
		read := make(chan struct{})
		go func() { _, _ = io.Copy(&screen, ptmx); close(read) }()

		o, err := newOutput(tty, filepath.Join(t.TempDir(), "run.log"))
		if err != nil {
			t.Fatal(err)
		}
		if !o.tty {
			t.Fatal("newOutput on a pseudo-terminal did not detect a terminal")
		}
		drive(t, o)
		_ = tty.Close()
		<-read // EIO once the terminal side is closed
		_ = ptmx.Close()

		got := screen.String()
		if n := strings.Count(got, "\x1b[1A\x1b[2K"); n < 2*9 {
			t.Errorf("%d cols: %d cursor-up + clear-line sequences, want at least 18 (9 table lines redrawn twice and around the event)", cols, n)
		}
		tables := 0
		for _, l := range strings.Split(ansi.ReplaceAllString(got, ""), "\n") {
			l = strings.Trim(l, "\r")
			if strings.HasPrefix(l, "STAGE") {
				tables++
			}
			if strings.Contains(l, "restarting it") {
				continue // an event line, not the table's: the terminal wraps it
			}
			if n := utf8.RuneCountInString(l); n > 80 {
				t.Errorf("%d cols: line of %d columns: %q", cols, n, l)
			}
		}
		for _, l := range renderTable(bigSnapshot(), int(cols)) {
			if n := utf8.RuneCountInString(l); n > int(cols) {
				t.Errorf("%d cols: table line of %d columns: %q", cols, n, l)
			}
		}
		if tables < 3 {
			t.Errorf("%d cols: %d tables drawn, want at least 3:\n%s", cols, tables, got)
		}
		for _, l := range renderTable(bigSnapshot(), int(cols)) {
			if !strings.Contains(got, l) {
				t.Errorf("%d cols: the table line %q, rendered for the window, is not on the screen", cols, l)
			}
		}
		if !strings.Contains(got, "Where to look next:") || strings.Count(got, "bin/bridgectl tail") != 2 {
			t.Errorf("%d cols: the guide is not printed at the start and at the end", cols)
		}
	}
}

// TestOutputPipedIsPlainLines: piped, every line is a time-stamped plain
// line of at most 80 columns, without escape sequences; the log file gets
// the same lines.
func TestOutputPipedIsPlainLines(t *testing.T) {
	var buf bytes.Buffer
	logPath := filepath.Join(t.TempDir(), "run.log")
	o, err := newOutput(&buf, logPath)
	if err != nil {
		t.Fatal(err)
	}
	if o.tty {
		t.Fatal("a buffer taken for a terminal")
	}
	drive(t, o)
	stamped := regexp.MustCompile(`^\d\d:\d\d:\d\d `)
	for name, got := range map[string]string{"stdout": buf.String(), "run.log": readFile(t, logPath)} {
		if strings.Contains(got, "\x1b") {
			t.Errorf("%s: escape sequences when piped", name)
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if tables := strings.Count(got, "LAST ERROR"); tables != 3 {
			t.Errorf("%s: %d tables, want 3", name, tables)
		}
		for _, l := range lines {
			if !stamped.MatchString(l) {
				t.Errorf("%s: line without a time stamp: %q", name, l)
			}
			if n := utf8.RuneCountInString(l); n > 80 && !strings.Contains(l, "restarting it") {
				t.Errorf("%s: line of %d columns: %q", name, n, l)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
