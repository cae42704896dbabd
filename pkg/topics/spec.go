package topics

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/segmentio/kafka-go"
)

// Topic settings the project sets and compares.
const (
	MinInsyncReplicasKey = "min.insync.replicas"
	// MaxMessageBytesKey bounds one record batch (after compression): the
	// broker refuses larger batches with MESSAGE_TOO_LARGE.
	MaxMessageBytesKey = "max.message.bytes"
	CleanupPolicyKey   = "cleanup.policy"
)

// MinMaxMessageBytes is the smallest max.message.bytes a pipeline topic may
// have: the ingest accepts lines of at least 1 MiB.
const MinMaxMessageBytes = 1 << 20

// Spec is the shape a topic must have. Partitions and ReplicationFactor
// are required; a setting left zero is neither set on creation nor
// compared, so the broker's default applies.
type Spec struct {
	Name              string
	Partitions        int
	ReplicationFactor int
	MinInsyncReplicas int
	// MaxMessageBytes must be at least MinMaxMessageBytes when set.
	MaxMessageBytes int
	// CleanupPolicy is "delete", "compact" or "compact,delete".
	CleanupPolicy string
	// Other are further topic settings, set on creation and compared as
	// given.
	Other map[string]string
}

// Validate reports every problem of s, naming the field.
func (s Spec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("Spec.Name is empty"))
	}
	if s.Partitions < 1 {
		errs = append(errs, fmt.Errorf("Spec.Partitions=%d: must be ≥ 1", s.Partitions))
	}
	if s.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("Spec.ReplicationFactor=%d: must be ≥ 1", s.ReplicationFactor))
	}
	if s.MinInsyncReplicas < 0 || s.MinInsyncReplicas > s.ReplicationFactor {
		errs = append(errs, fmt.Errorf("Spec.MinInsyncReplicas=%d: must be 1..ReplicationFactor (%d)", s.MinInsyncReplicas, s.ReplicationFactor))
	}
	if s.MaxMessageBytes != 0 && s.MaxMessageBytes < MinMaxMessageBytes {
		errs = append(errs, fmt.Errorf("Spec.MaxMessageBytes=%d: must be at least %d (1 MiB)", s.MaxMessageBytes, MinMaxMessageBytes))
	}
	switch s.CleanupPolicy {
	case "", "delete", "compact", "compact,delete", "delete,compact":
	default:
		errs = append(errs, fmt.Errorf("Spec.CleanupPolicy=%q: must be delete, compact or compact,delete", s.CleanupPolicy))
	}
	return errors.Join(errs...)
}

// Configs are the settings s sets, in a stable order: the typed ones
// first, then Other by name.
func (s Spec) Configs() []kafka.ConfigEntry {
	var out []kafka.ConfigEntry
	add := func(name, value string) {
		out = append(out, kafka.ConfigEntry{ConfigName: name, ConfigValue: value})
	}
	if s.MinInsyncReplicas > 0 {
		add(MinInsyncReplicasKey, strconv.Itoa(s.MinInsyncReplicas))
	}
	if s.MaxMessageBytes > 0 {
		add(MaxMessageBytesKey, strconv.Itoa(s.MaxMessageBytes))
	}
	if s.CleanupPolicy != "" {
		add(CleanupPolicyKey, s.CleanupPolicy)
	}
	keys := make([]string, 0, len(s.Other))
	for k := range s.Other {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(k, s.Other[k])
	}
	return out
}

// TopicConfig is the creation request for s.
func (s Spec) TopicConfig() kafka.TopicConfig {
	return kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor, ConfigEntries: s.Configs()}
}

// Named returns a copy of s for each name: the pipeline's topics share one
// shape.
func (s Spec) Named(names ...string) []Spec {
	out := make([]Spec, len(names))
	for i, n := range names {
		out[i] = s
		out[i].Name = n
	}
	return out
}
