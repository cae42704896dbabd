// Package topics is the project's Kafka admin: the shape a topic must have
// (Spec), what it has on the cluster (Describe), how the two differ (Diff),
// creating what is missing without ever changing what exists (Ensure), and
// moving a stopped consumer group's committed offsets as a plan that is
// shown first and applied after (PlanReset, ResetPlan.Apply).
//
// It is modelled on franz-go's kadm: typed requests and answers over a
// client, and the decisions (what differs, which partitions move) as pure
// functions that need no broker. The client is kafka-go's *kafka.Client
// (any value with its admin methods, see Admin). bridgectl's topics and
// offsets commands, the ingest's start-up topic check and the test broker
// helpers in pkg/kafkatest all go through it.
package topics
