package enosfwd

import (
	"fmt"
	"math"
	"regexp"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/records"
)

// How a Gizwits device is named in EnOS.
const (
	DeviceByDID   = "did"   // deviceKey = the Gizwits did
	DeviceByMAC   = "mac"   // deviceKey = the device's MAC
	DeviceByAsset = "asset" // assetId from the product's assets table only
)

// How data points absent from a product's points table are treated.
const (
	UnmappedPass = "pass" // sent under their Gizwits name
	UnmappedDrop = "drop" // not sent
)

// Product is the resolved mapping of one Gizwits product: the file's
// defaults applied. It is immutable.
type Product struct {
	// GizwitsKey is the Gizwits product_key.
	GizwitsKey string
	// ProductKey is the EnOS productKey of its devices.
	ProductKey string
	// DeviceKey is DeviceByDID, DeviceByMAC or DeviceByAsset.
	DeviceKey string
	// Assets maps a did or a MAC to an EnOS assetId; a device found there
	// is named by assetId whatever DeviceKey says.
	Assets map[string]string
	// Points renames data points to measurement point ids; a point mapped
	// to "" is dropped.
	Points map[string]string
	// Unmapped is UnmappedPass or UnmappedDrop.
	Unmapped string
	// FaultEvent and AlertEvent are the EnOS event ids of attr_fault and
	// attr_alert, sent with {value, attr_name}; "" means not forwarded.
	FaultEvent, AlertEvent string
	// Online and Offline say how device_online and device_offline are sent.
	Online, Offline Lifecycle
}

// errNoDevice reports a device the product's mapping cannot name.
type errNoDevice struct{ reason string }

func (e errNoDevice) Error() string { return e.reason }

// Device names the Gizwits device did (with MAC mac) in EnOS.
func (p *Product) Device(did, mac string) (enos.Device, error) {
	if id, ok := p.Assets[did]; ok {
		return enos.Device{AssetID: id}, nil
	}
	if id, ok := p.Assets[mac]; ok && mac != "" {
		return enos.Device{AssetID: id}, nil
	}
	switch p.DeviceKey {
	case DeviceByDID:
		if did != "" {
			return enos.Device{ProductKey: p.ProductKey, DeviceKey: did}, nil
		}
		return enos.Device{}, errNoDevice{"record has no did"}
	case DeviceByMAC:
		if mac != "" {
			return enos.Device{ProductKey: p.ProductKey, DeviceKey: mac}, nil
		}
		return enos.Device{}, errNoDevice{fmt.Sprintf("device %s has no MAC and device_key is mac", did)}
	}
	return enos.Device{}, errNoDevice{fmt.Sprintf("device did=%s mac=%s is not in the assets table of product %s", did, mac, p.GizwitsKey)}
}

// AppendMeasurepoints appends to dst the measurement point values of data
// points, sorted by id (enos.SortPoints: of two data points mapped to one
// id the later counts), and returns the extended slice. Points without a
// value, with a non-finite number, or dropped by the mapping are left out;
// none may be appended. A batch appends every record's to one slice: no
// map and no slice per record, and sorts them with one sorter (nil: none),
// which remembers the order of the last record's.
func (p *Product) AppendMeasurepoints(dst []enos.Point, points []records.DataPoint, sorter *enos.PointSorter) []enos.Point {
	start := len(dst)
	for _, dp := range points {
		id, ok := p.Points[dp.Name]
		if !ok {
			if p.Unmapped != UnmappedPass {
				continue
			}
			id = dp.Name
		}
		if id == "" || !sendable(dp.Value) {
			continue
		}
		dst = append(dst, enos.Point{ID: id, Value: dp.Value})
	}
	if sorter == nil {
		return dst[:start+len(enos.SortPoints(dst[start:]))]
	}
	return dst[:start+len(sorter.Sort(dst[start:]))]
}

// Measurepoints is AppendMeasurepoints(nil, points, nil) as a map by id: what
// a record sends, for a caller that looks points up (tests, tools).
func (p *Product) Measurepoints(points []records.DataPoint) map[string]any {
	out := map[string]any{}
	for _, pt := range p.AppendMeasurepoints(nil, points, nil) {
		out[pt.ID] = pt.Value
	}
	return out
}

// sendable reports whether v is a value EnOS takes: JSON cannot carry NaN
// or infinities, and a null point says nothing.
func sendable(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	}
	return true
}

// idPattern is what this package accepts as an EnOS identifier (model
// point, event or attribute id).
var idPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func validID(s string) bool { return idPattern.MatchString(s) }
