package snoti

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// readBufferSize is the socket read buffer. Lines longer than it are
// assembled from several reads, up to the reader's limit.
const readBufferSize = 64 << 10

// invalidPrefixBytes is how much of an over-long line is kept for the
// Invalid report: enough to identify it, bounded so memory stays flat.
const invalidPrefixBytes = 64 << 10

// errLineTooLong reports a line longer than the limit. The reader has
// already skipped to the next line; the connection stays usable.
type errLineTooLong struct {
	prefix []byte
	size   int
	limit  int
}

func (e *errLineTooLong) Error() string {
	return fmt.Sprintf("line of %d bytes exceeds the %d byte limit", e.size, e.limit)
}

// lineReader splits a byte stream into lines ending in "\n" (a trailing
// "\r" is removed too). It handles any split of bytes across reads and
// lines up to limit bytes. Not safe for concurrent use.
type lineReader struct {
	br    *bufio.Reader
	limit int
	buf   []byte // reused to assemble lines longer than the bufio buffer
}

func newLineReader(r io.Reader, limit int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufferSize), limit: limit}
}

// next returns the next non-empty line without its terminator, in a fresh
// slice the caller owns. A final line without "\n" at EOF is returned like
// the others, then io.EOF. An over-long line yields *errLineTooLong.
func (lr *lineReader) next() ([]byte, error) {
	for {
		line, err := lr.readLine()
		if err != nil {
			return nil, err
		}
		if len(line) > 0 {
			return line, nil
		}
	}
}

func (lr *lineReader) readLine() ([]byte, error) {
	frag, err := lr.br.ReadSlice('\n')
	if err == nil || (len(frag) > 0 && errors.Is(err, io.EOF)) {
		// The common case: the whole line is in the buffer.
		line := lr.finish(frag)
		if len(line) > lr.limit {
			return nil, &errLineTooLong{prefix: line[:min(invalidPrefixBytes, len(line))], size: len(frag), limit: lr.limit}
		}
		return line, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	lr.buf = append(lr.buf[:0], frag...)
	size := len(frag)
	tooLong := false
	for {
		frag, err = lr.br.ReadSlice('\n')
		size += len(frag)
		if !tooLong {
			if size > lr.limit+2 { // +2: the terminator does not count
				tooLong = true
				keep := min(invalidPrefixBytes, len(lr.buf))
				lr.buf = lr.buf[:keep]
			} else {
				lr.buf = append(lr.buf, frag...)
			}
		}
		if err == nil || (errors.Is(err, io.EOF) && size > 0) {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
	if tooLong || len(bytes.TrimRight(lr.buf, "\r\n")) > lr.limit {
		prefix := bytes.Clone(lr.buf[:min(invalidPrefixBytes, len(lr.buf))])
		lr.shrink()
		return nil, &errLineTooLong{prefix: prefix, size: size, limit: lr.limit}
	}
	line := lr.finish(lr.buf)
	lr.shrink()
	return line, nil
}

// finish copies a line without its terminator into a new slice.
func (lr *lineReader) finish(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return bytes.Clone(b)
}

// shrink lets a huge assembly buffer go after use so one 16 MiB line does
// not pin 16 MiB for the connection's lifetime.
func (lr *lineReader) shrink() {
	if cap(lr.buf) > 1<<20 {
		lr.buf = nil
	}
}
