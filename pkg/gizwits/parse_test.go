package gizwits_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// def builds a one-entity export from attr JSON objects.
func def(protocol string, attrs ...string) []byte {
	return fmt.Appendf(nil, `{"name":"t","protocolType":%q,"product_key":"pk","entities":[{"attrs":[%s]}]}`, protocol, strings.Join(attrs, ","))
}

func attr(id int, name, typ, dataType string, byteOff, bitOff, length int, extra string) string {
	return fmt.Sprintf(`{"id":%d,"name":%q,"type":%q,"data_type":%q,"position":{"byte_offset":%d,"bit_offset":%d,"len":%d,"unit":"byte"}%s}`,
		id, name, typ, dataType, byteOff, bitOff, length, extra)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr string
		check   func(t *testing.T, d *gizwits.Definition)
	}{
		{name: "bool and uint16", data: def("standard", attr(0, "on", "status_writable", "bool", 0, 0, 1, ""), attr(1, "v", "status_readonly", "uint16", 1, 0, 2, `,"uint_spec":{"ratio":"0.5","addition":null}`)),
			check: func(t *testing.T, d *gizwits.Definition) {
				if d.StatusSize() != 3 {
					t.Errorf("StatusSize = %d, want 3", d.StatusSize())
				}
				if a, _ := d.Attr("v"); a.Ratio != 0.5 {
					t.Errorf("ratio = %v, want 0.5 from a quoted number", a.Ratio)
				}
			}},
		{name: "empty protocolType is standard", data: def("", attr(0, "on", "status_writable", "bool", 0, 0, 1, "")),
			check: func(t *testing.T, d *gizwits.Definition) {
				if d.Protocol() != gizwits.Standard {
					t.Errorf("Protocol = %s", d.Protocol())
				}
			}},
		{name: "enum labels as objects", data: def("var_len", attr(0, "m", "status_writable", "enum", 0, 0, 0, `,"enum":[{"name":"a"},{"name":"b"},{"name":"c"}]`)),
			check: func(t *testing.T, d *gizwits.Definition) {
				if a, _ := d.Attr("m"); len(a.Enum) != 3 || a.Enum[2] != "c" {
					t.Errorf("enum = %q", a.Enum)
				}
			}},
		{name: "unknown protocol", data: def("fixed", attr(0, "on", "status_writable", "bool", 0, 0, 1, "")), wantErr: `protocolType "fixed" unknown`},
		{name: "unknown data type", data: def("standard", attr(0, "x", "status_writable", "float", 0, 0, 4, "")), wantErr: `entities[0].attrs[0] "x": data_type "float" unknown`},
		{name: "uint16 of 3 bytes", data: def("standard", attr(0, "x", "status_readonly", "uint16", 0, 0, 3, "")), wantErr: "len 3 invalid for uint16"},
		{name: "enum too narrow", data: def("standard", attr(0, "x", "status_readonly", "enum", 0, 0, 1, `,"enum":["a","b","c"]`)), wantErr: "len 1 bits cannot index 3 enum labels"},
		{name: "binary empty", data: def("standard", attr(0, "x", "status_readonly", "binary", 0, 0, 0, "")), wantErr: "len 0 invalid for binary"},
		{name: "negative ratio", data: def("standard", attr(0, "x", "status_readonly", "uint8", 0, 0, 1, `,"uint_spec":{"ratio":-1}`)), wantErr: "ratio -1 invalid"},
		{name: "duplicate name", data: def("standard", attr(0, "x", "status_readonly", "uint8", 0, 0, 1, ""), attr(1, "x", "status_readonly", "uint8", 1, 0, 1, "")), wantErr: "name used twice"},
		{name: "duplicate id", data: def("standard", attr(0, "x", "status_readonly", "uint8", 0, 0, 1, ""), attr(0, "y", "status_readonly", "uint8", 1, 0, 1, "")), wantErr: `id 0 already used by "x"`},
		{name: "overlapping uints", data: def("standard", attr(0, "x", "status_readonly", "uint16", 0, 0, 2, ""), attr(1, "y", "status_readonly", "uint8", 1, 0, 1, "")), wantErr: `attr "y" overlaps attr "x" at byte 1`},
		{name: "uint over bit byte", data: def("standard", attr(0, "b", "status_readonly", "bool", 0, 0, 1, ""), attr(1, "y", "status_readonly", "uint8", 0, 0, 1, "")), wantErr: `attr "y" overlaps the status_readonly bit fields at byte 0`},
		{name: "overlapping bits", data: def("standard", attr(0, "b", "status_readonly", "bool", 0, 0, 1, ""), attr(1, "e", "status_readonly", "enum", 0, 0, 2, "")), wantErr: `attr "e" overlaps attr "b" at byte 0 bit 0`},
		{name: "unknown area", data: def("standard", attr(0, "b", "status", "bool", 0, 0, 1, "")), wantErr: `type "status" unknown`},
		{name: "no attrs", data: def("standard"), wantErr: "no attrs"},
		{name: "not JSON", data: []byte("{"), wantErr: "parsing data-point definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := gizwits.Parse(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v\nwant it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}
