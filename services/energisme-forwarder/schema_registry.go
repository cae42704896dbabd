package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
)

// newCodec is the service's record codec. With SCHEMA_REGISTRY_URL set it
// first registers the schemas of what the service writes, TOPIC_DLQ (DeadLetter), under
// <topic>-value: a schema the subject's compatibility rule refuses stops
// the start. The codec then writes the Confluent wire format to those
// topics and reads records in either format.
func newCodec(ctx context.Context, cfg Config, log zerolog.Logger) (*records.Codec, error) {
	c, err := records.NewCodec()
	if err != nil {
		return nil, err
	}
	return schemaregistry.Setup(ctx, cfg.SchemaRegistry, c, []schemaregistry.Write{{Topic: cfg.TopicDLQ, Record: "DeadLetter"}}, log)
}
