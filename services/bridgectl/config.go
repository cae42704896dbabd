package main

import (
	"errors"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/kafkaconf"
	"github.com/snotibridge/snotibridge/pkg/logging"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/topics"
)

// environ is bridgectl's environment (see the README, "Configuration"):
// the variables the services share and bridgectl's own.
type environ struct {
	SchemaRegistry registryenv.SchemaRegistry
	Log            config.Log
	Kafka          config.Kafka
	Config
}

// config returns the typed configuration the commands use.
func (e environ) config() Config {
	c := e.Config
	c.Log, c.Kafka = e.Log.Config(), e.Kafka.Config()
	c.SchemaRegistry = e.SchemaRegistry.Config()
	return c
}

// Config is bridgectl's configuration: the settings the services share
// (typed, from environ), the topic names, and the defaults of topics
// ensure. The sinks' own variables are read by their factories (sinks.go).
type Config struct {
	Log    logging.Config
	Kafka  kafkaconf.Config
	Topics Topics
	// SchemaRegistry: SCHEMA_REGISTRY_*, to read Confluent-framed records.
	SchemaRegistry schemaregistry.Config
	// CodecsDir is the decoder's codec folder, for replay --sink telemetry.
	CodecsDir string `envconfig:"CODECS_DIR"`
	// StateDir holds replay and redrive state files (default
	// $XDG_STATE_HOME/snotibridge or ~/.local/state/snotibridge).
	StateDir          string `envconfig:"BRIDGECTL_STATE_DIR"`
	Partitions        int    `envconfig:"TOPIC_PARTITIONS" default:"6"`
	ReplicationFactor int    `envconfig:"TOPIC_REPLICATION_FACTOR" default:"1"`
	MinInsyncReplicas int    `envconfig:"TOPIC_MIN_INSYNC_REPLICAS" default:"1"`
	// MaxMessageBytes is max.message.bytes of the topics topics ensure
	// creates: the largest record batch a topic takes. It must stay at
	// least twice the ingest's SNOTI_MAX_LINE_BYTES (a record holds the
	// line and its decoded copy).
	MaxMessageBytes int `envconfig:"TOPIC_MAX_MESSAGE_BYTES" default:"8388608"`
	// Gizwits is the Enterprise API, for codecs fetch.
	Gizwits GizwitsAPI
}

// GizwitsAPI locates and authorises the Gizwits Enterprise API. The
// enterprise id and secret are the enterprise's (the same pair as a SNoti v1
// login); the product secret is the one of the product fetched.
type GizwitsAPI struct {
	URL              string `envconfig:"GIZWITS_API_URL" default:"https://enterpriseapi.gizwits.com"`
	CAFile           string `envconfig:"GIZWITS_API_CA_FILE"`
	EnterpriseID     string `envconfig:"GIZWITS_ENTERPRISE_ID"`
	EnterpriseSecret string `envconfig:"GIZWITS_ENTERPRISE_SECRET"`
	ProductSecret    string `envconfig:"GIZWITS_PRODUCT_SECRET"`
}

// minMaxMessageBytes is the floor for TOPIC_MAX_MESSAGE_BYTES: the ingest
// accepts lines of at least 1 MiB.
const minMaxMessageBytes = topics.MinMaxMessageBytes

// Topics are the pipeline's topic names, as the services name them.
//
// The stages' dead-letter topics have their own names here
// (TOPIC_DECODER_DLQ, TOPIC_ENOS_DLQ, TOPIC_ENERGISME_DLQ: Validate applies
// their defaults) and TOPIC_DLQ is read too, with the meaning it has in the
// services: the dead-letter topic of the stage whose environment this is.
// A replay or redrive into a sink uses TOPIC_DLQ when set, so a copy of a
// forwarder's environment dead-letters where the forwarder does; the
// forwarders read the stage's own name too (see SinkDLQ).
type Topics struct {
	Events       string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	Invalid      string `envconfig:"TOPIC_INVALID" default:"snoti.invalid.v1"`
	Telemetry    string `envconfig:"TOPIC_TELEMETRY" default:"device.telemetry.v1"`
	DLQ          string `envconfig:"TOPIC_DLQ"`
	DecoderDLQ   string `envconfig:"TOPIC_DECODER_DLQ"`
	EnosDLQ      string `envconfig:"TOPIC_ENOS_DLQ"`
	EnergismeDLQ string `envconfig:"TOPIC_ENERGISME_DLQ"`

	// Commands and CommandResults carry device commands and their results.
	Commands       string `envconfig:"TOPIC_COMMANDS" default:"device.commands.v1"`
	CommandResults string `envconfig:"TOPIC_COMMAND_RESULTS" default:"device.command-results.v1"`
	CommandsDLQ    string `envconfig:"TOPIC_COMMANDS_DLQ" default:"commands.dlq.v1"`
	// set holds the stage DLQ variables given in the environment, before
	// Validate applied the defaults.
	set map[string]string
}

// Default dead-letter topics of the stages.
var defaultDLQ = map[string]string{
	"TOPIC_DECODER_DLQ": "decoder.dlq.v1", "TOPIC_ENOS_DLQ": "enos.dlq.v1", "TOPIC_ENERGISME_DLQ": "energisme.dlq.v1",
}

func (t *Topics) applyDLQDefaults() {
	t.set = map[string]string{}
	for v, field := range map[string]*string{"TOPIC_DECODER_DLQ": &t.DecoderDLQ, "TOPIC_ENOS_DLQ": &t.EnosDLQ, "TOPIC_ENERGISME_DLQ": &t.EnergismeDLQ} {
		t.set[v] = *field
		if *field == "" {
			*field = defaultDLQ[v]
		}
	}
}

// SinkDLQ resolves the dead-letter topic of a replay or redrive into the
// stage whose DLQ variable is stageVar and whose topic is otherwise topic:
// TOPIC_DLQ when set (as the stage's service reads it), else stageVar's
// value, else its default. It returns the topic and the variable it came
// from ("default of …" when neither was set); TOPIC_DLQ and stageVar set to
// different topics are an error.
func (t Topics) SinkDLQ(stageVar, topic string) (string, string, error) {
	explicit, ok := t.set[stageVar]
	if !ok {
		explicit = topic // a Config built in code: its value is deliberate
	}
	got, from, err := config.Either(topic, config.Var{Name: "TOPIC_DLQ", Value: t.DLQ}, config.Var{Name: stageVar, Value: explicit})
	if err != nil {
		return "", "", fmt.Errorf("dead-letter topic: %w", err)
	}
	if from == "" {
		from = "default of " + stageVar
	}
	return got, from, nil
}

// All lists every topic the pipeline needs.
func (t Topics) All() []string {
	return []string{t.Events, t.Invalid, t.Telemetry, t.DecoderDLQ, t.EnosDLQ, t.EnergismeDLQ, t.Commands, t.CommandResults, t.CommandsDLQ}
}

// Validate checks the topic names and the topics ensure defaults.
func (c *Config) Validate() error {
	c.Topics.applyDLQDefaults()
	var errs []error
	for _, v := range []struct{ name, value string }{
		{"TOPIC_EVENTS", c.Topics.Events}, {"TOPIC_INVALID", c.Topics.Invalid}, {"TOPIC_TELEMETRY", c.Topics.Telemetry},
		{"TOPIC_DECODER_DLQ", c.Topics.DecoderDLQ}, {"TOPIC_ENOS_DLQ", c.Topics.EnosDLQ}, {"TOPIC_ENERGISME_DLQ", c.Topics.EnergismeDLQ},
		{"TOPIC_COMMANDS", c.Topics.Commands}, {"TOPIC_COMMAND_RESULTS", c.Topics.CommandResults}, {"TOPIC_COMMANDS_DLQ", c.Topics.CommandsDLQ},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("TOPIC_PARTITIONS=%d: must be ≥ 1", c.Partitions))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("TOPIC_REPLICATION_FACTOR=%d: must be ≥ 1", c.ReplicationFactor))
	}
	if c.MinInsyncReplicas < 1 || c.MinInsyncReplicas > c.ReplicationFactor {
		errs = append(errs, fmt.Errorf("TOPIC_MIN_INSYNC_REPLICAS=%d: must be 1..TOPIC_REPLICATION_FACTOR (%d)", c.MinInsyncReplicas, c.ReplicationFactor))
	}
	if c.MaxMessageBytes < minMaxMessageBytes {
		errs = append(errs, fmt.Errorf("TOPIC_MAX_MESSAGE_BYTES=%d: must be at least %d (1 MiB; default 8388608)", c.MaxMessageBytes, minMaxMessageBytes))
	}
	return errors.Join(errs...)
}
