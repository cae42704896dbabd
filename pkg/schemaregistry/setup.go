package schemaregistry

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/records"
)

// Write names a record type (records.Record's SchemaName) that a service
// writes to a topic.
type Write struct {
	Topic  string
	Record string
}

// NewCodec is a service's record codec: records.NewCodec, then Setup with
// what the service writes.
func NewCodec(ctx context.Context, cfg Config, writes []Write, log zerolog.Logger) (*records.Codec, error) {
	c, err := records.NewCodec()
	if err != nil {
		return nil, err
	}
	return Setup(ctx, cfg, c, writes, log)
}

// Setup is what a service calls at start: with cfg disabled it returns
// codec unchanged (single-object encoding everywhere); otherwise it
// registers the current schema of every write (empty topics are skipped)
// and returns a codec that writes the Confluent wire format to those
// topics and reads either format. An incompatible schema is an
// *IncompatibleError naming the subject: the service must not start.
func Setup(ctx context.Context, cfg Config, codec *records.Codec, writes []Write, log zerolog.Logger) (*records.Codec, error) {
	if !cfg.Enabled() {
		return codec, nil
	}
	cl, err := New(cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range writes {
		if w.Topic == "" {
			continue
		}
		cur, err := codec.Registry().Current(w.Record)
		if err != nil {
			return nil, err
		}
		text, err := codec.Registry().CurrentJSON(w.Record)
		if err != nil {
			return nil, err
		}
		rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		id, err := cl.Register(rctx, w.Topic, w.Record, cur.String(), text)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("schema registry %s: %w", cfg.URL, err)
		}
		log.Info().Str("subject", Subject(w.Topic)).Str("schema", cur.String()).Int("schema_id", id).Msg("schema registered")
	}
	return codec.WithSchemaRegistry(cl), nil
}
