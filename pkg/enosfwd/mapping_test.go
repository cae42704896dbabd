package enosfwd_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/enos"
	"github.com/snotibridge/snotibridge/pkg/enosfwd"
	"github.com/snotibridge/snotibridge/pkg/records"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr []string // substrings, all of which the error must hold
	}{
		{name: "minimal", json: `{"products": {"pk1": {"enos_product_key": "EP"}}}`},
		{name: "full", json: `{
			"defaults": {"device_key": "mac", "unmapped_points": "drop", "fault_event": "", "online": {"send": "event", "id": "dev_online"}, "offline": {"send": "none"}},
			"products": {"pk1": {"enos_product_key": "EP", "points": {"voltage": "Voltage", "junk": ""}, "assets": {"did1": "asset1"}, "alert_event": "Alert"},
			             "pk2": {"device_key": "asset", "assets": {"aa:bb": "asset2"}}}}`},
		{name: "no products", json: `{}`, wantErr: []string{"m.json: products is empty"}},
		{name: "syntax", json: "{\n\"products\": {,}}", wantErr: []string{"m.json: line 2", "fix the JSON syntax"}},
		{name: "unknown field", json: `{"products": {"pk1": {"enos_product_key": "EP", "point": {}}}}`, wantErr: []string{`unknown field "point"`, "remove it or correct its spelling"}},
		{name: "wrong type", json: `{"products": {"pk1": {"enos_product_key": 7}}}`, wantErr: []string{"enos_product_key", "want string"}},
		{name: "every problem at once", json: `{
			"defaults": {"device_key": "serial"},
			"products": {
				"pk1": {"points": {"voltage": "Volt age"}, "unmapped_points": "keep"},
				"pk2": {"enos_product_key": "EP", "device_key": "asset", "online": {"send": "attribute"}, "fault_event": "bad-id"}}}`,
			wantErr: []string{
				`defaults.device_key="serial": must be "did", "mac" or "asset"`,
				`products.pk1.points["voltage"]="Volt age": must be an EnOS measurement point id`,
				`products.pk1.unmapped_points="keep"`,
				`products.pk2.assets is empty while device_key is "asset"`,
				`products.pk2.online.id="": must be the EnOS attribute identifier`,
				`products.pk2.fault_event="bad-id"`,
			}},
		{name: "missing productKey", json: `{"products": {"pk1": {}}}`, wantErr: []string{"products.pk1.enos_product_key is empty: set the EnOS productKey"}},
		{name: "bad lifecycle", json: `{"products": {"pk1": {"enos_product_key": "EP", "offline": {"send": "mqtt"}}}}`, wantErr: []string{`products.pk1.offline.send="mqtt": must be "attribute", "event" or "none"`}},
		{name: "empty asset", json: `{"products": {"pk1": {"enos_product_key": "EP", "assets": {"did1": ""}}}}`, wantErr: []string{`products.pk1.assets["did1"]=""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := enosfwd.ParseMapping("m.json", []byte(tt.json))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("ParseMapping: %v", err)
				}
				if len(m.Products()) == 0 {
					t.Fatal("no products")
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMapping succeeded, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestProductRules(t *testing.T) {
	m, err := enosfwd.ParseMapping("m.json", []byte(`{
		"defaults": {"unmapped_points": "drop"},
		"products": {
			"pk1": {"enos_product_key": "EP1", "points": {"voltage": "Voltage", "junk": ""}, "assets": {"did-a": "asset-a", "mac-b": "asset-b"}},
			"pk2": {"enos_product_key": "EP2", "device_key": "mac", "unmapped_points": "pass", "points": {"voltage": "V"}},
			"pk3": {"device_key": "asset", "assets": {"did-c": "asset-c"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := m.Lookup("pk1")
	p2, _ := m.Lookup("pk2")
	p3, _ := m.Lookup("pk3")
	if _, ok := m.Lookup("pk4"); ok {
		t.Error("pk4 found")
	}
	devices := []struct {
		name     string
		p        *enosfwd.Product
		did, mac string
		want     enos.Device
		wantErr  bool
	}{
		{name: "did", p: p1, did: "d1", mac: "m1", want: enos.Device{ProductKey: "EP1", DeviceKey: "d1"}},
		{name: "asset by did", p: p1, did: "did-a", want: enos.Device{AssetID: "asset-a"}},
		{name: "asset by mac", p: p1, did: "d2", mac: "mac-b", want: enos.Device{AssetID: "asset-b"}},
		{name: "mac", p: p2, did: "d1", mac: "m1", want: enos.Device{ProductKey: "EP2", DeviceKey: "m1"}},
		{name: "mac missing", p: p2, did: "d1", wantErr: true},
		{name: "asset table", p: p3, did: "did-c", want: enos.Device{AssetID: "asset-c"}},
		{name: "not in asset table", p: p3, did: "did-x", mac: "m", wantErr: true},
		{name: "no did", p: p1, did: "", wantErr: true},
	}
	for _, tt := range devices {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Device(tt.did, tt.mac)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Device(%q, %q) = %+v, %v; want %+v, err %v", tt.did, tt.mac, got, err, tt.want, tt.wantErr)
			}
		})
	}
	points := []records.DataPoint{{Name: "voltage", Value: 230.5}, {Name: "junk", Value: int64(1)}, {Name: "state", Value: "idle"}, {Name: "nothing", Value: nil}}
	prefix := []enos.Point{{ID: "z", Value: 1}} // appended to, left as is
	if got := p1.AppendMeasurepoints(prefix, points, nil); !slices.Equal(got, []enos.Point{prefix[0], {ID: "Voltage", Value: 230.5}}) {
		t.Errorf("drop rule: %v, want only Voltage after the prefix", got)
	}
	want := []enos.Point{prefix[0], {ID: "V", Value: 230.5}, {ID: "junk", Value: int64(1)}, {ID: "state", Value: "idle"}}
	if got := p2.AppendMeasurepoints(prefix, points, nil); !slices.Equal(got, want) {
		t.Errorf("pass rule: %v, want %v (sorted by id)", got, want)
	}
	if got := p2.Measurepoints(points); len(got) != 3 || got["V"] != 230.5 || got["state"] != "idle" || got["junk"] != int64(1) {
		t.Errorf("pass rule as a map: %v, want V, junk and state", got)
	}
	// Two data points mapped to one id: the later counts, as it did in a map.
	twice := []records.DataPoint{{Name: "voltage", Value: 1.0}, {Name: "V", Value: 2.0}, {Name: "voltage", Value: 3.0}}
	if got := p2.AppendMeasurepoints(nil, twice, &enos.PointSorter{}); !slices.Equal(got, []enos.Point{{ID: "V", Value: 3.0}}) {
		t.Errorf("repeated id: %v, want V=3", got)
	}
}
