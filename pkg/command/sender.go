package command

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/consume"
	"github.com/snotibridge/snotibridge/pkg/records"
	"github.com/snotibridge/snotibridge/pkg/sinkerr"
)

// DefaultDedupeWindow is how long an answered command_id is remembered.
const DefaultDedupeWindow = 24 * time.Hour

// Config configures a Sender.
type Config struct {
	// Paths maps a product_key to the path its commands take; Default, when
	// set, serves every other product. A product with neither is rejected.
	Paths   map[string]Path
	Default Path
	// Concurrency is how many devices are sent to at once (default 16).
	Concurrency int
	// DedupeWindow (default 24 h) is how long an answered command is
	// remembered, and how far back Load reads the results topic.
	DedupeWindow time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ResultWriter is where results go: a kafka.Writer on
// device.command-results.v1 (acks=all). WriteMessages returns once the
// results are durable.
type ResultWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Sender is the consume.Handler of device.commands.v1. It is safe for
// concurrent use.
type Sender struct {
	cfg     Config
	handler consume.Handler
	out     ResultWriter
	topic   string
	codec   *records.Codec
	log     zerolog.Logger
	m       *metrics

	mu       sync.Mutex
	answered map[string]time.Time // command_id → when its result was written
	pruned   time.Time
}

// NewSender builds a Sender writing results to topic through out.
func NewSender(cfg Config, out ResultWriter, topic string, codec *records.Codec, log zerolog.Logger, reg prometheus.Registerer) (*Sender, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.DedupeWindow <= 0 {
		cfg.DedupeWindow = DefaultDedupeWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if out == nil || topic == "" || codec == nil {
		return nil, errors.New("command sender: a result writer, its topic and a codec are required")
	}
	if len(cfg.Paths) == 0 && cfg.Default == nil {
		return nil, errors.New("command sender: no path configured (Paths or Default)")
	}
	s := &Sender{
		cfg: cfg, out: out, topic: topic, codec: codec, log: log.With().Str("component", "commands").Logger(),
		m: newMetrics(reg), answered: map[string]time.Time{},
	}
	s.handler = consume.PerKey(cfg.Concurrency, s.handle)
	return s, nil
}

// Handle implements consume.Handler: commands of one device (one key) in
// order, devices concurrently.
func (s *Sender) Handle(ctx context.Context, msgs []kafka.Message) []error {
	return s.handler.Handle(ctx, msgs)
}

// Remember records that command id was answered at t (Load feeds it from
// the results topic).
func (s *Sender) Remember(id string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.answered[id]; !ok || t.After(old) {
		s.answered[id] = t
	}
}

// Answered reports whether command id has a result within the window.
func (s *Sender) Answered(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if now.Sub(s.pruned) > s.cfg.DedupeWindow/24 {
		for k, t := range s.answered {
			if now.Sub(t) > s.cfg.DedupeWindow {
				delete(s.answered, k)
			}
		}
		s.pruned = now
	}
	t, ok := s.answered[id]
	return ok && now.Sub(t) <= s.cfg.DedupeWindow
}

func (s *Sender) handle(ctx context.Context, msg kafka.Message) error {
	var cmd records.DeviceCommand
	if err := s.codec.Unmarshal(msg.Value, &cmd); err != nil {
		return consume.Reject("undecodable", fmt.Errorf("decoding DeviceCommand: %w", err))
	}
	log := s.log.With().Str("command_id", cmd.CommandID).Str("did", cmd.DID).Str("product_key", cmd.ProductKey).Logger()
	if cmd.CommandID != "" && s.Answered(cmd.CommandID) {
		s.m.duplicates.Inc()
		log.Debug().Msg("command already answered: not sent again")
		return nil
	}
	path, err := s.validate(&cmd, msg.Key)
	if err != nil {
		if cmd.CommandID != "" {
			if werr := s.result(ctx, &cmd, records.CommandRejected, err.Error(), "", nil); werr != nil {
				return werr
			}
		}
		log.Warn().Err(err).Msg("command rejected")
		return consume.Reject("invalid_command", err)
	}
	if cmd.ExpiresAt != nil && !s.cfg.Now().Before(*cmd.ExpiresAt) {
		log.Info().Time("expires_at", *cmd.ExpiresAt).Msg("command expired before it could be sent")
		return s.result(ctx, &cmd, records.CommandExpired, "expired at "+cmd.ExpiresAt.UTC().Format(time.RFC3339Nano)+" before it was sent", "", nil)
	}
	sentAt := s.cfg.Now()
	out, err := path.Send(ctx, &cmd)
	if err != nil {
		s.m.sendErrors.WithLabelValues(path.Name()).Inc()
		log.Warn().Err(err).Str("path", path.Name()).Msg("sending command failed; will retry")
		return sinkerr.NewRetryable(fmt.Errorf("sending command %s to %s through %s: %w", cmd.CommandID, cmd.DID, path.Name(), err), 0)
	}
	status := records.CommandSucceeded
	if !out.Succeeded {
		status = records.CommandFailed
	}
	return s.result(ctx, &cmd, status, out.Reason, path.Name(), &sentAt)
}

// validate checks the command and returns its path.
func (s *Sender) validate(cmd *records.DeviceCommand, key []byte) (Path, error) {
	var problems []error
	if cmd.CommandID == "" {
		problems = append(problems, errors.New("command_id is empty"))
	}
	if cmd.DID == "" {
		problems = append(problems, errors.New("did is empty"))
	} else if len(key) > 0 && string(key) != cmd.DID {
		problems = append(problems, fmt.Errorf("record key %q is not the did %q: produce commands with key = did, so one device's commands stay in order", key, cmd.DID))
	}
	if cmd.ProductKey == "" {
		problems = append(problems, errors.New("product_key is empty"))
	}
	switch cmd.Kind {
	case records.CommandWriteAttrs:
		if len(cmd.Attrs) == 0 || cmd.Raw != nil {
			problems = append(problems, errors.New("write_attrs needs attrs and no raw"))
		}
		seen := map[string]bool{}
		for _, a := range cmd.Attrs {
			if a.Name == "" || seen[a.Name] {
				problems = append(problems, fmt.Errorf("attr name %q empty or repeated", a.Name))
			}
			seen[a.Name] = true
		}
	case records.CommandWrite, records.CommandWriteV1:
		if len(cmd.Raw) == 0 || len(cmd.Attrs) > 0 {
			problems = append(problems, fmt.Errorf("%s needs raw bytes and no attrs", cmd.Kind))
		}
	default:
		problems = append(problems, fmt.Errorf("kind %q unknown: want write_attrs, write or write_v1", cmd.Kind))
	}
	path := s.cfg.Paths[cmd.ProductKey]
	if path == nil {
		path = s.cfg.Default
	}
	if path == nil && cmd.ProductKey != "" {
		problems = append(problems, fmt.Errorf("no command path is configured for product %s", cmd.ProductKey))
	}
	return path, errors.Join(problems...)
}

// result writes the command's result and remembers it as answered.
func (s *Sender) result(ctx context.Context, cmd *records.DeviceCommand, status, reason, path string, sentAt *time.Time) error {
	now := s.cfg.Now()
	res := &records.CommandResult{
		CommandID: cmd.CommandID, ProductKey: cmd.ProductKey, DID: cmd.DID, Status: status, Reason: reason,
		Path: path, RequestedAt: cmd.RequestedAt, SentAt: sentAt, AnsweredAt: now, Requester: cmd.Requester,
	}
	msg, err := s.codec.Message("", []byte(cmd.DID), res) // the writer names the topic
	if err != nil {
		return consume.Reject("unencodable", fmt.Errorf("encoding the result of command %s: %w", cmd.CommandID, err))
	}
	if err := s.out.WriteMessages(ctx, msg); err != nil {
		return sinkerr.NewRetryable(fmt.Errorf("writing the result of command %s to %s: %w", cmd.CommandID, s.topic, err), 0)
	}
	s.Remember(cmd.CommandID, now)
	s.m.results.WithLabelValues(status, path).Inc()
	if sentAt != nil && !cmd.RequestedAt.IsZero() {
		s.m.latency.WithLabelValues(path).Observe(now.Sub(cmd.RequestedAt).Seconds())
	}
	s.log.Info().Str("command_id", cmd.CommandID).Str("did", cmd.DID).Str("status", status).Str("reason", reason).Str("path", path).Msg("command answered")
	return nil
}
