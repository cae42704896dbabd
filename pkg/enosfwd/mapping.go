package enosfwd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
)

// Mapping is the Gizwits → EnOS mapping of a deployment, by Gizwits
// product_key. It is immutable and safe for concurrent use; a reload
// builds a new one (see OpenMapping).
//
// The file is JSON:
//
//	{
//	  "defaults": {                      // optional; each product may override each rule
//	    "device_key": "did",             // did | mac | asset (default did)
//	    "unmapped_points": "pass",       // pass | drop (default pass)
//	    "fault_event": "attr_fault",     // EnOS event id of attr_fault, "" = not sent (default attr_fault)
//	    "alert_event": "attr_alert",     // EnOS event id of attr_alert, "" = not sent (default attr_alert)
//	    "online":  {"send": "attribute", "id": "online"},   // attribute | event | none
//	    "offline": {"send": "attribute", "id": "online"}
//	  },
//	  "products": {
//	    "<gizwits product_key>": {
//	      "enos_product_key": "<EnOS productKey>",       // required unless device_key is asset
//	      "assets": {"<did or mac>": "<EnOS assetId>"},  // optional; wins over device_key
//	      "points": {"<data point>": "<measurement point id>", "<dropped point>": ""},
//	      "device_key": "mac"                            // … and any rule of "defaults"
//	    }
//	  }
//	}
//
// Records of a product absent from "products" are dead-lettered with reason
// no_mapping, as are devices a product cannot name (device_key asset and
// the device not in "assets", or device_key mac and no MAC).
type Mapping struct {
	products map[string]*Product
}

// Built-in rules, under the file's "defaults".
var builtinRules = rules{
	DeviceKey:      ptr(DeviceByDID),
	UnmappedPoints: ptr(UnmappedPass),
	FaultEvent:     ptr("attr_fault"),
	AlertEvent:     ptr("attr_alert"),
	Online:         &Lifecycle{Send: SendAttribute, ID: "online"},
	Offline:        &Lifecycle{Send: SendAttribute, ID: "online"},
}

// rules are the settings a product inherits from "defaults"; nil means
// inherit.
type rules struct {
	DeviceKey      *string    `json:"device_key,omitempty"`
	UnmappedPoints *string    `json:"unmapped_points,omitempty"`
	FaultEvent     *string    `json:"fault_event,omitempty"`
	AlertEvent     *string    `json:"alert_event,omitempty"`
	Online         *Lifecycle `json:"online,omitempty"`
	Offline        *Lifecycle `json:"offline,omitempty"`
}

// over returns r with the unset rules taken from base.
func (r rules) over(base rules) rules {
	pick := func(a, b *string) *string {
		if a != nil {
			return a
		}
		return b
	}
	out := rules{
		DeviceKey:      pick(r.DeviceKey, base.DeviceKey),
		UnmappedPoints: pick(r.UnmappedPoints, base.UnmappedPoints),
		FaultEvent:     pick(r.FaultEvent, base.FaultEvent),
		AlertEvent:     pick(r.AlertEvent, base.AlertEvent),
		Online:         r.Online,
		Offline:        r.Offline,
	}
	if out.Online == nil {
		out.Online = base.Online
	}
	if out.Offline == nil {
		out.Offline = base.Offline
	}
	return out
}

type fileProduct struct {
	rules
	EnOSProductKey string            `json:"enos_product_key"`
	Assets         map[string]string `json:"assets,omitempty"`
	Points         map[string]string `json:"points,omitempty"`
}

type file struct {
	Defaults rules                  `json:"defaults"`
	Products map[string]fileProduct `json:"products"`
}

// MappingSource gives the mapping in force. A *Mapping is its own fixed
// source; OpenMapping returns one that reloads the file when it changes.
type MappingSource interface {
	Current() *Mapping
}

// Current returns m: a Mapping is a fixed MappingSource.
func (m *Mapping) Current() *Mapping { return m }

// OpenMapping reads and validates the mapping file at path, as LoadMapping
// does, and returns it as a source that reloads it when Run is running:
// a new content that validates is swapped in atomically, one that does not
// is rejected (logged, counted in snotibridge_config_reloads_total) and the
// mapping in force stays. Records already dead-lettered as no_mapping stay
// in the DLQ: redrive them once the mapping has their product.
func OpenMapping(path string, log zerolog.Logger, reg prometheus.Registerer) (*filewatch.File[Mapping], error) {
	return filewatch.Open(filewatch.FileConfig{
		Path: path, Label: "ENOS_MAPPING_FILE",
	}, ParseMapping, log.With().Str("component", "enosfwd").Logger(), reg)
}

// LoadMapping reads and validates the mapping file at path. The error lists
// every problem, each naming the file, the JSON path, the value and the fix.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the mapping file: %w", err)
	}
	return ParseMapping(path, data)
}

// ParseMapping parses and validates a mapping file's content; name is the
// file name used in errors.
func ParseMapping(name string, data []byte) (*Mapping, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", name, describeJSONError(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the mapping object: keep one JSON object per file", name)
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if len(f.Products) == 0 {
		fail(`products is empty: map at least one Gizwits product_key, e.g. "products": {"<product_key>": {"enos_product_key": "<EnOS productKey>"}}`)
	}
	base := f.Defaults.over(builtinRules)
	if err := f.Defaults.validate("defaults"); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	m := &Mapping{products: make(map[string]*Product, len(f.Products))}
	keys := make([]string, 0, len(f.Products))
	for k := range f.Products {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		fp := f.Products[key]
		path := "products." + key
		if key == "" {
			fail(`products has an empty product_key: use the Gizwits product_key as the name`)
			continue
		}
		r := fp.rules.over(base)
		p := &Product{
			GizwitsKey: key,
			ProductKey: fp.EnOSProductKey,
			DeviceKey:  *r.DeviceKey,
			Assets:     fp.Assets,
			Points:     fp.Points,
			Unmapped:   *r.UnmappedPoints,
			FaultEvent: *r.FaultEvent,
			AlertEvent: *r.AlertEvent,
			Online:     *r.Online,
			Offline:    *r.Offline,
		}
		if err := fp.rules.validate(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		if p.DeviceKey != DeviceByAsset && p.ProductKey == "" {
			fail(`%s.enos_product_key is empty: set the EnOS productKey of this product's devices (or use "device_key": "asset" with an assets table)`, path)
		}
		if p.DeviceKey == DeviceByAsset && len(p.Assets) == 0 {
			fail(`%s.assets is empty while device_key is "asset": list "<did or mac>": "<assetId>" pairs, or name devices by did or mac`, path)
		}
		for dev, asset := range p.Assets {
			if dev == "" || asset == "" {
				fail(`%s.assets[%q]=%q: both the did or MAC and the assetId must be non-empty`, path, dev, asset)
			}
		}
		for dp, id := range p.Points {
			if dp == "" {
				fail(`%s.points has an empty data point name: use the data point names of the product's codec`, path)
			}
			if id != "" && !validID(id) {
				fail(`%s.points[%q]=%q: must be an EnOS measurement point id (letters, digits, '_'), or "" to drop the point`, path, dp, id)
			}
		}
		m.products[key] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// validate checks the rules that are set (the built-in ones are valid).
func (r rules) validate(path string) error {
	var errs []error
	if r.DeviceKey != nil {
		switch *r.DeviceKey {
		case DeviceByDID, DeviceByMAC, DeviceByAsset:
		default:
			errs = append(errs, fmt.Errorf(`%s.device_key=%q: must be "did", "mac" or "asset"`, path, *r.DeviceKey))
		}
	}
	if r.UnmappedPoints != nil {
		switch *r.UnmappedPoints {
		case UnmappedPass, UnmappedDrop:
		default:
			errs = append(errs, fmt.Errorf(`%s.unmapped_points=%q: must be "pass" (send under the Gizwits name) or "drop"`, path, *r.UnmappedPoints))
		}
	}
	for _, ev := range []struct {
		field string
		id    *string
	}{{"fault_event", r.FaultEvent}, {"alert_event", r.AlertEvent}} {
		if ev.id != nil && *ev.id != "" && !validID(*ev.id) {
			errs = append(errs, fmt.Errorf(`%s.%s=%q: must be an EnOS event id (letters, digits, '_'), or "" not to send these events`, path, ev.field, *ev.id))
		}
	}
	if r.Online != nil {
		if err := r.Online.validate(path + ".online"); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Offline != nil {
		if err := r.Offline.validate(path + ".offline"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// describeJSONError adds the line and column to a decoding error.
func describeJSONError(data []byte, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
		if typ.Field != "" {
			return fmt.Sprintf("%s: got a JSON %s, want %s (line %d): fix the value's type", typ.Field, typ.Value, typ.Type, line(data, off))
		}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field") {
		return msg + ": remove it or correct its spelling (see the mapping format in the README)"
	}
	if off >= 0 {
		return fmt.Sprintf("line %d: %s: fix the JSON syntax", line(data, off), msg)
	}
	return "parsing JSON: " + msg
}

func line(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// Lookup returns the mapping of a Gizwits product.
func (m *Mapping) Lookup(productKey string) (*Product, bool) {
	p, ok := m.products[productKey]
	return p, ok
}

// Products returns the mapped Gizwits product keys, sorted.
func (m *Mapping) Products() []string {
	out := make([]string, 0, len(m.products))
	for k := range m.products {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }
