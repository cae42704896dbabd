package main

import (
	"errors"
	"fmt"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/config/registryenv"
	"github.com/snotibridge/snotibridge/pkg/config/sinkenv"
	"github.com/snotibridge/snotibridge/pkg/energismefwd"
	"github.com/snotibridge/snotibridge/pkg/schemaregistry"
	"github.com/snotibridge/snotibridge/pkg/service"
)

// environ is the forwarder's environment: the variables every service reads,
// the push part's (shared with bridgectl's "energisme" sink), the file
// part's and its own (see README, "Configuration"). The push part runs
// when ENERGISME_URL is set, the file part when ENERGISME_SFTP_ADDR is
// set; at least one must be.
type environ struct {
	SchemaRegistry registryenv.SchemaRegistry
	config.Base
	Push  sinkenv.EnergismePush
	Files sinkenv.EnergismeFiles
	Config
}

// config returns the typed configuration run takes.
func (e environ) config() Config {
	c := e.Config
	c.Base, c.Push, c.Files = e.Base.Service(), e.Push.Config(), e.Files.Config()
	c.SchemaRegistry = e.SchemaRegistry.Config()
	return c
}

// Validate checks that at least one part is enabled (each part checks its
// own variables, Config the forwarder's).
func (e *environ) Validate() error {
	if !e.Push.Config().Enabled() && !e.Files.Config().Enabled() {
		return errors.New("ENERGISME_URL and ENERGISME_SFTP_ADDR are both empty: set ENERGISME_URL for the HTTP push, ENERGISME_SFTP_ADDR for flat files, or both")
	}
	return nil
}

// Config is the forwarder's configuration. Its own fields are read from
// the variables in their tags; Base, Push and Files from the shared and
// the parts' ones (environ).
type Config struct {
	service.Base
	// SchemaRegistry: from SCHEMA_REGISTRY_* (environ; optional, see run: schemaregistry.NewCodec).
	SchemaRegistry schemaregistry.Config
	Push           energismefwd.PushSettings
	Files          energismefwd.FileSettings

	TopicEvents    string `envconfig:"TOPIC_EVENTS" default:"snoti.events.v1"`
	TopicTelemetry string `envconfig:"TOPIC_TELEMETRY" default:"device.telemetry.v1"`
	// TopicDLQ is the dead-letter topic of both parts. bridgectl names it
	// TOPIC_ENERGISME_DLQ; the forwarder reads that name too, so one
	// environment serves both (set either, or both to the same value).
	// Validate sets the default, energisme.dlq.v1, and DLQFrom.
	TopicDLQ          string `envconfig:"TOPIC_DLQ"`
	TopicEnergismeDLQ string `envconfig:"TOPIC_ENERGISME_DLQ"`
	// DLQFrom is the variable TopicDLQ was read from ("" for the default).
	DLQFrom string
	// GroupID is the push part's consumer group.
	GroupID string `envconfig:"GROUP_ID" default:"energisme"`
	// FilesGroupID is the file part's consumer group: its own, so a slow
	// SFTP server never holds back the push and the other way round.
	FilesGroupID string `envconfig:"FILES_GROUP_ID" default:"energisme-files"`
	// BatchSize bounds the push part's messages fetched and not yet
	// committable (done, with nothing pending before them); fetching pauses
	// while it is reached.
	BatchSize int `envconfig:"ENERGISME_BATCH_SIZE" default:"5000"`
}

// Validate checks the forwarder's own variables; the parts check theirs.
// The checks run over slices, so the errors come out in the same order
// every time.
func (c *Config) Validate() error {
	var errs []error
	dlq, from, err := config.Either("energisme.dlq.v1", config.Var{Name: "TOPIC_DLQ", Value: c.TopicDLQ}, config.Var{Name: "TOPIC_ENERGISME_DLQ", Value: c.TopicEnergismeDLQ})
	if err != nil {
		errs = append(errs, err)
	} else {
		c.TopicDLQ, c.DLQFrom = dlq, from
	}
	for _, v := range []struct{ name, value string }{
		{"TOPIC_EVENTS", c.TopicEvents}, {"TOPIC_TELEMETRY", c.TopicTelemetry}, {"GROUP_ID", c.GroupID}, {"FILES_GROUP_ID", c.FilesGroupID},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.GroupID != "" && c.GroupID == c.FilesGroupID {
		errs = append(errs, fmt.Errorf("GROUP_ID and FILES_GROUP_ID are both %q: the two parts need their own consumer groups", c.GroupID))
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		errs = append(errs, fmt.Errorf("ENERGISME_BATCH_SIZE=%d: must be 1..10000", c.BatchSize))
	}
	return errors.Join(errs...)
}
