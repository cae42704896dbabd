package energismefwd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
	"github.com/snotibridge/snotibridge/pkg/internal/fielderr"
)

// Device id sources of a mapped product.
const (
	DeviceIDFromDID = "did"
	DeviceIDFromMAC = "mac"
)

// ErrUnmapped marks an event whose product is not in the mapping.
var ErrUnmapped = errors.New("product not in the Energisme mapping")

// Mapping tells, per Gizwits product, which Energisme devicetype its
// devices are and which device id Energisme knows each device by. It is
// read from a JSON file (ENERGISME_MAPPING_FILE):
//
//	{
//	  "products": {
//	    "<product_key>": {
//	      "devicetype": "<given by Energisme>",
//	      "deviceid": "did",                      // or "mac"; default "did"
//	      "devices": {"<did or mac>": "<id>"}     // optional overrides
//	    }
//	  }
//	}
//
// A device listed under "devices" (by did or by mac) gets that id; any
// other device of the product gets its did or mac, as "deviceid" says.
// A Mapping is immutable and safe for concurrent use; a reload builds a
// new one (see OpenMapping).
type Mapping struct {
	products map[string]productMapping
}

type productMapping struct {
	DeviceType string            `json:"devicetype"`
	DeviceID   string            `json:"deviceid"`
	Devices    map[string]string `json:"devices"`
}

type mappingFile struct {
	Products map[string]productMapping `json:"products"`
}

// Target is where one event goes at Energisme.
type Target struct {
	DeviceType string
	DeviceID   string
}

// MappingSource gives the mapping in force. A *Mapping is its own fixed
// source; OpenMapping returns one that reloads the file when it changes.
type MappingSource interface {
	Current() *Mapping
}

// Current returns m: a Mapping is a fixed MappingSource.
func (m *Mapping) Current() *Mapping { return m }

// OpenMapping reads and validates the mapping file at path, as LoadMapping
// does, and returns it as a source that reloads it while its Run runs: a
// new content that validates is swapped in atomically, one that does not
// is rejected (logged, counted in snotibridge_config_reloads_total) and the
// mapping in force stays. Events already dead-lettered as no_mapping stay
// in the DLQ: redrive them once the mapping has their product.
func OpenMapping(path string, log zerolog.Logger, reg prometheus.Registerer) (*filewatch.File[Mapping], error) {
	f, err := filewatch.Open(filewatch.FileConfig{Path: path, Label: "ENERGISME_MAPPING_FILE"},
		ParseMapping, log.With().Str("component", "energisme-push").Logger(), reg)
	if err != nil {
		return nil, fielderr.Wrap("MappingFile", path, err)
	}
	return f, nil
}

// LoadMapping reads and validates a mapping file. Every problem is
// reported at once, each naming the file, the JSON path and the fix.
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fielderr.Wrap("MappingFile", path, err)
	}
	return ParseMapping(path, b)
}

// ParseMapping parses and validates mapping JSON; name is used in errors.
func ParseMapping(name string, data []byte) (*Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f mappingFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w: want {\"products\": {\"<product_key>\": {\"devicetype\": …, \"deviceid\": \"did\"|\"mac\", \"devices\": {…}}}}", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: trailing data after the JSON object", name)
	}
	var errs []error
	if len(f.Products) == 0 {
		errs = append(errs, fmt.Errorf("%s: products is empty: map at least one product_key to its devicetype", name))
	}
	keys := make([]string, 0, len(f.Products))
	for pk := range f.Products {
		keys = append(keys, pk)
	}
	sort.Strings(keys)
	for _, pk := range keys {
		p := f.Products[pk]
		at := fmt.Sprintf("%s: products[%q]", name, pk)
		if strings.TrimSpace(pk) == "" {
			errs = append(errs, fmt.Errorf("%s: product key is empty: use the Gizwits product_key", at))
		}
		if strings.TrimSpace(p.DeviceType) == "" {
			errs = append(errs, fmt.Errorf("%s.devicetype is empty: set the devicetype Energisme assigned to this hardware model", at))
		}
		switch p.DeviceID {
		case "":
			p.DeviceID = DeviceIDFromDID
		case DeviceIDFromDID, DeviceIDFromMAC:
		default:
			errs = append(errs, fmt.Errorf("%s.deviceid=%q: must be \"did\" or \"mac\"", at, p.DeviceID))
		}
		for dev, id := range p.Devices {
			if strings.TrimSpace(dev) == "" || strings.TrimSpace(id) == "" {
				errs = append(errs, fmt.Errorf("%s.devices[%q]=%q: both the did/mac and the Energisme device id must be non-empty", at, dev, id))
			}
		}
		f.Products[pk] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Mapping{products: f.Products}, nil
}

// Products returns the mapped product keys, sorted.
func (m *Mapping) Products() []string {
	out := make([]string, 0, len(m.products))
	for pk := range m.products {
		out = append(out, pk)
	}
	sort.Strings(out)
	return out
}

// Resolve returns the Energisme target of a device. The error wraps
// ErrUnmapped when the product is not mapped; it is also an error when the
// device id the product uses (its mac, say) is empty.
func (m *Mapping) Resolve(productKey, did, mac string) (Target, error) {
	p, ok := m.products[productKey]
	if !ok {
		return Target{}, fmt.Errorf("%w: %s", ErrUnmapped, productKey)
	}
	t := Target{DeviceType: p.DeviceType}
	if id, ok := p.Devices[did]; ok && did != "" {
		t.DeviceID = id
	} else if id, ok := p.Devices[mac]; ok && mac != "" {
		t.DeviceID = id
	} else if p.DeviceID == DeviceIDFromMAC {
		t.DeviceID = mac
	} else {
		t.DeviceID = did
	}
	if t.DeviceID == "" {
		return Target{}, fmt.Errorf("product %s maps the device id from its %s, which is empty (did %q)", productKey, p.DeviceID, did)
	}
	return t, nil
}
