package snotisim

import (
	_ "embed"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// defaultDefinition is the EV charger example of shared/examples, used for
// products configured without a definition.
//
//go:embed fleetdata/ev-charger-standard.json
var defaultDefinition []byte

// definition is a product's data-point definition, as the fleet uses it:
// pkg/gizwits encodes the frames, the fleet keeps raw values per attr.
type definition struct {
	g     *gizwits.Definition
	attrs []gizwits.Attr
}

func parseDefinition(b []byte) (*definition, error) {
	if b == nil {
		b = defaultDefinition
	}
	g, err := gizwits.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("data-point definition: %w", err)
	}
	return &definition{g: g, attrs: g.Attrs()}, nil
}

// rawValues holds one raw (unscaled) value per attr, indexed like
// definition.attrs: bool 0/1, enum index, uint raw x, binary bytes.
type rawValues struct {
	nums []uint64
	bins [][]byte
}

// statusFrame builds the device→cloud status report frame (cmd 0x0091,
// action 0x04 or 0x14) a device_status_raw carries.
func (d *definition) statusFrame(v rawValues) ([]byte, error) {
	values := make(map[string]any, len(d.attrs))
	for i, a := range d.attrs {
		switch a.DataType {
		case gizwits.Bool:
			values[a.Name] = v.nums[i] == 1
		case gizwits.Enum:
			values[a.Name] = int(v.nums[i])
		case gizwits.Binary:
			values[a.Name] = v.bins[i]
		default:
			values[a.Name] = scaled(&a, v.nums[i])
		}
	}
	return d.g.EncodeStatus(values)
}

// scaled is a uint attr's value: raw × ratio + addition.
func scaled(a *gizwits.Attr, raw uint64) float64 {
	return float64(raw)*a.Ratio + a.Addition
}

// byteLen is the width of a uint or binary attr.
func byteLen(a *gizwits.Attr) int {
	switch a.DataType {
	case gizwits.Uint8:
		return 1
	case gizwits.Uint16:
		return 2
	case gizwits.Uint32:
		return 4
	default:
		return a.Position.Len
	}
}

func isCondition(a *gizwits.Attr) bool { return a.Type == gizwits.Alert || a.Type == gizwits.Fault }

// attr returns the attr named name, or nil.
func (d *definition) attr(name string) *gizwits.Attr {
	for i := range d.attrs {
		if d.attrs[i].Name == name {
			return &d.attrs[i]
		}
	}
	return nil
}
