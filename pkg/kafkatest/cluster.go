package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/snotibridge/snotibridge/pkg/topics"
)

// clusterConfig is what every node of a Cluster adds to kafka.sh's
// single-node server.properties: internal topics and new topics replicated
// on all three with min.insync.replicas=2 (acks=all then survives one node
// down and refuses writes with two down), quick failure detection (a
// killed node is fenced and dropped from every ISR within seconds, not the
// default 9 s + 30 s), and no unclean elections.
const clusterConfig = `offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
replica.lag.time.max.ms=10000
num.network.threads=2
num.io.threads=4
background.threads=4`

// clusterHeap is each node's maximum heap: three nodes and the services
// under test fit a 2-core, 24 GiB machine.
const clusterHeap = "512m"

// Cluster is three KRaft nodes (each broker and controller, one quorum)
// owned by the test that started it. Nodes may be killed and restarted one
// by one; their data survives as a real disk's would.
type Cluster struct {
	Nodes []*Broker
}

// StartCluster starts a 3-node cluster that is stopped when the test ends.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := newCluster(tb.TempDir(), 3)
	if err != nil {
		tb.Fatalf("starting a Kafka cluster: %v", err)
	}
	tb.Cleanup(c.Stop)
	if err := c.start(); err != nil {
		tb.Fatalf("starting a Kafka cluster: %v", err)
	}
	return c
}

// NewCluster prepares n KRaft nodes with their data under dir, on free
// ports, not started: for programs that are not tests (tools/chaos), which
// then call Start and Stop themselves. Tests use StartCluster.
func NewCluster(dir string, n int) (*Cluster, error) { return newCluster(dir, n) }

// Start launches every node and waits until each is registered with the
// quorum (StartCluster does it for tests).
func (c *Cluster) Start() error { return c.start() }

func newCluster(dir string, n int) (*Cluster, error) {
	var id [16]byte
	_, _ = rand.Read(id[:])
	clusterID := base64.RawURLEncoding.EncodeToString(id[:])
	c := &Cluster{}
	var voters []string
	for i := range n {
		b, err := newBroker(filepath.Join(dir, fmt.Sprintf("node-%d", i+1)))
		if err != nil {
			return nil, err
		}
		b.id = i + 1
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", b.id, b.cport))
		c.Nodes = append(c.Nodes, b)
	}
	for _, b := range c.Nodes {
		b.env = []string{
			fmt.Sprintf("KAFKA_NODE_ID=%d", b.id), "KAFKA_QUORUM_VOTERS=" + strings.Join(voters, ","),
			"KAFKA_CLUSTER_ID=" + clusterID, "KAFKA_EXTRA_CONFIG=" + clusterConfig, "KAFKA_HEAP=" + clusterHeap,
		}
	}
	return c, nil
}

// start launches every node, then waits for each: a node is ready only
// once a quorum of controllers is up.
func (c *Cluster) start() error {
	if err := mkdirs(c); err != nil {
		return err
	}
	// Resolve the broker's jars once, first: three nodes launched at once
	// on a fresh cache would each resolve them into the same directory.
	script, err := scriptPath()
	if err != nil {
		return err
	}
	if out, err := exec.Command(script, "fetch").CombinedOutput(); err != nil {
		return fmt.Errorf("kafka.sh fetch: %v\n%s", err, out)
	}
	for _, b := range c.Nodes {
		if err := b.launch(); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.Nodes))
	for i, b := range c.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = b.waitReady() }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return c.waitBrokers(ctx)
}

// waitBrokers waits until the cluster's metadata lists every node (each
// registered and unfenced): only then can a topic have three replicas.
func (c *Cluster) waitBrokers(ctx context.Context) error {
	var last error
	for {
		for _, addr := range c.live() {
			tr := &kafka.Transport{MetadataTTL: time.Millisecond}
			client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 15 * time.Second, Transport: tr}
			md, err := client.Metadata(ctx, &kafka.MetadataRequest{})
			tr.CloseIdleConnections()
			if err == nil && len(md.Brokers) == len(c.Nodes) {
				return nil
			}
			last = err
			if err == nil {
				last = fmt.Errorf("%d of %d brokers registered", len(md.Brokers), len(c.Nodes))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for every node to register: %w (last: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func mkdirs(c *Cluster) error {
	for _, b := range c.Nodes {
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every node (controlled shutdown).
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, b := range c.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); b.Stop() }()
	}
	wg.Wait()
}

// Brokers is every node's bootstrap address.
func (c *Cluster) Brokers() []string {
	out := make([]string, len(c.Nodes))
	for i, b := range c.Nodes {
		out[i] = b.Addr()
	}
	return out
}

// Node returns the node with id (1-based), or nil.
func (c *Cluster) Node(id int) *Broker {
	for _, b := range c.Nodes {
		if b.id == id {
			return b
		}
	}
	return nil
}

// live is the addresses of the running nodes.
func (c *Cluster) live() []string {
	var out []string
	for _, b := range c.Nodes {
		if b.Running() {
			out = append(out, b.Addr())
		}
	}
	return out
}

// Partitions returns the topic's partitions as a running node sees them
// (leader, replicas, ISR), retrying until ctx ends: a node that is loaded
// or still catching up may not answer at once.
func (c *Cluster) Partitions(ctx context.Context, topic string) ([]kafka.Partition, error) {
	var last error
	for {
		for _, addr := range c.live() {
			tr := &kafka.Transport{MetadataTTL: time.Millisecond}
			client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 15 * time.Second, Transport: tr}
			md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
			tr.CloseIdleConnections()
			switch {
			case err != nil:
				last = err
			case len(md.Topics) != 1 || md.Topics[0].Error != nil:
				last = fmt.Errorf("metadata of %s from %s: %+v", topic, addr, md.Topics)
			default:
				return md.Topics[0].Partitions, nil
			}
		}
		if last == nil {
			return nil, errors.New("no node is running")
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("reading metadata of %s: %w (last error: %v)", topic, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Leader returns the node leading partition of topic.
func (c *Cluster) Leader(ctx context.Context, topic string, partition int) (*Broker, error) {
	ps, err := c.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID == partition {
			if b := c.Node(p.Leader.ID); b != nil {
				return b, nil
			}
			return nil, fmt.Errorf("%s/%d has no leader (%d)", topic, partition, p.Leader.ID)
		}
	}
	return nil, fmt.Errorf("%s has no partition %d", topic, partition)
}

// WaitISR waits until every partition of topic has a leader and an ISR
// of want nodes (after a restart, a node first catches up).
func (c *Cluster) WaitISR(ctx context.Context, topic string, want int) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ps, err := c.Partitions(ctx, topic)
		ok := err == nil && len(ps) > 0
		for _, p := range ps {
			if p.Leader.ID < 0 || len(p.Isr) < want {
				ok = false
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to have %d in-sync replicas: %w (partitions %+v, %v)", topic, want, ctx.Err(), ps, err)
		case <-tick.C:
		}
	}
}

// Topic creates a uniquely named topic (see Topic) replicated on all three
// nodes with min.insync.replicas=2, waits until every partition has its
// full ISR. It goes with the cluster when the test ends.
func (c *Cluster) Topic(tb testing.TB, partitions int) string {
	tb.Helper()
	name := uniqueName(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.waitBrokers(ctx); err != nil { // a node restarted just before registers anew
		tb.Fatal(err)
	}
	// Retried: just after a start the node that forwards to the active
	// controller may not know it yet (Broker Not Available).
	for {
		err := createTopic(ctx, c.live(), topics.Spec{Name: name, Partitions: partitions, ReplicationFactor: len(c.Nodes), MinInsyncReplicas: 2})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			tb.Fatal(err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err := c.WaitISR(ctx, name, len(c.Nodes)); err != nil {
		tb.Fatal(err)
	}
	return name
}
