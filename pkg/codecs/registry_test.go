package codecs_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/codecs"
)

const (
	pkEV    = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b" // standard export
	pkPH    = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" // standard export + custom codec for 0x06
	pkAir   = "7b2e4c1a9f3d5e6b8c0a1d2e3f405162" // var_len export
	pkHeat  = "5d6e7f8091a2b3c4d5e6f708192a3b4c" // custom codec only
	heatMsg = "01ff854e61bc001035a1b2c3d4484d2d3200000000"
)

// copyDir copies testdata/codecs into a fresh directory.
func copyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/codecs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/codecs", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, e.Name()), b)
	}
	return dir
}

// writeFile replaces a file atomically, as editors and ConfigMaps do.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func open(t testing.TB, dir string) *codecs.Registry {
	t.Helper()
	r, err := codecs.Open(dir, zerolog.New(zerolog.NewTestWriter(t)), codecs.WithDebounce(10*time.Millisecond), codecs.WithRescanInterval(time.Hour))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fieldsJSON(t *testing.T, res codecs.Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range res.Fields {
		b, err := json.Marshal(f.Value)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func TestDecode(t *testing.T) {
	r := open(t, copyDir(t))
	tests := []struct {
		name       string
		product    string
		hex        string
		wantReason codecs.Reason
		wantSource codecs.Source
		wantMsg    string
		want       map[string]string // subset of fields, JSON form
	}{
		{name: "standard status report", product: pkEV, hex: "000000031a0000910403100509010627000030394b01020304050607080200",
			wantSource: codecs.SourceStandard, want: map[string]string{"voltage": "230.5", "mode": `"manual"`, "temperature": "35", "session_id": `"0102030405060708"`}},
		{name: "worked example", product: pkPH, hex: "000000031100009400000004030002dc089d00000000",
			wantSource: codecs.SourceStandard, want: map[string]string{"pH": "7.32", "mV": "205"}},
		{name: "var_len partial", product: pkAir, hex: "000000030b00009114011b1d00230267",
			wantSource: codecs.SourceVarLen, want: map[string]string{"temperature": "21.5", "error_code": `"overheat"`}},
		{name: "transparent data to the custom codec", product: pkPH, hex: "000000030a000091064301 03e8ff9c",
			wantSource: codecs.SourceCustom, wantMsg: "calibration", want: map[string]string{"point": `"pH7"`, "slope_pct": "100", "offset_mv": "-100"}},
		{name: "custom-only product, bare bytes", product: pkHeat, hex: heatMsg,
			wantSource: codecs.SourceCustom, wantMsg: "measurement", want: map[string]string{"temp": "-12.3", "model": `"HM-2"`}},
		{name: "custom-only product, transport frame with 0x06", product: pkHeat, hex: "000000031900009106" + heatMsg,
			wantSource: codecs.SourceCustom, wantMsg: "measurement", want: map[string]string{"energy": "12345.678"}},
		{name: "no codec", product: "ffffffffffffffffffffffffffffffff", hex: "0400", wantReason: codecs.ReasonNoCodec},
		{name: "too short", product: pkEV, hex: "0403", wantReason: codecs.ReasonTooShort},
		{name: "frame length mismatch", product: pkEV, hex: "000000030500009104ffff", wantReason: codecs.ReasonLengthMismatch},
		{name: "malformed frame", product: pkEV, hex: "00000003ffffffff7f", wantReason: codecs.ReasonMalformedFrame},
		{name: "unknown action, no custom codec", product: pkEV, hex: "7f0102", wantReason: codecs.ReasonUnknownAction},
		{name: "transparent data, no custom codec", product: pkAir, hex: "060102", wantReason: codecs.ReasonUnknownAction},
		{name: "unknown custom message", product: pkPH, hex: "0699", wantReason: codecs.ReasonUnknownMessage},
		{name: "custom message too short", product: pkHeat, hex: "0101", wantReason: codecs.ReasonTooShort},
		{name: "empty payload", product: pkHeat, hex: "", wantReason: codecs.ReasonTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Decode(tt.product, mustHex(t, strings.ReplaceAll(tt.hex, " ", "")))
			if got := codecs.ReasonOf(err); got != tt.wantReason {
				t.Fatalf("ReasonOf(%v) = %q, want %q", err, got, tt.wantReason)
			}
			if err != nil {
				return
			}
			if res.Source != tt.wantSource || res.Message != tt.wantMsg || res.ProductKey != tt.product {
				t.Errorf("source %q message %q product %q, want %q %q %q", res.Source, res.Message, res.ProductKey, tt.wantSource, tt.wantMsg, tt.product)
			}
			got := fieldsJSON(t, res)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %s, want %s", k, got[k], v)
				}
			}
		})
	}
}

func TestUnknownActionKeepsFrame(t *testing.T) {
	r := open(t, copyDir(t))
	res, err := r.Decode(pkEV, mustHex(t, "00000003060000917f0102"))
	if !errors.Is(err, codecs.ErrUnknownAction) {
		t.Fatalf("err = %v, want ErrUnknownAction", err)
	}
	if res.Source != codecs.SourceOpaque || res.Action != 0x7f || !res.Frame.Framed || len(res.Frame.P0) != 3 {
		t.Fatalf("Result = %+v, want the opaque frame", res)
	}
}

func TestDecodeKV(t *testing.T) {
	r := open(t, copyDir(t))
	tests := []struct {
		name       string
		product    string
		kv         string
		want       map[string]string // name → kind:value
		wantReason codecs.Reason
	}{
		{name: "typed by the definition", product: pkEV, kv: `{"charge_enable":1,"state":"charging","voltage":230.5,"current_limit":16,"note":"x","n":2.5}`,
			want: map[string]string{"charge_enable": "bool:true", "state": "string:charging", "voltage": "float:230.5", "current_limit": "int:16", "note": "string:x", "n": "float:2.5"}},
		{name: "no definition keeps JSON types", product: "ffffffffffffffffffffffffffffffff", kv: `{"on":1,"flag":true,"name":"a","obj":{"a":1}}`,
			want: map[string]string{"on": "float:1", "flag": "bool:true", "name": "string:a", "obj": `string:{"a":1}`}},
		{name: "custom-only product keeps JSON types", product: pkHeat, kv: `{"temp":21.5}`, want: map[string]string{"temp": "float:21.5"}},
		{name: "bool that is not 0/1", product: pkEV, kv: `{"charge_enable":7}`, wantReason: codecs.ReasonValueMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kv map[string]any
			if err := json.Unmarshal([]byte(tt.kv), &kv); err != nil {
				t.Fatal(err)
			}
			res, err := r.DecodeKV(tt.product, kv)
			if got := codecs.ReasonOf(err); got != tt.wantReason {
				t.Fatalf("ReasonOf(%v) = %q, want %q", err, got, tt.wantReason)
			}
			if err != nil {
				return
			}
			if res.Source != codecs.SourceKV || len(res.Fields) != len(tt.want) {
				t.Fatalf("Result = %+v", res)
			}
			for _, f := range res.Fields {
				if got := f.Value.Kind().String() + ":" + f.Value.String(); got != tt.want[f.Name] {
					t.Errorf("%s = %s, want %s", f.Name, got, tt.want[f.Name])
				}
			}
		})
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{name: "empty directory", files: nil},
		{name: "custom codec with a bad field", files: map[string]string{"abc.json": `{"messages":[{"name":"m","fields":[
			{"name":"a","offset":0,"type":"u8"},{"name":"b","offset":1,"type":"u8"},{"name":"c","offset":2,"type":"u8"},
			{"name":"temp","offset":3,"length":3,"type":"i16"}]},{"name":"n","fields":[]}]}`},
			wantErr: `abc.json: messages[0].fields[3] "temp": length 3 invalid for i16`},
		{name: "export with a bad attr", files: map[string]string{"pk.json": `{"protocolType":"standard","entities":[{"attrs":[{"id":0,"name":"x","type":"status_readonly","data_type":"uint16","position":{"len":3}}]}]}`},
			wantErr: `pk.json: entities[0].attrs[0] "x": len 3 invalid for uint16`},
		{name: "neither kind", files: map[string]string{"pk.json": `{"name":"x"}`}, wantErr: `pk.json: neither a Gizwits export`},
		{name: "not JSON", files: map[string]string{"pk.json": `{`}, wantErr: "pk.json: parsing JSON"},
		{name: "product key differs from the name", files: map[string]string{"pk.json": `{"product_key":"other","messages":[{"name":"m","fields":[]}]}`},
			wantErr: `product_key "other" differs from the file name's "pk"`},
		{name: "two custom codecs for a product", files: map[string]string{
			"pk.a.json": `{"messages":[{"name":"m","fields":[]}]}`, "pk.b.json": `{"messages":[{"name":"m","fields":[]}]}`},
			wantErr: "pk.b.json: product pk already has a custom codec"},
		{name: "hidden and other files ignored", files: map[string]string{".x.json": `{`, "notes.txt": `{`, "..data": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(dir, name), []byte(content))
			}
			_, err := codecs.Open(dir, zerolog.Nop())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Open error = %v\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
	if _, err := codecs.Open(filepath.Join(t.TempDir(), "missing"), zerolog.Nop()); err == nil {
		t.Error("Open of a missing directory: want an error")
	}
	if _, err := codecs.Open(t.TempDir(), zerolog.Nop(), codecs.WithRescanInterval(0)); err == nil {
		t.Error("Open with a zero rescan interval: want an error")
	}
}

// eventually waits for cond, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func runRegistry(t *testing.T, r *codecs.Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// pH decodes the worked example with the registry's current pH definition.
func pH(t *testing.T, r *codecs.Registry) string {
	res, err := r.Decode(pkPH, mustHex(t, "000000031100009400000004030002dc089d00000000"))
	if err != nil {
		return "error: " + err.Error()
	}
	return fieldsJSON(t, res)["pH"]
}

func TestReload(t *testing.T) {
	dir := copyDir(t)
	r := open(t, dir)
	runRegistry(t, r)
	path := filepath.Join(dir, pkPH+".json")
	orig, _ := os.ReadFile(path)
	if got := pH(t, r); got != "7.32" {
		t.Fatalf("pH = %s before reload", got)
	}

	t.Run("new version takes effect", func(t *testing.T) {
		writeFile(t, path, []byte(strings.Replace(string(orig), `"ratio": 0.01`, `"ratio": 0.1`, 1)))
		eventually(t, "ratio 0.1", func() bool { return pH(t, r) == "73.2" })
	})
	t.Run("bad file keeps the previous version", func(t *testing.T) {
		before := r.Stats()
		writeFile(t, path, []byte(strings.Replace(string(orig), `"uint16"`, `"uint24"`, 1)))
		eventually(t, "the reload error to be counted", func() bool { return r.Stats().ReloadErrors > before.ReloadErrors })
		if got := pH(t, r); got != "73.2" {
			t.Fatalf("pH = %s, want the previous good version's 73.2", got)
		}
		if s := r.Stats(); s.BadFiles != 1 || s.Version != before.Version {
			t.Fatalf("Stats = %+v, want one bad file and the same version", s)
		}
		if err := r.Rescan(); err == nil || !strings.Contains(err.Error(), `data_type "uint24" unknown`) {
			t.Fatalf("Rescan = %v, want the bad file's error", err)
		}
	})
	t.Run("fixed file loads", func(t *testing.T) {
		writeFile(t, path, orig)
		eventually(t, "the original version", func() bool { return pH(t, r) == "7.32" })
		if s := r.Stats(); s.BadFiles != 0 {
			t.Fatalf("Stats = %+v, want no bad file", s)
		}
	})
	t.Run("removed file removes the product's export", func(t *testing.T) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		eventually(t, "no definition for the product", func() bool {
			_, ok := r.Definition(pkPH)
			return !ok
		})
		// Its custom codec file is still there: a status frame is now opaque
		// to it, so it reports an unknown message.
		if _, err := r.Decode(pkPH, mustHex(t, "030002dc089d00000000")); codecs.ReasonOf(err) != codecs.ReasonUnknownMessage {
			t.Fatalf("Decode after removal: %v", err)
		}
	})
}

// TestReloadConfigMap swaps the ..data symlink the way the kubelet updates a
// mounted ConfigMap.
func TestReloadConfigMap(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile(filepath.Join("testdata/codecs", pkPH+".json"))
	if err != nil {
		t.Fatal(err)
	}
	version := func(name string, content []byte) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, pkPH+".json"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(name, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_11_22_01", orig)
	if err := os.Symlink(filepath.Join("..data", pkPH+".json"), filepath.Join(dir, pkPH+".json")); err != nil {
		t.Fatal(err)
	}
	r := open(t, dir)
	runRegistry(t, r)
	if got := pH(t, r); got != "7.32" {
		t.Fatalf("pH = %s", got)
	}
	version("..2026_11_22_02", []byte(strings.Replace(string(orig), `"ratio": 0.01`, `"ratio": 0.1`, 1)))
	eventually(t, "the swapped version", func() bool { return pH(t, r) == "73.2" })
}

// TestDecodeDuringReload decodes from many goroutines while the file
// flips between two versions: every decode sees one whole version (run with
// -race).
func TestDecodeDuringReload(t *testing.T) {
	dir := copyDir(t)
	r := open(t, dir)
	path := filepath.Join(dir, pkPH+".json")
	orig, _ := os.ReadFile(path)
	alt := []byte(strings.Replace(string(orig), `"ratio": 0.01`, `"ratio": 0.1`, 1))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if got := pH(t, r); got != "7.32" && got != "73.2" {
					select {
					case errs <- got:
					default:
					}
					return
				}
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			writeFile(t, path, alt)
		} else {
			writeFile(t, path, orig)
		}
		if err := r.Rescan(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("decode during reload saw %s", e)
	}
	if s := r.Stats(); s.Reloads != 50 {
		t.Errorf("Stats = %+v, want 50 reloads", s)
	}
}

// TestReloadMetrics: with WithMetrics the folder reports the reload metrics
// the mapping files report (package filewatch), labelled CODECS_DIR.
func TestReloadMetrics(t *testing.T) {
	dir := copyDir(t)
	reg := prometheus.NewRegistry()
	r, err := codecs.Open(dir, zerolog.New(zerolog.NewTestWriter(t)), codecs.WithMetrics(reg),
		codecs.WithDebounce(10*time.Millisecond), codecs.WithRescanInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	runRegistry(t, r)
	path := filepath.Join(dir, pkPH+".json")
	orig, _ := os.ReadFile(path)
	value := func(name, outcome string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if mf.GetName() != name || labels["file"] != "CODECS_DIR" || labels["outcome"] != outcome {
					continue
				}
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
		return -1
	}
	writeFile(t, path, []byte(strings.Replace(string(orig), `"uint16"`, `"uint24"`, 1)))
	eventually(t, "the rejection counted", func() bool { return value("snotibridge_config_reloads_total", "rejected") == 1 })
	if v := value("snotibridge_config_rejected", ""); v != 1 {
		t.Errorf("snotibridge_config_rejected = %v with a bad file, want 1", v)
	}
	writeFile(t, path, orig)
	eventually(t, "the fixed file loaded", func() bool { return value("snotibridge_config_reloads_total", "loaded") == 1 })
	if v := value("snotibridge_config_rejected", ""); v != 0 {
		t.Errorf("snotibridge_config_rejected = %v after the fix, want 0", v)
	}
}
