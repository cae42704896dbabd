package main

import (
	"context"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
)

// readCodec is the codec of the commands that read records: with
// SCHEMA_REGISTRY_URL set it reads the Confluent wire format too, fetching
// schemas by id. It registers nothing, so what bridgectl writes itself
// (commands, replays, redrives) keeps single-object encoding or the bytes
// it read.
func (a *app) readCodec(ctx context.Context) (*records.Codec, error) {
	c, err := records.NewCodec()
	if err != nil {
		return nil, err
	}
	return schemaregistry.Setup(ctx, a.cfg.SchemaRegistry, c, nil, a.log)
}
