package sftpexport

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Format is a flat-file format (ENERGISME_FILE_FORMAT).
type Format string

// Supported formats.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
	FormatXML  Format = "xml"
)

// ParseFormat returns the format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatCSV, FormatJSON, FormatXML:
		return f, nil
	}
	return "", fmt.Errorf("file format %q: must be csv, json or xml", s)
}

// Ext returns the file extension, with its dot.
func (f Format) Ext() string { return "." + string(f) }

// Render encodes rows with timestamps in loc (UTC when nil).
//
// CSV: a header "module,timestamp,value" then one line per row (RFC 4180
// quoting). JSON: an array of {"module","timestamp","value"} objects, value
// keeping its JSON type. XML: see renderXML.
func (f Format) Render(rows []Row, loc *time.Location) ([]byte, error) {
	if loc == nil {
		loc = time.UTC
	}
	switch f {
	case FormatCSV:
		return renderCSV(rows, loc)
	case FormatJSON:
		return renderJSON(rows, loc)
	case FormatXML:
		return renderXML(rows, loc)
	}
	return nil, fmt.Errorf("rendering rows: unknown format %q", f)
}

func renderCSV(rows []Row, loc *time.Location) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{"module", "timestamp", "value"}); err != nil {
		return nil, fmt.Errorf("writing CSV header: %w", err)
	}
	for i, r := range rows {
		v, err := csvValue(r.Value)
		if err != nil {
			return nil, fmt.Errorf("rendering row %d (%s): %w", i, r.Module, err)
		}
		if err := w.Write([]string{r.Module, r.Time.In(loc).Format(TimestampLayout), v}); err != nil {
			return nil, fmt.Errorf("writing CSV row %d: %w", i, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("writing CSV: %w", err)
	}
	return buf.Bytes(), nil
}

func csvValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	default:
		b, err := json.Marshal(x)
		return string(b), err
	}
}

type jsonRow struct {
	Module    string `json:"module"`
	Timestamp string `json:"timestamp"`
	Value     any    `json:"value"`
}

func renderJSON(rows []Row, loc *time.Location) ([]byte, error) {
	out := make([]jsonRow, len(rows))
	for i, r := range rows {
		out[i] = jsonRow{Module: r.Module, Timestamp: r.Time.In(loc).Format(TimestampLayout), Value: r.Value}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding JSON rows: %w", err)
	}
	return append(b, '\n'), nil
}
