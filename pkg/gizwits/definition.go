package gizwits

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/snotibridge/snotibridge/pkg/value"
)

// Protocol is a definition's protocolType.
type Protocol string

// Protocols of the Gizwits console.
const (
	Standard Protocol = "standard"
	VarLen   Protocol = "var_len"
)

// Bounds far above any console export that keep a hostile or mistyped
// definition from making the layouts allocate without limit.
const (
	maxAttrID = 4095
	maxOffset = 1 << 16
	maxBinary = 1 << 16
)

// maxEnumBits bounds an enum's width; wider enums are not something the
// console produces and would not index a label list anyway.
const maxEnumBits = 32

// Definition is a product's data-point definition compiled for decoding and
// encoding. It is immutable after Parse and safe for concurrent use.
type Definition struct {
	name          string
	productKey    string
	packetVersion string
	protocol      Protocol
	attrs         []Attr
	std           standardLayout
	varLen        varLenLayout
	byName        map[string]int // attr name → index in attrs
	kvPoints      []*point       // the layout's points in export order
}

type definitionJSON struct {
	Name          string          `json:"name"`
	PacketVersion json.RawMessage `json:"packetVersion"`
	ProtocolType  string          `json:"protocolType"`
	ProductKey    string          `json:"product_key"`
	Entities      []struct {
		Attrs []attrJSON `json:"attrs"`
	} `json:"entities"`
}

// Parse reads a definition exactly as the Gizwits console exports it and
// checks it, reporting every problem found (joined by "; "), each naming the
// attr. An empty protocolType means standard.
func Parse(data []byte) (*Definition, error) {
	var dj definitionJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&dj); err != nil {
		return nil, fmt.Errorf("parsing data-point definition: %w", err)
	}
	d := &Definition{
		name:          dj.Name,
		productKey:    dj.ProductKey,
		packetVersion: strings.Trim(string(dj.PacketVersion), `"`),
		protocol:      Protocol(dj.ProtocolType),
		byName:        map[string]int{},
	}
	if d.protocol == "" {
		d.protocol = Standard
	}
	var problems []string
	if d.protocol != Standard && d.protocol != VarLen {
		problems = append(problems, fmt.Sprintf("protocolType %q unknown: want standard or var_len", dj.ProtocolType))
	}
	ids := map[int]string{}
	var pts []point
	for e, ent := range dj.Entities {
		for i, aj := range ent.Attrs {
			a := aj.attr()
			where := fmt.Sprintf("entities[%d].attrs[%d] %q", e, i, a.Name)
			p, errs := compilePoint(a, d.protocol)
			for _, msg := range errs {
				problems = append(problems, where+": "+msg)
			}
			if a.Name == "" {
				problems = append(problems, where+": name empty")
			} else if _, dup := d.byName[a.Name]; dup {
				problems = append(problems, where+": name used twice")
			}
			if other, dup := ids[a.ID]; dup {
				problems = append(problems, fmt.Sprintf("%s: id %d already used by %q", where, a.ID, other))
			}
			ids[a.ID] = a.Name
			d.byName[a.Name] = len(d.attrs)
			d.attrs = append(d.attrs, a)
			pts = append(pts, p)
		}
	}
	if len(d.attrs) == 0 {
		problems = append(problems, "no attrs: want entities[].attrs[]")
	}
	if len(problems) == 0 {
		if d.protocol == Standard {
			var more []string
			d.std, more = newStandardLayout(d.attrs, pts)
			problems = append(problems, more...)
		} else {
			sorted := append([]point(nil), pts...)
			slices.SortStableFunc(sorted, func(a, b point) int { return cmp.Compare(a.id, b.id) })
			d.varLen = newVarLenLayout(sorted)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	pts = d.std.points
	if d.protocol == VarLen {
		pts = d.varLen.points
	}
	d.kvPoints = make([]*point, len(d.attrs))
	for i := range pts {
		d.kvPoints[d.byName[pts[i].name]] = &pts[i]
	}
	return d, nil
}

// compilePoint checks one attr and derives its width and scale.
func compilePoint(a Attr, proto Protocol) (point, []string) {
	p := point{name: a.Name, id: a.ID, kind: a.DataType, width: a.Position.Len, enum: a.Enum}
	var problems []string
	if a.ID < 0 || a.ID > maxAttrID {
		problems = append(problems, fmt.Sprintf("id %d invalid: want 0..%d", a.ID, maxAttrID))
	}
	if proto == Standard && (a.Position.ByteOffset < 0 || a.Position.BitOffset < 0 || a.Position.ByteOffset > maxOffset || a.Position.BitOffset > maxOffset) {
		problems = append(problems, fmt.Sprintf("position byte_offset %d bit_offset %d invalid: want 0..%d", a.Position.ByteOffset, a.Position.BitOffset, maxOffset))
	}
	switch a.DataType {
	case Bool:
		if p.width == 0 {
			p.width = 1
		}
		if p.width != 1 {
			problems = append(problems, fmt.Sprintf("len %d invalid for bool: want 1 bit", p.width))
		}
	case Enum:
		if p.width == 0 { // exports that leave positions at zero
			for 1<<p.width < len(a.Enum) {
				p.width++
			}
			p.width = max(p.width, 1)
		}
		if p.width < 1 || p.width > maxEnumBits {
			problems = append(problems, fmt.Sprintf("len %d invalid for enum: want 1..%d bits", p.width, maxEnumBits))
		} else if len(a.Enum) > 1<<p.width {
			problems = append(problems, fmt.Sprintf("len %d bits cannot index %d enum labels", p.width, len(a.Enum)))
		}
	case Uint8, Uint16, Uint32:
		if p.width == 0 {
			p.width = a.DataType.byteLen()
		}
		if p.width != a.DataType.byteLen() {
			problems = append(problems, fmt.Sprintf("len %d invalid for %s: want %d bytes", p.width, a.DataType, a.DataType.byteLen()))
		}
		if a.Ratio <= 0 || math.IsInf(a.Ratio, 0) || math.IsNaN(a.Ratio) {
			problems = append(problems, fmt.Sprintf("uint_spec ratio %v invalid: must be > 0", a.Ratio))
		}
		p.scale = value.NewScale(a.Ratio, a.Addition)
	case Binary:
		if p.width < 1 || p.width > maxBinary {
			problems = append(problems, fmt.Sprintf("len %d invalid for binary: want 1..%d bytes", p.width, maxBinary))
		}
	default:
		problems = append(problems, fmt.Sprintf("data_type %q unknown: want bool, enum, uint8, uint16, uint32 or binary", a.DataType))
	}
	switch {
	case a.DataType.isBits() && p.width >= 1 && p.width <= maxEnumBits:
		p.maxRaw = 1<<p.width - 1
	case a.DataType.byteLen() > 0:
		p.maxRaw = 1<<(8*a.DataType.byteLen()) - 1
	}
	return p, problems
}

// Name returns the product name of the export.
func (d *Definition) Name() string { return d.name }

// ProductKey returns the export's product_key.
func (d *Definition) ProductKey() string { return d.productKey }

// PacketVersion returns the export's packetVersion, e.g. "0x00000004".
func (d *Definition) PacketVersion() string { return d.packetVersion }

// Protocol returns Standard or VarLen.
func (d *Definition) Protocol() Protocol { return d.protocol }

// Attrs returns the attrs in export order. The slice must not be modified.
func (d *Definition) Attrs() []Attr { return d.attrs }

// Attr returns the attr called name.
func (d *Definition) Attr(name string) (Attr, bool) {
	i, ok := d.byName[name]
	if !ok {
		return Attr{}, false
	}
	return d.attrs[i], true
}

// StatusSize returns the bytes of a standard status after the action byte
// (0 for var_len, whose size depends on the flags).
func (d *Definition) StatusSize() int { return d.std.size }

// Decode parses a transport frame (or a bare P0) and decodes its status.
// Actions that are not this protocol's status come back as a Message of kind
// KindTransparent or KindOpaque with a nil error.
func (d *Definition) Decode(raw []byte) (Message, error) {
	return d.DecodeAppend(make([]value.Field, 0, len(d.attrs)), raw)
}

// DecodeAppend is Decode appending the fields to dst, so a caller that reuses
// dst[:0] decodes without allocating (binary attrs excepted: their hex is a
// new string). Message.Fields is the extended dst.
func (d *Definition) DecodeAppend(dst []value.Field, raw []byte) (Message, error) {
	f, err := ParseFrame(raw)
	if err != nil {
		return Message{}, err
	}
	m := Message{Frame: f, Action: Action(f.P0[0]), Payload: f.P0[1:]}
	switch {
	case d.protocol == Standard && (m.Action == ActionStatusReport || m.Action == ActionReadReply):
		m.Fields, err = d.std.decode(dst, m.Payload)
	case d.protocol == VarLen && (m.Action == ActionVarLenStatusReport || m.Action == ActionVarLenReadReply):
		m.Fields, err = d.varLen.decode(dst, m.Payload)
	case m.Action == ActionTransparent:
		m.Kind = KindTransparent
		return m, nil
	default:
		m.Kind = KindOpaque
		return m, nil
	}
	if err != nil {
		return Message{}, fmt.Errorf("decoding %s status (action %s): %w", d.protocol, m.Action, err)
	}
	m.Kind = KindStatus
	return m, nil
}

// DecodeKV types a key/value status (device_status_kv: values already scaled,
// bools often 0/1, enums as labels) as a decoded one would be: attrs of the
// definition first, in export order, then keys it does not know, sorted and
// typed from their JSON form. A value that does not fit its attr is an error
// wrapping ErrValueMismatch.
func (d *Definition) DecodeKV(dst []value.Field, kv map[string]any) ([]value.Field, error) {
	for i, a := range d.attrs {
		x, ok := kv[a.Name]
		if !ok {
			continue
		}
		v, err := d.kvPoints[i].kvValue(x)
		if err != nil {
			return dst, fmt.Errorf("typing key/value status: %w", err)
		}
		dst = append(dst, value.Field{Name: a.Name, Value: v})
	}
	return appendUnknownKV(dst, kv, d.byName)
}

// appendUnknownKV appends the keys of kv not in known, sorted, JSON-typed.
func appendUnknownKV(dst []value.Field, kv map[string]any, known map[string]int) ([]value.Field, error) {
	var rest []string
	for k := range kv {
		if _, ok := known[k]; !ok {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		v, err := value.FromJSON(kv[k])
		if err != nil {
			return dst, fmt.Errorf("typing key %q: %w", k, err)
		}
		dst = append(dst, value.Field{Name: k, Value: v})
	}
	return dst, nil
}

// AppendP0 appends a status P0 (action byte, then the status) for values,
// keyed by attr name. Standard: action 0x03 or 0x04 and every attr present.
// var_len: action 0x13 or 0x14, the attrs present are flagged, the others
// left out. Values: bool (or 0/1) for bool; label or index for enum; the
// scaled number for uint (230.5, not 2305); hex string or []byte for binary;
// value.Value is accepted for all.
func (d *Definition) AppendP0(dst []byte, action Action, values map[string]any) ([]byte, error) {
	var err error
	start := len(dst)
	switch {
	case d.protocol == Standard && (action == ActionStatusReport || action == ActionReadReply):
		dst = append(dst, byte(action))
		dst, err = d.std.encode(dst, values)
	case d.protocol == VarLen && (action == ActionVarLenStatusReport || action == ActionVarLenReadReply):
		dst = append(dst, byte(action))
		dst, err = d.varLen.encode(dst, values)
	default:
		return dst, fmt.Errorf("encoding status: action %s is not a %s status action", action, d.protocol)
	}
	if err != nil {
		return dst[:start], fmt.Errorf("encoding %s status: %w", d.protocol, err)
	}
	return dst, nil
}

// EncodeStatus returns a complete status-report frame (cmd 0x0091, action
// 0x04 or 0x14) carrying every attr, as a device reports its full status;
// values must hold every attr (see AppendP0 for the accepted values).
func (d *Definition) EncodeStatus(values map[string]any) ([]byte, error) {
	action := ActionStatusReport
	if d.protocol == VarLen {
		action = ActionVarLenStatusReport
		for _, a := range d.attrs {
			if _, ok := values[a.Name]; !ok {
				return nil, fmt.Errorf("encoding var_len status: attr %q missing: use EncodePartialStatus to report a subset", a.Name)
			}
		}
	}
	return d.encodeFrame(action, values)
}

// EncodePartialStatus returns a var_len status-report frame (cmd 0x0091,
// action 0x14) flagging only the attrs present in values.
func (d *Definition) EncodePartialStatus(values map[string]any) ([]byte, error) {
	if d.protocol != VarLen {
		return nil, fmt.Errorf("encoding partial status: protocol %s reports every attr: use EncodeStatus", d.protocol)
	}
	return d.encodeFrame(ActionVarLenStatusReport, values)
}

func (d *Definition) encodeFrame(action Action, values map[string]any) ([]byte, error) {
	p0, err := d.AppendP0(make([]byte, 0, 1+d.std.size+len(values)*4+8), action, values)
	if err != nil {
		return nil, err
	}
	return AppendFrame(make([]byte, 0, len(p0)+12), Frame{Cmd: CmdDeviceToCloud, P0: p0})
}
