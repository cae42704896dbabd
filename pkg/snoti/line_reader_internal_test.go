package snoti

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns its data in reads of the given sizes (cycling).
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := c.sizes[c.i%len(c.sizes)]
	c.i++
	n = max(1, min(n, len(p), len(c.data)))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readAll collects lines, too-long errors as "!TOO LONG".
func readAll(t *testing.T, lr *lineReader) []string {
	t.Helper()
	var out []string
	for {
		line, err := lr.next()
		var tl *errLineTooLong
		switch {
		case errors.As(err, &tl):
			out = append(out, "!TOO LONG")
		case errors.Is(err, io.EOF):
			return out
		case err != nil:
			t.Fatalf("next: %v", err)
		default:
			out = append(out, string(line))
		}
	}
}

func TestLineReaderSplits(t *testing.T) {
	long := strings.Repeat("x", 3*readBufferSize+17)
	tests := []struct {
		name  string
		in    string
		sizes []int
		limit int
		want  []string
	}{
		{"one message over many reads", `{"cmd":"pong"}` + "\n", []int{1}, 1 << 20, []string{`{"cmd":"pong"}`}},
		{"many messages in one read", "a\nb\nc\n", []int{1 << 20}, 1 << 20, []string{"a", "b", "c"}},
		{"crlf", "a\r\nb\r\n", []int{3}, 1 << 20, []string{"a", "b"}},
		{"empty lines skipped", "\n\r\na\n\n", []int{2}, 1 << 20, []string{"a"}},
		{"last line without newline", "a\nb", []int{1 << 20}, 1 << 20, []string{"a", "b"}},
		{"line longer than the buffer", long + "\nz\n", []int{1000, 7, 65536}, 1 << 20, []string{long, "z"}},
		{"line over the limit is skipped", long + "\nz\n", []int{4096}, readBufferSize, []string{"!TOO LONG", "z"}},
		{"line exactly at the limit", strings.Repeat("y", readBufferSize+5) + "\r\n", []int{333}, readBufferSize + 5, []string{strings.Repeat("y", readBufferSize+5)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := newLineReader(&chunkReader{data: []byte(tt.in), sizes: tt.sizes}, tt.limit)
			got := readAll(t, lr)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("line %d: got %.40q (%d bytes), want %.40q (%d bytes)", i, got[i], len(got[i]), tt.want[i], len(tt.want[i]))
				}
			}
		})
	}
}

func TestLineReaderReturnsOwnedCopies(t *testing.T) {
	lr := newLineReader(strings.NewReader("first\nsecond\n"), 1<<20)
	a, _ := lr.next()
	b, _ := lr.next()
	if string(a) != "first" || string(b) != "second" {
		t.Fatalf("got %q %q: a later read must not overwrite an earlier line", a, b)
	}
}

// FuzzLineReader checks, for any bytes and any read sizes, that the
// reader yields exactly the non-empty "\n"-separated lines (without "\r")
// of its input, and reports lines over the limit instead of returning them.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("{\"cmd\":\"pong\"}\n"), uint8(1), uint8(3))
	f.Add([]byte("a\r\nb\n\nc"), uint8(2), uint8(200))
	f.Add([]byte(strings.Repeat("z", 300)+"\nq\n"), uint8(7), uint8(64))
	f.Fuzz(func(t *testing.T, data []byte, s1, s2 uint8) {
		const limit = 100
		r := &chunkReader{data: data, sizes: []int{int(s1) + 1, int(s2) + 1}}
		lr := newLineReader(r, limit)
		var want []string
		for _, l := range bytes.Split(data, []byte("\n")) {
			l = bytes.TrimSuffix(l, []byte("\r"))
			switch {
			case len(l) == 0:
			case len(l) > limit:
				want = append(want, "!TOO LONG")
			default:
				want = append(want, string(l))
			}
		}
		got := readAll(t, lr)
		if len(got) != len(want) {
			t.Fatalf("got %d lines %q, want %d %q", len(got), got, len(want), want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: got %q, want %q", i, got[i], want[i])
			}
		}
	})
}
