package topics

import (
	"fmt"
	"strconv"
)

// Difference is one setting in which a topic differs from its spec.
type Difference struct {
	Setting   string // "partitions", "replication" or a config name
	Got, Want string
}

// String reads "partitions 3 (want 6)".
func (d Difference) String() string { return fmt.Sprintf("%s %s (want %s)", d.Setting, d.Got, d.Want) }

// Diff lists how got differs from want, in the order partitions,
// replication, the typed settings, then Other by name. Settings want
// leaves zero are not compared.
func Diff(want Spec, got Description) []Difference {
	var out []Difference
	if got.Partitions != want.Partitions {
		out = append(out, Difference{"partitions", strconv.Itoa(got.Partitions), strconv.Itoa(want.Partitions)})
	}
	if got.ReplicationFactor != want.ReplicationFactor {
		out = append(out, Difference{"replication", strconv.Itoa(got.ReplicationFactor), strconv.Itoa(want.ReplicationFactor)})
	}
	for _, c := range want.Configs() {
		if v := got.Configs[c.ConfigName]; v != c.ConfigValue {
			out = append(out, Difference{c.ConfigName, v, c.ConfigValue})
		}
	}
	return out
}
