// Package snotidoc loads the SNoti doc fixtures (pkg/snoti/testdata/doc)
// and compares a message's shape with a documented one. It serves the
// tests of pkg/snoti and pkg/snotisim: both sides are checked against the
// doc, not against each other.
package snotidoc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Fixture is one documented message.
type Fixture struct {
	Name     string          `json:"name"`
	Section  string          `json:"section"`
	Proto    string          `json:"proto"` // v1 or v2
	Kind     string          `json:"kind"`  // request, reply or push
	Client   *bool           `json:"client"`
	Optional []string        `json:"optional"`
	Loose    []string        `json:"loose"`
	Message  json.RawMessage `json:"message"`
}

// Kinds of Fixture.
const (
	Request = "request"
	Reply   = "reply"
	Push    = "push"
)

// SentByClient reports whether our client sends this request (false for
// forms it knows but does not use, such as the old remote_control_req).
func (f Fixture) SentByClient() bool { return f.Kind == Request && (f.Client == nil || *f.Client) }

// Cmd is the message's cmd.
func (f Fixture) Cmd() string {
	var m struct {
		Cmd string `json:"cmd"`
	}
	_ = json.Unmarshal(f.Message, &m)
	return m.Cmd
}

// Field returns a top-level field of the message as raw JSON.
func (f Fixture) Field(name string) json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(f.Message, &m)
	return m[name]
}

// Load reads every *.json fixture file of dir.
func Load(dir string) ([]Fixture, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no fixture in %s: %v", dir, err)
	}
	var out []Fixture
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var fs []Fixture
		if err := json.Unmarshal(b, &fs); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, f := range fs {
			if f.Name == "" || f.Proto == "" || (f.Kind != Request && f.Kind != Reply && f.Kind != Push) || !json.Valid(f.Message) {
				return nil, fmt.Errorf("%s: fixture %q: name, proto, kind (request|reply|push) and a JSON message are required", file, f.Name)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// Compare reports every difference between the shape of got (a JSON
// message) and the fixture's: a documented field missing (unless
// optional), a field the doc does not list, a JSON type that differs.
// Arrays are compared element by element with the documented first
// element. Loose paths are only checked for presence.
func (f Fixture) Compare(got []byte) []string {
	var doc, act any
	if err := json.Unmarshal(f.Message, &doc); err != nil {
		return []string{"fixture: " + err.Error()}
	}
	if err := json.Unmarshal(got, &act); err != nil {
		return []string{fmt.Sprintf("not JSON: %v: %.200s", err, got)}
	}
	var diffs []string
	compare(doc, act, "", f.Optional, f.Loose, &diffs)
	return diffs
}

func compare(doc, act any, path string, optional, loose []string, diffs *[]string) {
	if slices.Contains(loose, path) {
		return
	}
	if typeOf(doc) != typeOf(act) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %s, the doc has %s", name(path), typeOf(act), typeOf(doc)))
		return
	}
	switch d := doc.(type) {
	case map[string]any:
		a := act.(map[string]any)
		for _, k := range sortedKeys(d) {
			p := join(path, k)
			v, ok := a[k]
			if !ok {
				if !slices.Contains(optional, p) && !slices.Contains(loose, p) {
					*diffs = append(*diffs, fmt.Sprintf("%s: missing", p))
				}
				continue
			}
			compare(d[k], v, p, optional, loose, diffs)
		}
		for _, k := range sortedKeys(a) {
			if _, ok := d[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s: not in the doc", join(path, k)))
			}
		}
	case []any:
		a := act.([]any)
		if len(d) == 0 {
			return
		}
		for _, v := range a {
			compare(d[0], v, path+"[]", optional, loose, diffs)
		}
	}
}

func typeOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func name(path string) string {
	if path == "" {
		return "message"
	}
	return path
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ByCmd indexes fixtures of one kind and protocol by cmd (pushes by
// event_type); the first fixture of a key wins.
func ByCmd(fs []Fixture, proto, kind string) map[string]Fixture {
	out := map[string]Fixture{}
	for _, f := range fs {
		if f.Proto != proto || f.Kind != kind {
			continue
		}
		key := f.Cmd()
		if kind == Push {
			key = strings.Trim(string(f.Field("event_type")), `"`)
		}
		if _, ok := out[key]; !ok {
			out[key] = f
		}
	}
	return out
}
