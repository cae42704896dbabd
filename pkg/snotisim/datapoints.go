package snotisim

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// defaultDefinition is the EV charger example of shared/examples, used for
// products configured without a definition.
//
//go:embed fleetdata/ev-charger-standard.json
var defaultDefinition []byte

// definition is the part of a Gizwits data-point definition the simulator
// needs to build status frames and kv values.
type definition struct {
	ProtocolType string `json:"protocolType"`
	Entities     []struct {
		Attrs []attr `json:"attrs"`
	} `json:"entities"`
	attrs []attr // all entities' attrs, in id order
}

type attr struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Type        string   `json:"type"`      // status_writable, status_readonly, alert, fault
	DataType    string   `json:"data_type"` // bool, enum, uint8, uint16, uint32, binary
	Enum        []string `json:"enum"`
	Position    struct {
		ByteOffset int    `json:"byte_offset"`
		BitOffset  int    `json:"bit_offset"`
		Len        int    `json:"len"`
		Unit       string `json:"unit"`
	} `json:"position"`
	UintSpec *struct {
		Min      float64 `json:"min"`
		Max      float64 `json:"max"`
		Ratio    float64 `json:"ratio"`
		Addition float64 `json:"addition"`
	} `json:"uint_spec"`
}

func (a *attr) isBits() bool { return a.DataType == "bool" || a.DataType == "enum" }

// byteLen is the width of a uint or binary attr.
func (a *attr) byteLen() int {
	switch a.DataType {
	case "uint8":
		return 1
	case "uint16":
		return 2
	case "uint32":
		return 4
	default:
		return a.Position.Len
	}
}

func parseDefinition(b []byte) (*definition, error) {
	if b == nil {
		b = defaultDefinition
	}
	var d definition
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decoding data-point definition: %w", err)
	}
	if d.ProtocolType != "standard" && d.ProtocolType != "var_len" {
		return nil, fmt.Errorf("data-point definition: protocolType %q: must be standard or var_len", d.ProtocolType)
	}
	for _, e := range d.Entities {
		d.attrs = append(d.attrs, e.Attrs...)
	}
	for i, a := range d.attrs {
		switch a.DataType {
		case "bool", "enum", "uint8", "uint16", "uint32", "binary":
		default:
			return nil, fmt.Errorf("data-point definition: attr %q: data_type %q unsupported", a.Name, a.DataType)
		}
		if a.DataType == "enum" && len(a.Enum) == 0 {
			return nil, fmt.Errorf("data-point definition: enum attr %q has no labels", a.Name)
		}
		if a.isBits() && a.Position.Len < 1 {
			d.attrs[i].Position.Len = 1
		}
	}
	return &d, nil
}
