package gizwits_test

import (
	"encoding/base64"
	"fmt"
	"os"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// A simulator encodes a device's status report; the decoder reads it back.
func ExampleDefinition_EncodeStatus() {
	export, err := os.ReadFile("testdata/golden/ph-meter-worked-example.json")
	if err != nil {
		panic(err)
	}
	def, err := gizwits.Parse(export)
	if err != nil {
		panic(err)
	}
	frame, err := def.EncodeStatus(map[string]any{"pump_on": true, "pH": 7.32, "mV": 205, "runtime_s": 3600})
	if err != nil {
		panic(err)
	}
	fmt.Println(base64.StdEncoding.EncodeToString(frame)) // device_status_raw "data.raw"

	m, err := def.Decode(frame)
	if err != nil {
		panic(err)
	}
	for _, f := range m.Fields {
		fmt.Printf("%s=%v (%s)\n", f.Name, f.Value, f.Value.Kind())
	}
	// Output:
	// AAAAAw0AAJEEAQLcCJ0AAA4Q
	// pump_on=true (bool)
	// pH=7.32 (float)
	// mV=205 (int)
	// runtime_s=3600 (int)
}

// A var_len device reports only what changed.
func ExampleDefinition_EncodePartialStatus() {
	export, err := os.ReadFile("testdata/golden/air-purifier-var-len.json")
	if err != nil {
		panic(err)
	}
	def, err := gizwits.Parse(export)
	if err != nil {
		panic(err)
	}
	frame, err := def.EncodePartialStatus(map[string]any{"power": true, "pm25": 35})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", frame)
	// Output: 0000000309000091140009010023
}
