package topics_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

func TestSpecValidate(t *testing.T) {
	ok := topics.Spec{Name: "t", Partitions: 6, ReplicationFactor: 3, MinInsyncReplicas: 2, MaxMessageBytes: 8 << 20}
	tests := []struct {
		name    string
		edit    func(*topics.Spec)
		wantErr string // "" for none
	}{
		{name: "valid", edit: func(*topics.Spec) {}},
		{name: "settings left to the broker", edit: func(s *topics.Spec) { s.MinInsyncReplicas, s.MaxMessageBytes = 0, 0 }},
		{name: "compacted", edit: func(s *topics.Spec) { s.CleanupPolicy = "compact,delete" }},
		{name: "no name", edit: func(s *topics.Spec) { s.Name = "" }, wantErr: "Name is empty"},
		{name: "no partitions", edit: func(s *topics.Spec) { s.Partitions = 0 }, wantErr: "Partitions=0"},
		{name: "no replicas", edit: func(s *topics.Spec) { s.ReplicationFactor = 0 }, wantErr: "ReplicationFactor=0"},
		{name: "min ISR above RF", edit: func(s *topics.Spec) { s.MinInsyncReplicas = 4 }, wantErr: "MinInsyncReplicas=4: must be 1..ReplicationFactor (3)"},
		{name: "message below 1 MiB", edit: func(s *topics.Spec) { s.MaxMessageBytes = 1000 }, wantErr: "MaxMessageBytes=1000: must be at least 1048576"},
		{name: "bad cleanup", edit: func(s *topics.Spec) { s.CleanupPolicy = "forever" }, wantErr: `CleanupPolicy="forever"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			err := s.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSpecTopicConfig(t *testing.T) {
	s := topics.Spec{Name: "t", Partitions: 3, ReplicationFactor: 1, MinInsyncReplicas: 1, MaxMessageBytes: 8388608,
		CleanupPolicy: "delete", Other: map[string]string{"retention.ms": "1000", "compression.type": "zstd"}}
	want := kafka.TopicConfig{Topic: "t", NumPartitions: 3, ReplicationFactor: 1, ConfigEntries: []kafka.ConfigEntry{
		{ConfigName: "min.insync.replicas", ConfigValue: "1"},
		{ConfigName: "max.message.bytes", ConfigValue: "8388608"},
		{ConfigName: "cleanup.policy", ConfigValue: "delete"},
		{ConfigName: "compression.type", ConfigValue: "zstd"},
		{ConfigName: "retention.ms", ConfigValue: "1000"},
	}}
	if got := s.TopicConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("TopicConfig:\n got %+v\nwant %+v", got, want)
	}
	if got := (topics.Spec{Name: "t", Partitions: 1, ReplicationFactor: 1}).Configs(); len(got) != 0 {
		t.Errorf("a spec leaving every setting to the broker sets %v", got)
	}
	named := s.Named("a", "b")
	if len(named) != 2 || named[0].Name != "a" || named[1].Name != "b" || named[1].MaxMessageBytes != s.MaxMessageBytes {
		t.Errorf("Named: %+v", named)
	}
}

func TestDiff(t *testing.T) {
	want := topics.Spec{Name: "t", Partitions: 6, ReplicationFactor: 3, MinInsyncReplicas: 2, MaxMessageBytes: 8388608, Other: map[string]string{"retention.ms": "-1"}}
	same := topics.Description{Name: "t", Partitions: 6, ReplicationFactor: 3, Configs: map[string]string{
		"min.insync.replicas": "2", "max.message.bytes": "8388608", "retention.ms": "-1", "cleanup.policy": "compact",
	}}
	tests := []struct {
		name string
		edit func(*topics.Description)
		want []string
	}{
		{name: "same (cleanup.policy not asked for)", edit: func(*topics.Description) {}},
		{name: "fewer partitions", edit: func(d *topics.Description) { d.Partitions = 3 }, want: []string{"partitions 3 (want 6)"}},
		{name: "everything", edit: func(d *topics.Description) {
			d.Partitions, d.ReplicationFactor = 12, 1
			d.Configs = map[string]string{"min.insync.replicas": "1", "max.message.bytes": "1048588"}
		}, want: []string{
			"partitions 12 (want 6)", "replication 1 (want 3)", "min.insync.replicas 1 (want 2)",
			"max.message.bytes 1048588 (want 8388608)", "retention.ms  (want -1)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := same
			d.Configs = map[string]string{}
			for k, v := range same.Configs {
				d.Configs[k] = v
			}
			tt.edit(&d)
			var got []string
			for _, x := range topics.Diff(want, d) {
				got = append(got, x.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
