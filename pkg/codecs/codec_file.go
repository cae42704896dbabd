package codecs

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/snotibridge/snotibridge/pkg/devcodec"
	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// codecFile is one file of the directory as last read: its content hash and
// the last good codec it held (kept when a later version fails to load).
type codecFile struct {
	name       string // base name
	productKey string
	sum        [sha256.Size]byte
	definition *gizwits.Definition // one of definition, custom is set when good
	custom     *devcodec.Codec
	err        error // the last load's error, nil when the current content is good
}

// productKeyOf returns the product_key a file name stands for, or "" when
// the name is not a codec file (hidden, not .json, no key).
func productKeyOf(name string) string {
	if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
		return ""
	}
	key, _, _ := strings.Cut(name, ".")
	return key
}

// parseCodecFile parses the content of a file called name, telling a Gizwits
// export from a custom codec by its keys.
func parseCodecFile(name string, data []byte) (*gizwits.Definition, *devcodec.Codec, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, nil, fmt.Errorf("parsing JSON: %w", err)
	}
	_, isExport := probe["entities"]
	_, isCustom := probe["messages"]
	key := productKeyOf(name)
	switch {
	case isExport && isCustom:
		return nil, nil, errors.New(`has both "entities" and "messages": a file is either a Gizwits export or a custom codec`)
	case isExport:
		d, err := gizwits.Parse(data)
		if err != nil {
			return nil, nil, err
		}
		if d.ProductKey() != "" && d.ProductKey() != key {
			return nil, nil, fmt.Errorf("product_key %q differs from the file name's %q", d.ProductKey(), key)
		}
		return d, nil, nil
	case isCustom:
		c, err := devcodec.Parse(data)
		if err != nil {
			return nil, nil, err
		}
		if c.ProductKey() != "" && c.ProductKey() != key {
			return nil, nil, fmt.Errorf("product_key %q differs from the file name's %q", c.ProductKey(), key)
		}
		return nil, c, nil
	}
	return nil, nil, errors.New(`neither a Gizwits export ("entities") nor a custom codec ("messages")`)
}

// good reports whether the file holds a usable codec (its current content,
// or the previous one when the current fails).
func (f *codecFile) good() bool { return f.definition != nil || f.custom != nil }

func sameSum(a, b [sha256.Size]byte) bool { return bytes.Equal(a[:], b[:]) }
