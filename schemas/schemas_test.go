package schemas_test

import (
	"encoding/json"
	"testing"

	"github.com/snotibridge/snotibridge/schemas"
)

func TestAll(t *testing.T) {
	all, err := schemas.All()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"SnotiEvent": false, "DeviceTelemetry": false, "DeadLetter": false, "DeviceCommand": false, "CommandResult": false}
	for _, s := range all {
		var doc struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(s.JSON), &doc); err != nil {
			t.Fatalf("%s: not JSON: %v", s.File, err)
		}
		if doc.Name != s.Name {
			t.Errorf("%s: record name %q does not match file name", s.File, doc.Name)
		}
		want[s.Name] = true
	}
	for n, ok := range want {
		if !ok {
			t.Errorf("schema %s missing", n)
		}
	}
}
