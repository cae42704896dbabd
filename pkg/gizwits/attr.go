package gizwits

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Position is where an attr sits, as exported.
type Position struct {
	ByteOffset int    `json:"byte_offset"`
	BitOffset  int    `json:"bit_offset"`
	Len        int    `json:"len"`
	Unit       string `json:"unit"`
}

// Attr is one data point of a definition. Ratio is 1 when the export left
// it at 0; Min, Max, Ratio and Addition only apply to uint types.
type Attr struct {
	ID          int
	Name        string
	DisplayName string
	Type        AttrType
	DataType    DataType
	Enum        []string
	Position    Position
	Min, Max    float64
	Ratio       float64
	Addition    float64
}

// attrJSON is an attr as the console exports it; fields it adds that
// decoding does not need are ignored.
type attrJSON struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Type        AttrType `json:"type"`
	DataType    DataType `json:"data_type"`
	Enum        enumList `json:"enum"`
	Position    Position `json:"position"`
	UintSpec    *struct {
		Min      number `json:"min"`
		Max      number `json:"max"`
		Ratio    number `json:"ratio"`
		Addition number `json:"addition"`
	} `json:"uint_spec"`
}

func (a attrJSON) attr() Attr {
	out := Attr{
		ID: a.ID, Name: a.Name, DisplayName: a.DisplayName, Type: a.Type,
		DataType: a.DataType, Enum: a.Enum, Position: a.Position, Ratio: 1,
	}
	if a.UintSpec != nil {
		out.Min, out.Max = float64(a.UintSpec.Min), float64(a.UintSpec.Max)
		out.Addition = float64(a.UintSpec.Addition)
		if a.UintSpec.Ratio != 0 {
			out.Ratio = float64(a.UintSpec.Ratio)
		}
	}
	return out
}

// number is a JSON number that also accepts a quoted number or null, as
// hand-edited exports sometimes have.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	if len(b) > 1 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("parsing number %q: %w", b, err)
	}
	*n = number(f)
	return nil
}

// enumList is an attr's enum labels: a list of strings, or of objects with a
// "name" as some console versions export.
type enumList []string

func (e *enumList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(enumList, 0, len(raw))
	for i, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var o struct {
			Name        string `json:"name"`
			DisplayName string `json:"display_name"`
		}
		if err := json.Unmarshal(r, &o); err != nil || (o.Name == "" && o.DisplayName == "") {
			return fmt.Errorf("enum[%d]: want a string or an object with a name", i)
		}
		if o.Name == "" {
			o.Name = o.DisplayName
		}
		out = append(out, o.Name)
	}
	*e = out
	return nil
}
