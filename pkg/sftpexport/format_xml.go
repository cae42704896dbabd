package sftpexport

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"time"
)

// XMLNamespace names the schema of our XML files (energisme-rows.xsd beside
// this file). Energisme takes XML flat files but publishes no schema, so the
// file is ours: the same three columns as the CSV and JSON files.
const XMLNamespace = "urn:snotibridge:energisme:rows:1"

// xmlRows is the document:
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<rows xmlns="urn:snotibridge:energisme:rows:1">
//	  <row><module>d1.temp</module><timestamp>2026-07-01 22:30:05</timestamp><value type="number">21.5</value></row>
//	  …
//	</rows>
//
// value's type attribute keeps what the JSON file keeps in its value's JSON
// type: number, boolean, string, null (empty element) or json (any other
// value, as JSON text).
type xmlRows struct {
	XMLName xml.Name `xml:"rows"`
	NS      string   `xml:"xmlns,attr"`
	Rows    []xmlRow `xml:"row"`
}

type xmlRow struct {
	Module    string   `xml:"module"`
	Timestamp string   `xml:"timestamp"`
	Value     xmlValue `xml:"value"`
}

type xmlValue struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

func renderXML(rows []Row, loc *time.Location) ([]byte, error) {
	doc := xmlRows{NS: XMLNamespace, Rows: make([]xmlRow, len(rows))}
	for i, r := range rows {
		v, err := xmlValueOf(r.Value)
		if err != nil {
			return nil, fmt.Errorf("rendering row %d (%s): %w", i, r.Module, err)
		}
		doc.Rows[i] = xmlRow{Module: r.Module, Timestamp: r.Time.In(loc).Format(TimestampLayout), Value: v}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding XML rows: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func xmlValueOf(v any) (xmlValue, error) {
	switch x := v.(type) {
	case nil:
		return xmlValue{Type: "null"}, nil
	case string:
		return xmlValue{Type: "string", Text: x}, nil
	case bool:
		return xmlValue{Type: "boolean", Text: strconv.FormatBool(x)}, nil
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		s, err := csvValue(x)
		return xmlValue{Type: "number", Text: s}, err
	default:
		b, err := json.Marshal(x)
		return xmlValue{Type: "json", Text: string(b)}, err
	}
}
