package sftpexport

import (
	"fmt"
	"strings"
)

// DefaultModuleTemplate names a module after the device id and data point.
const DefaultModuleTemplate = "<did>.<point>"

// ModuleFields are the values a ModuleTemplate can use.
type ModuleFields struct {
	ProductKey string // <product_key>
	DID        string // <did>
	MAC        string // <mac>
	Point      string // <point>: the data point name
}

// ModuleTemplate builds the Energisme module id of a device data point from
// a pattern such as "<did>.<point>" or "gw-<mac>-<point>". The id must stay
// stable, since Energisme keeps it in its database.
type ModuleTemplate struct {
	// parts alternate literal text and placeholder names: even indexes are
	// literals, odd ones placeholders.
	parts []string
}

// ParseModuleTemplate parses pattern. Placeholders are <product_key>,
// <did>, <mac> and <point>; the pattern must contain <point> and one of
// <did> or <mac> so that every device data point gets its own id.
func ParseModuleTemplate(pattern string) (ModuleTemplate, error) {
	var (
		parts []string
		seen  = map[string]bool{}
		rest  = pattern
	)
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			return ModuleTemplate{}, fmt.Errorf("module template %q: unclosed '<'", pattern)
		}
		name := rest[i+1 : i+j]
		switch name {
		case "product_key", "did", "mac", "point":
		default:
			return ModuleTemplate{}, fmt.Errorf("module template %q: unknown placeholder <%s>: use <product_key>, <did>, <mac> or <point>", pattern, name)
		}
		seen[name] = true
		parts = append(parts, rest[:i], name)
		rest = rest[i+j+1:]
	}
	if !seen["point"] || (!seen["did"] && !seen["mac"]) {
		return ModuleTemplate{}, fmt.Errorf("module template %q: must contain <point> and <did> or <mac>", pattern)
	}
	return ModuleTemplate{parts: parts}, nil
}

// Render returns the module id for f.
func (t ModuleTemplate) Render(f ModuleFields) string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		switch p {
		case "product_key":
			b.WriteString(f.ProductKey)
		case "did":
			b.WriteString(f.DID)
		case "mac":
			b.WriteString(f.MAC)
		case "point":
			b.WriteString(f.Point)
		}
	}
	return b.String()
}

// String returns the pattern.
func (t ModuleTemplate) String() string {
	var b strings.Builder
	for i, p := range t.parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString("<" + p + ">")
		}
	}
	return b.String()
}
