package energismefwd

import "github.com/snotibridge/snotibridge/pkg/internal/fielderr"

// UnmappedPolicy says what happens to events of products not in the
// mapping (ENERGISME_UNMAPPED).
type UnmappedPolicy string

// Unmapped policies.
const (
	// UnmappedDLQ dead-letters them with reason no_mapping (the default):
	// once the mapping is fixed, bridgectl redrives them.
	UnmappedDLQ UnmappedPolicy = "dlq"
	// UnmappedSkip marks them done without sending; they are counted in
	// energisme_unmapped_events_total and logged.
	UnmappedSkip UnmappedPolicy = "skip"
)

// ParseUnmappedPolicy reads PushSettings.Unmapped ("" is dlq).
func ParseUnmappedPolicy(s string) (UnmappedPolicy, error) {
	switch p := UnmappedPolicy(s); p {
	case UnmappedDLQ, UnmappedSkip:
		return p, nil
	case "":
		return UnmappedDLQ, nil
	}
	return "", fielderr.Bad("Unmapped", s, "must be dlq (dead-letter events of unmapped products) or skip (count, log and drop them)")
}
