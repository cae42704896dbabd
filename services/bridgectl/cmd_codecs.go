package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
)

// codecsFetch writes a product's data-point definition, as the Enterprise
// API serves it, into the decoder's codec folder as <product_key>.json.
// The file is checked with the decoder's own parser before it is written,
// and written atomically (filewatch.WriteFile), so the decoder's hot
// reload never sees half a file.
func (a *app) codecsFetch(ctx context.Context, args []string) error {
	fs := a.flags("codecs fetch", "codecs fetch --product <product_key> [--dir <folder>]")
	product := fs.String("product", "", "product_key to fetch (required)")
	dir := fs.String("dir", a.cfg.CodecsDir, "codec folder to write into (CODECS_DIR)")
	timeout := fs.Duration("timeout", 30*time.Second, "time allowed for the API calls")
	if err := parse(fs, args); err != nil {
		return err
	}
	g := a.cfg.Gizwits
	var missing []error
	if *product == "" {
		missing = append(missing, errors.New("--product is required"))
	}
	if *dir == "" {
		missing = append(missing, errors.New("no codec folder: set CODECS_DIR or pass --dir"))
	}
	for _, v := range []struct{ name, value string }{
		{"GIZWITS_ENTERPRISE_ID", g.EnterpriseID}, {"GIZWITS_ENTERPRISE_SECRET", g.EnterpriseSecret}, {"GIZWITS_PRODUCT_SECRET", g.ProductSecret},
	} {
		if v.value == "" {
			missing = append(missing, fmt.Errorf("%s is not set: the Enterprise API needs it for a token", v.name))
		}
	}
	if len(missing) > 0 {
		return usageErrorf("%w", errors.Join(missing...))
	}
	client, err := gizwitsapi.New(gizwitsapi.Config{
		URL: g.URL, CAFile: g.CAFile, EnterpriseID: g.EnterpriseID, EnterpriseSecret: g.EnterpriseSecret,
		ProductSecrets: map[string]string{*product: g.ProductSecret},
	})
	if err != nil {
		return usageErrorf("GIZWITS_API_URL=%q, GIZWITS_API_CA_FILE=%q: %w", g.URL, g.CAFile, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	data, err := client.Datapoint(ctx, *product)
	if err != nil {
		return err
	}
	def, err := gizwits.Parse(data)
	if err != nil {
		return fmt.Errorf("the definition served for product %s does not load: %w", *product, err)
	}
	if def.ProductKey() != "" && def.ProductKey() != *product {
		return fmt.Errorf("the definition served for product %s names product_key %s", *product, def.ProductKey())
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("creating the codec folder: %w", err)
	}
	path := filepath.Join(*dir, *product+".json")
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, data) {
			fmt.Fprintf(a.out, "%s unchanged (%d data points, %s)\n", path, len(def.Attrs()), def.Protocol())
			return nil
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(old, &probe) == nil && probe["messages"] != nil {
			return refusedf("%s holds a custom codec, not a data-point definition: move it to %s.custom.json first", path, *product)
		}
	}
	if err := filewatch.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "wrote %s (%d data points, %s, packetVersion %s)\n", path, len(def.Attrs()), def.Protocol(), def.PacketVersion())
	return nil
}
