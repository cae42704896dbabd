package enos

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"testing"
	"time"
)

// multipartReference is what mime/multipart's Writer writes for m with
// boundary: the body encodeMultipart wrote with it.
func multipartReference(t *testing.T, boundary string, m message) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormField(MessagePart)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(m.appendJSON(nil))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestEncodeMultipart: the hand-appended body is byte for byte what
// mime/multipart writes with the same boundary, and what encodeMultipart
// returns (a random boundary) parses back to the message.
func TestEncodeMultipart(t *testing.T) {
	var params []json.RawMessage
	for i := range 3 {
		raw, err := MeasurepointEntry{Device: Device{AssetID: "a"}, Time: time.UnixMilli(int64(i)), Points: []Point{{ID: "p", Value: float64(i)}}}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, raw)
	}
	for _, m := range []message{
		newMessage(newRequestID(), kindMeasurepoint, sendOptions{}, params),
		newMessage(newRequestID(), kindEvent, sendOptions{backfill: true}, nil),
	} {
		const boundary = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
		got, n := appendMultipart(nil, []byte(boundary), m)
		if want := multipartReference(t, boundary, m); !bytes.Equal(got, want) {
			t.Fatalf("body\n%q\nmime/multipart\n%q", got, want)
		}
		body, contentType, n2, err := encodeMultipart(m)
		if err != nil {
			t.Fatal(err)
		}
		js := m.appendJSON(nil)
		if n != len(js) || n2 != len(js) || len(body) > m.size()+multipartOverhead {
			t.Fatalf("sizes %d, %d for %d bytes of JSON; body %d over the %d reserved", n, n2, len(js), len(body), m.size()+multipartOverhead)
		}
		mt, ps, err := mime.ParseMediaType(contentType)
		if err != nil || mt != "multipart/form-data" || len(ps["boundary"]) != 60 {
			t.Fatalf("Content-Type %q: %v", contentType, err)
		}
		part, err := multipart.NewReader(bytes.NewReader(body), ps["boundary"]).NextPart()
		if err != nil || part.FormName() != MessagePart {
			t.Fatalf("part %v: %v", part, err)
		}
		if got, _ := io.ReadAll(part); !bytes.Equal(got, js) {
			t.Fatalf("part %s, want %s", got, js)
		}
	}
}
