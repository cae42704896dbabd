package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/command"
	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/gizwitsapi"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/snoti"
)

// Commands configures the command sender the ingest runs beside its SNoti
// connections (see the README, "Device commands", for why it lives here).
type Commands struct {
	Enabled      bool          `envconfig:"COMMANDS_ENABLED" default:"false"`
	GroupID      string        `envconfig:"COMMANDS_GROUP_ID" default:"commands"`
	Topic        string        `envconfig:"TOPIC_COMMANDS" default:"device.commands.v1"`
	ResultsTopic string        `envconfig:"TOPIC_COMMAND_RESULTS" default:"device.command-results.v1"`
	DLQTopic     string        `envconfig:"TOPIC_COMMANDS_DLQ" default:"commands.dlq.v1"`
	Path         string        `envconfig:"COMMANDS_PATH"`
	Concurrency  int           `envconfig:"COMMANDS_CONCURRENCY" default:"16"`
	DedupeWindow time.Duration `envconfig:"COMMANDS_DEDUPE_WINDOW" default:"24h"`
	Timeout      time.Duration `envconfig:"COMMANDS_TIMEOUT" default:"10s"`

	// The Gizwits Enterprise API, for COMMANDS_PATH=enterprise_api.
	APIURL           string            `envconfig:"GIZWITS_API_URL" default:"https://enterpriseapi.gizwits.com"`
	APICAFile        string            `envconfig:"GIZWITS_API_CA_FILE"`
	EnterpriseID     string            `envconfig:"GIZWITS_ENTERPRISE_ID"`
	EnterpriseSecret string            `envconfig:"GIZWITS_ENTERPRISE_SECRET"`
	ProductSecrets   map[string]string `envconfig:"GIZWITS_PRODUCT_SECRETS"`
}

// path returns the configured path, defaulting by protocol: SNoti v2 can
// carry commands on its connection, v1 cannot.
func (c *Commands) path(protocol string) string {
	if c.Path != "" {
		return c.Path
	}
	if protocol == snoti.ProtocolV1 {
		return command.PathEnterpriseAPI
	}
	return command.PathSNoti
}

// validate reports the command sender's configuration problems, each
// naming its variable.
func (c *Commands) validate(protocol, enterpriseID, enterpriseSecret string) []error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	for _, v := range []struct{ name, value string }{
		{"COMMANDS_GROUP_ID", c.GroupID}, {"TOPIC_COMMANDS", c.Topic}, {"TOPIC_COMMAND_RESULTS", c.ResultsTopic}, {"TOPIC_COMMANDS_DLQ", c.DLQTopic},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: set it or leave it unset for the default", v.name))
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("COMMANDS_CONCURRENCY=%d: must be 1..1024", c.Concurrency))
	}
	if c.DedupeWindow < time.Minute {
		errs = append(errs, fmt.Errorf("COMMANDS_DEDUPE_WINDOW=%s: must be at least 1m", c.DedupeWindow))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("COMMANDS_TIMEOUT=%s: must be positive", c.Timeout))
	}
	switch c.path(protocol) {
	case command.PathSNoti:
		if protocol == snoti.ProtocolV1 {
			errs = append(errs, errors.New("COMMANDS_PATH=snoti needs SNOTI_PROTOCOL=v2: a v1 enterprise login cannot carry commands; use COMMANDS_PATH=enterprise_api"))
		}
	case command.PathEnterpriseAPI:
		if len(c.ProductSecrets) == 0 {
			errs = append(errs, errors.New("COMMANDS_PATH=enterprise_api needs GIZWITS_PRODUCT_SECRETS: product_key:secret pairs, comma-separated"))
		}
	default:
		errs = append(errs, fmt.Errorf("COMMANDS_PATH=%q: must be snoti or enterprise_api", c.Path))
	}
	if len(c.ProductSecrets) > 0 { // some or every product through the Enterprise API
		if c.EnterpriseID == "" {
			c.EnterpriseID = enterpriseID
		}
		if c.EnterpriseSecret == "" {
			c.EnterpriseSecret = enterpriseSecret
		}
		if c.EnterpriseID == "" || c.EnterpriseSecret == "" {
			errs = append(errs, errors.New("GIZWITS_PRODUCT_SECRETS needs GIZWITS_ENTERPRISE_ID and GIZWITS_ENTERPRISE_SECRET (or the SNOTI_ENTERPRISE_* of a v1 login) for Enterprise API tokens"))
		}
	}
	return errs
}

// commandSender is the command consumer of the ingest: a consumer group
// of its own on TOPIC_COMMANDS.
type commandSender struct {
	sender *command.Sender
	runner *consume.Runner
	cfg    Config
	log    zerolog.Logger
}

func newCommandSender(cfg Config, clients []*snoti.Client, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*commandSender, error) {
	cc := cfg.Commands
	paths, def, err := commandPaths(cfg, clients)
	if err != nil {
		return nil, err
	}
	w, err := cfg.Kafka.NewWriter(cc.ResultsTopic)
	if err != nil {
		return nil, err
	}
	s, err := command.NewSender(command.Config{Paths: paths, Default: def, Concurrency: cc.Concurrency, DedupeWindow: cc.DedupeWindow},
		w, cc.ResultsTopic, codec, log, reg)
	if err != nil {
		return nil, err
	}
	r, err := consume.New(consume.Config{
		ProcessorConfig: consume.ProcessorConfig{Stage: "commands", DLQTopic: cc.DLQTopic},
		GroupID:         cc.GroupID, Topics: []string{cc.Topic},
		// One command per device at a time is the order guarantee; small
		// batches keep a slow device from holding many others' commands.
		BatchSize: cc.Concurrency * 4,
	}, cfg.Kafka, s, codec, log, reg)
	if err != nil {
		return nil, err
	}
	return &commandSender{sender: s, runner: r, cfg: cfg, log: log.With().Str("component", "commands").Logger()}, nil
}

// commandPaths chooses each product's path, as its configuration allows:
// COMMANDS_PATH is the default; on a v2 login, a product the ingest holds
// no SNoti login for but has an Enterprise API secret (GIZWITS_PRODUCT_SECRETS)
// goes through the Enterprise API, and with COMMANDS_PATH=enterprise_api
// every product does.
func commandPaths(cfg Config, clients []*snoti.Client) (map[string]command.Path, command.Path, error) {
	cc := cfg.Commands
	var snotiPath, apiPath command.Path
	if cfg.Protocol == snoti.ProtocolV2 {
		rcs := make([]command.RemoteController, len(clients))
		for i, c := range clients {
			rcs[i] = c
		}
		snotiPath = &command.SNoti{Clients: rcs, Timeout: cc.Timeout}
	}
	if len(cc.ProductSecrets) > 0 {
		client, err := gizwitsapi.New(gizwitsapi.Config{URL: cc.APIURL, CAFile: cc.APICAFile, EnterpriseID: cc.EnterpriseID,
			EnterpriseSecret: cc.EnterpriseSecret, ProductSecrets: cc.ProductSecrets, RequestTimeout: cc.Timeout})
		if err != nil {
			return nil, nil, fmt.Errorf("GIZWITS_API_URL=%q, GIZWITS_API_CA_FILE=%q, GIZWITS_*: %w", cc.APIURL, cc.APICAFile, err)
		}
		apiPath = command.EnterpriseAPI{Client: client}
	}
	if cc.path(cfg.Protocol) == command.PathEnterpriseAPI {
		return nil, apiPath, nil
	}
	paths := map[string]command.Path{}
	if apiPath != nil {
		products := cfg.Products
		if len(products) == 0 && cfg.ProductsFile != "" {
			var err error
			if products, err = snoti.LoadProducts(cfg.ProductsFile); err != nil {
				return nil, nil, config.Rename(err, snotiEnv{}) // SNOTI_PRODUCTS_FILE="…": …
			}
		}
		loggedIn := map[string]bool{}
		for _, p := range products {
			loggedIn[p.ProductKey] = true
		}
		for pk := range cc.ProductSecrets {
			if !loggedIn[pk] {
				paths[pk] = apiPath
			}
		}
	}
	return paths, snotiPath, nil
}

// Run reads back the results of the dedupe window, then consumes
// commands until ctx ends.
func (c *commandSender) Run(ctx context.Context) error {
	for {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		n, err := c.sender.Load(lctx, c.cfg.Kafka)
		cancel()
		if err == nil {
			c.log.Info().Int("results", n).Msg("command sender ready")
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		// Never send before knowing what was answered: wait for Kafka.
		c.log.Warn().Err(err).Msg("reading back command results failed; retrying")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	return c.runner.Run(ctx)
}
