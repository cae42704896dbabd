package energismefwd_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/energismefwd"
)

const pk = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr []string // every fragment must appear
	}{
		{name: "did by default", json: `{"products":{"` + pk + `":{"devicetype":"dt"}}}`},
		{name: "mac with overrides", json: `{"products":{"` + pk + `":{"devicetype":"dt","deviceid":"mac","devices":{"AABB":"meter-1"}}}}`},
		{name: "not json", json: `{`, wantErr: []string{"m.json", "want {"}},
		{name: "unknown field", json: `{"products":{"` + pk + `":{"devicetype":"dt","device_type":"x"}}}`, wantErr: []string{"unknown field", "device_type"}},
		{name: "no products", json: `{"products":{}}`, wantErr: []string{"products is empty"}},
		{name: "every problem at once", json: `{"products":{"a":{"deviceid":"imei"},"b":{"devicetype":"dt","devices":{"x":""}}}}`, wantErr: []string{
			`products["a"].devicetype is empty`, `products["a"].deviceid="imei": must be "did" or "mac"`, `products["b"].devices["x"]=""`,
		}},
		{name: "trailing data", json: `{"products":{"a":{"devicetype":"dt"}}} {}`, wantErr: []string{"trailing data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := energismefwd.ParseMapping("m.json", []byte(tt.json))
			if (err != nil) != (len(tt.wantErr) > 0) {
				t.Fatalf("err = %v, want errors containing %q", err, tt.wantErr)
			}
			for _, frag := range tt.wantErr {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("err = %v, want it to contain %q", err, frag)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	m, err := energismefwd.ParseMapping("m.json", []byte(`{"products":{
		"pdid":{"devicetype":"dt-did","devices":{"did-9":"override-9","CCDD":"override-mac"}},
		"pmac":{"devicetype":"dt-mac","deviceid":"mac"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pk, did, mac string
		want               energismefwd.Target
		wantErr            error
		wantAnyErr         bool
	}{
		{name: "did", pk: "pdid", did: "did-1", mac: "AABB", want: energismefwd.Target{DeviceType: "dt-did", DeviceID: "did-1"}},
		{name: "override by did", pk: "pdid", did: "did-9", want: energismefwd.Target{DeviceType: "dt-did", DeviceID: "override-9"}},
		{name: "override by mac", pk: "pdid", did: "did-2", mac: "CCDD", want: energismefwd.Target{DeviceType: "dt-did", DeviceID: "override-mac"}},
		{name: "mac", pk: "pmac", did: "did-1", mac: "AABB", want: energismefwd.Target{DeviceType: "dt-mac", DeviceID: "AABB"}},
		{name: "mac missing", pk: "pmac", did: "did-1", wantAnyErr: true},
		{name: "unmapped", pk: "other", did: "did-1", wantErr: energismefwd.ErrUnmapped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Resolve(tt.pk, tt.did, tt.mac)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantAnyErr && (err == nil || errors.Is(err, energismefwd.ErrUnmapped)) {
				t.Fatalf("err = %v, want a device id error", err)
			}
			if tt.wantErr == nil && !tt.wantAnyErr && (err != nil || got != tt.want) {
				t.Fatalf("Resolve = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestLoadMappingMissingFile(t *testing.T) {
	_, err := energismefwd.LoadMapping(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "MappingFile=") {
		t.Fatalf("missing file: %v, want an error naming MappingFile", err)
	}
}

func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{
		`{"products":{"pk":{"devicetype":"dt"}}}`,
		`{"products":{"pk":{"devicetype":"dt","deviceid":"mac","devices":{"AABB":"m1"}}}}`,
		`{"products":{}}`, `{`, `[]`, `{"products":{"":{"devicetype":""}}} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := energismefwd.ParseMapping("fuzz.json", data)
		if err != nil {
			return
		}
		// A valid mapping resolves its products without panicking, and
		// never to an empty devicetype.
		for _, pk := range m.Products() {
			if got, err := m.Resolve(pk, "did", "mac"); err == nil && got.DeviceType == "" {
				t.Fatalf("product %q resolves to an empty devicetype", pk)
			}
		}
	})
}
