package replay

import (
	"fmt"
	"sort"
	"strings"

	"github.com/segmentio/kafka-go"
)

// Filter selects records by their key and headers. Conditions on different
// fields must all hold; several values for one field are alternatives.
// "did" (and "key") match the record key, which is the device id on every
// keyed topic, dead-letter topics included; any other field matches the
// header of that name (product_key, event_type, event_id, reason, stage).
// The zero Filter matches everything.
type Filter struct {
	fields map[string][]string
}

// ParseFilter reads "product_key=pk1,did=d1,did=d2".
func ParseFilter(s string) (Filter, error) {
	f := Filter{fields: map[string][]string{}}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return Filter{}, fmt.Errorf("filter %q: want field=value[,field=value…], e.g. product_key=…,did=…", part)
		}
		if k == "key" {
			k = "did"
		}
		f.fields[k] = append(f.fields[k], strings.TrimSpace(v))
	}
	return f, nil
}

// Match reports whether m satisfies every condition.
func (f Filter) Match(m kafka.Message) bool {
	for field, values := range f.fields {
		var got string
		if field == "did" {
			got = string(m.Key)
		} else {
			got = header(m, field)
		}
		ok := false
		for _, v := range values {
			if got == v {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// String renders the filter canonically (sorted), for state identities.
func (f Filter) String() string {
	var parts []string
	for k, vs := range f.fields {
		for _, v := range vs {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
